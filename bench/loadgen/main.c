/* loadgen: the benchmark client of superbot-realtime (and of any server
 * speaking the same subset of the protocol over Socket.IO). */
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "options.h"
#include "scenario.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen connect|fanout|cross|rooms|token|floor [options]\n"
            "  --url http://HOST:PORT   server (repeat for cross and rooms: connections spread over all)\n"
            "  --label NAME             name of the server under test in the output\n"
            "  --secret S               HS256 secret of realtime tokens (default $REALTIME_JWT_SECRET)\n"
            "  --api-key K              server API key (default $REALTIME_API_KEY)\n"
            "  --server-pid PID         connect: read this process's RSS before and after;\n"
            "                           fanout/cross/rooms: add its CPU time to the server's (repeatable)\n"
            "  --connections N          connect, rooms: connections to open (1000)\n"
            "  --concurrency N          connect: handshakes in flight (100); token: connections (16)\n"
            "  --subscribers N          fanout/cross: subscribers in the channel (1000)\n"
            "  --publishers N           fanout/cross: publishers (1)\n"
            "  --size BYTES             message content size (64)\n"
            "  --rate N                 messages/s over all publishers; 0 = flat out (0)\n"
            "  --window N               flat out: messages per publisher not yet delivered to all (32)\n"
            "  --room-size N            rooms, floor --shape rooms: connections per channel (10)\n"
            "  --channels-per-server N  rooms: channels of one server, its presence audience (10)\n"
            "  --period SECONDS         rooms: each connection sends one message per period (10)\n"
            "  --presence-period S      rooms: each connection changes status once per period; 0: never (300)\n"
            "  --no-typing              rooms: no typing_start before each message\n"
            "  --shape S                floor: send-loop (default), fanout (a relay from --publishers to\n"
            "                           --subscribers), rooms (a relay among --connections in rooms)\n"
            "  --duration SECONDS       measured part of fanout/cross/rooms/token/floor (5)\n"
            "  --settle-ms MS           pause after setup and before reading RSS (1000)\n"
            "  --drain-ms MS            after the last send, how long stragglers may take (5000)\n"
            "  --sources N              source addresses 127.0.0.1..N (by connection count)\n"
            "  --timeout SECONDS        hard bound of the whole run (120)\n"
            "  --server-cpu N           floor: pin the sending child to CPU N\n"
            "floor needs no server: a child process sends --size-byte payloads to\n"
            "--subscribers loopback sockets in a bare send() loop at --rate rounds/s,\n"
            "the least any server does for fanout at that rate; with --shape fanout or\n"
            "rooms the child relays what publishers send to every member of their room,\n"
            "with one send() per connection per loop turn (a coalesced-write floor).\n"
            "Prints one JSON line on stdout and a table on stderr; exits 1 if anything\n"
            "failed or was lost, 2 if the setup failed.\n");
}

static int parse_unsigned(const char *s, unsigned *out, unsigned min, unsigned max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static const struct option longopts[] = {
    { "url", required_argument, NULL, 'u' },        { "label", required_argument, NULL, 'l' },
    { "secret", required_argument, NULL, 's' },     { "api-key", required_argument, NULL, 'k' },
    { "server-pid", required_argument, NULL, 'p' }, { "connections", required_argument, NULL, 'c' },
    { "concurrency", required_argument, NULL, 'C' }, { "subscribers", required_argument, NULL, 'S' },
    { "publishers", required_argument, NULL, 'P' }, { "size", required_argument, NULL, 'z' },
    { "rate", required_argument, NULL, 'r' },       { "window", required_argument, NULL, 'w' },
    { "duration", required_argument, NULL, 'd' },   { "settle-ms", required_argument, NULL, 'm' },
    { "sources", required_argument, NULL, 'a' },    { "timeout", required_argument, NULL, 't' },
    { "server-cpu", required_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' },
    { "room-size", required_argument, NULL, 'R' },  { "channels-per-server", required_argument, NULL, 'G' },
    { "period", required_argument, NULL, 'e' },     { "presence-period", required_argument, NULL, 'E' },
    { "no-typing", no_argument, NULL, 'T' },        { "shape", required_argument, NULL, 'x' },
    { "drain-ms", required_argument, NULL, 'D' },
    { NULL, 0, NULL, 0 },
};

static const struct options defaults = {
    .label = "server",
    .connections = 1000,
    .subscribers = 1000,
    .publishers = 1,
    .size = 64,
    .window = 32,
    .duration_s = 5,
    .settle_ms = 1000,
    .drain_ms = 5000,
    .timeout_s = 120,
    .server_cpu = -1,
    .room_size = 10,
    .channels_per_server = 10,
    .period_s = 10,
    .presence_period_s = 300,
    .typing = 1,
};

static int parse_url(const char *arg, struct options *o)
{
    if (o->url_count == OPTIONS_MAX_URLS || endpoint_parse(arg, &o->urls[o->url_count]) != 0) {
        fprintf(stderr, "loadgen: bad or too many --url: %s\n", arg);
        return -1;
    }
    o->url_count++;
    return 0;
}

static int parse_pid(const char *arg, struct options *o)
{
    long pid = strtol(arg, NULL, 10);
    if (pid <= 0 || o->server_pid_count == OPTIONS_MAX_PIDS)
        return -1;
    if (!o->server_pid)
        o->server_pid = pid;
    o->server_pids[o->server_pid_count++] = pid;
    return 0;
}

static int parse_shape(const char *arg, struct options *o)
{
    static const char *const names[] = { "send-loop", "fanout", "rooms" };
    for (int i = 0; i < 3; i++) {
        if (strcmp(arg, names[i]) == 0) {
            o->shape = (enum floor_shape)i;
            return 0;
        }
    }
    return -1;
}

static int parse_cpu(const char *arg, struct options *o)
{
    unsigned cpu;
    if (parse_unsigned(arg, &cpu, 0, CPU_SETSIZE - 1) != 0)
        return -1;
    o->server_cpu = (int)cpu;
    return 0;
}

/* One option's value into o; -1 if it is bad. */
static int parse_option(int opt, const char *arg, struct options *o)
{
    switch (opt) {
    case 'u': return parse_url(arg, o);
    case 'l': o->label = arg; return 0;
    case 's': o->secret = arg; return 0;
    case 'k': o->api_key = arg; return 0;
    case 'p': return parse_pid(arg, o);
    case 'x': return parse_shape(arg, o);
    case 'U': return parse_cpu(arg, o);
    case 'T': o->typing = 0; return 0;
    case 'R': return parse_unsigned(arg, &o->room_size, 1, 100000);
    case 'G': return parse_unsigned(arg, &o->channels_per_server, 1, 100000);
    case 'e': return parse_double(arg, &o->period_s) != 0 || o->period_s < 0.01 ? -1 : 0;
    case 'E': return parse_double(arg, &o->presence_period_s);
    case 'c': return parse_unsigned(arg, &o->connections, 1, 1000000);
    case 'C': return parse_unsigned(arg, &o->concurrency, 1, 100000);
    case 'S': return parse_unsigned(arg, &o->subscribers, 1, 1000000);
    case 'P': return parse_unsigned(arg, &o->publishers, 1, 10000);
    case 'z': return parse_unsigned(arg, &o->size, 32, 4000);
    case 'r': return parse_double(arg, &o->rate);
    case 'w': return parse_unsigned(arg, &o->window, 1, 100000);
    case 'd': return parse_double(arg, &o->duration_s);
    case 'm': return parse_unsigned(arg, &o->settle_ms, 0, 600000);
    case 'D': return parse_unsigned(arg, &o->drain_ms, 100, 600000);
    case 'a': return parse_unsigned(arg, &o->sources, 1, 254);
    case 't': return parse_unsigned(arg, &o->timeout_s, 1, 3600);
    default: return -1;
    }
}

/* The command line into o: 0, or the exit status to return now (2 for a
 * bad option, 0 after --help). */
static int parse_command_line(int argc, char **argv, struct options *o, int *exit_now)
{
    *exit_now = 0;
    int opt, longindex = 0;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", longopts, &longindex)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            *exit_now = 1;
            return 0;
        }
        if (parse_option(opt, optarg, o) != 0) {
            if (opt != 'u')
                fprintf(stderr, "loadgen: bad value for --%s\n", longopts[longindex].name);
            usage(stderr);
            *exit_now = 1;
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "loadgen: unexpected argument\n");
        *exit_now = 1;
        return 2;
    }
    return 0;
}

static int is_scenario(const struct options *o, const char *name)
{
    return strcmp(o->scenario, name) == 0;
}

static int refuse(const char *why)
{
    fprintf(stderr, "loadgen: %s\n", why);
    return 2;
}

/* What the scenario needs of the options: 0, or 2 after saying why. */
static int check_options(struct options *o)
{
    int is_floor = is_scenario(o, "floor"), is_token = is_scenario(o, "token"), is_rooms = is_scenario(o, "rooms");
    int is_fanout = is_scenario(o, "fanout") || is_scenario(o, "cross");
    if (o->url_count == 0 && !is_floor)
        return refuse("--url is required");
    if (!o->concurrency)
        o->concurrency = is_token ? 16 : 100;
    if (!is_floor && is_token && (!o->api_key || !*o->api_key))
        return refuse("--api-key is required");
    if (!is_floor && !is_token && (!o->secret || !*o->secret))
        return refuse("--secret is required");
    if (is_scenario(o, "cross") && o->url_count < 2)
        return refuse("cross needs at least two --url");
    if ((is_fanout || is_rooms) && (!o->api_key || !*o->api_key))
        return refuse("--api-key is required to register the channels");
    if ((is_fanout || (is_floor && o->shape == FLOOR_FANOUT)) &&
        (unsigned long)o->publishers * o->window > (1ul << 19))
        return refuse("--publishers x --window is too many messages in flight");
    if (is_floor && o->shape != FLOOR_SEND_LOOP && o->size < 160)
        return refuse("floor --shape fanout|rooms needs --size 160 or more (a whole message frame)");
    if ((is_rooms || (is_floor && o->shape == FLOOR_ROOMS)) && (o->connections % o->room_size || o->room_size < 2))
        return refuse("--connections must be a multiple of --room-size (at least 2)");
    return 0;
}

/* The sockets this process holds at once. */
static unsigned long sockets_needed(const struct options *o)
{
    if (is_scenario(o, "connect") || is_scenario(o, "rooms"))
        return o->connections;
    if (is_scenario(o, "token"))
        return o->concurrency;
    if (is_scenario(o, "floor"))
        return o->shape == FLOOR_ROOMS    ? o->connections
               : o->shape == FLOOR_FANOUT ? (unsigned long)o->subscribers + o->publishers
                                          : o->subscribers;
    return (unsigned long)o->subscribers + o->publishers;
}

/* Raise the file limit to its hard limit; 2 when the sockets do not fit. */
static int check_file_limit(const struct options *o)
{
    long files = net_raise_file_limit();
    if (files < 0) {
        perror("loadgen: RLIMIT_NOFILE");
        return 0;
    }
    unsigned long sockets = sockets_needed(o);
    /* A few descriptors stay for stdio, epoll and setup calls. */
    if (sockets + 16 > (unsigned long)files) {
        fprintf(stderr, "loadgen: %lu sockets do not fit the file limit of %ld: run several processes\n", sockets,
                files);
        return 2;
    }
    return 0;
}

static int run_scenario(struct event_base *base, const struct options *o)
{
    if (is_scenario(o, "connect"))
        return scenario_connect(base, o);
    if (is_scenario(o, "fanout") || is_scenario(o, "cross"))
        return scenario_fanout(base, o, is_scenario(o, "cross"));
    if (is_scenario(o, "rooms"))
        return scenario_rooms(base, o);
    if (is_scenario(o, "token"))
        return scenario_token(base, o);
    if (is_scenario(o, "floor"))
        return scenario_floor(base, o);
    fprintf(stderr, "loadgen: unknown scenario %s\n", o->scenario);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct options o = defaults;
    o.secret = getenv("REALTIME_JWT_SECRET");
    o.api_key = getenv("REALTIME_API_KEY");
    if (argc < 2 || argv[1][0] == '-') {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    o.scenario = argv[1];
    int exit_now, status = parse_command_line(argc, argv, &o, &exit_now);
    if (exit_now)
        return status;
    if ((status = check_options(&o)) != 0)
        return status;
    signal(SIGPIPE, SIG_IGN);
    if ((status = check_file_limit(&o)) != 0)
        return status;
    struct event_base *base = event_base_new();
    if (!base)
        return 2;
    status = run_scenario(base, &o);
    event_base_free(base);
    return status;
}
