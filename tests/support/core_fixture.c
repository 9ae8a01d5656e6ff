/* Settings for the unit tests of the core's modules (see core_fixture.h). */
#include "core_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "settings.h"

void core_fixture_settings(const char *text)
{
    char full[4096], err[CONF_ERR_MAX] = "";
    snprintf(full, sizeof(full), "plugin = core\n%s", text);
    struct conf_file f;
    struct conf_values v;
    struct core_settings s;
    ck_assert_msg(conf_text_parse("test-core.conf", full, strlen(full), &f, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(conf_values_build(settings_keys(), &f, NULL, &v, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(settings_build(&v, f.path, &s, err, sizeof(err)) == 0, "%s", err);
    settings_install(&s, &v);
    conf_file_clear(&f);
}
