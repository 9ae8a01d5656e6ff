/* Reading id claims (user, session and server ids) out of JSON. */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static void list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char *claims_id(const json_t *v, int strict)
{
    if (json_is_string(v)) {
        if (!token_id_valid(json_string_value(v), json_string_length(v)))
            return NULL;
        return strdup(json_string_value(v));
    }
    if (!strict && json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(buf);
    }
    return NULL;
}

int claims_id_list(const json_t *obj, const char *name, int strict, char ***out, size_t *n, int *present)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    *n = 0;
    *present = 0;
    if (!v || (!strict && json_is_null(v)))
        return 0;
    if (!json_is_array(v))
        return -1;
    *present = 1;
    size_t count = json_array_size(v);
    if (count == 0)
        return 0;
    char **list = calloc(count, sizeof(*list));
    if (!list)
        return -1;
    for (size_t i = 0; i < count; i++) {
        list[i] = claims_id(json_array_get(v, i), strict);
        if (!list[i]) {
            list_free(list, i);
            return -1;
        }
    }
    *out = list;
    *n = count;
    return 0;
}

