/* REALTIME_REDIS_URL forms, good and bad: one server, a unix socket, a
 * sentinel set, a cluster. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

static struct redis_url url;
static char err[200];

static void teardown(void)
{
    redis_url_clear(&url);
}

START_TEST(host_only)
{
    ck_assert_int_eq(redis_url_parse("redis://localhost", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(url.host, "localhost");
    ck_assert_int_eq(url.port, 6379);
    ck_assert_int_eq(url.db, 0);
    ck_assert_ptr_null(url.password);
    ck_assert_ptr_null(url.user);
}
END_TEST

START_TEST(full_form)
{
    ck_assert_int_eq(redis_url_parse("redis://:s3cr%40t@10.0.0.5:6380/3", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(url.host, "10.0.0.5");
    ck_assert_int_eq(url.port, 6380);
    ck_assert_int_eq(url.db, 3);
    ck_assert_str_eq(url.password, "s3cr@t");
    ck_assert_ptr_null(url.user);
}
END_TEST

START_TEST(acl_user)
{
    ck_assert_int_eq(redis_url_parse("redis://app:pw@redis.internal/1", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(url.user, "app");
    ck_assert_str_eq(url.password, "pw");
    ck_assert_str_eq(url.host, "redis.internal");
    ck_assert_int_eq(url.db, 1);
}
END_TEST

START_TEST(password_alone_and_trailing_slash)
{
    ck_assert_int_eq(redis_url_parse("redis://pw@h:1/", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(url.password, "pw");
    ck_assert_int_eq(url.port, 1);
    ck_assert_int_eq(url.db, 0);
}
END_TEST

START_TEST(ipv6)
{
    ck_assert_int_eq(redis_url_parse("redis://[::1]:7000/2", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(url.host, "::1");
    ck_assert_int_eq(url.port, 7000);
    ck_assert_int_eq(url.db, 2);
}
END_TEST

START_TEST(unix_socket)
{
    ck_assert_int_eq(redis_url_parse("unix:///run/redis/redis.sock?db=4&password=x%20y", &url, err, sizeof(err)), 0);
    ck_assert_ptr_null(url.host);
    ck_assert_str_eq(url.socket_path, "/run/redis/redis.sock");
    ck_assert_int_eq(url.db, 4);
    ck_assert_str_eq(url.password, "x y");
    redis_url_clear(&url);
    ck_assert_int_eq(redis_url_parse("unix:///tmp/r.sock", &url, err, sizeof(err)), 0);
    ck_assert_int_eq(url.db, 0);
}
END_TEST

START_TEST(describe_hides_credentials)
{
    char text[200];
    ck_assert_int_eq(redis_url_parse("redis://u:secret@h:1/2", &url, err, sizeof(err)), 0);
    redis_url_describe(&url, text, sizeof(text));
    ck_assert_str_eq(text, "h:1 db 2");
    ck_assert_ptr_null(strstr(text, "secret"));
}
END_TEST

START_TEST(sentinel_set)
{
    ck_assert_int_eq(redis_url_parse("redis-sentinel://app:p%40ss@s1:26380,s2,[::1]:26381/my%20master/3", &url, err,
                                     sizeof(err)),
                     0);
    ck_assert_int_eq(url.mode, REDIS_MODE_SENTINEL);
    ck_assert_uint_eq(url.n_hosts, 3);
    ck_assert_str_eq(url.hosts[0].host, "s1");
    ck_assert_int_eq(url.hosts[0].port, 26380);
    ck_assert_str_eq(url.hosts[1].host, "s2");
    ck_assert_int_eq(url.hosts[1].port, 26379); /* the sentinels' default */
    ck_assert_str_eq(url.hosts[2].host, "::1");
    ck_assert_int_eq(url.hosts[2].port, 26381);
    ck_assert_str_eq(url.master_name, "my master");
    ck_assert_int_eq(url.db, 3);
    ck_assert_str_eq(url.user, "app");
    ck_assert_str_eq(url.password, "p@ss");
    char text[300];
    redis_url_describe(&url, text, sizeof(text));
    ck_assert_str_eq(text, "sentinel master 'my master' via s1:26380,s2:26379,[::1]:26381 db 3");
    ck_assert_str_eq(redis_mode_name(url.mode), "sentinel");
    redis_url_clear(&url);
    ck_assert_int_eq(redis_url_parse("redis-sentinel://10.0.0.1:5000/mymaster", &url, err, sizeof(err)), 0);
    ck_assert_uint_eq(url.n_hosts, 1);
    ck_assert_int_eq(url.db, 0);
    ck_assert_ptr_null(url.password);
}
END_TEST

START_TEST(cluster_seeds)
{
    ck_assert_int_eq(redis_url_parse("redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,node3", &url, err, sizeof(err)),
                     0);
    ck_assert_int_eq(url.mode, REDIS_MODE_CLUSTER);
    ck_assert_uint_eq(url.n_hosts, 3);
    ck_assert_str_eq(url.hosts[1].host, "10.0.0.2");
    ck_assert_int_eq(url.hosts[1].port, 7001);
    ck_assert_int_eq(url.hosts[2].port, 6379);
    ck_assert_str_eq(url.host, "10.0.0.1"); /* the first seed */
    ck_assert_str_eq(url.password, "pw");
    char text[300];
    redis_url_describe(&url, text, sizeof(text));
    ck_assert_str_eq(text, "cluster via 10.0.0.1:7000,10.0.0.2:7001,node3:6379");
    ck_assert_ptr_null(strstr(text, "pw"));
    redis_url_clear(&url);
    ck_assert_int_eq(redis_url_parse("redis-cluster://h:7000/", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(redis_mode_name(url.mode), "cluster");
    redis_url_clear(&url);
    ck_assert_int_eq(redis_url_parse("redis://h", &url, err, sizeof(err)), 0);
    ck_assert_str_eq(redis_mode_name(url.mode), "single");
}
END_TEST

START_TEST(many_hosts_bounded)
{
    char text[1200] = "redis-cluster://";
    for (int i = 0; i < REDIS_URL_MAX_HOSTS; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%sh%d:7000", i ? "," : "", i);
    ck_assert_int_eq(redis_url_parse(text, &url, err, sizeof(err)), 0);
    ck_assert_uint_eq(url.n_hosts, REDIS_URL_MAX_HOSTS);
    redis_url_clear(&url);
    strcat(text, ",one-more:7000");
    ck_assert_int_eq(redis_url_parse(text, &url, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "too many hosts"));
}
END_TEST

static const char *const bad_urls[] = {
    "localhost:6379",
    "http://localhost",
    "rediss://localhost",
    "redis://",
    "redis://:pw@",
    "redis://h:0",
    "redis://h:65536",
    "redis://h:port",
    "redis://h:6379/db",
    "redis://h:6379/-1",
    "redis://h/1/2",
    "redis://[::1",
    "redis://[::1]x",
    "redis://u:%zz@h",
    "redis://u:%00@h",
    "redis://h:6379/99999999999999999999",
    "unix://relative.sock",
    "unix:///",
    "unix:///s.sock?db=x",
    "unix:///s.sock?nope=1",
    "unix:///s.sock?db",
    "",
    "redis://a:1,b:2",
    "redis-sentinel://s1:26379",
    "redis-sentinel://s1:26379/",
    "redis-sentinel://s1:26379//1",
    "redis-sentinel://s1:26379/m/x",
    "redis-sentinel://s1:26379/m/1/2",
    "redis-sentinel://s1:26379,/m",
    "redis-sentinel://s1:0/m",
    "redis-sentinel:///m",
    "redis-sentinel://s1/m%zz",
    "redis-sentinel://s1/m?db=1",
    "redis-cluster://",
    "redis-cluster://h:7000/1",
    "redis-cluster://h:7000/0",
    "redis-cluster://h:7000,h:notaport",
    "redis-cluster://h:7000,,h2:7001",
    "redis-cluster://h:7000?password=x",
    "redis-cluster://[::1:7000",
};

START_TEST(bad_forms)
{
    const char *text = bad_urls[_i];
    err[0] = '\0';
    ck_assert_msg(redis_url_parse(text, &url, err, sizeof(err)) == -1, "accepted '%s'", text);
    ck_assert_msg(err[0] != '\0', "no reason for '%s'", text);
    ck_assert_ptr_null(url.host);
    ck_assert_ptr_null(url.password);
}
END_TEST

START_TEST(bad_reason_never_shows_the_password)
{
    ck_assert_int_eq(redis_url_parse("redis://:hunter2@h:99999", &url, err, sizeof(err)), -1);
    ck_assert_ptr_null(strstr(err, "hunter2"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis url");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, host_only);
    tcase_add_test(tc, full_form);
    tcase_add_test(tc, acl_user);
    tcase_add_test(tc, password_alone_and_trailing_slash);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, unix_socket);
    tcase_add_test(tc, describe_hides_credentials);
    tcase_add_test(tc, sentinel_set);
    tcase_add_test(tc, cluster_seeds);
    tcase_add_test(tc, many_hosts_bounded);
    tcase_add_loop_test(tc, bad_forms, 0, (int)(sizeof(bad_urls) / sizeof(bad_urls[0])));
    tcase_add_test(tc, bad_reason_never_shows_the_password);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
