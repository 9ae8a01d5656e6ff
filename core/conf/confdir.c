/* A conf.d directory: every *.conf file in lexical order, one plugin each. */
#include "conf/conf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int confdir_wanted(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int confdir_compare(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

void conf_set_clear(struct conf_set *set)
{
    for (size_t i = 0; i < set->n_files; i++)
        conf_file_clear(&set->files[i]);
    free(set->files);
    memset(set, 0, sizeof(*set));
}

const struct conf_file *conf_set_find(const struct conf_set *set, const char *plugin)
{
    for (size_t i = 0; i < set->n_files; i++)
        if (strcmp(set->files[i].plugin, plugin) == 0)
            return &set->files[i];
    return NULL;
}

int conf_dir_read(const char *dir, struct conf_set *out, char *err, size_t errlen)
{
    struct dirent **names = NULL;
    memset(out, 0, sizeof(*out));
    int n = scandir(dir, &names, confdir_wanted, confdir_compare);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    out->files = calloc(n ? (size_t)n : 1, sizeof(*out->files));
    if (!out->files) {
        snprintf(err, errlen, "%s: out of memory", dir);
        rc = -1;
    }
    size_t dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/')
        dir_len--;
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len, dir, names[i]->d_name) >= (int)sizeof(path)) {
            snprintf(err, errlen, "%s: path too long", names[i]->d_name);
            rc = -1;
            break;
        }
        struct conf_file file;
        if (conf_file_parse(path, &file, err, errlen) < 0) {
            rc = -1;
            break;
        }
        const struct conf_file *dup = conf_set_find(out, file.plugin);
        if (dup) {
            snprintf(err, errlen, "%s:%d: plugin '%s' is already configured by %s", file.path, file.plugin_line,
                     file.plugin, dup->path);
            conf_file_clear(&file);
            rc = -1;
            break;
        }
        out->files[out->n_files++] = file;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc < 0)
        conf_set_clear(out);
    return rc;
}
