/* State replies waiting for the event loop.  The SDK promises that a `done`
 * callback never runs before the call that asked for it returns, so a reply
 * computed at once is copied here and delivered from a zero-delay timer. */
#ifndef SBR_BUS_REPLY_QUEUE_H
#define SBR_BUS_REPLY_QUEUE_H

#include <superbot-realtime/plugin.h>

typedef struct reply_queue reply_queue;

reply_queue *reply_queue_new(sbr_plugin *self, const sbr_api *api);
/* Drop undelivered replies (at unload, when nobody is left to hear them). */
void reply_queue_free(reply_queue *q);
/* Queue a deep copy of reply for done(reply, userdata); a NULL done wants
 * no answer.  Returns 0, or a negative enum sbr_status (then done will
 * never be called). */
int reply_queue_push(reply_queue *q, sbr_state_done_fn done, void *userdata, const sbr_state_reply *reply);

#endif
