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
    char unix_url[320];
};

/* 1 if a redis-server binary is on PATH. */
int redis_server_available(void);
/* Start one (port 0: pick a free one; password NULL: none) and wait until
 * it accepts connections.  Returns 0, or -1. */
int redis_server_start(struct redis_server *rs, int port, const char *password);
/* SIGTERM and wait for the exit; start again on the same port later. */
void redis_server_stop(struct redis_server *rs);
/* Stop and remove the dir. */
void redis_server_cleanup(struct redis_server *rs);

#endif
