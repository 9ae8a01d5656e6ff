#include "reply_queue.h"

#include <stdlib.h>
#include <string.h>

struct pending_reply {
    struct pending_reply *next;
    sbr_state_done_fn done;
    void *userdata;
    sbr_state_reply reply; /* its pointers aim into `copy` */
    void *copy;
};

struct reply_queue {
    sbr_plugin *self;
    const sbr_api *api;
    struct pending_reply *head;
    struct pending_reply **tail;
    sbr_timer_id timer;
};

reply_queue *reply_queue_new(sbr_plugin *self, const sbr_api *api)
{
    reply_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->self = self;
    q->api = api;
    q->tail = &q->head;
    return q;
}

static void pending_reply_free(struct pending_reply *p)
{
    free(p->copy);
    free(p);
}

void reply_queue_free(reply_queue *q)
{
    if (!q)
        return;
    if (q->timer)
        q->api->timer_stop(q->self, q->timer);
    while (q->head) {
        struct pending_reply *p = q->head;
        q->head = p->next;
        pending_reply_free(p);
    }
    free(q);
}

/* Deliver what is queued now; replies queued by these callbacks wait for
 * the next turn of the loop, so a callback chain cannot starve it. */
static void reply_queue_flush(void *userdata)
{
    reply_queue *q = userdata;
    struct pending_reply *list = q->head;
    q->head = NULL;
    q->tail = &q->head;
    q->timer = 0;
    while (list) {
        struct pending_reply *p = list;
        list = p->next;
        p->done(&p->reply, p->userdata);
        pending_reply_free(p);
    }
}

/* Copy the value and the field/value arrays into one block. */
static int pending_reply_copy(struct pending_reply *p, const sbr_state_reply *r)
{
    size_t size = 0;
    if (r->value)
        size += r->value_len + 1;
    size_t arrays = r->n * 2 * sizeof(char *);
    for (size_t i = 0; i < r->n; i++)
        size += strlen(r->fields[i]) + 1 + strlen(r->values[i]) + 1;
    if (size + arrays == 0)
        return 0;
    char *block = malloc(arrays + size);
    if (!block)
        return -1;
    p->copy = block;
    const char **fields = (const char **)(void *)block;
    const char **values = fields + r->n;
    char *text = block + arrays;
    if (r->value) {
        memcpy(text, r->value, r->value_len);
        text[r->value_len] = '\0';
        p->reply.value = text;
        text += r->value_len + 1;
    }
    for (size_t i = 0; i < r->n; i++) {
        size_t lf = strlen(r->fields[i]) + 1, lv = strlen(r->values[i]) + 1;
        memcpy(text, r->fields[i], lf);
        fields[i] = text;
        text += lf;
        memcpy(text, r->values[i], lv);
        values[i] = text;
        text += lv;
    }
    p->reply.fields = r->n ? fields : NULL;
    p->reply.values = r->n ? values : NULL;
    return 0;
}

int reply_queue_push(reply_queue *q, sbr_state_done_fn done, void *userdata, const sbr_state_reply *reply)
{
    if (!done)
        return SBR_OK;
    struct pending_reply *p = calloc(1, sizeof(*p));
    if (!p)
        return SBR_ERR_NOMEM;
    p->done = done;
    p->userdata = userdata;
    p->reply = *reply;
    p->reply.struct_size = sizeof(p->reply);
    if (pending_reply_copy(p, reply) != 0) {
        free(p);
        return SBR_ERR_NOMEM;
    }
    if (!q->timer) {
        q->timer = q->api->timer_start(q->self, 0, 0, reply_queue_flush, q);
        if (!q->timer) {
            pending_reply_free(p);
            return SBR_ERR_NOMEM;
        }
    }
    *q->tail = p;
    q->tail = &p->next;
    return SBR_OK;
}
