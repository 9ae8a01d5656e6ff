/* The loaded plugins in conf.d order, loading all of them, unloading them in
 * reverse, and applying a reloaded conf.d to their settings. */
#include "plugin/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "hooks/hooks.h"

static struct sbr_plugin **registry_plugins;
static size_t registry_n;

size_t registry_count(void)
{
    return registry_n;
}

struct sbr_plugin *registry_at(size_t i)
{
    return i < registry_n ? registry_plugins[i] : NULL;
}

struct sbr_plugin *registry_find_conf(const char *conf_name)
{
    for (size_t i = 0; i < registry_n; i++)
        if (strcmp(registry_plugins[i]->conf_name, conf_name) == 0)
            return registry_plugins[i];
    return NULL;
}

void registry_unload_all(void)
{
    while (registry_n > 0) {
        struct sbr_plugin *p = registry_plugins[--registry_n];
        plugin_close(p);
    }
    free(registry_plugins);
    registry_plugins = NULL;
}

int registry_load(const struct conf_set *set, const char *plugin_dir, const sbr_api *api, char *err, size_t errlen)
{
    registry_plugins = calloc(set->n_files + 1, sizeof(*registry_plugins));
    if (!registry_plugins) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Every file is validated before any on_load runs, so a typo in the
     * last file never leaves the first plugins half started. */
    for (size_t i = 0; i < set->n_files; i++) {
        const struct conf_file *file = &set->files[i];
        if (strcmp(file->plugin, "core") == 0)
            continue;
        struct sbr_plugin *p = plugin_open(file, plugin_dir, err, errlen);
        if (!p)
            goto fail;
        for (size_t j = 0; j < registry_n; j++) {
            if (strcmp(registry_plugins[j]->name, p->name) == 0) {
                snprintf(err, errlen, "%s:%d: plugin '%s' is already loaded by %s", file->path, file->plugin_line,
                         p->name, registry_plugins[j]->conf_path);
                plugin_close(p);
                goto fail;
            }
        }
        registry_plugins[registry_n++] = p;
    }
    if (!api)
        return 0;
    for (size_t i = 0; i < registry_n; i++) {
        if (plugin_start(registry_plugins[i], api, err, errlen) < 0)
            goto fail;
    }
    return 0;
fail:
    registry_unload_all();
    return -1;
}

int registry_check(char *err, size_t errlen)
{
    for (size_t i = 0; i < registry_n; i++)
        if (plugin_check(registry_plugins[i], err, errlen) < 0)
            return -1;
    return 0;
}

int registry_reload(const struct conf_set *set, char *err, size_t errlen)
{
    struct conf_values *fresh = calloc(registry_n + 1, sizeof(*fresh));
    if (!fresh) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i;
    for (i = 0; i < registry_n; i++) {
        struct sbr_plugin *p = registry_plugins[i];
        const struct conf_file *file = conf_set_find(set, p->conf_name);
        if (!file)
            continue;
        if (conf_values_build(p->desc->config, p->is_fallback ? NULL : file, plugin_loader_keys, &fresh[i], err,
                              errlen) < 0)
            goto fail;
    }
    /* The plugins' own checks, on the new values. */
    for (i = 0; i < registry_n; i++) {
        struct sbr_plugin *p = registry_plugins[i];
        if (!conf_set_find(set, p->conf_name) || !p->desc->on_check)
            continue;
        struct conf_values running = p->values;
        p->values = fresh[i];
        int rc = plugin_check(p, err, errlen);
        p->values = running;
        if (rc < 0) {
            i = registry_n - 1;
            goto fail;
        }
    }
    /* Valid: apply.  Changes to the plugin set itself need a restart. */
    for (size_t f = 0; f < set->n_files; f++) {
        const struct conf_file *file = &set->files[f];
        if (strcmp(file->plugin, "core") != 0 && !registry_find_conf(file->plugin))
            log_warn("core", "%s:%d: plugin '%s' is new; it is loaded after a restart", file->path,
                     file->plugin_line, file->plugin);
    }
    for (i = 0; i < registry_n; i++) {
        struct sbr_plugin *p = registry_plugins[i];
        if (!conf_set_find(set, p->conf_name)) {
            log_warn("core", "%s: plugin '%s' is no longer configured; it stays loaded until a restart",
                     p->conf_path, p->conf_name);
            continue;
        }
        conf_values_keep_fixed(p->name, p->conf_path, &p->values, &fresh[i]);
        conf_values_clear(&p->values);
        p->values = fresh[i];
        memset(&fresh[i], 0, sizeof(fresh[i]));
    }
    free(fresh);
    return 0;
fail:
    for (size_t j = 0; j <= i && j < registry_n; j++)
        conf_values_clear(&fresh[j]);
    free(fresh);
    return -1;
}
