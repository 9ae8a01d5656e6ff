/*
 * echo: the reference server of the official Socket.IO protocol test suite,
 * as a plugin.
 *
 *   - on connect to "/" or "/custom": emit `auth` with the CONNECT payload
 *     ({} when there was none);
 *   - `message`: emit `message-back` with the same arguments;
 *   - `message-with-ack`: acknowledge with the same arguments.
 *
 * Binary attachments travel back too: the arguments keep their
 * placeholders and the core resends the attachments that came with them.
 *
 * The two events are claimed by name (api->message_handler), so the core
 * calls each handler for its event only.  On a core of the same ABI that
 * predates that service, one generic SBR_EVENT_MESSAGE hook picks them out
 * by name instead.
 */
#include <stdlib.h>
#include <string.h>
#include <superbot-realtime/plugin.h>

static const sbr_api *api;
static sbr_plugin *self;

/* Auth payloads between CONNECT and CONNECTED, by connection. */
struct pending_auth {
    sbr_conn_id conn;
    struct pending_auth *next;
    char json[];
};

static struct pending_auth *pending;

static void pending_drop(sbr_conn_id conn, char **take)
{
    for (struct pending_auth **p = &pending; *p; p = &(*p)->next) {
        if ((*p)->conn != conn)
            continue;
        struct pending_auth *e = *p;
        *p = e->next;
        if (take) {
            size_t n = strlen(e->json) + 1;
            *take = malloc(n);
            if (*take)
                memcpy(*take, e->json, n);
        }
        free(e);
        return;
    }
}

static int echo_on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_connect *ev = event;
    const char *auth = ev->auth_json ? ev->auth_json : "{}";
    size_t n = strlen(auth) + 1;
    struct pending_auth *e = malloc(sizeof(*e) + n);
    if (!e) {
        ev->reason = "out of memory";
        return SBR_REFUSE;
    }
    e->conn = ev->conn;
    memcpy(e->json, auth, n);
    e->next = pending;
    pending = e;
    return SBR_PASS;
}

static int echo_on_connected(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_connected *ev = event;
    char *auth = NULL;
    pending_drop(ev->conn, &auth);
    api->emit(ev->conn, "auth", auth ? auth : "{}", 0);
    free(auth);
    return 0;
}

static int echo_on_disconnect(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_disconnect *ev = event;
    pending_drop(ev->conn, NULL);
    return 0;
}

/* `message`: emit `message-back` with the same arguments. */
static int echo_on_message(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_message *ev = event;
    if (SBR_API_HAS(api, message_emit_args))
        api->message_emit_args(ev->msg, "message-back", ev->args_json);
    api->message_reply(ev->msg, NULL);
    return SBR_CONSUME;
}

/* `message-with-ack`: acknowledge with the same arguments. */
static int echo_on_message_with_ack(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_message *ev = event;
    if (SBR_API_HAS(api, message_reply_args))
        api->message_reply_args(ev->msg, ev->args_json);
    else
        api->message_reply(ev->msg, NULL);
    return SBR_CONSUME;
}

/* A core without message_handler calls this for every client event. */
static int echo_on_any_message(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_message *ev = event;
    if (strcmp(ev->event, "message") == 0)
        return echo_on_message(id, event, userdata);
    if (strcmp(ev->event, "message-with-ack") == 0)
        return echo_on_message_with_ack(id, event, userdata);
    return SBR_PASS;
}

static int echo_claim_events(void)
{
    if (!SBR_API_HAS(api, message_handler))
        return api->hook_register(self, SBR_EVENT_MESSAGE, echo_on_any_message, NULL);
    int rc = api->message_handler(self, "message", echo_on_message, NULL);
    return rc != SBR_OK ? rc : api->message_handler(self, "message-with-ack", echo_on_message_with_ack, NULL);
}

static int echo_load(sbr_plugin *plugin, const sbr_api *services)
{
    api = services;
    self = plugin;
    if (api->namespace_add(self, "/custom") != SBR_OK) {
        api->set_error(self, "cannot add the /custom namespace");
        return -1;
    }
    if (api->hook_register(self, SBR_EVENT_CONNECT, echo_on_connect, NULL) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_CONNECTED, echo_on_connected, NULL) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_DISCONNECT, echo_on_disconnect, NULL) != SBR_OK ||
        echo_claim_events() != SBR_OK) {
        api->set_error(self, "cannot register hooks");
        return -1;
    }
    return 0;
}

static void echo_unload(sbr_plugin *plugin)
{
    while (pending)
        pending_drop(pending->conn, NULL);
}

SBR_PLUGIN_DEFINE(.name = "echo", .version = "1.0.0",
                  .description = "Echo server of the Socket.IO protocol test suite",
                  .on_load = echo_load, .on_unload = echo_unload)
