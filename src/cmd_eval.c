/* approxmap eval: top-1 accuracy of the float model and of the exact int8 model on chosen records of
 * a CIFAR-10 file, calibrated on training records.
 *
 * Extension point: the int8 path takes a `const qnn_layer_mul *` array (one entry per approximable
 * layer, NULL = all exact). Approximate evaluation (--library L --map MAP.yaml | --uniform NAME) builds
 * that array and calls eval_int8() a second time; the exact run stays the reference for loss_pp. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cifar.h"
#include "cmd.h"
#include "datadir.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_model.h"
#include "qnn_quant.h"

#define DEFAULT_MODEL "models/resnet8_mlperf_float.onnx"
#define DEFAULT_DATA "cifar10/cifar-10-batches-bin/test_batch.bin"
#define DEFAULT_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap eval [--model M.onnx] [--data FILE] [--first N] [--count N]\n"
            "                      [--calib FILE[:FIRST[:COUNT]]] [--format text|json] [--threads T]\n"
            "                      [--no-float] [--data-dir DIR]\n\n"
            "Top-1 accuracy of the float model and of the exact int8 model (symmetric per-channel\n"
            "weights, per-tensor activations calibrated on the --calib training records: by default\n"
            "the 99.99th percentile of |x|, or max |x|).\n\n"
            "  -m, --model M      ONNX model (default " DEFAULT_MODEL ")\n"
            "  -d, --data FILE    CIFAR-10 binary file (default " DEFAULT_DATA ")\n"
            "      --first N      first record (default 0)\n"
            "      --count N      number of records (default: to the end of the file)\n"
            "      --calib SPEC   calibration records, training images only\n"
            "      --calib-method M  percentile (default) or max\n"
            "      --percentile P    percentile of |x| for --calib-method percentile (default 99.99)\n"
            "                     (default " DEFAULT_CALIB ")\n"
            "  -f, --format FMT   text (default) or json (accuracies in percent)\n"
            "  -j, --threads T    threads (default: all cores); results do not depend on it\n"
            "      --no-float     skip the float model\n"
            "      --data-dir DIR resolve relative paths against DIR\n"
            "  -h, --help         this help\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_int(const char *s, const char *what, int32_t *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (!*s || *end || x < 0 || x > INT32_MAX) {
        fprintf(stderr, "approxmap eval: %s must be a non-negative integer, not '%s'\n", what, s);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}

/* int8 predictions of every image under `muls` (NULL: exact); returns correct answers. */
static int32_t eval_int8(const qnn_int8_net *net, const cifar_set *set, const qnn_layer_mul *muls, int threads,
                         uint8_t *pred, double *seconds)
{
    double t0 = now();
    qnn_int8_predict(net, set->pixels, set->n, muls, threads, 0, NULL, pred);
    *seconds = now() - t0;
    int32_t ok = 0;
    for (int32_t i = 0; i < set->n; i++) ok += pred[i] == set->labels[i];
    return ok;
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

int cmd_eval(int argc, char **argv)
{
    enum { O_FIRST = 256, O_COUNT, O_CALIB, O_DATADIR, O_NOFLOAT, O_METHOD, O_PCT };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"first", required_argument, NULL, O_FIRST},
                                         {"count", required_argument, NULL, O_COUNT},
                                         {"calib", required_argument, NULL, O_CALIB},
                                         {"calib-method", required_argument, NULL, O_METHOD},
                                         {"percentile", required_argument, NULL, O_PCT},
                                         {"format", required_argument, NULL, 'f'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"no-float", no_argument, NULL, O_NOFLOAT},
                                         {"data-dir", required_argument, NULL, O_DATADIR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *model = DEFAULT_MODEL, *data = DEFAULT_DATA, *calib = DEFAULT_CALIB;
    int32_t first = 0, count = -1, threads = 0;
    int json = 0, do_float = 1, c;
    qnn_quant_opts qo = qnn_quant_opts_default();
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:d:f:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': data = optarg; break;
        case O_FIRST:
            if (parse_int(optarg, "--first", &first)) return CMD_EXIT_USAGE;
            break;
        case O_COUNT:
            if (parse_int(optarg, "--count", &count)) return CMD_EXIT_USAGE;
            break;
        case O_METHOD:
            if (qnn_quant_method_parse(optarg, &qo.method)) {
                fprintf(stderr, "approxmap eval: unknown calibration method '%s' (percentile or max)\n", optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        case O_PCT: {
            char *end;
            qo.percentile = strtod(optarg, &end);
            if (!*optarg || *end || !(qo.percentile > 0 && qo.percentile <= 100)) {
                fprintf(stderr, "approxmap eval: --percentile must be in (0, 100], not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        }
        case O_CALIB: calib = optarg; break;
        case 'f':
            if (!strcmp(optarg, "json"))
                json = 1;
            else if (!strcmp(optarg, "text"))
                json = 0;
            else {
                fprintf(stderr, "approxmap eval: unknown format '%s' (text or json)\n", optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        case 'j':
            if (parse_int(optarg, "--threads", &threads)) return CMD_EXIT_USAGE;
            break;
        case O_NOFLOAT: do_float = 0; break;
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
    if (count == 0) {
        fprintf(stderr, "approxmap eval: --count must be at least 1\n");
        return CMD_EXIT_USAGE;
    }

    qnn_model *m = NULL;
    qnn_int8_net *net = NULL;
    cifar_set set = {0};
    uint8_t *pf = NULL, *pq = NULL;
    int rc = CMD_EXIT_FAIL;
    qo.threads = threads;
    char *data_path = datadir_resolve(data);
    if (cifar_load(data_path, first, count, &set)) goto out;
    if (qnn_quant_load(model, calib, &qo, &m, &net)) goto out;
    if (qnn_model_n_out(m) != CIFAR_CLASSES) {
        msg_error(-1, "%s: the model has %d outputs; CIFAR-10 needs 10", model, (int)qnn_model_n_out(m));
        goto out;
    }
    pf = xmalloc((size_t)set.n + 1);
    pq = xmalloc((size_t)set.n + 1);
    double tf = 0, tq = 0;
    int32_t ok_f = do_float ? eval_float(m, &set, threads, pf, &tf) : 0;
    int32_t ok_q = eval_int8(net, &set, NULL, threads, pq, &tq);
    int32_t agree = 0;
    for (int32_t i = 0; do_float && i < set.n; i++) agree += pf[i] == pq[i];
    const double n = set.n;
    char cdesc[48];
    if (json) {
        printf("{\"model\": \"%s\", \"data\": \"%s\", \"first\": %d, \"images\": %d, \"calib\": \"%s\", "
               "\"calibration\": \"%s\", ",
               model, data, (int)first, (int)set.n, calib, qnn_quant_opts_describe(&qo, cdesc));
        if (do_float)
            printf("\"accuracy_float\": %.2f, \"correct_float\": %d, \"agreement\": %.2f, \"seconds_float\": %.3f, ",
                   100.0 * ok_f / n, (int)ok_f, 100.0 * agree / n, tf);
        printf("\"accuracy_int8\": %.2f, \"correct_int8\": %d, \"seconds_int8\": %.3f, \"images_per_s_int8\": %.1f}\n",
               100.0 * ok_q / n, (int)ok_q, tq, tq > 0 ? n / tq : 0.0);
    } else {
        printf("model: %s\ndata: %s records %d..%d (%d images)\ncalibration: %s (%s of |x|)\n", model, data,
               (int)first, (int)(first + set.n - 1), (int)set.n, calib, qnn_quant_opts_describe(&qo, cdesc));
        if (do_float) printf("float accuracy: %.2f %% (%d/%d) in %.2f s\n", 100.0 * ok_f / n, (int)ok_f, (int)set.n, tf);
        printf("int8 accuracy (exact): %.2f %% (%d/%d) in %.2f s, %.0f images/s\n", 100.0 * ok_q / n, (int)ok_q,
               (int)set.n, tq, tq > 0 ? n / tq : 0.0);
        if (do_float) printf("float/int8 top-1 agreement: %.2f %%\n", 100.0 * agree / n);
    }
    rc = CMD_EXIT_OK;
out:
    free(pf);
    free(pq);
    free(data_path);
    cifar_set_deinit(&set);
    qnn_int8_net_free(net);
    qnn_model_free(m);
    return rc;
}
