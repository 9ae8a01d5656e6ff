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
            "  --duration SECONDS       measured part of fanout/cross/token (5)\n"
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

int main(int argc, char **argv)
{
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
    struct options o = {
        .label = "server",
        .secret = getenv("REALTIME_JWT_SECRET"),
        .api_key = getenv("REALTIME_API_KEY"),
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
    if (argc < 2 || argv[1][0] == '-') {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    o.scenario = argv[1];
    optind = 2;
    int opt, bad = 0, longindex = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, &longindex)) != -1) {
        switch (opt) {
        case 'u':
            if (o.url_count == OPTIONS_MAX_URLS || endpoint_parse(optarg, &o.urls[o.url_count]) != 0) {
                fprintf(stderr, "loadgen: bad or too many --url: %s\n", optarg);
                bad = 1;
            } else {
                o.url_count++;
            }
            break;
        case 'l': o.label = optarg; break;
        case 's': o.secret = optarg; break;
        case 'k': o.api_key = optarg; break;
        case 'p': {
            long pid = strtol(optarg, NULL, 10);
            if (pid <= 0 || o.server_pid_count == OPTIONS_MAX_PIDS) {
                bad = 1;
                break;
            }
            if (!o.server_pid)
                o.server_pid = pid;
            o.server_pids[o.server_pid_count++] = pid;
            break;
        }
        case 'R': bad |= parse_unsigned(optarg, &o.room_size, 1, 100000); break;
        case 'G': bad |= parse_unsigned(optarg, &o.channels_per_server, 1, 100000); break;
        case 'e': bad |= parse_double(optarg, &o.period_s) || o.period_s < 0.01; break;
        case 'E': bad |= parse_double(optarg, &o.presence_period_s); break;
        case 'T': o.typing = 0; break;
        case 'x':
            if (strcmp(optarg, "send-loop") == 0)
                o.shape = FLOOR_SEND_LOOP;
            else if (strcmp(optarg, "fanout") == 0)
                o.shape = FLOOR_FANOUT;
            else if (strcmp(optarg, "rooms") == 0)
                o.shape = FLOOR_ROOMS;
            else
                bad = 1;
            break;
        case 'c': bad |= parse_unsigned(optarg, &o.connections, 1, 1000000); break;
        case 'C': bad |= parse_unsigned(optarg, &o.concurrency, 1, 100000); break;
        case 'S': bad |= parse_unsigned(optarg, &o.subscribers, 1, 1000000); break;
        case 'P': bad |= parse_unsigned(optarg, &o.publishers, 1, 10000); break;
        case 'z': bad |= parse_unsigned(optarg, &o.size, 32, 4000); break;
        case 'r': bad |= parse_double(optarg, &o.rate); break;
        case 'w': bad |= parse_unsigned(optarg, &o.window, 1, 100000); break;
        case 'd': bad |= parse_double(optarg, &o.duration_s); break;
        case 'm': bad |= parse_unsigned(optarg, &o.settle_ms, 0, 600000); break;
        case 'D': bad |= parse_unsigned(optarg, &o.drain_ms, 100, 600000); break;
        case 'a': bad |= parse_unsigned(optarg, &o.sources, 1, 254); break;
        case 't': bad |= parse_unsigned(optarg, &o.timeout_s, 1, 3600); break;
        case 'U': {
            unsigned cpu;
            bad |= parse_unsigned(optarg, &cpu, 0, CPU_SETSIZE - 1);
            o.server_cpu = bad ? -1 : (int)cpu;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: bad = 1; break;
        }
        if (bad) {
            if (opt != 'u')
                fprintf(stderr, "loadgen: bad value for --%s\n", longopts[longindex].name);
            usage(stderr);
            return 2;
        }
    }
    int is_floor = strcmp(o.scenario, "floor") == 0;
    if (optind < argc || (o.url_count == 0 && !is_floor)) {
        fprintf(stderr, "loadgen: %s\n", optind < argc ? "unexpected argument" : "--url is required");
        return 2;
    }
    int is_token = strcmp(o.scenario, "token") == 0;
    if (!o.concurrency)
        o.concurrency = is_token ? 16 : 100;
    if (!is_floor && (is_token ? !o.api_key || !*o.api_key : !o.secret || !*o.secret)) {
        fprintf(stderr, "loadgen: %s is required\n", is_token ? "--api-key" : "--secret");
        return 2;
    }
    if (strcmp(o.scenario, "cross") == 0 && o.url_count < 2) {
        fprintf(stderr, "loadgen: cross needs at least two --url\n");
        return 2;
    }
    int is_rooms = strcmp(o.scenario, "rooms") == 0;
    int is_fanout = strcmp(o.scenario, "fanout") == 0 || strcmp(o.scenario, "cross") == 0;
    if ((is_fanout || is_rooms) && (!o.api_key || !*o.api_key)) {
        fprintf(stderr, "loadgen: --api-key is required to register the channels\n");
        return 2;
    }
    if ((is_fanout || (is_floor && o.shape == FLOOR_FANOUT)) &&
        (unsigned long)o.publishers * o.window > (1ul << 19)) {
        fprintf(stderr, "loadgen: --publishers x --window is too many messages in flight\n");
        return 2;
    }
    if (is_floor && o.shape != FLOOR_SEND_LOOP && o.size < 160) {
        fprintf(stderr, "loadgen: floor --shape %s needs --size 160 or more (a whole message frame)\n",
                o.shape == FLOOR_FANOUT ? "fanout" : "rooms");
        return 2;
    }
    if ((is_rooms || (is_floor && o.shape == FLOOR_ROOMS)) &&
        (o.connections % o.room_size != 0 || o.room_size < 2)) {
        fprintf(stderr, "loadgen: --connections must be a multiple of --room-size (at least 2)\n");
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    long files = net_raise_file_limit();
    if (files < 0) {
        perror("loadgen: RLIMIT_NOFILE");
    } else {
        unsigned long sockets = strcmp(o.scenario, "connect") == 0 || is_rooms ? o.connections
                                : is_token                                     ? o.concurrency
                                : is_floor && o.shape == FLOOR_ROOMS           ? o.connections
                                : is_floor && o.shape == FLOOR_FANOUT ? (unsigned long)o.subscribers + o.publishers
                                : is_floor                            ? o.subscribers
                                                                      : (unsigned long)o.subscribers + o.publishers;
        /* A few descriptors stay for stdio, epoll and setup calls. */
        if (sockets + 16 > (unsigned long)files) {
            fprintf(stderr, "loadgen: %lu sockets do not fit the file limit of %ld: run several processes\n",
                    sockets, files);
            return 2;
        }
    }
    struct event_base *base = event_base_new();
    if (!base)
        return 2;
    int status;
    if (strcmp(o.scenario, "connect") == 0) {
        status = scenario_connect(base, &o);
    } else if (strcmp(o.scenario, "fanout") == 0) {
        status = scenario_fanout(base, &o, 0);
    } else if (strcmp(o.scenario, "cross") == 0) {
        status = scenario_fanout(base, &o, 1);
    } else if (is_rooms) {
        status = scenario_rooms(base, &o);
    } else if (is_token) {
        status = scenario_token(base, &o);
    } else if (is_floor) {
        status = scenario_floor(base, &o);
    } else {
        fprintf(stderr, "loadgen: unknown scenario %s\n", o.scenario);
        usage(stderr);
        status = 2;
    }
    event_base_free(base);
    return status;
}
