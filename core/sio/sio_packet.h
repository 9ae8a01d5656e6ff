/* Socket.IO v5 packets (private):
 *     <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
 * Decoding validates the payload's JSON and its shape for the type, as the
 * reference parser does; anything else is malformed and closes the session. */
#ifndef SBR_SIO_PACKET_H
#define SBR_SIO_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum sio_packet_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6
};

#define SIO_NSP_MAX 255

struct sio_packet {
    int type;
    unsigned attachments;
    char nsp[SIO_NSP_MAX + 1]; /* "/" when absent */
    int has_id;
    uint64_t id;
    json_t *data;              /* the parsed payload, or NULL; owned */
    const char *text;          /* the payload's text in the decoded input, valid while
                                * that input is; NULL once the packet outlives it */
    size_t text_len;
};

/* Decode a packet from a client.  Returns 0 (free with sio_packet_clear),
 * or -1 if it is malformed. */
int sio_packet_decode(const char *p, size_t n, struct sio_packet *out);
void sio_packet_clear(struct sio_packet *pk);

/* Encode "<type>[<attachments>-][<nsp>,][<id>]" followed by payload (JSON
 * text, may be NULL) into a malloc'd string of *len bytes. */
char *sio_packet_encode(int type, unsigned attachments, const char *nsp, int has_id, uint64_t id,
                        const char *payload, size_t payload_len, size_t *len);

/* Number of {"_placeholder":true,"num":N} objects in v, and 1 if each num is
 * below `attachments` (they index the binary attachments). */
int sio_placeholders_valid(json_t *v, unsigned attachments);

#endif
