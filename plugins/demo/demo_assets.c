/* The page's files: read once at load, served from memory by name.  Only
 * the names of the table below exist, so no request reaches the disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static const struct demo_asset demo_asset_table[] = {
    {"index.html", "text/html; charset=utf-8", 1, NULL, 0},
    {"demo.js", "text/javascript; charset=utf-8", 1, NULL, 0},
    {"demo.css", "text/css; charset=utf-8", 1, NULL, 0},
    /* Bundled from npm at build time; without it the page says so. */
    {"socket.io.min.js", "text/javascript; charset=utf-8", 0, NULL, 0},
};

#define DEMO_N_ASSETS (sizeof(demo_asset_table) / sizeof(demo_asset_table[0]))

/* The file's content into a->data; 0, or -1 with why set. */
static int demo_asset_read(const char *dir, struct demo_asset *a, char *why, size_t whylen)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, a->name) >= sizeof(path)) {
        snprintf(why, whylen, "path too long");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%.1023s: %.100s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    int rc = -1;
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) {
            if (ferror(f))
                snprintf(why, whylen, "%.1023s: read error", path);
            else if (memchr(buf, '\0', len))
                snprintf(why, whylen, "%.1023s: not a text file", path);
            else
                rc = 0;
            break;
        }
        if (cap >= DEMO_ASSET_MAX_BYTES) {
            snprintf(why, whylen, "%.1023s: larger than %u bytes", path, DEMO_ASSET_MAX_BYTES);
            break;
        }
        char *grown = realloc(buf, cap * 2 + 1);
        if (!grown)
            break;
        buf = grown;
        cap *= 2;
    }
    fclose(f);
    if (rc != 0) {
        if (!buf)
            snprintf(why, whylen, "out of memory");
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    a->data = buf;
    a->len = len;
    return 0;
}

int demo_assets_load(struct demo *d)
{
    d->assets = calloc(DEMO_N_ASSETS, sizeof(*d->assets));
    if (!d->assets) {
        d->api->set_error(d->self, "out of memory");
        return -1;
    }
    memcpy(d->assets, demo_asset_table, sizeof(demo_asset_table));
    d->n_assets = DEMO_N_ASSETS;
    for (size_t i = 0; i < d->n_assets; i++) {
        char why[1200];
        struct demo_asset *a = &d->assets[i];
        if (demo_asset_read(d->assets_dir, a, why, sizeof(why)) == 0)
            continue;
        if (a->required) {
            d->api->set_error(d->self, "the page's files are missing (%s); set assets_dir", why);
            return -1;
        }
        d->api->log(d->self, SBR_LOG_WARN,
                    "%s: the page cannot connect without it (the build bundles it from npm's "
                    "socket.io-client; was npm available?)",
                    why);
    }
    return 0;
}

void demo_assets_free(struct demo *d)
{
    for (size_t i = 0; i < d->n_assets; i++)
        free(d->assets[i].data);
    free(d->assets);
    d->assets = NULL;
    d->n_assets = 0;
}

void demo_asset_route(sbr_http_request *req, void *userdata)
{
    struct demo *d = userdata;
    const char *name = d->api->http_param(req, "file");
    if (!name)
        name = "index.html";
    for (size_t i = 0; i < d->n_assets; i++) {
        const struct demo_asset *a = &d->assets[i];
        if (strcmp(a->name, name) != 0 || !a->data)
            continue;
        char headers[512];
        snprintf(headers, sizeof(headers),
                 "Content-Type: %s\r\n"
                 "Cache-Control: no-cache\r\n"
                 "X-Content-Type-Options: nosniff\r\n"
                 "Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                 a->content_type);
        d->api->http_reply(req, 200, a->data, headers);
        return;
    }
    d->api->http_reply(req, 404, "{\"error\":\"not_found\"}", NULL);
}
