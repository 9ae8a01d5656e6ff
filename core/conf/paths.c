/* Where the installed files are, found from the executable's own place, so
 * that an install made with `cmake --install --prefix P`, or moved, finds
 * its own plugins and conf.d instead of those of the configured prefix. */
#include "conf/conf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Defaults for builds that compile the core without the install layout
 * (the fuzzing harnesses). */
#ifndef SBR_PLUGIN_DIR_FROM_BIN
#define SBR_PLUGIN_DIR_FROM_BIN ""
#endif
#ifndef SBR_CONF_DIR_FROM_BIN
#define SBR_CONF_DIR_FROM_BIN ""
#endif

static int paths_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "<directory of the executable>/<rel>" into out, if that is a directory. */
static int paths_from_bindir(const char *rel, char *out, size_t outlen)
{
    if (!*rel)
        return -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    char joined[PATH_MAX + 256];
    snprintf(joined, sizeof(joined), "%s/%s", exe, rel);
    /* Resolved, so logs and `--check-config -v` show a plain path. */
    char real[PATH_MAX];
    if (!paths_is_dir(joined) || !realpath(joined, real) || strlen(real) >= outlen)
        return -1;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

char *paths_plugin_dir(void)
{
    char dir[PATH_MAX];
    /* The build tree: build/superbot-realtime next to build/plugins. */
    if (paths_from_bindir("plugins", dir, sizeof(dir)) == 0 ||
        paths_from_bindir(SBR_PLUGIN_DIR_FROM_BIN, dir, sizeof(dir)) == 0)
        return strdup(dir);
    return strdup(SBR_INSTALL_PLUGIN_DIR);
}

char *paths_conf_dir(void)
{
    char dir[PATH_MAX];
    if (paths_is_dir("conf.d"))
        return strdup("conf.d");
    if (paths_from_bindir(SBR_CONF_DIR_FROM_BIN, dir, sizeof(dir)) == 0)
        return strdup(dir);
    return strdup(SBR_INSTALL_CONF_DIR);
}
