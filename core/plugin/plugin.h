/* Plugins (layer 6, private): the loader (dlopen, ABI check, config
 * validation, on_load, removing what a plugin registered), the registry in
 * conf.d order, the host table and plugin timers.
 * Calls: sio, the bus, net, hooks and the base layer, through which every
 * service of the host table is served.  The loop is handed in (api_init). */
#ifndef SBR_CORE_PLUGIN_H
#define SBR_CORE_PLUGIN_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

#include "conf/conf.h"

struct event_base;

struct sbr_plugin {
    char *name;       /* the plugin loaded (the fallback's name when one was used) */
    char *conf_name;  /* the name its conf.d file gives */
    char *conf_path;  /* that file */
    int conf_line;    /* its `plugin =` line */
    char *so_path;
    void *handle;     /* dlopen */
    const sbr_plugin_descriptor *desc;
    struct conf_values values;
    int is_fallback;  /* validated without the file's keys */
    int loading;      /* inside on_load: registration allowed */
    int started;      /* on_load succeeded: on_unload is due */
    char error[CONF_ERR_MAX];
    char error_key[64]; /* set_error_key: the key the error is about, or "" */
    char refusal[CONF_ERR_MAX]; /* a registration the core refused, which stops start-up */
};

/* 1 while the plugin's on_load runs: registration services are allowed. */
static inline int plugin_is_loading(const sbr_plugin *p)
{
    return p && p->loading;
}

/* Keys of a plugin file that the loader reads itself. */
extern const char *const plugin_loader_keys[];

/* --- loader.c ------------------------------------------------------------ */

/* dlopen the file's plugin (or its fallback), check the ABI and validate the
 * file's keys.  Returns a new plugin not yet started, or NULL with
 * "file:line: reason". */
struct sbr_plugin *plugin_open(const struct conf_file *file, const char *plugin_dir, char *err, size_t errlen);
/* Call on_load; 0, or -1 with "file:line: plugin 'x' failed to load: reason". */
int plugin_start(struct sbr_plugin *p, const sbr_api *api, char *err, size_t errlen);
/* on_unload if started, drop all it registered, dlclose, free. */
void plugin_close(struct sbr_plugin *p);
/* Run the plugin's on_check, if it has one, on its current values.  0, or
 * -1 with the reason in err (file:line: plugin 'x': ...). */
int plugin_check(struct sbr_plugin *p, char *err, size_t errlen);

/* --- registry.c ---------------------------------------------------------- */

/* Open every plugin file of the set (all but `core`), in order; on error
 * close those opened.  With api non-NULL, then start them in order. */
int registry_load(const struct conf_set *set, const char *plugin_dir, const sbr_api *api, char *err, size_t errlen);
/* Close every plugin in reverse order. */
void registry_unload_all(void);
size_t registry_count(void);
struct sbr_plugin *registry_at(size_t i);
/* By the name its conf.d file gives. */
struct sbr_plugin *registry_find_conf(const char *conf_name);
/* Validate a re-read conf.d against the loaded plugins (declared keys, then
 * each on_check on the new values) and apply it: see SIGHUP in daemon.c.
 * 0, or -1 with the first error (nothing applied). */
int registry_reload(const struct conf_set *set, char *err, size_t errlen);
/* --check-config: every loaded plugin's on_check.  0, or -1 with the first
 * error. */
int registry_check(char *err, size_t errlen);

/* --- api.c ---------------------------------------------------------------- */

/* The loop the services run on (api->event_base, timers). */
void api_init(struct event_base *base);
/* The host table handed to on_load. */
const sbr_api *api_table(void);
/* The reduced table handed to on_check (configuration, logging, errors). */
const sbr_api *api_check_table(void);

/* --- api_json.c ----------------------------------------------------------- */

/* api->msg_arg_string/number/bool/json and api->json_quote (see plugin.h of the SDK). */
int api_msg_arg_string(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len);
int api_msg_arg_number(sbr_message *msg, unsigned index, const char *path, double *out);
int api_msg_arg_bool(sbr_message *msg, unsigned index, const char *path, int *out);
int api_msg_arg_json(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len);
int api_json_quote(const char *text, char *buf, size_t len);
int api_bus_set_health(sbr_plugin *self, const char *json_object);
/* The value at `path` (dot-separated keys, digits for array indexes) in
 * element `index` of the JSON array args, or NULL. */
struct json_t;
struct json_t *api_json_path(struct json_t *args, unsigned index, const char *path);
/* A value's compact JSON text into buf, as api->msg_arg_json answers: the
 * length, and the text when it fits (strings, integers and literals written
 * directly, the rest dumped by jansson, the same bytes either way). */
int api_json_text(struct json_t *v, char *buf, size_t len);

/* --- timers.c ------------------------------------------------------------- */

void timers_init(struct event_base *base);
sbr_timer_id timers_start(sbr_plugin *owner, uint64_t delay_ms, int repeat, void (*fn)(void *), void *userdata);
void timers_stop(sbr_plugin *owner, sbr_timer_id id);
void timers_unregister_all(sbr_plugin *owner);

#endif
