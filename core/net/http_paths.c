/* The paths the layers above registered with the public server: prefix
 * handlers (a protocol served under a path) and built-in routes (exact
 * paths).  Registration happens at start-up, before the server accepts
 * anything; plugins' routes may not shadow them. */
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/http_internal.h"

#define HTTP_MAX_PREFIXES 8
#define HTTP_MAX_BUILTINS 16

static struct http_path http_prefixes[HTTP_MAX_PREFIXES], http_builtins[HTTP_MAX_BUILTINS];
static size_t http_n_prefixes, http_n_builtins;

/* 1 if path is under prefix ("/socket.io/x", "/socket.io/" or "/socket.io"). */
static int http_under_prefix(const struct http_path *p, const char *path)
{
    return strncmp(path, p->path, p->len - 1) == 0 && (path[p->len - 1] == '\0' || path[p->len - 1] == '/');
}

const struct http_path *http_prefix_find(const char *path)
{
    for (size_t i = 0; i < http_n_prefixes; i++)
        if (http_under_prefix(&http_prefixes[i], path))
            return &http_prefixes[i];
    return NULL;
}

const struct http_path *http_builtin_find(const char *path)
{
    for (size_t i = 0; i < http_n_builtins; i++)
        if (strcmp(http_builtins[i].path, path) == 0)
            return &http_builtins[i];
    return NULL;
}

int http_path_reserved(const char *pattern)
{
    return pattern && (http_prefix_find(pattern) || http_builtin_find(pattern));
}

static int http_register(struct http_path *table, size_t *n, size_t max, const char *path,
                         http_handler_fn fn, void *arg)
{
    char *copy = *n < max ? strdup(path) : NULL;
    if (!copy)
        return -1;
    table[(*n)++] = (struct http_path){copy, strlen(copy), fn, arg};
    return 0;
}

int http_prefix_handler(const char *prefix, http_handler_fn fn, void *arg)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (!fn || n < 3 || prefix[0] != '/' || prefix[n - 1] != '/' || http_prefix_find(prefix))
        return -1;
    struct http_path probe = {(char *)prefix, n, fn, arg};
    for (size_t i = 0; i < http_n_builtins; i++)
        if (http_under_prefix(&probe, http_builtins[i].path))
            return -1;
    return http_register(http_prefixes, &http_n_prefixes, HTTP_MAX_PREFIXES, prefix, fn, arg);
}

int http_builtin_route(const char *path, http_handler_fn fn, void *arg)
{
    if (!fn || !path || path[0] != '/' || http_path_reserved(path))
        return -1;
    return http_register(http_builtins, &http_n_builtins, HTTP_MAX_BUILTINS, path, fn, arg);
}

void http_paths_free(void)
{
    while (http_n_prefixes)
        free(http_prefixes[--http_n_prefixes].path);
    while (http_n_builtins)
        free(http_builtins[--http_n_builtins].path);
}

