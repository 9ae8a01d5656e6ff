/* superbot-realtime: command line, environment, then the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <event2/event.h>

#include "clock.h"
#include "conf/conf.h"
#include "daemon.h"
#include "log.h"

/* libevent's own warnings, in the daemon's log format. */
static void main_libevent_log(int severity, const char *msg)
{
    int level = severity == EVENT_LOG_DEBUG ? LOG_DEBUG_
                : severity == EVENT_LOG_MSG ? LOG_INFO_
                : severity == EVENT_LOG_WARN ? LOG_WARN_
                                             : LOG_ERROR_;
    log_msg(level, "libevent", "%s", msg);
}

static void main_usage(FILE *out)
{
    fprintf(out,
            "usage: superbot-realtime [-c DIR] [--check-config [-v]] [--version] [--help]\n"
            "  -c, --config DIR  conf.d directory (default: ./conf.d if present, else %s)\n"
            "  --check-config    validate the configuration and the plugins, then exit\n"
            "  -v, --verbose     with --check-config: print every key in force (secrets hidden)\n"
            "  --version         print the version and the plugin SDK ABI\n"
            "  --help            this text\n"
            "Environment is also read from ./.env (the real environment wins).\n",
            SBR_INSTALL_CONF_DIR);
}

int main(int argc, char **argv)
{
    const char *conf_dir = NULL;
    int check_only = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            conf_dir = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            conf_dir = argv[i] + 9;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check_only = 1;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("superbot-realtime %s (plugin SDK ABI %d)\n", SBR_VERSION, SBR_ABI_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            main_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "superbot-realtime: unknown or incomplete argument '%s'\n", argv[i]);
            main_usage(stderr);
            return 2;
        }
    }
    if (!conf_dir) {
        struct stat st;
        conf_dir = stat("conf.d", &st) == 0 && S_ISDIR(st.st_mode) ? "conf.d" : SBR_INSTALL_CONF_DIR;
    }
    /* Test-only: shift the clock, so tests reach expiries without waiting. */
    const char *offset = getenv("SBR_CLOCK_OFFSET_MS");
    if (offset && *offset)
        clock_set_offset_ms(strtoll(offset, NULL, 10));
    char err[CONF_ERR_MAX];
    if (env_load_dotenv(".env", err, sizeof(err)) < 0) {
        if (check_only)
            fprintf(stderr, "%s\n", err);
        else
            log_error("core", "%s", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    event_set_log_callback(main_libevent_log);
    return daemon_main(conf_dir, check_only, verbose);
}
