/* Whole-network benchmark server for `make bench` (never `make check`), driven by tests/bench_cmp.py.
 *
 * usage: bench_net ENGINE [IMAGES]     ENGINE: exact | roup | lut7 | xnnpack
 *
 * Loads approxmap's quantized ResNet-8 (the default quantization of models/resnet8_mlperf_float.onnx,
 * calibrated on data_batch_1.bin:0:500) and IMAGES (default 1024) CIFAR-10 test images, then serves
 * one measurement per command line on stdin, so that the driver can interleave rounds of several
 * engines, each in its own process (process CPU time then belongs to one engine):
 *   run T B   classify all images in calls of B images with T threads; prints
 *             "done CPU_SECONDS WALL_SECONDS IMAGES" (process CPU time and wall time of the round)
 *   pred      prints "pred " and one digit per image (the predicted classes of the last run)
 *   quit
 * Engines:
 *   exact    approxmap, exact multipliers (qnn_int8_predict with threads = T, chunk default)
 *   roup     approxmap under a random kernel-level ROUP map (per kernel one of the 21 (k, m)
 *            configurations: up to 7 activation roundings per layer, weights rounded per kernel)
 *   lut7     approxmap under a random kernel-level map over 7 random non-separable 256x256 tables
 *   xnnpack  the same quantized network built op by op with XNNPACK's operator API (int8 activations
 *            with zero point 0, per-channel int8 weights, int32 bias, the same tensor scales and
 *            clamps); T = 1 runs without a threadpool, T > 1 with a pthreadpool of T threads.
 *            Input quantization (pixel table, CHW -> NHWC) is inside the timed loop, as in approxmap.
 *            At start it also runs approxmap exact once and prints how many top-1 predictions agree.
 * At start it prints "ready ENGINE macs MACS_PER_IMAGE accuracy PERCENT" (accuracy of a first run)
 * after any "#" notes. Exit status 0; 77 when the data or the engine is absent. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amul.h"
#include "cifar.h"
#include "datadir.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_quant.h"

#ifdef HAVE_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>
#endif

#define NET_MODEL "models/resnet8_mlperf_float.onnx"
#define NET_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500"
#define NET_DATA "cifar10/cifar-10-batches-bin/test_batch.bin"

enum { NPL = 7 };

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t sm_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- random kernel-level maps ---- */

typedef struct maps {
    qnn_layer_mul *muls; /* n_layers */
    int16_t act_tf[NPL * 256];
    int16_t *luts[NPL];
    void *owned[256];
    int n_owned;
} maps;

static void *own(maps *m, size_t bytes)
{
    ASSERT(m->n_owned < 256);
    return m->owned[m->n_owned++] = xmalloc(bytes);
}

/* ROUP: per kernel (co, ci) a random (k, m) of the 21 configurations (weights rounded at 2k, activations
 * at m); lut7: per kernel one of 7 random tables (exact product plus an error in -32..32). */
static void maps_build(maps *m, const qnn_int8_net *net, int lut, uint64_t *st)
{
    m->muls = own(m, (size_t)net->n_layers * sizeof *m->muls);
    for (int p = 0; p < NPL; p++)
        for (int a = 0; a < 256; a++) m->act_tf[p * 256 + a] = (int16_t)amul_roup_round((int8_t)a, p);
    if (lut)
        for (int t = 0; t < NPL; t++) {
            m->luts[t] = own(m, 65536 * sizeof(int16_t));
            for (int a = 0; a < 256; a++)
                for (int b = 0; b < 256; b++)
                    m->luts[t][a * 256 + b] = (int16_t)((int8_t)a * (int8_t)b + (int)(sm_next(st) % 65) - 32);
        }
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        size_t nk = (size_t)L->cout * L->cin, taps = (size_t)L->kh * L->kw;
        if (lut) {
            uint16_t *lut_of = own(m, nk * sizeof *lut_of);
            for (size_t i = 0; i < nk; i++) lut_of[i] = (uint16_t)(sm_next(st) % NPL);
            m->muls[l] = (qnn_layer_mul){.kind = QNN_MUL_LUT, .n_luts = NPL, .luts = (const int16_t *const *)m->luts,
                                         .lut_of = lut_of};
            continue;
        }
        uint8_t *plane_of = own(m, nk), *kk = own(m, nk);
        int16_t *w_tf = own(m, nk * taps * sizeof *w_tf);
        for (size_t i = 0; i < nk; i++) {
            uint32_t cfg = (uint32_t)(sm_next(st) % 21);
            kk[i] = (uint8_t)(cfg / 7);
            plane_of[i] = (uint8_t)(cfg % 7);
        }
        for (int32_t co = 0; co < L->cout; co++)
            for (size_t t = 0; t < taps; t++)
                for (int32_t ci = 0; ci < L->cin; ci++) {
                    size_t e = ((size_t)co * taps + t) * L->cin + ci;
                    w_tf[e] = (int16_t)amul_roup_round(L->weights[e], 2 * kk[(size_t)co * L->cin + ci]);
                }
        m->muls[l] = (qnn_layer_mul){.kind = QNN_MUL_SEPARABLE, .n_planes = NPL, .act_tf = m->act_tf,
                                     .plane_of = plane_of, .w_tf = w_tf};
    }
}

static void maps_free(maps *m)
{
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
}

/* ---- XNNPACK ---- */

#ifdef HAVE_XNNPACK
typedef struct xnet {
    const qnn_int8_net *net;
    xnn_operator_t *ops; /* per net op */
    int8_t **buf;        /* per tensor, (batch, h, w, c) */
    int32_t batch;       /* the batch the operators are set up for (0: none) */
    int threads;
    pthreadpool_t pool;
} xnet;

static int xnn_fail(const char *what, int i, enum xnn_status s)
{
    printf("# xnnpack: %s failed for op %d (status %d)\n", what, i, (int)s);
    return -1;
}

static int xnet_create(xnet *x, const qnn_int8_net *net)
{
    memset(x, 0, sizeof *x);
    x->net = net;
    x->ops = xcalloc((size_t)net->n_ops, sizeof *x->ops);
    x->buf = xcalloc((size_t)net->n_tensors, sizeof *x->buf);
    for (int i = 0; i < net->n_ops; i++) {
        const qnn_int8_op *o = &net->ops[i];
        const qnn_conv_shape *s = &o->shape;
        int8_t lo = (int8_t)o->act_min, hi = (int8_t)o->act_max;
        float s_out = (float)net->tensors[o->out].scale, s_in = (float)net->tensors[o->in[0]].scale;
        enum xnn_status st;
        switch (o->op) {
        case QNN_OP_CONV: {
            float *ks = xmalloc((size_t)s->cout * sizeof *ks);
            for (int32_t c = 0; c < s->cout; c++) ks[c] = (float)o->w_scale[c];
            /* a dense layer is a conv whose kernel covers its whole input map */
            st = xnn_create_convolution2d_nhwc_qc8((uint32_t)s->pad_t, (uint32_t)s->pad_r, (uint32_t)s->pad_b,
                                                   (uint32_t)s->pad_l, (uint32_t)s->kh, (uint32_t)s->kw,
                                                   (uint32_t)s->stride_h, (uint32_t)s->stride_w, 1, 1, 1,
                                                   (size_t)s->cin, (size_t)s->cout, (size_t)s->cin, (size_t)s->cout,
                                                   0, s_in, ks, o->w, o->bias, 0, s_out, lo, hi, 0, &x->ops[i]);
            free(ks);
            if (st != xnn_status_success) return xnn_fail("convolution2d_nhwc_qc8", i, st);
            break;
        }
        case QNN_OP_ADD:
            st = xnn_create_add_nd_qs8(0, s_in, 0, (float)net->tensors[o->in[1]].scale, 0, s_out, lo, hi, 0,
                                       &x->ops[i]);
            if (st != xnn_status_success) return xnn_fail("add_nd_qs8", i, st);
            break;
        case QNN_OP_AVGPOOL:
            if (s->kh != s->h || s->kw != s->w || s->pad_t || s->pad_l || s->pad_b || s->pad_r) {
                printf("# xnnpack: op %d: only global average pooling is mapped\n", i);
                return -1;
            }
            st = xnn_create_global_average_pooling_nwc_qs8((size_t)s->cin, (size_t)s->cin, (size_t)s->cin, 0, s_in,
                                                           0, s_out, lo, hi, 0, &x->ops[i]);
            if (st != xnn_status_success) return xnn_fail("global_average_pooling_nwc_qs8", i, st);
            break;
        case QNN_OP_MAXPOOL:
            st = xnn_create_max_pooling2d_nhwc_s8((uint32_t)s->pad_t, (uint32_t)s->pad_r, (uint32_t)s->pad_b,
                                                  (uint32_t)s->pad_l, (uint32_t)s->kh, (uint32_t)s->kw,
                                                  (uint32_t)s->stride_h, (uint32_t)s->stride_w, 1, 1, (size_t)s->cin,
                                                  (size_t)s->cin, (size_t)s->cin, lo, hi, 0, &x->ops[i]);
            if (st != xnn_status_success) return xnn_fail("max_pooling2d_nhwc_s8", i, st);
            break;
        case QNN_OP_CLAMP: {
            const qnn_int8_tensor *t = &net->tensors[o->out];
            st = xnn_create_clamp_nc_s8((size_t)t->c, (size_t)t->c, (size_t)t->c, lo, hi, 0, &x->ops[i]);
            if (st != xnn_status_success) return xnn_fail("clamp_nc_s8", i, st);
            break;
        }
        default:
            printf("# xnnpack: op %d (%s) has no mapping\n", i, o->onnx_op);
            return -1;
        }
    }
    return 0;
}

/* Allocate the tensors for `batch` images and set every operator up for it and `threads`. */
static int xnet_setup(xnet *x, int32_t batch, int threads)
{
    const qnn_int8_net *net = x->net;
    if (x->batch == batch && x->threads == threads) return 0;
    if (x->pool) pthreadpool_destroy(x->pool);
    x->pool = threads > 1 ? pthreadpool_create((size_t)threads) : NULL;
    for (int t = 0; t < net->n_tensors; t++) {
        free(x->buf[t]);
        /* XNNPACK may read a few bytes past the end of its inputs (XNN_EXTRA_BYTES) */
        x->buf[t] = xmalloc((size_t)batch * qnn_int8_tensor_bytes(net, t) + 64);
    }
    for (int i = 0; i < net->n_ops; i++) {
        const qnn_int8_op *o = &net->ops[i];
        const qnn_int8_tensor *ti = &net->tensors[o->in[0]];
        int8_t *in = x->buf[o->in[0]], *out = x->buf[o->out];
        enum xnn_status st = xnn_status_success;
        size_t len = (size_t)batch * ti->h * ti->w * ti->c;
        switch (o->op) {
        case QNN_OP_CONV:
            st = xnn_setup_convolution2d_nhwc_qc8(x->ops[i], (size_t)batch, (size_t)o->shape.h, (size_t)o->shape.w,
                                                  in, out, x->pool);
            break;
        case QNN_OP_ADD: {
            size_t shape[1] = {len};
            st = xnn_setup_add_nd_qs8(x->ops[i], 1, shape, 1, shape, in, x->buf[o->in[1]], out, x->pool);
            break;
        }
        case QNN_OP_AVGPOOL:
            st = xnn_setup_global_average_pooling_nwc_qs8(x->ops[i], (size_t)batch, (size_t)ti->h * ti->w, in, out,
                                                          x->pool);
            break;
        case QNN_OP_MAXPOOL:
            st = xnn_setup_max_pooling2d_nhwc_s8(x->ops[i], (size_t)batch, (size_t)ti->h, (size_t)ti->w, in, out,
                                                 x->pool);
            break;
        case QNN_OP_CLAMP:
            st = xnn_setup_clamp_nc_s8(x->ops[i], (size_t)batch * ti->h * ti->w, in, out, x->pool);
            break;
        default:
            break;
        }
        if (st != xnn_status_success) return xnn_fail("setup", i, st);
    }
    x->batch = batch;
    x->threads = threads;
    return 0;
}

/* Classify `n` images (n <= the set-up batch). */
static void xnet_predict(xnet *x, const uint8_t *pixels, int32_t n, uint8_t *pred)
{
    const qnn_int8_net *net = x->net;
    int32_t C = net->in_c, H = net->in_h, W = net->in_w;
    int8_t *in = x->buf[net->input];
    for (int32_t b = 0; b < n; b++) {
        const uint8_t *p = pixels + (size_t)b * C * H * W;
        int8_t *q = in + (size_t)b * C * H * W;
        for (int32_t y = 0; y < H; y++)
            for (int32_t xx = 0; xx < W; xx++)
                for (int32_t c = 0; c < C; c++)
                    q[((size_t)y * W + xx) * C + c] = (int8_t)net->in_lut[p[((size_t)c * H + y) * W + xx]];
    }
    for (int i = 0; i < net->n_ops; i++) {
        enum xnn_status st = xnn_run_operator(x->ops[i], x->pool);
        if (st != xnn_status_success) msg_abort(__FILE__, __LINE__, "xnnpack: op %d failed (status %d)", i, (int)st);
    }
    int32_t k = qnn_int8_n_out(net);
    const int8_t *lg = x->buf[net->output];
    for (int32_t b = 0; b < n; b++) {
        int best = 0;
        for (int32_t j = 1; j < k; j++)
            if (lg[(size_t)b * k + j] > lg[(size_t)b * k + best]) best = (int)j;
        pred[b] = (uint8_t)best;
    }
}

/* Same model? Runs `n` images through approxmap's exact executor, then each XNNPACK operator alone on
 * approxmap's input tensors, and prints per op how many output values are equal and the largest
 * difference (requantization rounding differs: XNNPACK rounds in fp32, approxmap with TFLite's
 * fixed-point multipliers, so an op alone differs by at most 1 on a few values), then the same for the
 * logits of the whole chain (where the differences accumulate). */
static int xnet_compare(xnet *x, const uint8_t *pixels, int32_t n)
{
    const qnn_int8_net *net = x->net;
    if (xnet_setup(x, n, 1)) return -1;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(net, n);
    qnn_int8_set_input(net, ws, pixels, n);
    qnn_int8_forward(net, ws, 0, NULL);
    printf("# xnnpack vs approxmap exact on %d images, each op alone (values equal, largest |difference|):\n#",
           (int)n);
    for (int i = 0; i <= net->n_ops; i++) {
        int t = i < net->n_ops ? net->ops[i].out : net->output;
        if (i < net->n_ops) {
            const qnn_int8_op *o = &net->ops[i];
            for (int k = 0; k < o->n_in; k++)
                memcpy(x->buf[o->in[k]], qnn_int8_ws_tensor(ws, o->in[k]),
                       (size_t)n * qnn_int8_tensor_bytes(net, o->in[k]));
            enum xnn_status st = xnn_run_operator(x->ops[i], x->pool);
            if (st != xnn_status_success) return xnn_fail("run", i, st);
        } else { /* the whole chain from the input */
            uint8_t *pred = xmalloc((size_t)n);
            xnet_predict(x, pixels, n, pred);
            free(pred);
            printf("\n# whole chain:");
        }
        const int8_t *a = qnn_int8_ws_tensor(ws, t), *b = x->buf[t];
        size_t len = (size_t)n * qnn_int8_tensor_bytes(net, t), eq = 0;
        int dmax = 0;
        for (size_t j = 0; j < len; j++) {
            int d = abs((int)a[j] - (int)b[j]);
            eq += d == 0;
            if (d > dmax) dmax = d;
        }
        printf(" %s %.2f%% %d%s", i < net->n_ops ? net->ops[i].onnx_op : "logits",
               100.0 * (double)eq / (double)len, dmax, i + 1 < net->n_ops ? ";" : "");
    }
    printf("\n");
    qnn_int8_ws_free(ws);
    return 0;
}

static void xnet_free(xnet *x)
{
    for (int i = 0; i < x->net->n_ops; i++)
        if (x->ops[i]) xnn_delete_operator(x->ops[i]);
    for (int t = 0; t < x->net->n_tensors; t++) free(x->buf[t]);
    if (x->pool) pthreadpool_destroy(x->pool);
    free(x->ops), free(x->buf);
}
#endif

/* ---- server ---- */

typedef struct engine {
    int xnn;
    const qnn_int8_net *net;
    const qnn_layer_mul *muls;
#ifdef HAVE_XNNPACK
    xnet x;
#endif
} engine;

/* One pass over the set in calls of `batch` images; returns 0 or -1 (engine failure, reported). */
static int engine_run(engine *e, const cifar_set *set, int threads, int32_t batch, uint8_t *pred)
{
    size_t img = (size_t)e->net->in_c * e->net->in_h * e->net->in_w;
#ifdef HAVE_XNNPACK
    if (e->xnn && xnet_setup(&e->x, batch, threads)) return -1;
#endif
    for (int32_t i = 0; i < set->n; i += batch) {
        int32_t n = set->n - i < batch ? set->n - i : batch;
#ifdef HAVE_XNNPACK
        if (e->xnn) {
            xnet_predict(&e->x, set->pixels + (size_t)i * img, n, pred + i);
            continue;
        }
#endif
        qnn_int8_predict(e->net, set->pixels + (size_t)i * img, n, e->muls, threads, 0, NULL, pred + i);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "";
    int32_t n_img = argc > 2 ? atoi(argv[2]) : 1024;
    int kind = !strcmp(name, "exact") ? 0 : !strcmp(name, "roup") ? 1 : !strcmp(name, "lut7") ? 2
               : !strcmp(name, "xnnpack") ? 3 : -1;
    if (kind < 0 || n_img < 1) {
        fprintf(stderr, "usage: bench_net exact|roup|lut7|xnnpack [IMAGES]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifndef HAVE_XNNPACK
    if (kind == 3) {
        printf("# xnnpack: not built in (configure found no xnnpack.h / libXNNPACK; Debian: libxnnpack-dev "
               "libpthreadpool-dev)\n");
        return 77;
    }
#endif
    char *mp = datadir_resolve(NET_MODEL);
    int have = access(mp, R_OK) == 0;
    if (!have) printf("# bench_net: '%s' is absent (set APPROXMAP_DATA)\n", mp);
    free(mp);
    if (!have) return 77;
    qnn_quant_opts qo = qnn_quant_opts_default();
    qnn_int8_net *net = NULL;
    cifar_set set = {0};
    char spec[256];
    snprintf(spec, sizeof spec, "%s:0:%d", NET_DATA, (int)n_img);
    if (qnn_quant_load(NET_MODEL, NET_CALIB, &qo, NULL, &net) || cifar_load_range(spec, &set)) {
        printf("# bench_net: model or CIFAR-10 failed to load\n");
        qnn_int8_net_free(net);
        return 77;
    }
    uint64_t macs = 0;
    for (int l = 0; l < net->n_layers; l++) macs += net->layers[l].macs;
    uint64_t st = 2026;
    maps m = {0};
    if (kind == 1 || kind == 2) maps_build(&m, net, kind == 2, &st);
    engine e = {.xnn = kind == 3, .net = net, .muls = m.muls};
    uint8_t *pred = xmalloc((size_t)set.n);
    int rc = 0;
#ifdef HAVE_XNNPACK
    if (e.xnn) {
        enum xnn_status xs = xnn_initialize(NULL);
        if (xs != xnn_status_success) {
            printf("# xnnpack: xnn_initialize failed (status %d)\n", (int)xs);
            rc = 77;
        } else if (xnet_create(&e.x, net)) {
            rc = 77;
        }
    }
#endif
#ifdef HAVE_XNNPACK
    if (!rc && e.xnn && xnet_compare(&e.x, set.pixels, set.n < 64 ? set.n : 64)) rc = 77;
#endif
    if (!rc && engine_run(&e, &set, 1, 256, pred)) rc = 77;
    if (!rc) {
        int correct = 0;
        for (int32_t i = 0; i < set.n; i++) correct += pred[i] == set.labels[i];
        if (e.xnn) { /* the same model? compare with approxmap exact */
            uint8_t *ref = xmalloc((size_t)set.n);
            qnn_int8_predict(net, set.pixels, set.n, NULL, 0, 0, NULL, ref);
            int agree = 0;
            for (int32_t i = 0; i < set.n; i++) agree += pred[i] == ref[i];
            printf("# xnnpack: top-1 agrees with approxmap exact on %d of %d images\n", agree, (int)set.n);
            free(ref);
        }
        printf("ready %s macs %llu accuracy %.2f\n", name, (unsigned long long)macs, 100.0 * correct / set.n);
        char line[128];
        while (fgets(line, sizeof line, stdin)) {
            int threads = 0, batch = 0;
            if (sscanf(line, "run %d %d", &threads, &batch) == 2 && threads >= 1 && batch >= 1) {
                double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
                if (engine_run(&e, &set, threads, batch, pred)) {
                    rc = 1;
                    break;
                }
                double c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_s(CLOCK_MONOTONIC);
                printf("done %.6f %.6f %d\n", c1 - c0, w1 - w0, (int)set.n);
            } else if (!strncmp(line, "pred", 4)) {
                fputs("pred ", stdout);
                for (int32_t i = 0; i < set.n; i++) putchar('0' + pred[i]);
                putchar('\n');
            } else if (!strncmp(line, "quit", 4)) {
                break;
            } else {
                printf("error: unknown command\n");
            }
        }
    }
#ifdef HAVE_XNNPACK
    if (e.xnn && e.x.ops) xnet_free(&e.x);
#endif
    free(pred);
    maps_free(&m);
    cifar_set_deinit(&set);
    qnn_int8_net_free(net);
    return rc;
}
