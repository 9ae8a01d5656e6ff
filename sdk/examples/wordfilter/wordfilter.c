/*
 * wordfilter: refuses chat messages that contain a banned word.
 *
 * An on_message hook looks at one client event (default `send_message`),
 * reads one string field of its first argument (default `content`), and
 * refuses the event with "content_blocked" when that text contains one of
 * the configured words (ASCII case-insensitive).  The client's ack then
 * reads {"ok": false, "error": "content_blocked"}, and no later plugin sees
 * the message.  The word list can change on SIGHUP.
 *
 *     # conf.d/65-wordfilter.conf
 *     plugin = wordfilter
 *     words = spam, scam
 *
 * It includes only the SDK header and libc, so it builds against an
 * installed SDK with nothing but pkg-config (see the Makefile): the core
 * reads the field for it (api->msg_arg_string), no JSON library needed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <superbot-realtime/plugin.h>

static const sbr_config_key wordfilter_keys[] = {
    {"words", SBR_CONF_STRING, NULL, 0, 0, SBR_CONF_REQUIRED | SBR_CONF_RELOADABLE,
     "comma-separated words refused in messages"},
    {"event", SBR_CONF_STRING, "send_message", 0, 0, SBR_CONF_RELOADABLE, "the client event to filter"},
    {"field", SBR_CONF_STRING, "content", 0, 0, SBR_CONF_RELOADABLE, "the string field of its payload to check"},
    SBR_CONF_END,
};

static const sbr_api *wf_api;
static sbr_plugin *wf_self;
static char **wf_words;
static size_t wf_n_words;

static void wf_words_free(void)
{
    for (size_t i = 0; i < wf_n_words; i++)
        free(wf_words[i]);
    free(wf_words);
    wf_words = NULL;
    wf_n_words = 0;
}

/* Split the `words` setting into lowercase words; 0 or -1 (out of memory). */
static int wf_words_load(void)
{
    const char *list = wf_api->config_string(wf_self, "words");
    wf_words_free();
    while (list && *list) {
        while (*list == ',' || isspace((unsigned char)*list))
            list++;
        const char *end = list;
        while (*end && *end != ',')
            end++;
        size_t n = (size_t)(end - list);
        while (n > 0 && isspace((unsigned char)list[n - 1]))
            n--;
        if (n > 0) {
            char **grown = realloc(wf_words, (wf_n_words + 1) * sizeof(*grown));
            char *word = malloc(n + 1);
            if (grown)
                wf_words = grown;
            if (!grown || !word) {
                free(word);
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                word[i] = (char)tolower((unsigned char)list[i]);
            word[n] = '\0';
            wf_words[wf_n_words++] = word;
        }
        list = end;
    }
    return 0;
}

/* --- the hook -------------------------------------------------------------- */

/* The checked field of the event's first argument, in a new string
 * lowercased for the ASCII comparison, or NULL when it is not a string. */
static char *wf_field(sbr_message *msg)
{
    const char *field = wf_api->config_string(wf_self, "field");
    int n = wf_api->msg_arg_string(msg, 0, field, NULL, 0);
    if (n < 0)
        return NULL;
    char *text = malloc((size_t)n + 1);
    if (!text || wf_api->msg_arg_string(msg, 0, field, text, (size_t)n + 1) != n) {
        free(text);
        return NULL;
    }
    /* A client's \u0000 is a NUL inside the text: matching must not stop there. */
    for (int i = 0; i < n; i++)
        text[i] = text[i] ? (char)tolower((unsigned char)text[i]) : ' ';
    return text;
}

static int wf_on_message(enum sbr_event_id id, void *event, void *userdata)
{
    (void)id;
    (void)userdata;
    sbr_event_message *m = event;
    if (strcmp(m->event, wf_api->config_string(wf_self, "event")) != 0 || wf_n_words == 0)
        return SBR_PASS;
    char *text = wf_field(m->msg);
    if (!text)
        return SBR_PASS;
    int blocked = 0;
    for (size_t i = 0; i < wf_n_words && !blocked; i++)
        blocked = strstr(text, wf_words[i]) != NULL;
    free(text);
    if (!blocked)
        return SBR_PASS;
    wf_api->metric_add(wf_self, "superbot_wordfilter_blocked_total", NULL, 1);
    m->reason = "content_blocked";
    return SBR_REFUSE;
}

static int wf_on_reload(enum sbr_event_id id, void *event, void *userdata)
{
    (void)id;
    (void)event;
    (void)userdata;
    if (wf_words_load() < 0)
        wf_api->log(wf_self, SBR_LOG_ERROR, "out of memory reloading the word list");
    else
        wf_api->log(wf_self, SBR_LOG_INFO, "%zu banned word(s)", wf_n_words);
    return 0;
}

static const sbr_metric_def wf_metrics[] = {
    {"superbot_wordfilter_blocked_total", SBR_METRIC_COUNTER, "Client events refused for a banned word", NULL},
    {NULL, 0, NULL, NULL},
};

static int wf_load(sbr_plugin *self, const sbr_api *api)
{
    wf_api = api;
    wf_self = self;
    /* Services appended after the first release of ABI 1: check for them. */
    if (!SBR_API_HAS(api, msg_arg_string)) {
        api->set_error(self, "this gateway is too old: it has no msg_arg_string service");
        return -1;
    }
    if (sbr_metrics_declare(api, self, wf_metrics) != SBR_OK) {
        api->set_error(self, "cannot declare the metrics");
        return -1;
    }
    if (wf_words_load() < 0) {
        api->set_error(self, "out of memory");
        return -1;
    }
    if (api->hook_register(self, SBR_EVENT_MESSAGE, wf_on_message, NULL) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_RELOAD, wf_on_reload, NULL) != SBR_OK) {
        api->set_error(self, "cannot register hooks");
        wf_words_free();
        return -1;
    }
    api->log(self, SBR_LOG_INFO, "%zu banned word(s) in '%s' events", wf_n_words, api->config_string(self, "event"));
    return 0;
}

static void wf_unload(sbr_plugin *self)
{
    (void)self;
    wf_words_free();
}

SBR_PLUGIN_DEFINE(.name = "wordfilter", .version = "1.0.0",
                  .description = "refuses messages containing banned words", .config = wordfilter_keys,
                  .on_load = wf_load, .on_unload = wf_unload)
