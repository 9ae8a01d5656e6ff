/* libFuzzer harness: the JSON bodies of the server API, and the JSON
 * arguments of the chat events, through the plugins themselves.
 *
 * The route handlers parse their bodies inline (chat_http_begin, then the
 * fields), so they are driven through the fake core of the unit tests
 * (tests/unit/channels/fake_host.c) with instrumented builds of the
 * channels, slowmode and presence plugins.  auth-jwt's token request body
 * has a pure parser (issue_body_parse), called directly.
 *
 * Input: one selector byte, then "<path parameter>\n<body>" (the
 * parameter is optional).  Every request must be answered with a status
 * between 200 and 599 and a JSON body; a 5xx is a failure. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fake_host.h"
#include "issue_body.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int status, const char *body)
{
    fprintf(stderr, "api_body_fuzz: %s: status %d, body %s\n", what, status, body ? body : "(none)");
    abort();
}

static const char *const S7[] = {"7", NULL};

static void setup(void)
{
    if (fake_load("channels", NULL) || fake_load("slowmode", NULL) ||
        fake_load("presence", (const char *const[]){"ttl_seconds", "30", NULL}))
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Keep the plugins mapped across fake_reset's dlclose: libFuzzer reads
     * their coverage counters after every input. */
    static const char *const names[] = {"channels", "slowmode", "presence"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/plugins/%s.so", SBR_TEST_BUILD_DIR, names[i]);
        if (!dlopen(path, RTLD_NOW | RTLD_NODELETE)) {
            fprintf(stderr, "api_body_fuzz: %s\n", dlerror());
            abort();
        }
    }
    setup();
    return 0;
}

static void check_answer(const char *what, int status, const char *body)
{
    if (status < 200 || status >= 500)
        fail(what, status, body);
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    if (!doc || !json_is_object(doc))
        fail(what, status, body);
    if (status >= 400 && !json_is_string(json_object_get(doc, "error")))
        fail(what, status, body);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned runs;
    if (size < 1 || size > 65536)
        return 0;
    /* The fake keeps every request until a reset: start afresh now and
     * then, so memory stays bounded over a long run. */
    if (++runs % 512 == 0) {
        fake_reset();
        setup();
    }
    unsigned selector = data[0];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    /* The fake's bodies are C strings: the body ends at the first NUL. */
    char *param = "42";
    char *body = text;
    char *nl = strchr(text, '\n');
    if (nl && nl - text <= 300) {
        *nl = '\0';
        param = text;
        body = nl + 1;
    }
    char path[512];
    const char *reply = NULL;
    int status;
    switch (selector % 8) {
    case 0:
        snprintf(path, sizeof path, "/api/realtime/channels/%s", param);
        status = fake_http("PUT", path, body, 1, &reply, NULL);
        if (status)
            check_answer(path, status, reply);
        break;
    case 1:
        /* Register the channel first so the reservation reaches the body. */
        fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}", 1,
                  NULL, NULL);
        fake_run();
        snprintf(path, sizeof path, "/api/realtime/channels/%s/reserve", param);
        status = fake_http("POST", path, body, 1, &reply, NULL);
        if (status)
            check_answer(path, status, reply);
        break;
    case 2:
        status = fake_http("POST", "/api/realtime/publish", body, 1, &reply, NULL);
        if (status)
            check_answer("publish", status, reply);
        break;
    case 3:
        snprintf(path, sizeof path, "/api/realtime/presence/%s", param);
        status = fake_http("GET", path, NULL, 1, &reply, NULL);
        if (status)
            check_answer(path, status, reply);
        break;
    case 4: {
        struct token_claims claims;
        memset(&claims, 0, sizeof claims);
        if (issue_body_parse(body, strlen(body), &claims) == ISSUE_BODY_OK)
            token_claims_free(&claims);
        break;
    }
    default: {
        /* A client event's arguments (a JSON array) from a member of 7. */
        static const char *const events[] = {"join_channel", "send_message", "typing_start",
                                             "presence_set", "presence_snapshot", "leave_channel",
                                             "typing_stop", "send_message"};
        fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":\"7\"}", 1, NULL, NULL);
        fake_run();
        sbr_conn_id c = fake_connect("u1", S7, NULL);
        if (c) {
            if (selector & 0x10)
                fake_send(c, "join_channel", "[{\"channel_id\":\"42\"}]");
            fake_send(c, events[(selector >> 5) & 7], body);
            fake_disconnect(c);
        }
        break;
    }
    }
    fake_run();
    free(text);
    return 0;
}
