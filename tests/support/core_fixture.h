/* Settings for the unit tests of the core's modules: the core's own keys
 * from conf text, validated and installed as the daemon does. */
#ifndef SBR_TEST_CORE_FIXTURE_H
#define SBR_TEST_CORE_FIXTURE_H

/* Install "plugin = core\n" + text (key = value lines) as the settings in
 * force; the test fails on an invalid text. */
void core_fixture_settings(const char *text);

#endif
