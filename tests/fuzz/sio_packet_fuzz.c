/* libFuzzer harness: Socket.IO v5 packets from a client, with binary
 * attachments.
 *
 * The input is split on the byte 0xFF: the first part is the packet text
 * (as it arrives in an Engine.IO message), the others are its binary
 * attachments, as core/sio/sio.c collects them.  The decoder must refuse or
 * accept without crashing or leaking; an accepted binary packet's
 * placeholders are checked against the attachments received; whatever is
 * accepted re-encodes to a packet the decoder accepts again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sio/sio_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(void) { abort(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xFF, size);
    size_t text_len = sep ? (size_t)(sep - data) : size;
    unsigned received = 0;
    for (const uint8_t *q = sep; q; q = memchr(q + 1, 0xFF, size - (size_t)(q + 1 - data)))
        received++;

    char *text = malloc(text_len ? text_len : 1);
    if (!text)
        return 0;
    memcpy(text, data, text_len);
    struct sio_packet pk;
    if (sio_packet_decode(text, text_len, &pk) == 0) {
        if (pk.type < SIO_CONNECT || pk.type > SIO_BINARY_ACK || pk.nsp[0] != '/' ||
            strlen(pk.nsp) > SIO_NSP_MAX)
            fail();
        int binary = pk.type == SIO_BINARY_EVENT || pk.type == SIO_BINARY_ACK;
        if (binary && pk.data) {
            /* The packet is complete once every attachment came in. */
            int ok = sio_placeholders_valid(pk.data, pk.attachments);
            (void)(ok && received == pk.attachments);
        } else if (pk.data) {
            (void)sio_placeholders_valid(pk.data, received);
        }
        char *payload = pk.data ? json_dumps(pk.data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        size_t elen;
        char *again = sio_packet_encode(pk.type, pk.attachments, pk.nsp, pk.has_id, pk.id, payload,
                                        payload ? strlen(payload) : 0, &elen);
        if (again) {
            struct sio_packet pk2;
            if (sio_packet_decode(again, elen, &pk2) != 0)
                fail();
            if (pk2.type != pk.type || pk2.has_id != pk.has_id || pk2.id != pk.id ||
                strcmp(pk2.nsp, pk.nsp) != 0 || pk2.attachments != pk.attachments)
                fail();
            sio_packet_clear(&pk2);
            free(again);
        }
        free(payload);
        sio_packet_clear(&pk);
        if (pk.data)
            fail();
    }
    free(text);
    return 0;
}
