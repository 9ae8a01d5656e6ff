/* Client events: their chain (the generic SBR_EVENT_MESSAGE hooks and the
 * event name's filters, then its handler), acks, and the sbr_message object
 * that lives until it is answered, even if its connection goes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "metrics.h"
#include "sio/sio_emit.h"
#include "sio/sio_log.h"
#include "sio/sio_message.h"
#include "util/json_text.h"

struct sbr_message {
    struct sbr_message *prev, *next; /* every message alive, for shutdown */
    sbr_conn_id conn;
    const char *nsp;
    struct hook_chain chain;
    sbr_event_message event;
    char *name;
    char *args;
    json_t *args_value;  /* the same arguments, parsed: read by api->msg_arg_* */
    int wants_ack;
    uint64_t ack_id;
    struct eio_buf **attachments;
    unsigned n_attachments;
    unsigned in_chain : 1;
    unsigned answered : 1;
    unsigned resume_set : 1;
    int resume_verdict;
    char *resume_reason;
};

static struct sbr_message *messages;

static void message_free(struct sbr_message *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        messages = m->next;
    if (m->next)
        m->next->prev = m->prev;
    for (unsigned i = 0; i < m->n_attachments; i++)
        eio_buf_unref(m->attachments[i]);
    free(m->attachments);
    free(m->name);
    free(m->args);
    json_decref(m->args_value);
    free(m->resume_reason);
    free(m);
}

void sio_messages_free(void)
{
    while (messages)
        message_free(messages);
}

/* Send a packet and, when it carries placeholders, the message's attachments. */
static int message_send(struct sbr_message *m, int type, int has_id, const char *event, const char *args_json)
{
    struct sio_conn *c = sio_conn_find(m->conn);
    if (!c || c->state != SIO_CONN_CONNECTED)
        return SBR_OK; /* the connection went away: the answer is dropped */
    const char *inner = NULL;
    size_t inner_len = 0;
    if (args_json && sio_args_inner(args_json, &inner, &inner_len) != 0)
        return SBR_ERR_INVALID;
    unsigned att = 0;
    if (args_json && m->n_attachments && strstr(args_json, "_placeholder")) {
        /* Only an answer that may carry attachments is parsed. */
        json_t *parsed = json_loads(args_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        int valid = parsed && sio_placeholders_valid(parsed, m->n_attachments);
        json_decref(parsed);
        if (!valid)
            return SBR_ERR_INVALID;
        att = m->n_attachments;
    }
    if (att)
        type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
    struct eio_buf *b = sio_encode_packet(type, att, c->nsp, has_id, m->ack_id, event, inner, inner_len);
    if (!b)
        return SBR_ERR_INVALID;
    int r = sio_conn_send(c, b, 0);
    eio_buf_unref(b);
    for (unsigned i = 0; r == SBR_OK && i < att; i++)
        r = sio_conn_send(c, m->attachments[i], 0);
    return r == SBR_ERR_GONE ? SBR_OK : r;
}

static void message_ack_error(struct sbr_message *m, const char *error)
{
    struct sio_conn *c = sio_conn_find(m->conn);
    if (c)
        sio_log_event_refused(c, m->name, error ? error : "refused");
    if (!m->wants_ack)
        return;
    /* [{"ok":false,"error":"<error>"}] */
    static const char head[] = "[{\"ok\":false,\"error\":", tail[] = "}]";
    const char *why = error ? error : "refused";
    size_t quoted = json_text_quoted_len(why, strlen(why));
    if (!quoted) {
        why = "refused"; /* a reason that is not UTF-8 */
        quoted = json_text_quoted_len(why, strlen(why));
    }
    char *text = malloc(sizeof(head) - 1 + quoted + sizeof(tail));
    if (!text)
        return;
    memcpy(text, head, sizeof(head) - 1);
    size_t n = sizeof(head) - 1 + json_text_quote(why, strlen(why), text + sizeof(head) - 1);
    memcpy(text + n, tail, sizeof(tail));
    message_send(m, SIO_ACK, 1, NULL, text);
    free(text);
}

static void message_run(struct sbr_message *m)
{
    for (;;) {
        m->in_chain = 1;
        m->resume_set = 0;
        enum sbr_verdict v = hooks_chain_run(&m->chain);
        m->in_chain = 0;
        if (m->answered) {
            message_free(m);
            return;
        }
        if (v == SBR_PENDING && m->resume_set) {
            if (m->resume_verdict == SBR_REFUSE) {
                message_ack_error(m, m->resume_reason);
                message_free(m);
                return;
            }
            continue;
        }
        if (v == SBR_PENDING || v == SBR_CONSUME)
            return;
        if (v == SBR_REFUSE) {
            message_ack_error(m, m->event.reason);
        } else {
            message_ack_error(m, "unknown_event");
        }
        message_free(m);
        return;
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The arguments after the event's name as a JSON array text: cut from the
 * packet's own text when it is at hand (a scan past the name), else dumped
 * from the parsed values.  NULL when memory runs out. */
static char *message_args_text(const struct sio_packet *pk, json_t *rest)
{
    const char *p = pk->text, *end = p ? p + pk->text_len : NULL;
    while (p && p < end && is_blank(*p))
        p++;
    size_t name = p && p < end && *p == '[' ? json_text_value_end(p + 1, (size_t)(end - p - 1)) : 0;
    if (!name)
        return json_dumps(rest, JSON_COMPACT);
    const char *after = p + 1 + name;
    while (after < end && is_blank(*after))
        after++;
    while (end > after && is_blank(end[-1]))
        end--;
    /* The packet is a valid array: after is ',' or its closing ']'. */
    const char *from = *after == ',' ? after + 1 : end - 1;
    size_t n = (size_t)(end - from);
    char *text = malloc(n + 2);
    if (text) {
        text[0] = '[';
        memcpy(text + 1, from, n);
        text[n + 1] = '\0';
    }
    return text;
}

void sio_message_dispatch(struct sio_conn *c, struct sio_packet *pk, struct eio_buf **attachments, unsigned n)
{
    struct sbr_message *m = calloc(1, sizeof(*m));
    if (!m) {
        for (unsigned i = 0; i < n; i++)
            eio_buf_unref(attachments[i]);
        free(attachments);
        return;
    }
    m->attachments = attachments;
    m->n_attachments = n;
    m->next = messages;
    if (messages)
        messages->prev = m;
    messages = m;
    json_t *first = json_array_get(pk->data, 0);
    if (json_is_string(first)) {
        m->name = strdup(json_string_value(first));
    } else {
        char num[64];
        snprintf(num, sizeof(num), "%g", json_number_value(first));
        m->name = strdup(num);
    }
    json_t *rest = json_array();
    for (size_t i = 1; rest && i < json_array_size(pk->data); i++)
        json_array_append(rest, json_array_get(pk->data, i));
    m->args = rest ? message_args_text(pk, rest) : NULL;
    m->args_value = rest;
    if (!m->name || !m->args) {
        message_free(m);
        return;
    }
    m->conn = c->id;
    m->nsp = c->nsp;
    m->wants_ack = pk->has_id;
    m->ack_id = pk->id;
    if (json_is_string(first) && strlen(m->name) != json_string_length(first)) {
        /* Hooks get the name NUL-terminated: one with a NUL inside would
         * reach them as another, shorter name.  No plugin handles it. */
        message_ack_error(m, "unknown_event");
        message_free(m);
        return;
    }
    m->event.struct_size = sizeof(m->event);
    m->event.conn = c->id;
    m->event.msg = m;
    m->event.event = m->name;
    m->event.args_json = m->args;
    m->event.args_len = strlen(m->args);
    m->event.wants_ack = m->wants_ack;
    m->chain.id = SBR_EVENT_MESSAGE;
    m->chain.next = 0;
    m->chain.event = &m->event;
    /* The name's filters and handler: the one lookup of this message. */
    m->chain.named = hooks_named_find(m->name);
    message_run(m);
}

json_t *sio_message_args(sbr_message *msg)
{
    return msg && !msg->answered ? msg->args_value : NULL;
}

/* End the message: now, or when its chain returns. */
static void message_end(struct sbr_message *m)
{
    m->answered = 1;
    if (!m->in_chain)
        message_free(m);
}

int sio_api_message_reply(sbr_message *msg, const char *data_json)
{
    if (!msg)
        return SBR_ERR_INVALID;
    if (msg->answered)
        return SBR_ERR_GONE;
    if (data_json && !sio_json_valid(data_json))
        return SBR_ERR_INVALID;
    if (data_json && log_enabled(LOG_DEBUG_)) {
        struct sio_conn *c = sio_conn_find(msg->conn);
        if (c)
            sio_log_reply(c, msg->name, data_json);
    }
    int r = SBR_OK;
    if (msg->wants_ack) {
        size_t n = data_json ? strlen(data_json) : 0;
        char *args = malloc(n + 3);
        if (!args)
            return SBR_ERR_NOMEM;
        args[0] = '[';
        if (n)
            memcpy(args + 1, data_json, n);
        args[n + 1] = ']';
        args[n + 2] = '\0';
        r = message_send(msg, SIO_ACK, 1, NULL, args);
        free(args);
    }
    message_end(msg);
    return r;
}

int sio_api_message_reply_args(sbr_message *msg, const char *args_json)
{
    if (!msg || !args_json)
        return SBR_ERR_INVALID;
    if (msg->answered)
        return SBR_ERR_GONE;
    int r = msg->wants_ack ? message_send(msg, SIO_ACK, 1, NULL, args_json) : SBR_OK;
    if (r == SBR_ERR_INVALID)
        return r;
    message_end(msg);
    return r;
}

int sio_api_message_emit_args(sbr_message *msg, const char *event, const char *args_json)
{
    if (!msg || !event || !args_json)
        return SBR_ERR_INVALID;
    if (msg->answered)
        return SBR_ERR_GONE;
    return message_send(msg, SIO_EVENT, 0, event, args_json);
}

int sio_api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason)
{
    if (!msg || (verdict != SBR_PASS && verdict != SBR_REFUSE))
        return SBR_ERR_INVALID;
    if (msg->answered)
        return SBR_ERR_GONE;
    if (msg->in_chain) {
        msg->resume_set = 1;
        msg->resume_verdict = verdict;
        free(msg->resume_reason);
        msg->resume_reason = reason ? strdup(reason) : NULL;
        return SBR_OK;
    }
    if (verdict == SBR_REFUSE) {
        message_ack_error(msg, reason);
        message_free(msg);
        return SBR_OK;
    }
    message_run(msg);
    return SBR_OK;
}
