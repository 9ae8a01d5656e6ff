/* Endings the server starts (see sio_end.h). */
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "sio/sio_emit.h"
#include "sio/sio_end.h"

int sio_reason_code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

void sio_conn_end(struct sio_conn *c, const char *code)
{
    if (c->state == SIO_CONN_CONNECTED && !c->disconnect_requested) {
        char payload[96];
        int n = snprintf(payload, sizeof(payload), "{\"reason\":\"%s\"}", code);
        struct eio_buf *b = sio_encode_packet(SIO_EVENT, 0, c->nsp, 0, 0, "disconnect_reason", payload, (size_t)n);
        if (b) {
            sio_conn_send(c, b, 0);
            eio_buf_unref(b);
        }
    }
    sio_conn_request_disconnect(c, code);
}

int sio_api_conn_end(sbr_conn_id conn, const char *code)
{
    if (!sio_reason_code_valid(code))
        return SBR_ERR_INVALID;
    struct sio_conn *c = sio_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    log_info("sio", "connection %llu ended: %s", (unsigned long long)conn, code);
    sio_conn_end(c, code);
    return SBR_OK;
}

int sio_api_conn_disconnect(sbr_conn_id conn, const char *reason)
{
    struct sio_conn *c = sio_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (reason)
        log_info("sio", "connection %llu disconnected: %s", (unsigned long long)conn, reason);
    sio_conn_request_disconnect(c, reason);
    return SBR_OK;
}
