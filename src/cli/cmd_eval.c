/* approxmap eval: top-1 accuracy of the float model and of the exact int8 model on chosen records of
 * a CIFAR-10 file, calibrated on training records.
 *
 * Approximate evaluation (--map MAP.yaml | --uniform NAME, multipliers from --library L, default
 * roup8): the set-up (approx_cnn.h) and the map evaluator (approx_eval.h) score the map against the
 * exact run on the same images (loss_pp in pp, positive = worse). Energy is the
 * map's relative energy (approx.h; --energy FILE: a per-layer model) with a per-layer breakdown;
 * --compensate bias runs the approximate map on the bias-corrected network and also reports the
 * uncompensated figures; a map that carries bias_delta (exported from a `compensate:` search) is run
 * with those deltas, reported the same way. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afile.h"
#include "cifar.h"
#include "cmd.h"
#include "cmd_util.h"
#include "datadir.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_model.h"
#include "qnn_quant.h"
#include "approx.h"
#include "status.h"

#define DEFAULT_MODEL "models/resnet8_mlperf_float.onnx"
#define DEFAULT_DATA "cifar10/cifar-10-batches-bin/test_batch.bin"
#define DEFAULT_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap eval [--model M.onnx] [--data FILE] [--first N] [--count N]\n"
            "                      [--calib FILE[:FIRST[:COUNT]]] [--format text|json] [--threads T]\n"
            "                      [--no-float] [--logits FILE] [--exact-logits FILE] [--data-dir DIR]\n"
            "                      [(--map MAP.yaml | --uniform NAME) [--library L] [--energy FILE]\n"
            "                       [--compensate bias|bias-tensor|bias+weights|bias+seq|bias+weights+seq]]\n\n"
            "Top-1 accuracy of the float model and of the exact int8 model (symmetric per-channel\n"
            "weights, per-tensor activations calibrated on the --calib training records: by default\n"
            "the 99.99th percentile of |x|, or max |x|).\n\n"
            "  -m, --model M      ONNX model (default " DEFAULT_MODEL ")\n"
            "  -d, --data FILE    CIFAR-10 binary file (default " DEFAULT_DATA "), or a record list\n"
            "                     FILE:FIRST:COUNT,FILE:FIRST:COUNT... (no --first/--count)\n"
            "      --first N      first record (default 0)\n"
            "      --count N      number of records (default: to the end of the file)\n"
            "      --calib SPEC   calibration records, training images only\n"
            "                     (default " DEFAULT_CALIB ")\n"
            "      --calib-method M  percentile (default) or max\n"
            "      --percentile P    percentile of |x| for --calib-method percentile (default 99.99)\n"
            "  -f, --format FMT   text (default) or json (accuracies in percent)\n"
            "  -j, --threads T    threads (default: all cores); results do not depend on it\n"
            "      --no-float     skip the float model\n"
            "      --logits FILE  write the int8 logits of what is evaluated as CSV (record,label,\n"
            "                     prediction,l0..l9): the approximate map's with --map or --uniform\n"
            "                     (compensated when it is), else the exact network's\n"
            "      --exact-logits FILE  the exact int8 network's logits, in the same form\n"
            "      --map MAP.yaml approximation map: also report the approximate accuracy, its loss in pp\n"
            "                     against exact int8 on the same images, and its relative energy\n"
            "      --uniform NAME the same with one multiplier on every layer\n"
            "  -l, --library L    multiplier library of the map (default: roup8)\n"
            "      --energy FILE  per-layer energy model (results/gate/layers_*.yaml) instead of the\n"
            "                     library's relative energies\n"
            "      --compensate bias  fold each output channel's expected multiplier error (from the\n"
            "                     calibration images' activations, per input channel; bias-tensor: per\n"
            "                     layer input) into its bias for the approximate run; a map with\n"
            "                     bias_delta entries (export of a compensated search) applies its own;\n"
            "                     bias+weights: also tune each filter's stored weights to its\n"
            "                     multipliers (on the calibration images' patch covariance; a map\n"
            "                     with 'weights' applies its own); +seq: the deltas measured layer\n"
            "                     after layer on the approximate network (first 128 calibration\n"
            "                     images), each layer's mean input shift cancelled too\n"
            "      --data-dir DIR resolve relative paths against DIR\n"
            "  -h, --help         this help\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int32_t eval_float(const qnn_model *m, const cifar_set *set, int threads, uint8_t *pred, double *seconds)
{
    const int32_t k = qnn_model_n_out(m);
    float *logits = xmalloc((size_t)set->n * k * sizeof *logits + 1);
    double t0 = now();
    qnn_model_predict(m, set->pixels, set->n, threads, logits, NULL);
    *seconds = now() - t0;
    int32_t ok = 0;
    for (int32_t i = 0; i < set->n; i++) {
        pred[i] = (uint8_t)qnn_argmax_f32(logits + (size_t)i * k, k);
        ok += pred[i] == set->labels[i];
    }
    free(logits);
    return ok;
}

/* CSV of int8 logits (n x 10, with the predictions they give): record,label,prediction,l0,...;
 * written atomically. */
static int write_logits(const char *path, const cifar_set *set, int32_t first, const int8_t *lg, const uint8_t *pred)
{
    const int32_t k = CIFAR_CLASSES;
    afile *f = afile_open(path);
    if (!f) return -1;
    FILE *fp = afile_stream(f);
    fprintf(fp, "record,label,prediction");
    for (int32_t j = 0; j < k; j++) fprintf(fp, ",l%d", (int)j);
    fputc('\n', fp);
    for (int32_t i = 0; i < set->n; i++) {
        fprintf(fp, "%d,%d,%d", (int)(first + i), set->labels[i], pred[i]);
        for (int32_t j = 0; j < k; j++) fprintf(fp, ",%d", lg[(size_t)i * k + j]);
        fputc('\n', fp);
    }
    return afile_commit(f) ? -1 : 0;
}

/* The command line. */
typedef struct eval_args {
    const char *model, *data, *calib, *logits_path, *exact_logits_path;
    const char *map_path, *uniform, *library, *energy;
    int32_t first, count, threads;
    int json, do_float;
    int comp_mode; /* approx_comp_mode_parse(): -1 off, 0 per layer input, 1.. per input channel */
    qnn_quant_opts qo;
} eval_args;

/* What was measured. */
typedef struct eval_out {
    int32_t ok_f, ok_q, ok_a, ok_u, agree; /* float, exact int8, approximate, uncompensated; agreement */
    double tf, tq, ta;                     /* seconds */
    int map_bias;                          /* the map carries its own bias_delta */
    int map_wt;                            /* ... and its own weights */
    energy_report er;
    const energy_model *em;
} eval_out;

/* Options into `a`; returns -1 to go on, else the exit status (help, usage errors). */
static int parse_args(int argc, char **argv, eval_args *a)
{
    enum { O_FIRST = 256, O_COUNT, O_CALIB, O_DATADIR, O_NOFLOAT, O_METHOD, O_PCT, O_LOGITS, O_XLOGITS, O_MAP, O_UNIFORM, O_ENERGY,
           O_COMP };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"data", required_argument, NULL, 'd'},
        {"first", required_argument, NULL, O_FIRST}, {"count", required_argument, NULL, O_COUNT},
        {"calib", required_argument, NULL, O_CALIB}, {"calib-method", required_argument, NULL, O_METHOD},
        {"percentile", required_argument, NULL, O_PCT}, {"format", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 'j'}, {"no-float", no_argument, NULL, O_NOFLOAT},
        {"logits", required_argument, NULL, O_LOGITS}, {"exact-logits", required_argument, NULL, O_XLOGITS},
        {"data-dir", required_argument, NULL, O_DATADIR}, {"map", required_argument, NULL, O_MAP},
        {"uniform", required_argument, NULL, O_UNIFORM}, {"library", required_argument, NULL, 'l'},
        {"energy", required_argument, NULL, O_ENERGY}, {"compensate", required_argument, NULL, O_COMP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:d:l:f:j:h", opts, NULL)) != -1) {
        switch (c) {
        case O_MAP: a->map_path = optarg; break;
        case O_UNIFORM: a->uniform = optarg; break;
        case 'l': a->library = optarg; break;
        case O_ENERGY: a->energy = optarg; break;
        case O_COMP:
            if (cmd_parse_compensate("eval", optarg, &a->comp_mode)) return CMD_EXIT_USAGE;
            break;
        case 'm': a->model = optarg; break;
        case 'd': a->data = optarg; break;
        case O_FIRST:
            if (cmd_parse_count("eval", "--first", optarg, &a->first)) return CMD_EXIT_USAGE;
            break;
        case O_COUNT:
            if (cmd_parse_count("eval", "--count", optarg, &a->count)) return CMD_EXIT_USAGE;
            break;
        case O_METHOD:
            if (cmd_parse_calib_method("eval", optarg, &a->qo)) return CMD_EXIT_USAGE;
            break;
        case O_PCT:
            if (cmd_parse_percentile("eval", optarg, &a->qo)) return CMD_EXIT_USAGE;
            break;
        case O_CALIB: a->calib = optarg; break;
        case 'f':
            if (cmd_parse_format("eval", optarg, &a->json)) return CMD_EXIT_USAGE;
            break;
        case 'j':
            if (cmd_parse_count("eval", "--threads", optarg, &a->threads)) return CMD_EXIT_USAGE;
            break;
        case O_NOFLOAT: a->do_float = 0; break;
        case O_LOGITS: a->logits_path = optarg; break;
        case O_XLOGITS: a->exact_logits_path = optarg; break;
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "approxmap eval: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    if (a->count == 0) {
        fprintf(stderr, "approxmap eval: --count must be at least 1\n");
        return CMD_EXIT_USAGE;
    }
    if (cmd_check_range("eval", "--calib", a->calib)) return CMD_EXIT_USAGE;
    if (cmd_check_data("eval", a->data, a->first, a->count)) return CMD_EXIT_USAGE;
    if (a->map_path && a->uniform) {
        fprintf(stderr, "approxmap eval: --map and --uniform are alternatives\n");
        return CMD_EXIT_USAGE;
    }
    if (!(a->map_path || a->uniform) && (a->library || a->energy || a->comp_mode >= 0)) {
        fprintf(stderr, "approxmap eval: --%s needs --map or --uniform\n",
                a->library ? "library" : a->energy ? "energy" : "compensate");
        return CMD_EXIT_USAGE;
    }
    return -1;
}

static void print_json(const eval_args *a, const approx_cnn *cnn, const cifar_set *set, const eval_out *o)
{
    const amap_layer *layers = cnn->layers;
    const double n = set->n;
    char cdesc[48];
    printf("{\"model\": \"%s\", \"data\": \"%s\", \"first\": %d, \"images\": %d, \"calib\": \"%s\", "
           "\"calibration\": \"%s\", ",
           a->model, a->data, (int)a->first, (int)set->n, a->calib, qnn_quant_opts_describe(&a->qo, cdesc));
    if (a->do_float)
        printf("\"accuracy_float\": %.2f, \"correct_float\": %d, \"agreement\": %.2f, \"seconds_float\": %.3f, ",
               100.0 * o->ok_f / n, (int)o->ok_f, 100.0 * o->agree / n, o->tf);
    printf("\"accuracy_int8\": %.2f, \"correct_int8\": %d, \"seconds_int8\": %.3f, \"images_per_s_int8\": %.1f",
           100.0 * o->ok_q / n, (int)o->ok_q, o->tq, o->tq > 0 ? n / o->tq : 0.0);
    if (a->map_path || a->uniform) {
        printf(", \"library\": \"%s\", \"%s\": \"%s\", \"energy_model\": ", cnn->lib.path,
               a->uniform ? "uniform" : "map", a->uniform ? a->uniform : a->map_path);
        if (o->em)
            printf("\"%s\"", o->em->path);
        else
            printf("null");
        if (o->map_bias || a->comp_mode < 0)
            printf(", \"compensate\": %s", o->map_bias ? "\"map\"" : "null");
        else
            printf(", \"compensate\": \"%s\"", approx_comp_mode_name(a->comp_mode));
        printf(", \"accuracy_approx\": %.2f, \"correct_approx\": %d, \"loss_pp\": %.4f, \"seconds_approx\": %.3f",
               100.0 * o->ok_a / n, (int)o->ok_a, approx_loss_pp(o->ok_q, o->ok_a, set->n), o->ta);
        if (a->comp_mode >= 0 || o->map_bias)
            printf(", \"accuracy_uncompensated\": %.2f, \"loss_pp_uncompensated\": %.4f", 100.0 * o->ok_u / n,
                   approx_loss_pp(o->ok_q, o->ok_u, set->n));
        printf(", \"energy_rel\": %.6f, \"energy_layers\": [", o->er.rel);
        for (int l = 0; l < cnn->n_layers; l++)
            printf("%s{\"name\": \"%s\", \"macs\": %llu, \"energy_rel\": %.6f, \"energy_share\": %.6f}",
                   l ? ", " : "", layers[l].name, (unsigned long long)layers[l].macs, o->er.layer_rel[l],
                   o->er.layer[l] / o->er.exact);
        printf("]");
    }
    printf("}\n");
}

static void print_text(const eval_args *a, const approx_cnn *cnn, const cifar_set *set, const eval_out *o)
{
    const amap_layer *layers = cnn->layers;
    const double n = set->n;
    char cdesc[48];
    printf("model: %s\ndata: %s records %d..%d (%d images)\ncalibration: %s (%s of |x|)\n", a->model, a->data,
           (int)a->first, (int)(a->first + set->n - 1), (int)set->n, a->calib, qnn_quant_opts_describe(&a->qo, cdesc));
    if (a->do_float)
        printf("float accuracy: %.2f %% (%d/%d) in %.2f s\n", 100.0 * o->ok_f / n, (int)o->ok_f, (int)set->n, o->tf);
    printf("int8 accuracy (exact): %.2f %% (%d/%d) in %.2f s, %.0f images/s\n", 100.0 * o->ok_q / n, (int)o->ok_q,
           (int)set->n, o->tq, o->tq > 0 ? n / o->tq : 0.0);
    if (a->do_float) printf("float/int8 top-1 agreement: %.2f %%\n", 100.0 * o->agree / n);
    if (!(a->map_path || a->uniform)) return;
    printf("approximate: %s '%s' from %s\n", a->uniform ? "every layer on" : "map",
           a->uniform ? a->uniform : a->map_path, cnn->lib.path);
    if (a->comp_mode >= 0 || o->map_bias)
        printf("int8 accuracy (approximate, no compensation): %.2f %% (%d/%d), loss %.2f pp\n", 100.0 * o->ok_u / n,
               (int)o->ok_u, (int)set->n, approx_loss_pp(o->ok_q, o->ok_u, set->n));
    printf("int8 accuracy (approximate%s%s): %.2f %% (%d/%d) in %.2f s\n",
           o->map_bias ? (o->map_wt ? ", the map's bias_delta and weights" : ", the map's bias_delta")
           : a->comp_mode < 0 ? "" : approx_comp_mode_tunes(a->comp_mode) ? ", bias compensation and weight tuning"
           : a->comp_mode ? ", bias compensation" : ", bias compensation per layer input",
           !o->map_bias && approx_comp_mode_seq(a->comp_mode) ? ", sequential" : "",
           100.0 * o->ok_a / n, (int)o->ok_a, (int)set->n, o->ta);
    printf("loss: %.2f pp against exact int8\n", approx_loss_pp(o->ok_q, o->ok_a, set->n));
    printf("relative energy: %.4f (%s, MAC-weighted, padding taps included)\n", o->er.rel,
           o->em ? o->em->path : "library relative energies");
    printf("%-4s %-24s %10s %8s %8s\n", "", "layer", "MACs", "E_rel", "E_share");
    for (int l = 0; l < cnn->n_layers; l++)
        printf("L%-3d %-24s %10llu %8.4f %8.4f\n", l, layers[l].name, (unsigned long long)layers[l].macs,
               o->er.layer_rel[l], o->er.layer[l] / o->er.exact);
}

/* Load, measure (float, exact int8, the map), write the logits files; the figures into *o (its
 * energy report lives in the evaluator, which the caller closes after printing). */
static int run(const eval_args *a, approx_cnn *cnn, cifar_set *set, approx_eval **evp, eval_out *o)
{
    const int approx = a->map_path || a->uniform;
    approx_eval *ev = NULL;
    approx_eval_data d = {0};
    uint8_t *pf = NULL, *pq = NULL, *pa = NULL;
    int8_t *lq = NULL, *la = NULL; /* exact and approximate logits, when written */
    amap map = {0};
    int rc = ST_EINVAL;
    if (cmd_load_data(a->data, a->first, a->count, set)) goto out;
    approx_cnn_opts co = approx_cnn_opts_default();
    co.model = a->model;
    co.calib = a->calib;
    co.qo = a->qo;
    co.qo.threads = a->threads;
    co.want_float = 1;
    co.with_library = approx;
    co.library = a->library;
    co.energy = a->energy;
    co.compensate = a->comp_mode;
    co.threads = a->threads;
    if (approx_cnn_open(cnn, &co)) goto out;
    o->em = approx_cnn_em(cnn);
    if (approx) {
        if (a->uniform ? approx_map_uniform(&map, cnn->layers, cnn->n_layers, &cnn->lib, a->uniform)
                       : amap_read(&map, a->map_path, &cnn->lib, cnn->layers, cnn->n_layers))
            goto out;
        o->map_bias = map.bias_delta != NULL || map.wt != NULL;
        o->map_wt = map.wt != NULL;
        if (o->map_bias && a->comp_mode >= 0) {
            msg_error(-1, "%s: the map carries its own bias_delta (its compensation); drop --compensate", a->map_path);
            goto out;
        }
    }
    ev = *evp = approx_eval_open(cnn, 1, 0);
    approx_eval_result res = {0};
    if (approx && approx_eval_map(ev, 0, &map, NULL, a->threads, 0, NULL, NULL, &res)) goto out; /* energy first */
    pf = xmalloc((size_t)set->n + 1);
    pq = xmalloc((size_t)set->n + 1);
    pa = xmalloc((size_t)set->n + 1);
    const size_t n_logits = (size_t)set->n * CIFAR_CLASSES + 1;
    if (a->exact_logits_path || (a->logits_path && !approx)) lq = xmalloc(n_logits);
    if (a->logits_path && approx) la = xmalloc(n_logits);
    double t0;
    o->ok_f = a->do_float ? eval_float(cnn->fmodel, set, a->threads, pf, &o->tf) : 0;
    t0 = now();
    approx_eval_data_init(ev, &d, set, 0, a->threads, pq, lq);
    o->tq = now() - t0;
    o->ok_q = d.exact_correct;
    if (approx) {
        if (a->comp_mode >= 0 || o->map_bias) {
            if (approx_eval_map(ev, 0, &map, &d, a->threads, APPROX_EVAL_PLAIN, pa, NULL, &res)) goto out;
            o->ok_u = res.correct;
            approx_eval_compensate(ev, &map); /* --compensate: the map's deltas from the calibration images */
        }
        t0 = now();
        if (approx_eval_map(ev, 0, &map, &d, a->threads, 0, pa, la, &res)) goto out;
        o->ta = now() - t0;
        o->ok_a = res.correct;
        o->er = *res.energy;
    }
    if (a->logits_path && write_logits(a->logits_path, set, a->first, approx ? la : lq, approx ? pa : pq)) goto out;
    if (a->exact_logits_path && write_logits(a->exact_logits_path, set, a->first, lq, pq)) goto out;
    for (int32_t i = 0; a->do_float && i < set->n; i++) o->agree += pf[i] == pq[i];
    rc = ST_OK;
out:
    free(pf);
    free(pq);
    free(pa);
    free(lq);
    free(la);
    approx_eval_data_deinit(&d);
    amap_deinit(&map);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a = { .model = DEFAULT_MODEL, .data = DEFAULT_DATA, .calib = DEFAULT_CALIB, .count = -1, .do_float = 1,
                    .comp_mode = -1, .qo = qnn_quant_opts_default() };
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    approx_cnn cnn = {0};
    cifar_set set = {0};
    approx_eval *ev = NULL;
    eval_out o = {0};
    rc = CMD_EXIT_FAIL;
    if (!run(&a, &cnn, &set, &ev, &o)) {
        if (a.json)
            print_json(&a, &cnn, &set, &o);
        else
            print_text(&a, &cnn, &set, &o);
        rc = CMD_EXIT_OK;
    }
    approx_eval_close(ev);
    approx_cnn_close(&cnn);
    cifar_set_deinit(&set);
    return rc;
}
