#include "redis_envelope.h"

#include <string.h>

void redis_envelope_head(char *out, const char *origin, uint64_t seq)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, origin, REDIS_ENVELOPE_ID_LEN);
    for (int i = REDIS_ENVELOPE_SEQ_LEN - 1; i >= 0; i--) {
        out[REDIS_ENVELOPE_ID_LEN + i] = hex[seq & 15];
        seq >>= 4;
    }
}

int redis_envelope_parse(const char *envelope, size_t len, uint64_t *seq, const char **payload, size_t *payload_len)
{
    if (!envelope || len < REDIS_ENVELOPE_HEAD)
        return -1;
    uint64_t n = 0;
    for (int i = 0; i < REDIS_ENVELOPE_SEQ_LEN; i++) {
        char c = envelope[REDIS_ENVELOPE_ID_LEN + i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        n = n << 4 | (uint64_t)digit;
    }
    *seq = n;
    *payload = envelope + REDIS_ENVELOPE_HEAD;
    *payload_len = len - REDIS_ENVELOPE_HEAD;
    return 0;
}
