/* Data-directory resolution: see datadir.h. */
#include "datadir.h"

#include <stdlib.h>
#include <unistd.h>

#include "msg.h"

#ifndef APPROXMAP_SRCDIR
#define APPROXMAP_SRCDIR "."
#endif

static char *g_dir; /* set once from the command line before any work starts */

void datadir_set(const char *dir)
{
    free(g_dir);
    g_dir = dir ? xstrdup(dir) : NULL;
}

const char *datadir_get(void)
{
    if (g_dir) return g_dir;
    const char *env = getenv("APPROXMAP_DATA");
    if (env && *env) return env;
    return APPROXMAP_SRCDIR "/data";
}

char *datadir_resolve(const char *path)
{
    if (path[0] == '/' || access(path, F_OK) == 0) return xstrdup(path);
    return xasprintf("%s/%s", datadir_get(), path);
}
