/* bus-redis: the state-and-bus interface over Redis (one server, a
 * sentinel set's master, or a cluster), so several workers share presence,
 * typing, slow mode, revocations and broadcasts.  Without a URL, or while
 * Redis is unreachable, it answers from the embedded in-process store,
 * exactly as bus-local would. */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sbr_config_key bus_redis_keys[] = {
    {"url", SBR_CONF_STRING, "", 0, 0, SBR_CONF_SECRET,
     "redis://[[user]:password@]host[:port][/db], unix:///path[?db=N], "
     "redis-sentinel://[[user]:password@]host:port[,host:port...]/master-name[/db] or "
     "redis-cluster://[[user]:password@]host:port[,host:port...]; empty: in-process only"},
    {"sentinel_user", SBR_CONF_STRING, "", 0, 0, 0, "ACL user for the sentinels (redis-sentinel://), if they need one"},
    {"sentinel_password", SBR_CONF_STRING, "", 0, 0, SBR_CONF_SECRET,
     "password of the sentinels (their own requirepass, not the data nodes'); empty: none"},
    {"failover_replay_ms", SBR_CONF_INT, "5000", 0, 600000, 0,
     "redis-sentinel://: after a switch of master, publish again and write back what the old one answered this "
     "long before (it may be lost with it); 0: never"},
    {"key_prefix", SBR_CONF_STRING, "superbot-realtime:", 0, 0, 0,
     "prefix of every key and channel, so deployments can share one Redis"},
    {"connect_timeout_ms", SBR_CONF_INT, "2000", 50, 600000, 0,
     "longest wait to connect, and for any answer, before Redis counts as down"},
    {"reconnect_max_ms", SBR_CONF_INT, "10000", 100, 3600000, 0, "cap of the exponential reconnect backoff"},
    {"outage_buffer_max", SBR_CONF_INT, "100000", 1, 100000000, 0,
     "messages kept while Redis is away (or has not answered them yet), oldest dropped past it"},
    {"outage_buffer_seconds", SBR_CONF_INT, "60", 1, 86400, 0,
     "how long a message is kept for Redis, oldest dropped past it"},
    {"outage_buffer_bytes", SBR_CONF_INT, "67108864", 65536, 68719476736.0, 0,
     "bytes of messages kept for Redis, oldest dropped past it"},
    SBR_CONF_END,
};

static struct bus_redis *bus_redis;

static const sbr_bus_provider bus_redis_provider = {
    .struct_size = sizeof(sbr_bus_provider),
    .name = "bus-redis",
    .kv_set = redis_state_kv_set,
    .kv_get = redis_state_kv_get,
    .kv_del = redis_state_kv_del,
    .reserve = redis_state_reserve,
    .incr = redis_state_incr,
    .map_set = redis_state_map_set,
    .map_del = redis_state_map_del,
    .map_get_all = redis_state_map_get_all,
    .map_count = redis_state_map_count,
    .publish = redis_publish,
    .subscribe = redis_pubsub_subscribe,
    .unsubscribe = redis_pubsub_unsubscribe,
    .room_publish = redis_rooms_publish,
    .room_replay = redis_rooms_replay,
    .room_flush = redis_rooms_flush,
    .room_log_on = redis_rooms_log_on,
};

/* The core's identity of this worker, padded to the envelope's width: two
 * workers never share one, and a restarted worker does not take its echoes
 * for a peer's messages.  -1 if the core offers none that fits. */
static int bus_redis_worker_id(const sbr_api *api, char out[BUS_REDIS_WORKER_ID_LEN + 1])
{
    const char *id = SBR_API_HAS(api, worker_id) ? api->worker_id() : NULL;
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > BUS_REDIS_WORKER_ID_LEN)
        return -1;
    memcpy(out, id, n);
    memset(out + n, '.', BUS_REDIS_WORKER_ID_LEN - n);
    out[BUS_REDIS_WORKER_ID_LEN] = '\0';
    return 0;
}

static void bus_redis_free(struct bus_redis *br)
{
    if (!br)
        return;
    redis_link_stop(br);
    redis_publish_clear(br);
    redis_receive_clear(br);
    redis_writeback_clear(br);
    redis_rooms_clear(br);
    if (br->topics)
        redis_pubsub_clear(br);
    redis_replay_clear(br);
    redis_cluster_free(br);
    redis_nodes_free(br);
    local_bus_free(br->local);
    redis_url_clear(&br->url);
    free(br->prefix);
    free(br->sentinel_user);
    free(br->sentinel_password);
    free(br);
}

static const sbr_metric_def bus_redis_metrics[] = {
    {"superbot_bus_redis_local_answers_total", SBR_METRIC_COUNTER,
     "State operations answered from in-process state because Redis was configured but unreachable", NULL},
    {"superbot_bus_redis_reconnects_total", SBR_METRIC_COUNTER, "Connections to Redis made again after a loss", NULL},
    {"superbot_bus_outage_buffered_messages", SBR_METRIC_GAUGE,
     "Published messages waiting for Redis to answer them (updated while Redis is away)", NULL},
    {"superbot_bus_dropped_total", SBR_METRIC_COUNTER,
     "Published messages dropped past outage_buffer_max, outage_buffer_bytes or outage_buffer_seconds", NULL},
    {"superbot_bus_duplicates_dropped_total", SBR_METRIC_COUNTER,
     "Messages from another worker received again (sent again after a lost link) and delivered once", NULL},
    {NULL, 0, NULL, NULL},
};

/* The plugin state from the config; NULL with the reason in *why. */
static struct bus_redis *bus_redis_new(sbr_plugin *self, const sbr_api *api, const char **why)
{
    *why = "out of memory";
    struct bus_redis *br = calloc(1, sizeof(*br));
    if (!br)
        return NULL;
    br->self = self;
    br->api = api;
    br->state = -1;
    br->backoff_ms = 100;
    br->connect_timeout_ms = (uint64_t)api->config_int(self, "connect_timeout_ms");
    br->reconnect_max_ms = (uint64_t)api->config_int(self, "reconnect_max_ms");
    br->outbox_max_events = (size_t)api->config_int(self, "outage_buffer_max");
    br->outbox_max_bytes = (size_t)api->config_int(self, "outage_buffer_bytes");
    br->outbox_max_age_ms = (uint64_t)api->config_int(self, "outage_buffer_seconds") * 1000u;
    if (bus_redis_worker_id(api, br->worker_id) != 0) {
        *why = "this core offers no worker identity (api->worker_id): it is older than the plugin";
        free(br);
        return NULL;
    }
    const char *user = api->config_string(self, "sentinel_user");
    const char *password = api->config_string(self, "sentinel_password");
    br->prefix = strdup(api->config_string(self, "key_prefix"));
    br->sentinel_user = user[0] ? strdup(user) : NULL;
    br->sentinel_password = password[0] ? strdup(password) : NULL;
    br->local = local_bus_new(self, api);
    if (!br->prefix || !br->local || (user[0] && !br->sentinel_user) || (password[0] && !br->sentinel_password) ||
        redis_pubsub_init(br) != 0 || redis_receive_init(br) != 0 || redis_writeback_init(br) != 0) {
        bus_redis_free(br);
        return NULL;
    }
    return br;
}

/* What the form of the URL needs: the cluster's slot tables, the outage
 * buffer's lanes, the failover replay.  -1 when out of memory. */
static int bus_redis_setup(struct bus_redis *br)
{
    br->mode = br->url.mode;
    if (br->mode == REDIS_MODE_SENTINEL && redis_sentinel_init(br) != 0)
        return -1;
    if (br->mode == REDIS_MODE_CLUSTER && redis_cluster_init(br) != 0)
        return -1;
    if (redis_publish_init(br, br->outbox_max_events, br->outbox_max_bytes, br->outbox_max_age_ms) != 0)
        return -1;
    redis_replay_init(br, (uint64_t)br->api->config_int(br->self, "failover_replay_ms"));
    if (redis_rooms_init(br) != 0)
        return -1;
    return redis_health_init(br);
}

static int bus_redis_load(sbr_plugin *self, const sbr_api *api)
{
    if (sbr_metrics_declare(api, self, bus_redis_metrics) != SBR_OK) {
        api->set_error(self, "cannot declare the metrics of bus-redis");
        return -1;
    }
    const char *why;
    struct bus_redis *br = bus_redis_new(self, api, &why);
    if (!br) {
        api->set_error(self, "%s", why);
        return -1;
    }
    const char *url = api->config_string(self, "url");
    char err[200];
    if (url[0] && redis_url_parse(url, &br->url, err, sizeof(err)) != 0) {
        SBR_SET_ERROR_KEY(api, self, "url", "bad url (REALTIME_REDIS_URL): %s", err);
        bus_redis_free(br);
        return -1;
    }
    if (url[0])
        redis_url_describe(&br->url, br->url_text, sizeof(br->url_text));
    if (bus_redis_setup(br) != 0) {
        api->set_error(self, "out of memory, or cannot declare the metrics of bus-redis");
        bus_redis_free(br);
        return -1;
    }
    if (api->bus_provide(self, &bus_redis_provider, br) != SBR_OK) {
        api->set_error(self, "cannot become the bus provider (another bus plugin is loaded?)");
        bus_redis_free(br);
        return -1;
    }
    bus_redis = br;
    if (!url[0]) {
        static const char off[] = "Redis disabled: REALTIME_REDIS_URL is not set; serving from in-process state (one worker)";
        br->state = SBR_BUS_LOCAL;
        /* The core starts in this state and logs only changes: say it here. */
        api->log(self, SBR_LOG_INFO, "%s", off);
        api->bus_set_state(SBR_BUS_LOCAL, off);
        return 0;
    }
    api->log(self, SBR_LOG_INFO, "connecting to Redis at %s (worker %s)", br->url_text, br->worker_id);
    redis_link_init(br);
    redis_link_start(br);
    return 0;
}

static void bus_redis_unload(sbr_plugin *self)
{
    bus_redis_free(bus_redis);
    bus_redis = NULL;
}

/* --check-config and reload: the URL parses (it is not resolved or reached). */
static int bus_redis_check(sbr_plugin *self, const sbr_api *api)
{
    const char *url = api->config_string(self, "url");
    struct redis_url parsed;
    char err[200];
    if (url[0] && redis_url_parse(url, &parsed, err, sizeof(err)) != 0) {
        SBR_SET_ERROR_KEY(api, self, "url", "bad url (REALTIME_REDIS_URL): %s", err);
        return -1;
    }
    if (url[0])
        redis_url_clear(&parsed);
    return 0;
}

SBR_PLUGIN_DEFINE(.name = "bus-redis", .version = "1.0.0",
                  .description = "State and bus shared through Redis, in-process while Redis is away",
                  .config = bus_redis_keys, .on_load = bus_redis_load, .on_unload = bus_redis_unload,
                  .on_check = bus_redis_check)
