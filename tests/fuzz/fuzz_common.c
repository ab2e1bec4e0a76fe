/* Helpers shared by the harnesses: see fuzz.h. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amap.h"
#include "amul.h"
#include "msg.h"
#include "onnx_import.h"
#include "qnn_model.h"
#include "status.h"

long fuzz_accepted;

static void drop(const char *text, void *ctx) {}

void fuzz_quiet(void)
{
    static int done;
    if (done) return;
    done = 1;
    const char *v = getenv("FUZZ_VERBOSE");
    if (!v || strcmp(v, "1") != 0) msg_set_sink(drop, NULL);
}

static char g_dir[64];

static void cleanup(void)
{
    char *cmd = xasprintf("rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: cannot remove %s\n", g_dir);
    free(cmd);
}

const char *fuzz_dir(void)
{
    if (!g_dir[0]) {
        /* tmpfs when there is one: the writers fsync, which costs nothing there */
        snprintf(g_dir, sizeof g_dir, "%s/approxmap-fuzz-%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
        char *cmd = xasprintf("rm -rf '%s' && mkdir -p '%s'", g_dir, g_dir);
        if (system(cmd) != 0) msg_abort(__FILE__, __LINE__, "cannot create %s", g_dir);
        free(cmd);
        atexit(cleanup);
    }
    return g_dir;
}

const char *fuzz_write(const char *name, const void *data, size_t size)
{
    static char path[8][256];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", fuzz_dir(), name);
    FILE *fp = fopen(p, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0)
        msg_abort(__FILE__, __LINE__, "cannot write %s", p);
    return p;
}

char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static amap_layer g_layers[64];
static int g_n_layers = -1;
static qnn_model *g_model;

const amap_layer *fuzz_layers(int *n)
{
    if (g_n_layers < 0) {
        g_n_layers = 0;
        const char *d = getenv("APPROXMAP_DATA");
        char *path = d ? xasprintf("%s/models/resnet8_mlperf_float.onnx", d)
                       : xasprintf("%s/data/models/resnet8_mlperf_float.onnx", APPROXMAP_SRCDIR);
        if (access(path, R_OK) == 0 && onnx_import_file(path, &g_model) == ST_OK) {
            for (int i = 0; i < g_model->n_nodes && g_n_layers < 64; i++) {
                const qnn_node *nd = &g_model->nodes[i];
                if (nd->op != QNN_OP_CONV) continue;
                const qnn_conv_shape *s = &nd->shape;
                g_layers[g_n_layers++] = (amap_layer){.name = nd->name, .cin = s->cin, .cout = s->cout, .kh = s->kh,
                                                      .kw = s->kw, .macs = qnn_model_node_macs(nd)};
            }
        } else {
            g_layers[0] = (amap_layer){.name = "conv1", .cin = 3, .cout = 4, .kh = 3, .kw = 3, .macs = 3 * 4 * 9 * 64};
            g_layers[1] = (amap_layer){.name = "fc", .cin = 4, .cout = 10, .kh = 1, .kw = 1, .macs = 40};
            g_n_layers = 2;
        }
        free(path);
    }
    *n = g_n_layers;
    return g_layers;
}

const amul_lib *fuzz_lib(void)
{
    static amul_lib lib;
    static int loaded;
    if (!loaded) {
        char *path = amul_lib_default_path();
        if (amul_lib_load(&lib, path) != ST_OK) msg_abort(__FILE__, __LINE__, "cannot load the library %s", path);
        free(path);
        loaded = 1;
    }
    return &lib;
}
