/*
 * wordfilter: refuses chat messages that contain a banned word.
 *
 * An on_message hook looks at one client event (default `send_message`),
 * reads one string field of its first argument (default `content`), and
 * refuses the event with "content_blocked" when that text contains one of
 * the configured words (ASCII case-insensitive).  The client's ack then
 * reads {"ok": false, "error": "content_blocked"}, and no later plugin sees
 * the message.  The word list can change on SIGHUP.
 *
 *     # conf.d/65-wordfilter.conf
 *     plugin = wordfilter
 *     words = spam, scam
 *
 * It includes only the SDK header and libc, so it builds against an
 * installed SDK with nothing but pkg-config (see the Makefile).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <superbot-realtime/plugin.h>

static const sbr_config_key wordfilter_keys[] = {
    {"words", SBR_CONF_STRING, NULL, 0, 0, SBR_CONF_REQUIRED | SBR_CONF_RELOADABLE,
     "comma-separated words refused in messages"},
    {"event", SBR_CONF_STRING, "send_message", 0, 0, SBR_CONF_RELOADABLE, "the client event to filter"},
    {"field", SBR_CONF_STRING, "content", 0, 0, SBR_CONF_RELOADABLE, "the string field of its payload to check"},
    SBR_CONF_END,
};

static const sbr_api *wf_api;
static sbr_plugin *wf_self;
static char **wf_words;
static size_t wf_n_words;

static void wf_words_free(void)
{
    for (size_t i = 0; i < wf_n_words; i++)
        free(wf_words[i]);
    free(wf_words);
    wf_words = NULL;
    wf_n_words = 0;
}

/* Split the `words` setting into lowercase words; 0 or -1 (out of memory). */
static int wf_words_load(void)
{
    const char *list = wf_api->config_string(wf_self, "words");
    wf_words_free();
    while (list && *list) {
        while (*list == ',' || isspace((unsigned char)*list))
            list++;
        const char *end = list;
        while (*end && *end != ',')
            end++;
        size_t n = (size_t)(end - list);
        while (n > 0 && isspace((unsigned char)list[n - 1]))
            n--;
        if (n > 0) {
            char **grown = realloc(wf_words, (wf_n_words + 1) * sizeof(*grown));
            char *word = malloc(n + 1);
            if (grown)
                wf_words = grown;
            if (!grown || !word) {
                free(word);
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                word[i] = (char)tolower((unsigned char)list[i]);
            word[n] = '\0';
            wf_words[wf_n_words++] = word;
        }
        list = end;
    }
    return 0;
}

/* --- just enough JSON to read one string field ----------------------------- */

static const char *wf_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int wf_hex(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decode the string at p (its opening quote) into out, lowercased, when
 * out is non-NULL (out has room for the raw length).  Returns the position
 * after the closing quote, or NULL when malformed. */
static const char *wf_string(const char *p, const char *end, char *out)
{
    size_t o = 0;
    if (p >= end || *p != '"')
        return NULL;
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if (out)
                out[o] = '\0';
            return p + 1;
        }
        if (c != '\\') {
            if (out)
                out[o++] = (char)tolower(c);
            continue;
        }
        if (++p >= end)
            return NULL;
        unsigned cp;
        switch (*p) {
        case 'u':
            if (end - p < 5 || wf_hex(p + 1, &cp) < 0)
                return NULL;
            p += 4;
            /* ASCII is kept (the words are matched in ASCII); anything else
             * becomes one placeholder byte, so out never outgrows the input. */
            if (out)
                out[o++] = cp < 0x80 ? (char)tolower((int)cp) : '?';
            break;
        case 'n':
        case 't':
        case 'r':
        case 'b':
        case 'f':
            if (out)
                out[o++] = ' ';
            break;
        case '"':
        case '\\':
        case '/':
            if (out)
                out[o++] = *p;
            break;
        default:
            return NULL;
        }
    }
    return NULL;
}

/* Skip one JSON value; NULL when malformed. */
static const char *wf_skip(const char *p, const char *end)
{
    int depth = 0;
    do {
        p = wf_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == '"') {
            p = wf_string(p, end, NULL);
            if (!p)
                return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else {
            p++;
            while (p < end && !strchr(",:]} \t\r\n\"", *p))
                p++;
        }
        if (depth > 0) {
            /* Separators inside containers. */
            while (p < end && (*p == ',' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        }
    } while (depth > 0 && p < end);
    return depth == 0 ? p : NULL;
}

/* The field of the first argument, lowercased, in a new string; NULL when
 * absent, not a string, or malformed. */
static char *wf_field(const char *json, size_t len, const char *field)
{
    const char *p = json, *end = json + len;
    p = wf_ws(p, end);
    if (p >= end || *p++ != '[')
        return NULL;
    p = wf_ws(p, end);
    if (p >= end || *p++ != '{')
        return NULL;
    char *key = malloc(len + 1);
    if (!key)
        return NULL;
    char *found = NULL;
    for (;;) {
        p = wf_ws(p, end);
        if (p >= end || *p == '}')
            break;
        p = wf_string(p, end, key);
        if (!p)
            break;
        p = wf_ws(p, end);
        if (p >= end || *p++ != ':')
            break;
        p = wf_ws(p, end);
        if (strcmp(key, field) == 0 && p < end && *p == '"') {
            found = malloc(len + 1);
            if (found && !wf_string(p, end, found)) {
                free(found);
                found = NULL;
            }
            break;
        }
        p = wf_skip(p, end);
        if (!p)
            break;
        p = wf_ws(p, end);
        if (p < end && *p == ',')
            p++;
    }
    free(key);
    return found;
}

/* --- the hook -------------------------------------------------------------- */

static int wf_on_message(enum sbr_event_id id, void *event, void *userdata)
{
    (void)id;
    (void)userdata;
    sbr_event_message *m = event;
    if (strcmp(m->event, wf_api->config_string(wf_self, "event")) != 0 || wf_n_words == 0)
        return SBR_PASS;
    char *text = wf_field(m->args_json, m->args_len, wf_api->config_string(wf_self, "field"));
    if (!text)
        return SBR_PASS;
    int blocked = 0;
    for (size_t i = 0; i < wf_n_words && !blocked; i++)
        blocked = strstr(text, wf_words[i]) != NULL;
    free(text);
    if (!blocked)
        return SBR_PASS;
    if (SBR_API_HAS(wf_api, metric_add))
        wf_api->metric_add(wf_self, "superbot_wordfilter_blocked_total", NULL, 1);
    m->reason = "content_blocked";
    return SBR_REFUSE;
}

static int wf_on_reload(enum sbr_event_id id, void *event, void *userdata)
{
    (void)id;
    (void)event;
    (void)userdata;
    if (wf_words_load() < 0)
        wf_api->log(wf_self, SBR_LOG_ERROR, "out of memory reloading the word list");
    else
        wf_api->log(wf_self, SBR_LOG_INFO, "%zu banned word(s)", wf_n_words);
    return 0;
}

static int wf_load(sbr_plugin *self, const sbr_api *api)
{
    wf_api = api;
    wf_self = self;
    if (wf_words_load() < 0) {
        api->set_error(self, "out of memory");
        return -1;
    }
    if (api->hook_register(self, SBR_EVENT_MESSAGE, wf_on_message, NULL) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_RELOAD, wf_on_reload, NULL) != SBR_OK) {
        api->set_error(self, "cannot register hooks");
        wf_words_free();
        return -1;
    }
    api->log(self, SBR_LOG_INFO, "%zu banned word(s) in '%s' events", wf_n_words, api->config_string(self, "event"));
    return 0;
}

static void wf_unload(sbr_plugin *self)
{
    (void)self;
    wf_words_free();
}

SBR_PLUGIN_DEFINE(.name = "wordfilter", .version = "1.0.0",
                  .description = "refuses messages containing banned words", .config = wordfilter_keys,
                  .on_load = wf_load, .on_unload = wf_unload)
