/* The room log's routing (see bus_rooms.h). */
#include "bus_rooms.h"

#include "bus.h"

static bus_room_handler bus_rooms_handler;

void bus_rooms_set_handler(bus_room_handler fn)
{
    bus_rooms_handler = fn;
}

/* The provider when it has the three ops (a provider built before them
 * has a smaller struct, or NULL in those slots). */
static const sbr_bus_provider *bus_rooms_provider(void **ctx)
{
    const sbr_bus_provider *p = bus_provider_current(ctx);
    if (!p || !BUS_PROVIDER_HAS(p, room_publish) || !BUS_PROVIDER_HAS(p, room_replay) ||
        !BUS_PROVIDER_HAS(p, room_flush))
        return NULL;
    return p;
}

int bus_rooms_available(void)
{
    return bus_rooms_provider(NULL) != NULL;
}

int bus_room_publish(const char *topic, const char *data, size_t len, const char *except, unsigned flags,
                     uint64_t max_events, uint64_t keep_ms)
{
    void *ctx;
    const sbr_bus_provider *p = bus_rooms_provider(&ctx);
    if (!topic || !data)
        return SBR_ERR_INVALID;
    if (!p)
        return SBR_ERR_UNAVAILABLE;
    return p->room_publish(ctx, topic, data, len, except ? except : "", flags, max_events, keep_ms);
}

int bus_room_replay(const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata)
{
    void *ctx;
    const sbr_bus_provider *p = bus_rooms_provider(&ctx);
    if (!request || !done || (request->n_topics && !request->topics))
        return SBR_ERR_INVALID;
    if (!p)
        return SBR_ERR_UNAVAILABLE;
    return p->room_replay(ctx, request, done, userdata);
}

int bus_room_flush(sbr_state_done_fn done, void *userdata)
{
    void *ctx;
    const sbr_bus_provider *p = bus_rooms_provider(&ctx);
    if (!done)
        return SBR_ERR_INVALID;
    if (!p)
        return SBR_ERR_UNAVAILABLE;
    return p->room_flush(ctx, done, userdata);
}

void bus_api_deliver_room(const char *topic, uint64_t offset, const char *except, unsigned flags, const char *data,
                          size_t len)
{
    if (!topic || !data || !offset || !bus_rooms_handler || !bus_topic_subscribed(topic))
        return;
    bus_rooms_handler(topic, offset, except ? except : "", flags, data, len);
}
