/* approxmap sweep: every multiplier of a library applied (a) to the whole network and (b) to one
 * approximable layer at a time (the others exact), on chosen CIFAR-10 records: accuracy, loss in pp
 * against exact int8 on the same images, and relative energy (MAC-weighted, padding taps included),
 * with the energy each one-layer configuration saves. It is the baseline searched maps are judged
 * against and the per-layer resilience a search can seed from. Optional: a per-layer energy model
 * (--energy), and bias error compensation (--compensate bias) reported beside the plain accuracy of
 * the whole-network table. All figures come from approx.h; this file parses and prints. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approx.h"
#include "cifar.h"
#include "cmd.h"
#include "cmd_util.h"
#include "datadir.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
#include "status.h"

#define DEFAULT_MODEL "models/resnet8_mlperf_float.onnx"
#define DEFAULT_DATA "cifar10/cifar-10-batches-bin/test_batch.bin"
#define DEFAULT_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap sweep [--model M.onnx] [--data FILE] [--first N] [--count N]\n"
            "                       [--calib FILE[:FIRST[:COUNT]]] [--library L] [--energy FILE]\n"
            "                       [--multipliers A,B,...] [--compensate MODE]\n"
            "                       [--format text|json] [--threads T] [--data-dir DIR]\n\n"
            "Evaluate every multiplier of a library on the whole network and on one layer at a time\n"
            "(the others exact): top-1 accuracy, loss in percentage points against the exact int8\n"
            "model on the same images, relative energy of the whole network and energy saved per\n"
            "layer (MAC-weighted, padding taps included).\n\n"
            "  -m, --model M      ONNX model (default " DEFAULT_MODEL ")\n"
            "  -d, --data FILE    CIFAR-10 binary file (default " DEFAULT_DATA "), or a record list\n"
            "                     FILE:FIRST:COUNT,FILE:FIRST:COUNT... (no --first/--count)\n"
            "      --first N      first record (default 0)\n"
            "      --count N      number of records (default: to the end of the file)\n"
            "      --calib SPEC   calibration records, training images only\n"
            "                     (default " DEFAULT_CALIB ")\n"
            "      --calib-method M  percentile (default) or max\n"
            "      --percentile P    percentile of |x| for --calib-method percentile (default 99.99)\n"
            "  -l, --library L    multiplier library (default: roup8)\n"
            "      --energy FILE  per-layer energy model (results/gate/layers_*.yaml) instead of the\n"
            "                     library's relative energies\n"
            "      --multipliers LIST  comma-separated subset of the library (default: all)\n"
            "      --compensate bias   also evaluate the whole-network maps with per-output-channel bias\n"
            "                     correction from the calibration images' activations (per input\n"
            "                     channel; bias-tensor: one distribution per layer input;\n"
            "                     bias+weights: also each filter's weights tuned to its multiplier;\n"
            "                     bias+seq, bias+weights+seq: deltas measured on the approximate network)\n"
            "  -f, --format FMT   text (default) or json\n"
            "  -j, --threads T    threads (default: all cores); results do not depend on it\n"
            "      --data-dir DIR resolve relative paths against DIR\n"
            "  -h, --help         this help\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Select the multipliers named in a comma-separated list. Returns 0 or -1 (reported). */
static int parse_only(const char *list, const amul_lib *lib, uint8_t *only)
{
    char *copy = xstrdup(list), *save = NULL;
    int n = 0, rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i = amul_lib_find(lib, tok);
        if (i < 0) {
            msg_error(ST_EINVAL, "unknown multiplier '%s' in library '%s'", tok, lib->path);
            rc = -1;
            break;
        }
        only[i] = 1;
        n++;
    }
    free(copy);
    if (!rc && !n) rc = msg_error(-1, "--multipliers names no multiplier");
    return rc;
}

static void print_text(const approx_sweep *s, const amul_lib *lib, const amap_layer *layers, const energy_model *em,
                       const char *model, const char *data, int32_t first, const char *calib, const char *cdesc,
                       const approx_comp *comp, double secs)
{
    const int nm = s->n_mults, nl = s->n_layers;
    const double n = s->n_images;
    printf("model: %s\ndata: %s records %d..%d (%d images)\ncalibration: %s (%s of |x|)\n", model, data, (int)first,
           (int)(first + s->n_images - 1), (int)s->n_images, calib, cdesc);
    printf("library: %s (%d multipliers)\n", lib->path, lib->n);
    if (em)
        printf("energy: per-layer model %s (%s%s), MAC-weighted, padding taps included; energy_lib: the library's "
               "relative energies\n",
               em->path, em->cell_library ? em->cell_library : "", em->cell_library ? ", fJ" : "fJ");
    else
        printf("energy: the library's relative energies, MAC-weighted, padding taps included\n");
    if (comp)
        printf("compensation: bias correction from %d calibration images, %s activation distribution%s%s\n",
               (int)comp->n_images, comp->per_channel ? "per input channel" : "per layer input",
               comp->tune ? ", weights tuned to the multipliers" : "",
               comp->seq ? ", deltas measured layer after layer on the approximate network" : "");
    printf("exact int8 accuracy: %.2f %% (%d/%d); %.1f s\n\n", 100.0 * s->exact_correct / n, (int)s->exact_correct,
           (int)s->n_images, secs);

    printf("whole network (every approximable layer on one multiplier):\n");
    printf("%-16s %9s %8s %7s", "multiplier", "accuracy", "loss_pp", "energy");
    if (em) printf(" %10s", "energy_lib");
    if (comp) printf(" %9s %9s", "acc_comp", "loss_comp");
    printf("\n");
    for (int i = 0; i < nm; i++) {
        if (s->whole[i] < 0) continue;
        printf("%-16s %9.2f %8.2f %7.3f", lib->mults[i].name, 100.0 * s->whole[i] / n,
               approx_loss_pp(s->exact_correct, s->whole[i], s->n_images), s->energy[i]);
        if (em) printf(" %10.3f", s->energy_lib[i]);
        if (comp)
            printf(" %9.2f %9.2f", 100.0 * s->whole_comp[i] / n,
                   approx_loss_pp(s->exact_correct, s->whole_comp[i], s->n_images));
        printf("\n");
    }

    printf("\nlayers (share of the exact network's energy, MACs per image):\n");
    for (int l = 0; l < nl; l++)
        printf("  L%-2d %-24s %5.1f %% %10llu\n", l, layers[l].name, 100.0 * s->share[l],
               (unsigned long long)layers[l].macs);

    printf("\none layer at a time (others exact): loss in pp against exact int8\n%-16s", "multiplier");
    for (int l = 0; l < nl; l++) printf(" %6s%-d", "L", l);
    printf("\n");
    for (int i = 0; i < nm; i++) {
        if (s->whole[i] < 0) continue;
        printf("%-16s", lib->mults[i].name);
        for (int l = 0; l < nl; l++)
            printf(" %7.2f", approx_loss_pp(s->exact_correct, s->layer[(size_t)i * nl + l], s->n_images));
        printf("\n");
    }
    printf("\none layer at a time: energy saved, in %% of the exact network's energy\n%-16s", "multiplier");
    for (int l = 0; l < nl; l++) printf(" %6s%-d", "L", l);
    printf("\n");
    for (int i = 0; i < nm; i++) {
        if (s->whole[i] < 0) continue;
        printf("%-16s", lib->mults[i].name);
        for (int l = 0; l < nl; l++) printf(" %7.2f", 100.0 * s->saved[(size_t)i * nl + l]);
        printf("\n");
    }
}

static void print_json(const approx_sweep *s, const amul_lib *lib, const amap_layer *layers, const energy_model *em,
                       const char *model, const char *data, int32_t first, const char *calib, const char *cdesc,
                       const approx_comp *comp, double secs)
{
    const int nm = s->n_mults, nl = s->n_layers;
    const double n = s->n_images;
    printf("{\"model\": ");
    cmd_json_str(model);
    printf(", \"data\": ");
    cmd_json_str(data);
    printf(", \"first\": %d, \"images\": %d, \"calib\": ", (int)first, (int)s->n_images);
    cmd_json_str(calib);
    printf(", \"calibration\": ");
    cmd_json_str(cdesc);
    printf(", \"library\": ");
    cmd_json_str(lib->path);
    printf(", \"energy_model\": ");
    cmd_json_str(em ? em->path : NULL);
    if (comp)
        printf(", \"compensate\": \"%s\"", approx_comp_mode_name(comp->mode));
    else
        printf(", \"compensate\": null");
    printf(", \"seconds\": %.3f, \"accuracy_int8\": %.2f, \"correct_int8\": %d,\n\"layers\": [", secs,
           100.0 * s->exact_correct / n, (int)s->exact_correct);
    for (int l = 0; l < nl; l++) {
        printf("%s{\"name\": ", l ? ", " : "");
        cmd_json_str(layers[l].name);
        printf(", \"macs\": %llu, \"energy_share\": %.6f}", (unsigned long long)layers[l].macs, s->share[l]);
    }
    printf("],\n\"whole\": [");
    int first_row = 1;
    for (int i = 0; i < nm; i++) {
        if (s->whole[i] < 0) continue;
        printf("%s\n  {\"multiplier\": ", first_row ? "" : ",");
        first_row = 0;
        cmd_json_str(lib->mults[i].name);
        printf(", \"accuracy_approx\": %.2f, \"correct\": %d, \"loss_pp\": %.4f, \"energy_rel\": %.6f",
               100.0 * s->whole[i] / n, (int)s->whole[i], approx_loss_pp(s->exact_correct, s->whole[i], s->n_images),
               s->energy[i]);
        if (em) printf(", \"energy_rel_lib\": %.6f", s->energy_lib[i]);
        if (comp)
            printf(", \"accuracy_comp\": %.2f, \"correct_comp\": %d, \"loss_pp_comp\": %.4f", 100.0 * s->whole_comp[i] / n,
                   (int)s->whole_comp[i], approx_loss_pp(s->exact_correct, s->whole_comp[i], s->n_images));
        printf("}");
    }
    printf("],\n\"per_layer\": [");
    first_row = 1;
    for (int i = 0; i < nm; i++) {
        if (s->whole[i] < 0) continue;
        printf("%s\n  {\"multiplier\": ", first_row ? "" : ",");
        first_row = 0;
        cmd_json_str(lib->mults[i].name);
        printf(", \"correct\": [");
        for (int l = 0; l < nl; l++) printf("%s%d", l ? ", " : "", (int)s->layer[(size_t)i * nl + l]);
        printf("], \"loss_pp\": [");
        for (int l = 0; l < nl; l++)
            printf("%s%.4f", l ? ", " : "", approx_loss_pp(s->exact_correct, s->layer[(size_t)i * nl + l], s->n_images));
        printf("], \"energy_saved\": [");
        for (int l = 0; l < nl; l++) printf("%s%.6f", l ? ", " : "", s->saved[(size_t)i * nl + l]);
        printf("]}");
    }
    printf("]}\n");
}

/* The command line. */
typedef struct sweep_args {
    const char *model, *data, *calib, *library, *energy, *only_list;
    int32_t first, count, threads;
    int json, comp_mode; /* comp_mode: approx_comp_mode_parse(), -1 off */
    qnn_quant_opts qo;
} sweep_args;

/* Options into `a`; returns -1 to go on, else the exit status (help, usage errors). */
static int parse_args(int argc, char **argv, sweep_args *a)
{
    enum { O_FIRST = 256, O_COUNT, O_CALIB, O_DATADIR, O_METHOD, O_PCT, O_ENERGY, O_ONLY, O_COMP };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"data", required_argument, NULL, 'd'},
        {"first", required_argument, NULL, O_FIRST}, {"count", required_argument, NULL, O_COUNT},
        {"calib", required_argument, NULL, O_CALIB}, {"calib-method", required_argument, NULL, O_METHOD},
        {"percentile", required_argument, NULL, O_PCT}, {"library", required_argument, NULL, 'l'},
        {"energy", required_argument, NULL, O_ENERGY}, {"multipliers", required_argument, NULL, O_ONLY},
        {"compensate", required_argument, NULL, O_COMP}, {"format", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, 'j'}, {"data-dir", required_argument, NULL, O_DATADIR},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:d:l:f:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'd': a->data = optarg; break;
        case 'l': a->library = optarg; break;
        case O_ENERGY: a->energy = optarg; break;
        case O_ONLY: a->only_list = optarg; break;
        case O_FIRST:
            if (cmd_parse_count("sweep", "--first", optarg, &a->first)) return CMD_EXIT_USAGE;
            break;
        case O_COUNT:
            if (cmd_parse_count("sweep", "--count", optarg, &a->count)) return CMD_EXIT_USAGE;
            break;
        case O_METHOD:
            if (cmd_parse_calib_method("sweep", optarg, &a->qo)) return CMD_EXIT_USAGE;
            break;
        case O_PCT:
            if (cmd_parse_percentile("sweep", optarg, &a->qo)) return CMD_EXIT_USAGE;
            break;
        case O_CALIB: a->calib = optarg; break;
        case O_COMP:
            if (cmd_parse_compensate("sweep", optarg, &a->comp_mode)) return CMD_EXIT_USAGE;
            break;
        case 'f':
            if (cmd_parse_format("sweep", optarg, &a->json)) return CMD_EXIT_USAGE;
            break;
        case 'j':
            if (cmd_parse_count("sweep", "--threads", optarg, &a->threads)) return CMD_EXIT_USAGE;
            break;
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "approxmap sweep: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    if (a->count == 0) {
        fprintf(stderr, "approxmap sweep: --count must be at least 1\n");
        return CMD_EXIT_USAGE;
    }
    if (cmd_check_range("sweep", "--calib", a->calib)) return CMD_EXIT_USAGE;
    if (cmd_check_data("sweep", a->data, a->first, a->count)) return CMD_EXIT_USAGE;
    return -1;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_args a = { .model = DEFAULT_MODEL, .data = DEFAULT_DATA, .calib = DEFAULT_CALIB, .count = -1,
                     .comp_mode = -1, .qo = qnn_quant_opts_default() };
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    cifar_set set = {0};
    approx_cnn cnn = {0};
    approx_eval *ev = NULL;
    approx_sweep sw = {0};
    uint8_t *only = NULL;
    rc = CMD_EXIT_FAIL;
    a.qo.threads = a.threads;
    if (cmd_load_data(a.data, a.first, a.count, &set)) goto out;
    approx_cnn_opts co = approx_cnn_opts_default();
    co.model = a.model;
    co.calib = a.calib;
    co.qo = a.qo;
    co.library = a.library;
    co.energy = a.energy;
    co.compensate = a.comp_mode;
    co.threads = a.threads;
    if (approx_cnn_open(&cnn, &co)) goto out;
    if (a.only_list) {
        only = xcalloc((size_t)cnn.lib.n + 1, 1);
        if (parse_only(a.only_list, &cnn.lib, only)) {
            rc = CMD_EXIT_USAGE;
            goto out;
        }
    }
    ev = approx_eval_open(&cnn, 1, 0);
    double t0 = now();
    if (approx_sweep_run(ev, &set, only, cnn.has_comp, a.threads, &sw)) goto out;
    double secs = now() - t0;
    char cdesc[48];
    qnn_quant_opts_describe(&a.qo, cdesc);
    const approx_comp *comp = cnn.has_comp ? &cnn.comp : NULL;
    if (a.json)
        print_json(&sw, &cnn.lib, cnn.layers, approx_cnn_em(&cnn), a.model, a.data, a.first, a.calib, cdesc, comp, secs);
    else
        print_text(&sw, &cnn.lib, cnn.layers, approx_cnn_em(&cnn), a.model, a.data, a.first, a.calib, cdesc, comp, secs);
    rc = CMD_EXIT_OK;
out:
    approx_sweep_deinit(&sw);
    approx_eval_close(ev);
    approx_cnn_close(&cnn);
    free(only);
    cifar_set_deinit(&set);
    return rc;
}
