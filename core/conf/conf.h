/* The configuration layer (private): the environment and .env, ${VAR} and
 * ${VAR:-default} expansion, conf.d files of `key = value` lines, and typed
 * validation of a file's keys against a sbr_config_key table.  Every error
 * is one line, "file:line: reason", written into the caller's buffer. */
#ifndef SBR_CORE_CONF_H
#define SBR_CORE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

#define CONF_ERR_MAX 512

/* --- env.c ------------------------------------------------------------ */

/* Expand ${VAR} and ${VAR:-default} (defaults may nest: ${A:-${B:-x}}).  An
 * unset ${VAR} expands to ""; `:-` also replaces an empty value.  On success
 * *out is a new malloc'd string.  On error returns -1 with the reason (no
 * file or line) in err. */
int env_expand(const char *in, char **out, char *err, size_t errlen);

/* Load KEY=VALUE lines (optional `export `, optional quotes, # comments)
 * into the environment without overriding variables already set.  A missing
 * file is not an error.  Returns -1 with "path:line: reason" on a bad line. */
int env_load_dotenv(const char *path, char *err, size_t errlen);

/* --- envfile.c ----------------------------------------------------------- */

/* Called for each assignment of an environment file, in file order; `line`
 * is where it starts.  Returns 0 to go on, -1 (with errno) to stop. */
typedef int (*envfile_fn)(const char *key, const char *value, int line, void *userdata);

/* Parse text in the syntax of systemd's EnvironmentFile= (see envfile.c),
 * read from `path` (for messages).  Lines systemd would skip, an unclosed
 * quote, a NUL byte or text that is not UTF-8 are errors: -1 with
 * "path:line: reason". */
int envfile_parse(const char *path, const char *text, size_t len, envfile_fn fn, void *userdata, char *err,
                  size_t errlen);
/* Read path (at most 1 MiB) and set each of its variables, overriding the
 * environment, as EnvironmentFile= overrides a unit's Environment=.  A
 * missing file is an error.  0, or -1 with "path[:line]: reason". */
int envfile_load(const char *path, char *err, size_t errlen);

/* --- paths.c ------------------------------------------------------------ */

/* The default plugin directory: <bindir>/plugins (the build tree), else
 * where an install under any prefix puts them relative to <bindir>, else the
 * configured install dir.  A new malloc'd string. */
char *paths_plugin_dir(void);
/* The default conf.d: ./conf.d, else an install's relative to <bindir>, else
 * the configured one.  A new malloc'd string. */
char *paths_conf_dir(void);

/* --- parser.c ----------------------------------------------------------- */

struct conf_entry {
    char *key;
    char *value; /* expanded */
    int line;
};

/* One conf.d file: its first key names the plugin (`plugin = NAME`). */
struct conf_file {
    char *path;        /* as shown in messages, e.g. "conf.d/40-typing.conf" */
    char *plugin;
    int plugin_line;
    struct conf_entry *entries; /* every key but `plugin`, in file order */
    size_t n_entries;
};

/* Parse one file.  Returns 0, or -1 with "path:line: reason". */
int conf_file_parse(const char *path, struct conf_file *out, char *err, size_t errlen);
/* Parse text as if read from `path` (for tests and for parse). */
int conf_text_parse(const char *path, const char *text, size_t len, struct conf_file *out, char *err, size_t errlen);
void conf_file_clear(struct conf_file *file);
const struct conf_entry *conf_file_find(const struct conf_file *file, const char *key);

/* --- confdir.c ---------------------------------------------------------- */

struct conf_set {
    struct conf_file *files; /* lexical order of the file names */
    size_t n_files;
};

/* Read every *.conf of dir.  A plugin named twice is an error. */
int conf_dir_read(const char *dir, struct conf_set *out, char *err, size_t errlen);
void conf_set_clear(struct conf_set *set);
/* The file naming `plugin`, or NULL. */
const struct conf_file *conf_set_find(const struct conf_set *set, const char *plugin);

/* --- schema.c ----------------------------------------------------------- */

/* The validated values of one table of keys: text of every declared key
 * (the file's value or the default) and the line it came from (0: default). */
struct conf_values {
    const sbr_config_key *keys;
    size_t n;
    char **text;
    int *line;
};

/* Validate file's entries (NULL: none) against keys; entries named in
 * `ignored` (NULL-terminated, may be NULL) are skipped.  Unknown keys, bad
 * types, out-of-bounds values, duplicates and missing required values are
 * errors naming file, line and key; secret values are never quoted. */
int conf_values_build(const sbr_config_key *keys, const struct conf_file *file, const char *const *ignored,
                      struct conf_values *out, char *err, size_t errlen);
void conf_values_clear(struct conf_values *values);
/* Index of key in values, or -1. */
int conf_values_index(const struct conf_values *values, const char *key);
const char *conf_values_string(const struct conf_values *values, const char *key);
int64_t conf_values_int(const struct conf_values *values, const char *key);
int conf_values_bool(const struct conf_values *values, const char *key);
double conf_values_double(const struct conf_values *values, const char *key);

/* Before a reload replaces `old` with `fresh` (same table): put back the old
 * text of every changed key without SBR_CONF_RELOADABLE, logging that it
 * needs a restart (never the value). */
void conf_values_keep_fixed(const char *who, const char *file, struct conf_values *old, struct conf_values *fresh);

/* Typed parsers shared by validation and the getters; 0 or -1. */
int conf_parse_int(const char *text, int64_t *out);
int conf_parse_bool(const char *text, int *out);
int conf_parse_double(const char *text, double *out);

/* --- settings.c --------------------------------------------------------- */

struct core_settings;

/* The core's own keys, as a plugin declares its own. */
const sbr_config_key *settings_keys(void);
/* Turn validated core values into settings (checks listen and log_level).
 * `file` names the core file for messages (NULL: defaults). */
int settings_build(const struct conf_values *values, const char *file, struct core_settings *out,
                   char *err, size_t errlen);
void settings_clear(struct core_settings *settings);
/* Make `settings` (moved in) and its values the ones in force. */
void settings_install(struct core_settings *settings, struct conf_values *values);
/* The core values in force (for reload comparisons). */
struct conf_values *settings_values(void);
/* The server API key, or "" when unset.  Never log it. */
const char *settings_api_key(void);
/* Free everything at exit. */
void settings_free(void);

#endif
