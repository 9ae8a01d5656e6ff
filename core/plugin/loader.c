/* Loading one plugin: dlopen, the descriptor symbol, the ABI check, config
 * validation, on_load; and the reverse at unload. */
#include "plugin/plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "sio/sio.h"
#include "hooks/hooks.h"

const char *const plugin_loader_keys[] = {"plugin", "path", "fallback", NULL};

static void plugin_free(struct sbr_plugin *p)
{
    if (!p)
        return;
    conf_values_clear(&p->values);
    if (p->handle)
        dlclose(p->handle);
    free(p->name);
    free(p->conf_name);
    free(p->conf_path);
    free(p->so_path);
    free(p);
}

/* dlopen `so_path` and read its descriptor into p; -1 with err set.  *dl_failed
 * tells a missing or unloadable .so (where a fallback applies) from a bad one. */
static int plugin_bind(struct sbr_plugin *p, const char *where, int *dl_failed, char *err, size_t errlen)
{
    *dl_failed = 0;
    p->handle = dlopen(p->so_path, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle) {
        const char *why = dlerror();
        *dl_failed = 1;
        snprintf(err, errlen, "%s: plugin '%s' cannot be loaded: %s", where, p->name, why ? why : "dlopen failed");
        return -1;
    }
    dlerror();
    sbr_plugin_entry_fn entry;
    /* POSIX blesses this conversion of dlsym's result. */
    *(void **)&entry = dlsym(p->handle, SBR_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, errlen, "%s: plugin '%s' (%s) has no '%s' symbol: not a superbot-realtime plugin", where,
                 p->name, p->so_path, SBR_ENTRY_SYMBOL);
        return -1;
    }
    p->desc = entry();
    if (!p->desc) {
        snprintf(err, errlen, "%s: plugin '%s': %s returned no descriptor", where, p->name, SBR_ENTRY_SYMBOL);
        return -1;
    }
    if (p->desc->abi_version != SBR_ABI_VERSION) {
        snprintf(err, errlen, "%s: plugin '%s' built for SDK ABI %u, core provides %d", where, p->name,
                 (unsigned)p->desc->abi_version, SBR_ABI_VERSION);
        return -1;
    }
    if (p->desc->struct_size < offsetof(sbr_plugin_descriptor, reserved)) {
        snprintf(err, errlen, "%s: plugin '%s': descriptor too small (%u bytes)", where, p->name,
                 (unsigned)p->desc->struct_size);
        return -1;
    }
    if (!p->desc->on_load) {
        snprintf(err, errlen, "%s: plugin '%s' has no on_load", where, p->name);
        return -1;
    }
    return 0;
}

static char *plugin_so_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 5;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s.so", dir, name);
    return s;
}

struct sbr_plugin *plugin_open(const struct conf_file *file, const char *plugin_dir, char *err, size_t errlen)
{
    char where[CONF_ERR_MAX];
    const struct conf_entry *path = conf_file_find(file, "path");
    const struct conf_entry *fallback = conf_file_find(file, "fallback");
    struct sbr_plugin *p = calloc(1, sizeof(*p));
    if (!p)
        goto nomem;
    p->name = strdup(file->plugin);
    p->conf_name = strdup(file->plugin);
    p->conf_path = strdup(file->path);
    p->conf_line = file->plugin_line;
    p->so_path = path && *path->value ? strdup(path->value) : plugin_so_path(plugin_dir, file->plugin);
    if (!p->name || !p->conf_name || !p->conf_path || !p->so_path)
        goto nomem;
    snprintf(where, sizeof(where), "%s:%d", file->path, path && *path->value ? path->line : file->plugin_line);
    int dl_failed;
    if (plugin_bind(p, where, &dl_failed, err, errlen) < 0) {
        if (!dl_failed || !fallback || !*fallback->value)
            goto fail;
        /* The fallback is a different plugin: the file's keys were written
         * for the first one, so it runs on its own defaults. */
        log_warn("core", "%s; loading '%s' instead", err, fallback->value);
        if (p->handle)
            dlclose(p->handle);
        p->handle = NULL;
        free(p->name);
        free(p->so_path);
        p->name = strdup(fallback->value);
        p->so_path = plugin_so_path(plugin_dir, fallback->value);
        if (!p->name || !p->so_path)
            goto nomem;
        p->is_fallback = 1;
        snprintf(where, sizeof(where), "%s:%d", file->path, fallback->line);
        if (plugin_bind(p, where, &dl_failed, err, errlen) < 0)
            goto fail;
    }
    if (conf_values_build(p->desc->config, p->is_fallback ? NULL : file, plugin_loader_keys, &p->values, err,
                          errlen) < 0)
        goto fail;
    return p;
nomem:
    snprintf(err, errlen, "%s: out of memory", file->path);
fail:
    plugin_free(p);
    return NULL;
}

/* Remove everything p registered through the host table. */
static void plugin_unregister_all(struct sbr_plugin *p)
{
    hooks_unregister_all(p);
    http_unregister_all(p);
    bus_unregister_all(p);
    timers_unregister_all(p);
    metrics_unregister_all(p);
    sio_unregister_all(p);
}

/* The file:line of the plugin's error: the line of the key it named with
 * set_error_key when the file sets that key, else the `plugin =` line; and
 * "key 'x': " to put before the reason. */
static void plugin_error_place(const struct sbr_plugin *p, char *where, size_t wlen, char *key, size_t klen)
{
    int line = p->conf_line;
    key[0] = '\0';
    if (p->error_key[0]) {
        int i = conf_values_index(&p->values, p->error_key);
        if (i >= 0 && p->values.line[i] > 0)
            line = p->values.line[i];
        snprintf(key, klen, "key '%s': ", p->error_key);
    }
    snprintf(where, wlen, "%s:%d", p->conf_path, line);
}

int plugin_start(struct sbr_plugin *p, const sbr_api *api, char *err, size_t errlen)
{
    p->error[0] = p->error_key[0] = p->refusal[0] = '\0';
    p->loading = 1;
    int rc = p->desc->on_load(p, api);
    p->loading = 0;
    if (p->refusal[0]) {
        /* Whatever on_load answered: the core refused what it asked for. */
        snprintf(err, errlen, "%s:%d: plugin '%s': %s", p->conf_path, p->conf_line, p->name, p->refusal);
        if (rc == 0 && p->desc->on_unload)
            p->desc->on_unload(p);
        plugin_unregister_all(p);
        return -1;
    }
    if (rc != 0) {
        char where[CONF_ERR_MAX], key[96];
        plugin_error_place(p, where, sizeof(where), key, sizeof(key));
        snprintf(err, errlen, "%s: plugin '%s' failed to load: %s%s", where, p->name, key,
                 p->error[0] ? p->error : "on_load failed without a reason");
        /* Undo what it registered before failing; on_unload is not due. */
        plugin_unregister_all(p);
        return -1;
    }
    p->started = 1;
    log_info("core", "plugin '%s' %s loaded from %s", p->name, p->desc->version ? p->desc->version : "",
             p->so_path);
    return 0;
}

void plugin_close(struct sbr_plugin *p)
{
    if (!p)
        return;
    if (p->started && p->desc->on_unload)
        p->desc->on_unload(p);
    p->started = 0;
    plugin_unregister_all(p);
    plugin_free(p);
}

int plugin_check(struct sbr_plugin *p, char *err, size_t errlen)
{
    if (!p->desc->on_check)
        return 0;
    p->error[0] = p->error_key[0] = '\0';
    if (p->desc->on_check(p, api_check_table()) == 0)
        return 0;
    char where[CONF_ERR_MAX], key[96];
    plugin_error_place(p, where, sizeof(where), key, sizeof(key));
    snprintf(err, errlen, "%s: plugin '%s': %s%s", where, p->name, key,
             p->error[0] ? p->error : "its configuration check failed without a reason");
    return -1;
}
