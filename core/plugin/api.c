/* The host table: the services a plugin reaches through struct sbr_api,
 * mapped onto the core's modules.  Registration services check that they
 * run inside the caller's on_load; a claim the core refuses (an event name
 * another plugin handles) is recorded and stops start-up. */
#include "plugin/plugin.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>

#include "bus.h"
#include "bus_rooms.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "hooks/hooks.h"
#include "sio/sio.h"
#include "util/worker_id.h"

static void api_log(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg((int)level, self ? self->name : "plugin", fmt, ap);
    va_end(ap);
}

static void api_set_error(sbr_plugin *self, const char *fmt, ...)
{
    if (!self)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof(self->error), fmt, ap);
    va_end(ap);
    self->error_key[0] = '\0';
}

static void api_set_error_key(sbr_plugin *self, const char *key, const char *fmt, ...)
{
    if (!self)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof(self->error), fmt, ap);
    va_end(ap);
    snprintf(self->error_key, sizeof(self->error_key), "%s", key ? key : "");
}

static const char *api_config_string(sbr_plugin *self, const char *key)
{
    return self ? conf_values_string(&self->values, key) : NULL;
}

static int64_t api_config_int(sbr_plugin *self, const char *key)
{
    return self ? conf_values_int(&self->values, key) : 0;
}

static int api_config_bool(sbr_plugin *self, const char *key)
{
    return self ? conf_values_bool(&self->values, key) : 0;
}

static double api_config_double(sbr_plugin *self, const char *key)
{
    return self ? conf_values_double(&self->values, key) : 0;
}

static int api_hook_register(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *userdata)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return hooks_register(self, id, fn, userdata);
}

static int api_message_handler(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *userdata)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    sbr_plugin *holder = NULL;
    int rc = hooks_named_handle(self, event, fn, userdata, &holder);
    if (rc == SBR_ERR_STATE && !self->refusal[0])
        snprintf(self->refusal, sizeof(self->refusal), "event '%s' is already handled by plugin '%s'", event,
                 holder ? holder->name : "?");
    return rc;
}

static int api_message_filter(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *userdata)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return hooks_named_filter(self, event, fn, userdata);
}

static sbr_timer_id api_timer_start(sbr_plugin *self, uint64_t delay_ms, int repeat, void (*fn)(void *), void *ud)
{
    return self ? timers_start(self, delay_ms, repeat, fn, ud) : 0;
}

static void api_timer_stop(sbr_plugin *self, sbr_timer_id timer)
{
    timers_stop(self, timer);
}

static int api_http_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *ud)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return http_api_route(self, method, pattern, fn, ud);
}

static int api_namespace_add(sbr_plugin *self, const char *nsp)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return sio_api_namespace_add(self, nsp);
}

static int api_bus_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *ud)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return bus_api_subscribe(self, topic, fn, ud);
}

static int api_bus_provide(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx)
{
    if (!plugin_is_loading(self))
        return SBR_ERR_STATE;
    return bus_api_provide(self, provider, ctx);
}

static struct event_base *api_base;

void api_init(struct event_base *base)
{
    api_base = base;
    timers_init(base);
}

static void *api_event_base(void)
{
    return api_base;
}

static int api_metric_add(sbr_plugin *self, const char *name, const char *labels, double delta)
{
    return metrics_dynamic_add(self, name, labels, delta);
}

static int api_metric_set(sbr_plugin *self, const char *name, const char *labels, double value)
{
    return metrics_dynamic_set(self, name, labels, value);
}

static int api_metric_declare(sbr_plugin *self, const char *name, enum sbr_metric_type type, const char *help)
{
    if (type != SBR_METRIC_COUNTER && type != SBR_METRIC_GAUGE)
        return SBR_ERR_INVALID;
    int rc = metrics_declare(self, name, type == SBR_METRIC_GAUGE, help);
    return rc == -4 ? SBR_ERR_NOMEM : rc < 0 ? SBR_ERR_INVALID : SBR_OK;
}

/* What every table has, on_check's included: logging, errors, the
 * configuration and the clock. */
#define API_BASE_SERVICES                                                                                        \
    .abi_version = SBR_ABI_VERSION, .struct_size = sizeof(sbr_api), .log = api_log, .set_error = api_set_error,  \
    .config_string = api_config_string, .config_int = api_config_int, .config_bool = api_config_bool,            \
    .config_double = api_config_double, .now_ms = clock_now_ms, .set_error_key = api_set_error_key

static const sbr_api api_services = {
    API_BASE_SERVICES,
    .hook_register = api_hook_register,
    .timer_start = api_timer_start,
    .timer_stop = api_timer_stop,
    .http_route = api_http_route,
    .http_method = http_api_method,
    .http_path = http_api_path,
    .http_param = http_api_param,
    .http_header = http_api_header,
    .http_body = http_api_body,
    .http_reply = http_api_reply,
    .http_check_api_key = http_api_check_api_key,
    .conn_alive = sio_api_conn_alive,
    .conn_query = sio_api_conn_query,
    .conn_header = sio_api_conn_header,
    .conn_remote_addr = sio_api_conn_remote_addr,
    .conn_set_identity = sio_api_conn_set_identity,
    .conn_identity = sio_api_conn_identity,
    .conn_disconnect = sio_api_conn_disconnect,
    .connect_resume = sio_api_connect_resume,
    .message_reply = sio_api_message_reply,
    .message_resume = sio_api_message_resume,
    .namespace_add = api_namespace_add,
    .conn_namespace = sio_api_conn_namespace,
    .room_join = sio_api_room_join,
    .room_leave = sio_api_room_leave,
    .room_contains = sio_api_room_contains,
    .room_foreach = sio_api_room_foreach,
    .emit = sio_api_emit,
    .emit_room = sio_api_emit_room,
    .bus_state = bus_state_get,
    .bus_publish = bus_api_publish,
    .bus_subscribe = api_bus_subscribe,
    .kv_set = bus_api_kv_set,
    .kv_get = bus_api_kv_get,
    .kv_del = bus_api_kv_del,
    .reserve = bus_api_reserve,
    .map_set = bus_api_map_set,
    .map_del = bus_api_map_del,
    .map_get_all = bus_api_map_get_all,
    .map_count = bus_api_map_count,
    .bus_provide = api_bus_provide,
    .bus_deliver = bus_api_deliver,
    .bus_set_state = bus_api_set_state,
    .event_base = api_event_base,
    .metric_add = api_metric_add,
    .metric_set = api_metric_set,
    .message_reply_args = sio_api_message_reply_args,
    .message_emit_args = sio_api_message_emit_args,
    .emit_with_ack = sio_api_emit_with_ack,
    .conn_end = sio_api_conn_end,
    .metric_declare = api_metric_declare,
    .msg_arg_string = api_msg_arg_string,
    .msg_arg_number = api_msg_arg_number,
    .msg_arg_bool = api_msg_arg_bool,
    .msg_arg_json = api_msg_arg_json,
    .json_quote = api_json_quote,
    .incr = bus_api_incr,
    .message_handler = api_message_handler,
    .message_filter = api_message_filter,
    .worker_id = worker_id,
    .bus_deliver_room = bus_api_deliver_room,
    .bus_set_health = api_bus_set_health,
};

const sbr_api *api_table(void)
{
    return &api_services;
}

/* What on_check may use: nothing runs yet. */
static const sbr_api api_check_services = {API_BASE_SERVICES};

const sbr_api *api_check_table(void)
{
    return &api_check_services;
}
