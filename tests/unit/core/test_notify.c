/* core/daemon.c sd_notify: datagrams to $NOTIFY_SOCKET, path or abstract. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

/* Bind a datagram socket at `name` ('@' = abstract) and return it. */
static int listen_at(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, want);
}

START_TEST(test_abstract_socket)
{
    char name[64];
    snprintf(name, sizeof(name), "@sbr-test-notify-%d", (int)getpid());
    int fd = listen_at(name);
    setenv("NOTIFY_SOCKET", name, 1);
    ck_assert_int_eq(daemon_notify("READY=1"), 0);
    expect_datagram(fd, "READY=1");
    ck_assert_int_eq(daemon_notify("STOPPING=1"), 0);
    expect_datagram(fd, "STOPPING=1");
    close(fd);
}
END_TEST

START_TEST(test_path_socket)
{
    char name[64];
    snprintf(name, sizeof(name), "/tmp/sbr-test-notify-%d", (int)getpid());
    unlink(name);
    int fd = listen_at(name);
    setenv("NOTIFY_SOCKET", name, 1);
    ck_assert_int_eq(daemon_notify("RELOADING=1"), 0);
    expect_datagram(fd, "RELOADING=1");
    close(fd);
    unlink(name);
}
END_TEST

START_TEST(test_unset_and_bad)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(daemon_notify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    ck_assert_int_eq(daemon_notify("READY=1"), -1);
    setenv("NOTIFY_SOCKET", "/nonexistent/dir/sock", 1);
    ck_assert_int_eq(daemon_notify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_notify");
    TCase *tc = tcase_create("notify");
    tcase_add_test(tc, test_abstract_socket);
    tcase_add_test(tc, test_path_socket);
    tcase_add_test(tc, test_unset_and_bad);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
