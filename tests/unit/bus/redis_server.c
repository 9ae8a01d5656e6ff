#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int redis_server_available(void)
{
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

int redis_server_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int redis_server_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

int redis_server_start(struct redis_server *rs, int port, const char *password)
{
    if (rs->dir[0] == '\0') {
        snprintf(rs->dir, sizeof(rs->dir), "/tmp/sbr-redis-XXXXXX");
        if (!mkdtemp(rs->dir))
            return -1;
    }
    rs->port = port ? port : redis_server_free_port();
    if (rs->port <= 0)
        return -1;
    snprintf(rs->url, sizeof(rs->url), "redis://%s%s%s127.0.0.1:%d/0", password ? ":" : "",
             password ? password : "", password ? "@" : "", rs->port);
    char portstr[16], sock[300];
    snprintf(portstr, sizeof(portstr), "%d", rs->port);
    snprintf(sock, sizeof(sock), "%s/redis.sock", rs->dir);
    snprintf(rs->unix_url, sizeof(rs->unix_url), "unix://%s?db=2", sock);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Never outlive the test. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        const char *argv[24] = {"redis-server", "--port", portstr, "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", rs->dir};
        int argc = 11;
        if (password) {
            argv[argc++] = "--requirepass";
            argv[argc++] = password;
        }
        if (rs->unix_socket) {
            argv[argc++] = "--unixsocket";
            argv[argc++] = sock;
        }
        char bus_port[16];
        if (rs->cluster) {
            /* A port of its own for the cluster bus: port + 10000 may be
             * taken, or past 65535. */
            snprintf(bus_port, sizeof(bus_port), "%d", redis_server_free_port());
            argv[argc++] = "--cluster-enabled";
            argv[argc++] = "yes";
            argv[argc++] = "--cluster-port";
            argv[argc++] = bus_port;
            argv[argc++] = "--cluster-node-timeout";
            argv[argc++] = "3000";
        }
        argv[argc] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    rs->pid = pid;
    for (int i = 0; i < 500; i++) {
        if (redis_server_accepts(rs->port))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            rs->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    redis_server_stop(rs);
    return -1;
}

void redis_server_stop(struct redis_server *rs)
{
    if (rs->pid > 0) {
        kill(rs->pid, SIGTERM);
        int status;
        for (int i = 0; i < 500; i++) {
            if (waitpid(rs->pid, &status, WNOHANG) == rs->pid)
                break;
            if (i == 499) {
                kill(rs->pid, SIGKILL);
                waitpid(rs->pid, &status, 0);
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        rs->pid = 0;
    }
}

void redis_server_cleanup(struct redis_server *rs)
{
    redis_server_stop(rs);
    if (rs->dir[0]) {
        char file[300];
        snprintf(file, sizeof(file), "%s/nodes.conf", rs->dir);
        unlink(file);
        rmdir(rs->dir);
    }
    rs->dir[0] = '\0';
}
