/* One plugin timer on the earliest of a structure's deadlines (in
 * api->now_ms() milliseconds): an idle structure costs nothing, and what
 * expired is given back even when nobody reads it. */
#ifndef SBR_BUS_LOCAL_DEADLINE_TIMER_H
#define SBR_BUS_LOCAL_DEADLINE_TIMER_H

#include <stdint.h>
#include <superbot-realtime/plugin.h>

struct deadline_timer {
    sbr_timer_id id;   /* 0: not set (the fire function clears it first) */
    uint64_t armed_at; /* the deadline it is set for */
};

/* Set t for `next` (0: no deadline), unless it is set for no later. */
void deadline_timer_arm(struct deadline_timer *t, sbr_plugin *self, const sbr_api *api, uint64_t next,
                        void (*fire)(void *userdata), void *userdata);
void deadline_timer_stop(struct deadline_timer *t, sbr_plugin *self, const sbr_api *api);

#endif
