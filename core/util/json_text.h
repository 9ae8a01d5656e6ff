/* JSON text without a JSON library (layer 0, private): checking that a text
 * is one valid value, finding where a value ends, quoting a string.  No
 * allocation and one pass over the bytes, so that the paths every message
 * takes (checking what a plugin emits, slicing a client event's arguments,
 * quoting an event name) cost a scan instead of a parse into a tree and a
 * dump back.  Calls nothing. */
#ifndef SBR_UTIL_JSON_TEXT_H
#define SBR_UTIL_JSON_TEXT_H

#include <stddef.h>

/* Deepest nesting of arrays and objects accepted (jansson's own bound). */
#define JSON_TEXT_DEPTH_MAX 2048

/* 1 if text[0..len) is exactly one RFC 8259 value, with blanks around it
 * allowed: strings valid UTF-8 without raw control characters, escapes
 * well formed (\u0000 allowed, surrogates paired), at most
 * JSON_TEXT_DEPTH_MAX levels deep; 0 otherwise. */
int json_text_valid(const char *text, size_t len);

/* The value that starts text (after blanks): the offset just past it, or 0
 * when text does not start with a valid value. */
size_t json_text_value_end(const char *text, size_t len);

/* The length of s[0..n) quoted as a JSON string (quotes included), or 0
 * when s is not valid UTF-8.  Escaped as jansson escapes: '"', '\\', and
 * control characters (\b \f \n \r \t, else \u00XX); '/' and non-ASCII kept. */
size_t json_text_quoted_len(const char *s, size_t n);

/* Write s[0..n) quoted into out (json_text_quoted_len(s, n) bytes, no NUL
 * added); s must be valid UTF-8.  Returns the bytes written. */
size_t json_text_quote(const char *s, size_t n, char *out);

#endif
