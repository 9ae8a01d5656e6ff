/* The core's own settings: declared as a sbr_config_key table like any
 * plugin's, validated by the same code, then turned into core_settings. */
#include "conf/conf.h"
#include "log.h"
#include "settings.h"
#include "util/listen_addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define R SBR_CONF_RELOADABLE
static const sbr_config_key settings_table[] = {
    {"listen", SBR_CONF_STRING, "127.0.0.1:8080", 0, 0, SBR_CONF_REQUIRED, "host:port[,host:port...] to listen on"},
    {"reuse_port", SBR_CONF_BOOL, "0", 0, 0, 0, "share the port with other workers (SO_REUSEPORT)"},
    {"plugin_dir", SBR_CONF_STRING, "", 0, 0, 0, "where <name>.so files are found; empty: build/plugins next to a built binary, else the install's, relative to the binary"},
    {"log_level", SBR_CONF_STRING, "info", 0, 0, R, "debug, info, warn or error"},
    {"log_format", SBR_CONF_STRING, "text", 0, 0, R, "text, or json: one JSON object per line"},
    {"api_key", SBR_CONF_STRING, "", 0, 0, SBR_CONF_SECRET | R, "bearer key of the server API; empty disables it"},
    {"max_connections", SBR_CONF_INT, "10000", 1, 1000000, R, "Socket.IO connections of this worker"},
    {"max_payload", SBR_CONF_INT, "1000000", 1024, 100000000, 0, "Engine.IO maxPayload, bytes"},
    {"ping_interval_ms", SBR_CONF_INT, "25000", 100, 3600000, R, "Engine.IO ping interval"},
    {"ping_timeout_ms", SBR_CONF_INT, "20000", 100, 3600000, R, "Engine.IO ping timeout"},
    {"connect_timeout_ms", SBR_CONF_INT, "45000", 100, 3600000, R, "Engine.IO open to Socket.IO CONNECT"},
    {"cors_origins", SBR_CONF_STRING, "*", 0, 0, R, "\"*\", a comma-separated list of origins, or empty"},
    {"outbound_buffer_max", SBR_CONF_INT, "1048576", 4096, 1073741824, R, "bytes queued to one connection"},
    {"max_header_size", SBR_CONF_INT, "16384", 1024, 1048576, R, "HTTP request header bytes (431 past it)"},
    {"max_body_size", SBR_CONF_INT, "1048576", 1024, 1073741824, R, "HTTP request body bytes (413 past it)"},
    {"header_timeout_ms", SBR_CONF_INT, "10000", 100, 3600000, R, "time allowed to send a request"},
    {"inbound_rate", SBR_CONF_INT, "120", 0, 1000000, R, "client events per window; 0 disables"},
    {"inbound_rate_window_ms", SBR_CONF_INT, "10000", 100, 3600000, R, "window of inbound_rate"},
    {"shutdown_timeout_ms", SBR_CONF_INT, "10000", 100, 600000, R, "SIGTERM: hard exit after this"},
    {"worker_listen", SBR_CONF_STRING, "127.0.0.1:0", 0, 0, 0, "ip:port where other workers reach this one's sessions"},
    {"worker_advertise", SBR_CONF_STRING, "", 0, 0, 0, "ip:port other workers use for worker_listen; empty: as bound"},
    {"path", SBR_CONF_STRING, "/socket.io/", 0, 0, 0, "where Engine.IO is served, as Socket.IO's `path` option"},
    {"recovery_window_seconds", SBR_CONF_INT, "0", 0, 86400, 0,
     "connection state recovery: how long a lost connection can be recovered, on any worker; 0: off"},
    {"recovery_max_events", SBR_CONF_INT, "1000", 1, 1000000, 0,
     "events kept per room for recovering connections"},
    SBR_CONF_END,
};
#undef R

static struct core_settings settings_current;
static struct conf_values settings_current_values;

const sbr_config_key *settings_keys(void)
{
    return settings_table;
}

const struct core_settings *settings_get(void)
{
    return &settings_current;
}

struct conf_values *settings_values(void)
{
    return &settings_current_values;
}

const char *settings_api_key(void)
{
    const char *k = conf_values_string(&settings_current_values, "api_key");
    return k ? k : "";
}

void settings_clear(struct core_settings *s)
{
    for (size_t i = 0; i < s->n_listen; i++)
        free(s->listen[i]);
    free(s->plugin_dir);
    free(s->cors_origins);
    free(s->socketio_path);
    memset(s, 0, sizeof(*s));
}

static int settings_level(const char *text)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(text, names[i]) == 0)
            return i;
    if (strcasecmp(text, "warning") == 0)
        return 2;
    return -1;
}

static int settings_line(const struct conf_values *v, const char *key)
{
    int i = conf_values_index(v, key);
    return i < 0 ? 0 : v->line[i];
}

static int settings_listen(const struct conf_values *v, const char *file, struct core_settings *out, char *err,
                           size_t errlen)
{
    char *list = strdup(conf_values_string(v, "listen"));
    if (!list) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        char host[256];
        int port;
        if (out->n_listen == SETTINGS_MAX_LISTEN) {
            snprintf(err, errlen, "%s:%d: key 'listen': at most %d addresses", file, settings_line(v, "listen"),
                     SETTINGS_MAX_LISTEN);
            rc = -1;
            break;
        }
        if (listen_addr_parse(tok, host, sizeof(host), &port, 0) < 0) {
            snprintf(err, errlen, "%s:%d: key 'listen': '%s' is not host:port", file, settings_line(v, "listen"), tok);
            rc = -1;
            break;
        }
        if (!(out->listen[out->n_listen++] = strdup(tok))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc == 0 && out->n_listen == 0) {
        snprintf(err, errlen, "%s:%d: key 'listen' names no address", file, settings_line(v, "listen"));
        rc = -1;
    }
    free(list);
    return rc;
}

/* Socket.IO's `path`: "/name/" or deeper, URL-safe characters only, so it
 * needs no escaping anywhere and cannot shadow every route ("/"). */
static int settings_path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n < 3 || n > SETTINGS_PATH_MAX || path[0] != '/' || path[n - 1] != '/' || strstr(path, "//"))
        return 0;
    for (const char *p = path; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("/-._~", *p)))
            return 0;
    return !strstr(path, "/./") && !strstr(path, "/../");
}

static int settings_addresses(const struct conf_values *v, const char *file, struct core_settings *out, char *err,
                              size_t errlen)
{
    if (settings_listen(v, file, out, err, errlen) < 0)
        return -1;
    char host[256];
    int port;
    const char *worker = conf_values_string(v, "worker_listen");
    if (listen_addr_parse(worker, host, sizeof(host), &port, 1) < 0) {
        snprintf(err, errlen, "%s:%d: key 'worker_listen': '%s' is not host:port", file,
                 settings_line(v, "worker_listen"), worker);
        return -1;
    }
    const char *path = conf_values_string(v, "path");
    if (!settings_path_ok(path)) {
        snprintf(err, errlen,
                 "%s:%d: key 'path': '%s' must start and end with '/', name at least one segment, and hold only "
                 "letters, digits and - . _ ~ (at most %d bytes)",
                 file, settings_line(v, "path"), path, SETTINGS_PATH_MAX);
        return -1;
    }
    if (!(out->socketio_path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int settings_build(const struct conf_values *v, const char *file, struct core_settings *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!file)
        file = "(defaults)";
    if (settings_addresses(v, file, out, err, errlen) < 0)
        goto fail;
    out->log_level = settings_level(conf_values_string(v, "log_level"));
    if (out->log_level < 0) {
        snprintf(err, errlen, "%s:%d: key 'log_level' expects debug, info, warn or error, got '%s'", file,
                 settings_line(v, "log_level"), conf_values_string(v, "log_level"));
        goto fail;
    }
    const char *format = conf_values_string(v, "log_format");
    out->log_format = strcasecmp(format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
    if (out->log_format == LOG_FORMAT_TEXT && strcasecmp(format, "text") != 0) {
        snprintf(err, errlen, "%s:%d: key 'log_format' expects text or json, got '%s'", file,
                 settings_line(v, "log_format"), format);
        goto fail;
    }
    const char *dir = conf_values_string(v, "plugin_dir");
    out->plugin_dir = *dir ? strdup(dir) : paths_plugin_dir();
    out->cors_origins = strdup(conf_values_string(v, "cors_origins"));
    if (!out->plugin_dir || !out->cors_origins) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    out->reuse_port = conf_values_bool(v, "reuse_port");
    out->max_connections = (uint64_t)conf_values_int(v, "max_connections");
    out->max_payload = (uint64_t)conf_values_int(v, "max_payload");
    out->ping_interval_ms = (uint64_t)conf_values_int(v, "ping_interval_ms");
    out->ping_timeout_ms = (uint64_t)conf_values_int(v, "ping_timeout_ms");
    out->connect_timeout_ms = (uint64_t)conf_values_int(v, "connect_timeout_ms");
    out->outbound_buffer_max = (uint64_t)conf_values_int(v, "outbound_buffer_max");
    out->max_header_size = (uint64_t)conf_values_int(v, "max_header_size");
    out->max_body_size = (uint64_t)conf_values_int(v, "max_body_size");
    out->header_timeout_ms = (uint64_t)conf_values_int(v, "header_timeout_ms");
    out->inbound_rate = (uint64_t)conf_values_int(v, "inbound_rate");
    out->inbound_rate_window_ms = (uint64_t)conf_values_int(v, "inbound_rate_window_ms");
    out->shutdown_timeout_ms = (uint64_t)conf_values_int(v, "shutdown_timeout_ms");
    out->recovery_window_ms = (uint64_t)conf_values_int(v, "recovery_window_seconds") * 1000u;
    out->recovery_max_events = (uint64_t)conf_values_int(v, "recovery_max_events");
    return 0;
fail:
    settings_clear(out);
    return -1;
}

void settings_install(struct core_settings *s, struct conf_values *values)
{
    settings_clear(&settings_current);
    settings_current = *s;
    memset(s, 0, sizeof(*s));
    conf_values_clear(&settings_current_values);
    settings_current_values = *values;
    memset(values, 0, sizeof(*values));
}

void settings_free(void)
{
    settings_clear(&settings_current);
    conf_values_clear(&settings_current_values);
}
