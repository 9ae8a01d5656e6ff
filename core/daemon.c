/* The process: start-up from conf.d, the loop, signals and shutdown.
 * SIGTERM/SIGINT stop accepting, drain the Socket.IO connections and exit 0
 * (at the latest after shutdown_timeout_ms); SIGHUP re-reads conf.d and
 * applies it only if all of it is valid. */
#include "daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "bus_rooms.h"
#include "conf/conf.h"
#include "health.h"
#include "log.h"
#include "memtrim.h"
#include "metrics.h"
#include "net/http.h"
#include "hooks/hooks.h"
#include "plugin/plugin.h"
#include "settings.h"
#include "sio/sio.h"
#include "util/worker_id.h"

static struct event_base *daemon_ev_base;
static const char *daemon_conf_dir;
static struct event *daemon_signals[3];
static struct event *daemon_drain_timer;
static int daemon_draining;

/* The bus's state listener: plugins hear of it as an event. */
static void daemon_bus_state(int state, int previous, const char *detail)
{
    sbr_event_bus_state ev = {.struct_size = sizeof(ev), .state = state, .previous = previous, .detail = detail};
    hooks_notify(SBR_EVENT_BUS_STATE, &ev);
}

int daemon_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    int saved = errno;
    close(fd);
    if (sent < 0) {
        log_warn("core", "sd_notify: %s", strerror(saved));
        return -1;
    }
    return 0;
}

/* Read conf_dir and validate the core file.  On success the caller owns
 * set and values. */
static int daemon_read_config(struct conf_set *set, struct conf_values *values, struct core_settings *settings,
                              char *err, size_t errlen)
{
    if (conf_dir_read(daemon_conf_dir, set, err, errlen) < 0)
        return -1;
    const struct conf_file *core = conf_set_find(set, "core");
    if (conf_values_build(settings_keys(), core, NULL, values, err, errlen) < 0 ||
        settings_build(values, core ? core->path : NULL, settings, err, errlen) < 0) {
        conf_values_clear(values);
        conf_set_clear(set);
        return -1;
    }
    return 0;
}

/* Connection state recovery needs a bus provider with a room log. */
static void daemon_recovery_report(void)
{
    const struct core_settings *st = settings_get();
    if (!st->recovery_window_ms)
        return;
    if (bus_rooms_available())
        log_info("core", "connection state recovery on: %llu s window, %llu events kept per room",
                 (unsigned long long)(st->recovery_window_ms / 1000), (unsigned long long)st->recovery_max_events);
    else
        log_warn("core", "recovery_window_seconds is set but the bus provider has no room log (room_publish, "
                 "room_replay, room_flush): connection state recovery is off");
}

static int daemon_reload(char *err, size_t errlen)
{
    struct conf_set set;
    struct conf_values values;
    struct core_settings fresh;
    if (daemon_read_config(&set, &values, &fresh, err, errlen) < 0)
        return -1;
    settings_clear(&fresh);
    if (registry_reload(&set, err, errlen) < 0) {
        conf_values_clear(&values);
        conf_set_clear(&set);
        return -1;
    }
    const struct conf_file *core = conf_set_find(&set, "core");
    const char *core_path = core ? core->path : daemon_conf_dir;
    conf_values_keep_fixed("core", core_path, settings_values(), &values);
    /* The values were valid a moment ago, and keeping old fixed keys keeps
     * them valid. */
    if (settings_build(&values, core_path, &fresh, err, errlen) < 0) {
        conf_values_clear(&values);
        conf_set_clear(&set);
        return -1;
    }
    settings_install(&fresh, &values);
    conf_set_clear(&set);
    log_set_level(settings_get()->log_level);
    log_set_format(settings_get()->log_format);
    http_server_reload();
    sio_server_reload();
    sbr_event_reload ev = {.struct_size = sizeof(ev)};
    hooks_notify(SBR_EVENT_RELOAD, &ev);
    return 0;
}

static void daemon_on_hup(evutil_socket_t sig, short what, void *arg)
{
    char err[CONF_ERR_MAX], state[64];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
    daemon_notify(state);
    log_info("core", "SIGHUP: re-reading %s", daemon_conf_dir);
    if (daemon_reload(err, sizeof(err)) < 0)
        log_error("core", "reload refused, the running configuration stays: %s", err);
    else
        log_info("core", "configuration reloaded");
    daemon_notify("READY=1");
}

static void daemon_drained(void)
{
    log_info("core", "drained; exiting");
    event_base_loopexit(daemon_ev_base, NULL);
}

static void daemon_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    log_warn("core", "shutdown_timeout_ms passed with connections left; exiting");
    event_base_loopbreak(daemon_ev_base);
}

static void daemon_on_term(evutil_socket_t sig, short what, void *arg)
{
    const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (daemon_draining) {
        log_warn("core", "%s again: exiting now", name);
        event_base_loopbreak(daemon_ev_base);
        return;
    }
    daemon_draining = 1;
    uint64_t ms = settings_get()->shutdown_timeout_ms;
    log_info("core", "%s: stopping; draining connections for up to %llu ms", name, (unsigned long long)ms);
    daemon_notify("STOPPING=1");
    http_server_stop_accepting();
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    daemon_drain_timer = evtimer_new(daemon_ev_base, daemon_drain_timeout, NULL);
    if (daemon_drain_timer)
        evtimer_add(daemon_drain_timer, &tv);
    sio_server_drain(daemon_drained);
}

static int daemon_signals_start(void)
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        daemon_signals[i] = evsignal_new(daemon_ev_base, sigs[i], sigs[i] == SIGHUP ? daemon_on_hup : daemon_on_term,
                                         NULL);
        if (!daemon_signals[i] || evsignal_add(daemon_signals[i], NULL) < 0)
            return -1;
    }
    return 0;
}

static void daemon_cleanup(void)
{
    memtrim_stop();
    registry_unload_all();
    http_server_free();
    sio_server_free();
    bus_free();
    hooks_free();
    for (int i = 0; i < 3; i++) {
        if (daemon_signals[i])
            event_free(daemon_signals[i]);
        daemon_signals[i] = NULL;
    }
    if (daemon_drain_timer)
        event_free(daemon_drain_timer);
    daemon_drain_timer = NULL;
    if (daemon_ev_base)
        event_base_free(daemon_ev_base);
    daemon_ev_base = NULL;
    settings_free();
    metrics_free();
}

static void daemon_print_values(const char *who, const struct conf_values *v)
{
    static const char *const types[] = {"?", "string", "int", "bool", "double"};
    for (size_t i = 0; i < v->n; i++) {
        const sbr_config_key *k = &v->keys[i];
        int secret = (k->flags & SBR_CONF_SECRET) != 0;
        printf("%s.%s = %s  # %s%s%s%s\n", who, k->name,
               secret ? (*v->text[i] ? "(secret, set)" : "(secret, empty)") : v->text[i],
               types[k->type >= SBR_CONF_STRING && k->type <= SBR_CONF_DOUBLE ? k->type : 0],
               (k->flags & SBR_CONF_RELOADABLE) ? ", reloadable" : "", k->help ? ": " : "", k->help ? k->help : "");
    }
}

/* Each connection holds a socket (a relayed WebSocket two), and the shell's
 * soft limit of open files is often 1024: raise it to the hard limit, as
 * Node and Redis do, and say so when even that is short of max_connections. */
static void daemon_raise_file_limit(uint64_t max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            log_info("core", "open files limit raised from %llu to %llu", (unsigned long long)was,
                     (unsigned long long)rl.rlim_cur);
        else
            rl.rlim_cur = was;
    }
    /* Listeners, Redis, logs, plugins' files: a margin. */
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max_connections + 64)
        log_warn("core", "the open files limit (%llu) is below max_connections (%llu) + 64: past it, new "
                 "connections wait; raise LimitNOFILE (ulimit -n) or lower max_connections",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)max_connections);
}

/* The loop and the layers, bottom up; the plugins come after. */
static int daemon_wire(void)
{
    daemon_ev_base = event_base_new();
    /* Three priorities, everything at the middle one by default: the
     * WebSocket writer runs at the lowest, after whatever else is ready
     * (core/ws/ws_turn.c). */
    if (daemon_ev_base && event_base_priority_init(daemon_ev_base, 3) != 0)
        log_warn("daemon", "event priorities unavailable: writes are coalesced per callback turn only");
    if (!daemon_ev_base || worker_id_init() != 0 || bus_init(daemon_ev_base, daemon_bus_state) != 0) {
        log_error("core", "cannot start the event loop");
        return -1;
    }
    api_init(daemon_ev_base);
    if (sio_server_init(daemon_ev_base, settings_get()->socketio_path) < 0 || health_register() < 0) {
        log_error("core", "cannot start the Socket.IO server");
        return -1;
    }
    return 0;
}

int daemon_main(const char *conf_dir, int check_only, int verbose)
{
    char err[CONF_ERR_MAX];
    struct conf_set set;
    struct conf_values values;
    struct core_settings settings;
    daemon_conf_dir = conf_dir;
    if (daemon_read_config(&set, &values, &settings, err, sizeof(err)) < 0) {
        if (check_only)
            fprintf(stderr, "%s\n", err);
        else
            log_error("core", "%s", err);
        return 1;
    }
    settings_install(&settings, &values);
    log_set_level(settings_get()->log_level);
    log_set_format(settings_get()->log_format);
    if (!check_only)
        log_info("core", "superbot-realtime %s starting: conf.d %s, plugins from %s", SBR_VERSION, conf_dir,
                 settings_get()->plugin_dir);
    if (check_only) {
        int rc = registry_load(&set, settings_get()->plugin_dir, NULL, err, sizeof(err));
        if (rc == 0)
            rc = registry_check(err, sizeof(err));
        if (rc == 0 && verbose) {
            daemon_print_values("core", settings_values());
            for (size_t i = 0; i < registry_count(); i++)
                daemon_print_values(registry_at(i)->name, &registry_at(i)->values);
        }
        registry_unload_all();
        conf_set_clear(&set);
        settings_free();
        if (rc < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("configuration OK\n");
        return 0;
    }
    daemon_raise_file_limit(settings_get()->max_connections);
    if (daemon_wire() < 0) {
        conf_set_clear(&set);
        daemon_cleanup();
        return 1;
    }
    bus_room_log_want(settings_get()->recovery_window_ms > 0);
    int rc = registry_load(&set, settings_get()->plugin_dir, api_table(), err, sizeof(err));
    conf_set_clear(&set);
    if (rc < 0) {
        log_error("core", "%s", err);
        daemon_cleanup();
        return 1;
    }
    if (http_server_start(daemon_ev_base) < 0 || daemon_signals_start() < 0 || memtrim_start(daemon_ev_base) < 0) {
        daemon_cleanup();
        return 1;
    }
    daemon_recovery_report();
    log_info("core", "superbot-realtime %s ready (%zu plugins, bus %s)", SBR_VERSION, registry_count(),
             bus_state_name());
    daemon_notify("READY=1");
    event_base_dispatch(daemon_ev_base);
    daemon_cleanup();
    log_info("core", "stopped");
    return 0;
}
