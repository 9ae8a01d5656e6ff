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

#define MAIN_MAX_ENV_FILES 8

struct main_args {
    const char *conf_dir;
    const char *env_files[MAIN_MAX_ENV_FILES];
    size_t n_env_files;
    int check_only, verbose;
};

static void main_usage(FILE *out)
{
    char *conf = paths_conf_dir();
    fprintf(out,
            "usage: superbot-realtime [-c DIR] [--env-file FILE]... [--check-config [-v]] [--version] [--help]\n"
            "  -c, --config DIR   conf.d directory (default: %s)\n"
            "  --env-file FILE    read variables from FILE, in the syntax of systemd's EnvironmentFile=;\n"
            "                     they override the environment; repeat for more files (later ones win)\n"
            "  --check-config     validate the configuration and the plugins, then exit\n"
            "  -v, --verbose      with --check-config: print every key in force (secrets hidden)\n"
            "  --version          print the version and the plugin SDK ABI\n"
            "  --help             this text\n"
            "Environment is also read from ./.env (the environment and --env-file win over it).\n",
            conf ? conf : SBR_INSTALL_CONF_DIR);
    free(conf);
}

/* An option's value: "--name=value" or "--name value"; NULL if not this option. */
static const char *main_option(int argc, char **argv, int *i, const char *shortname, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if ((strcmp(argv[*i], name) == 0 || (shortname && strcmp(argv[*i], shortname) == 0)) && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* 0 to run, 1 to exit 0 (--help, --version), 2 on a bad argument. */
static int main_parse_args(int argc, char **argv, struct main_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = main_option(argc, argv, &i, "-c", "--config"))) {
            a->conf_dir = v;
        } else if ((v = main_option(argc, argv, &i, NULL, "--env-file"))) {
            if (a->n_env_files == MAIN_MAX_ENV_FILES) {
                fprintf(stderr, "superbot-realtime: at most %d --env-file\n", MAIN_MAX_ENV_FILES);
                return 2;
            }
            a->env_files[a->n_env_files++] = v;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            a->check_only = 1;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            a->verbose = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("superbot-realtime %s (plugin SDK ABI %d)\n", SBR_VERSION, SBR_ABI_VERSION);
            return 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            main_usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "superbot-realtime: unknown or incomplete argument '%s'\n", argv[i]);
            main_usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* --env-file files in order (each overriding), then ./.env (filling in). */
static int main_load_environment(const struct main_args *a)
{
    char err[CONF_ERR_MAX];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n_env_files; i++)
        rc = envfile_load(a->env_files[i], err, sizeof(err));
    if (rc == 0)
        rc = env_load_dotenv(".env", err, sizeof(err));
    if (rc < 0) {
        if (a->check_only)
            fprintf(stderr, "%s\n", err);
        else
            log_error("core", "%s", err);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct main_args args = {0};
    int parsed = main_parse_args(argc, argv, &args);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;
    /* Test-only: shift the clock, so tests reach expiries without waiting. */
    const char *offset = getenv("SBR_CLOCK_OFFSET_MS");
    if (offset && *offset)
        clock_set_offset_ms(strtoll(offset, NULL, 10));
    if (main_load_environment(&args) < 0)
        return 1;
    char *default_conf = args.conf_dir ? NULL : paths_conf_dir();
    if (!args.conf_dir && !default_conf)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    event_set_log_callback(main_libevent_log);
    int rc = daemon_main(args.conf_dir ? args.conf_dir : default_conf, args.check_only, args.verbose);
    free(default_conf);
    return rc;
}
