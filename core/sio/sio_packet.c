#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sio/sio_packet.h"

static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", NULL
};

static int payload_valid(int type, json_t *data)
{
    switch (type) {
    case SIO_CONNECT:
        return data == NULL || json_is_object(data);
    case SIO_DISCONNECT:
        return data == NULL;
    case SIO_CONNECT_ERROR:
        return data && (json_is_string(data) || json_is_object(data));
    case SIO_EVENT:
    case SIO_BINARY_EVENT: {
        if (!json_is_array(data) || json_array_size(data) == 0)
            return 0;
        json_t *name = json_array_get(data, 0);
        if (json_is_number(name))
            return 1;
        if (!json_is_string(name))
            return 0;
        /* By length: a name may hold a NUL ("connect\u0000x" is not reserved). */
        size_t len = json_string_length(name);
        for (size_t i = 0; reserved_events[i]; i++)
            if (len == strlen(reserved_events[i]) && memcmp(json_string_value(name), reserved_events[i], len) == 0)
                return 0;
        return 1;
    }
    case SIO_ACK:
    case SIO_BINARY_ACK:
        return json_is_array(data);
    default:
        return 0;
    }
}

int sio_packet_decode(const char *p, size_t n, struct sio_packet *out)
{
    memset(out, 0, sizeof(*out));
    strcpy(out->nsp, "/");
    size_t i = 0;
    if (n == 0 || p[0] < '0' || p[0] > '6')
        return -1;
    out->type = p[i++] - '0';
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        size_t start = i;
        uint64_t a = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && i - start < 6)
            a = a * 10 + (uint64_t)(p[i++] - '0');
        if (i == start || i >= n || p[i] != '-')
            return -1;
        i++;
        out->attachments = (unsigned)a;
    }
    if (i < n && p[i] == '/') {
        size_t start = i;
        while (i < n && p[i] != ',')
            i++;
        size_t len = i - start;
        if (len > SIO_NSP_MAX)
            return -1;
        memcpy(out->nsp, p + start, len);
        out->nsp[len] = '\0';
        if (memchr(out->nsp, '\0', len))
            return -1;
        if (i < n)
            i++; /* the comma */
    }
    if (i < n && p[i] >= '0' && p[i] <= '9') {
        size_t start = i;
        uint64_t id = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (i - start >= 15)
                return -1;
            id = id * 10 + (uint64_t)(p[i++] - '0');
        }
        out->has_id = 1;
        out->id = id;
    }
    if (i < n) {
        json_error_t err;
        /* JSON allows \u0000 in strings and the reference server takes it;
         * it stays escaped in every text handed on (json_dumps). */
        out->data = json_loadb(p + i, n - i, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!out->data)
            return -1;
        out->text = p + i;
        out->text_len = n - i;
    }
    if (!payload_valid(out->type, out->data) ||
        (out->has_id && out->type != SIO_EVENT && out->type != SIO_BINARY_EVENT &&
         out->type != SIO_ACK && out->type != SIO_BINARY_ACK) ||
        ((out->type == SIO_ACK || out->type == SIO_BINARY_ACK) && !out->has_id)) {
        sio_packet_clear(out);
        return -1;
    }
    return 0;
}

void sio_packet_clear(struct sio_packet *pk)
{
    if (pk->data)
        json_decref(pk->data);
    pk->data = NULL;
}

char *sio_packet_encode(int type, unsigned attachments, const char *nsp, int has_id, uint64_t id,
                        const char *payload, size_t payload_len, size_t *len)
{
    char head[SIO_NSP_MAX + 64];
    int hl = snprintf(head, sizeof(head), "%d", type);
    if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK)
        hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "%u-", attachments);
    if (nsp && strcmp(nsp, "/") != 0)
        hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "%.*s,", SIO_NSP_MAX, nsp);
    if (has_id)
        hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "%llu", (unsigned long long)id);
    if (!payload)
        payload_len = 0;
    char *out = malloc((size_t)hl + payload_len + 1);
    if (!out)
        return NULL;
    memcpy(out, head, (size_t)hl);
    if (payload_len)
        memcpy(out + hl, payload, payload_len);
    out[(size_t)hl + payload_len] = '\0';
    *len = (size_t)hl + payload_len;
    return out;
}

static int count_placeholders(json_t *v, unsigned attachments, int depth)
{
    if (depth > 64)
        return -1;
    if (json_is_object(v)) {
        json_t *ph = json_object_get(v, "_placeholder");
        if (json_is_true(ph)) {
            json_t *num = json_object_get(v, "num");
            if (!json_is_integer(num) || json_integer_value(num) < 0 ||
                (json_int_t)attachments <= json_integer_value(num))
                return -1;
            return 1;
        }
        int total = 0;
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child) {
            int c = count_placeholders(child, attachments, depth + 1);
            if (c < 0)
                return -1;
            total += c;
        }
        return total;
    }
    if (json_is_array(v)) {
        int total = 0;
        size_t idx;
        json_t *child;
        json_array_foreach(v, idx, child) {
            int c = count_placeholders(child, attachments, depth + 1);
            if (c < 0)
                return -1;
            total += c;
        }
        return total;
    }
    return 0;
}

int sio_placeholders_valid(json_t *v, unsigned attachments)
{
    return count_placeholders(v, attachments, 0) >= 0;
}
