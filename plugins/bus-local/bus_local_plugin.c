/* bus-local: the state-and-bus interface in-process, for one worker without
 * Redis.  Publishing reaches nobody else (there is nobody else: the core
 * delivers to this worker itself), so publish and subscribe are no-ops. */
#include "local_bus.h"

#include <superbot-realtime/plugin.h>

static local_bus *bus_local;

static int bus_local_publish(void *ctx, const char *topic, const char *data, size_t len)
{
    return SBR_OK;
}

static int bus_local_topic_noop(void *ctx, const char *topic)
{
    return SBR_OK;
}

static const sbr_bus_provider bus_local_provider = {
    .struct_size = sizeof(sbr_bus_provider),
    .name = "bus-local",
    .kv_set = local_bus_kv_set,
    .kv_get = local_bus_kv_get,
    .kv_del = local_bus_kv_del,
    .reserve = local_bus_reserve,
    .incr = local_bus_incr,
    .map_set = local_bus_map_set,
    .map_del = local_bus_map_del,
    .map_get_all = local_bus_map_get_all,
    .map_count = local_bus_map_count,
    .publish = bus_local_publish,
    .subscribe = bus_local_topic_noop,
    .unsubscribe = bus_local_topic_noop,
    .room_publish = local_bus_room_publish,
    .room_replay = local_bus_room_replay,
    .room_flush = local_bus_room_flush,
};

static int bus_local_load(sbr_plugin *self, const sbr_api *api)
{
    bus_local = local_bus_new(self, api);
    if (!bus_local) {
        api->set_error(self, "out of memory");
        return -1;
    }
    int rc = api->bus_provide(self, &bus_local_provider, bus_local);
    if (rc != SBR_OK) {
        api->set_error(self, "cannot become the bus provider (another bus plugin is loaded?)");
        local_bus_free(bus_local);
        bus_local = NULL;
        return -1;
    }
    api->bus_set_state(SBR_BUS_LOCAL, "in-process state, one worker (bus-local)");
    return 0;
}

static void bus_local_unload(sbr_plugin *self)
{
    local_bus_free(bus_local);
    bus_local = NULL;
}

SBR_PLUGIN_DEFINE(.name = "bus-local", .version = "1.0.0",
                  .description = "State and bus in-process: one worker, no Redis",
                  .on_load = bus_local_load, .on_unload = bus_local_unload)
