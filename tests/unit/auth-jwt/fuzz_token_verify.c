/* libFuzzer harness: any bytes as a realtime token, a session bearer and a
 * token request body.  Nothing may crash or leak, and nothing unsigned
 * passes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "issue_body.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char secret[] = "fuzz-secret-0123456789abcdef0123";
    struct token_rules rules = {
        .secret = secret,
        .secret_len = sizeof(secret) - 1,
        .audience = "superbot-realtime",
        .issuer = "superbot",
        .now = 1700000100,
        .leeway = 5,
        .max_bytes = 4096,
        .strict = 1,
    };
    struct token_claims claims;
    if (token_verify((const char *)data, size, &rules, &claims) == TOKEN_OK)
        token_claims_free(&claims);
    rules.strict = 0;
    rules.audience = NULL;
    rules.issuer = NULL;
    rules.refuse_audience = "superbot-realtime";
    if (token_verify((const char *)data, size, &rules, &claims) == TOKEN_OK)
        token_claims_free(&claims);
    if (issue_body_parse((const char *)data, size, &claims) == ISSUE_BODY_OK)
        token_claims_free(&claims);
    return 0;
}
