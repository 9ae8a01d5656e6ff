#include "deadline_timer.h"

void deadline_timer_arm(struct deadline_timer *t, sbr_plugin *self, const sbr_api *api, uint64_t next,
                        void (*fire)(void *userdata), void *userdata)
{
    if (next == 0 || (t->id && t->armed_at <= next))
        return;
    deadline_timer_stop(t, self, api);
    uint64_t now = api->now_ms();
    t->id = api->timer_start(self, next > now ? next - now : 0, 0, fire, userdata);
    t->armed_at = next;
}

void deadline_timer_stop(struct deadline_timer *t, sbr_plugin *self, const sbr_api *api)
{
    if (t->id)
        api->timer_stop(self, t->id);
    t->id = 0;
}
