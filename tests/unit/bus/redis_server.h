/* A private redis-server for tests: loopback, a free port, a temp dir, no
 * persistence; started and stopped by PID. */
#ifndef SBR_TEST_REDIS_SERVER_H
#define SBR_TEST_REDIS_SERVER_H

#include <sys/types.h>

struct redis_server {
    pid_t pid;
    int port;
    char dir[256];
    char url[320];
    int unix_socket;  /* set before start: also listen on dir/redis.sock */
    int cluster;      /* set before start: a cluster node (dir/nodes.conf) */
    char unix_url[320];
};

/* A cluster of masters (no replicas), made with redis-cli --cluster create. */
#define REDIS_CLUSTER_MAX 4
struct redis_cluster {
    struct redis_server nodes[REDIS_CLUSTER_MAX];
    int n;
    char url[512];    /* redis-cluster://127.0.0.1:p1,... */
};

/* A loopback port free now (0 or less: none). */
int redis_server_free_port(void);
/* 1 if a redis-server binary is on PATH. */
int redis_server_available(void);
/* Start one (port 0: pick a free one; password NULL: none) and wait until
 * it accepts connections.  Returns 0, or -1. */
int redis_server_start(struct redis_server *rs, int port, const char *password);
/* SIGTERM and wait for the exit; start again on the same port later. */
void redis_server_stop(struct redis_server *rs);
/* Stop and remove the dir. */
void redis_server_cleanup(struct redis_server *rs);
/* redis_cluster_server.c (needs hiredis).  1 if redis-cli is on PATH too. */
int redis_cluster_available(void);
/* Start n (<= REDIS_CLUSTER_MAX) nodes and make them a cluster whose every
 * node agrees on the slots.  Returns 0, or -1 (everything stopped). */
int redis_cluster_start(struct redis_cluster *rc, int n);
void redis_cluster_cleanup(struct redis_cluster *rc);

#endif
