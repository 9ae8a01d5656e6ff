/* Reading id claims out of JSON (private to auth-jwt), shared by token
 * verification and the server-to-server token request body. */
#ifndef AUTH_JWT_CLAIMS_H
#define AUTH_JWT_CLAIMS_H

#include <stddef.h>

#include <jansson.h>

/* An id as an owned string: a valid id string (token_id_valid), or unless
 * `strict` an integer written in decimal.  NULL on the wrong shape or no
 * memory. */
char *claims_id(const json_t *v, int strict);

/* The optional array of ids `name` of obj into *out (n entries; NULL when
 * empty).  Absent leaves *present 0; JSON null counts as absent unless
 * `strict`.  -1 on the wrong shape or no memory. */
int claims_id_list(const json_t *obj, const char *name, int strict, char ***out, size_t *n, int *present);

#endif
