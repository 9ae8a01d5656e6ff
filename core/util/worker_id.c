/* This worker's identity (see worker_id.h). */
#include "util/worker_id.h"

#include <stdint.h>
#include <sys/random.h>

#include "util/base64.h"

static char worker_id_text[WORKER_ID_LEN + 1];

int worker_id_init(void)
{
    if (worker_id_text[0])
        return 0;
    uint8_t raw[8];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -1;
    base64_encode(raw, sizeof(raw), worker_id_text, 1);
    return 0;
}

const char *worker_id(void)
{
    return worker_id_text;
}
