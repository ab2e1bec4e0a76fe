/* approxmap quantize: write the int8 model (weights, biases, scales, requantization multipliers and
 * shifts, clamps) as the documented YAML of qnn_yaml.h, atomically. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "datadir.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
#include "qnn_yaml.h"

#define DEFAULT_MODEL "models/resnet8_mlperf_float.onnx"
#define DEFAULT_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap quantize [--model M.onnx] [--calib FILE[:FIRST[:COUNT]]] [--threads T]\n"
            "                          [--data-dir DIR] -o FILE.yaml\n\n"
            "Quantize the model (symmetric int8, per-channel weights, per-tensor activations calibrated\n"
            "on training records, by default the 99.99th percentile of |x|) and write it as a documented\n"
            "YAML file that another tool can execute bit-exactly (the format is described at its top).\n\n"
            "  -m, --model M      ONNX model (default " DEFAULT_MODEL ")\n"
            "      --calib SPEC   calibration records, training images only\n"
            "                     (default " DEFAULT_CALIB ")\n"
            "      --calib-method M  percentile (default) or max\n"
            "      --percentile P    percentile of |x| for --calib-method percentile (default 99.99)\n"
            "  -o, --output FILE  where to write (replaced atomically)\n"
            "  -j, --threads T    calibration threads (default: all cores)\n"
            "      --data-dir DIR resolve relative paths against DIR\n"
            "  -h, --help         this help\n");
}

int cmd_quantize(int argc, char **argv)
{
    enum { O_CALIB = 256, O_DATADIR, O_METHOD, O_PCT };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"calib", required_argument, NULL, O_CALIB},
                                         {"calib-method", required_argument, NULL, O_METHOD},
                                         {"percentile", required_argument, NULL, O_PCT},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"data-dir", required_argument, NULL, O_DATADIR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *model = DEFAULT_MODEL, *calib = DEFAULT_CALIB, *out = NULL;
    int threads = 0, c;
    qnn_quant_opts qo = qnn_quant_opts_default();
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case O_METHOD:
            if (cmd_parse_calib_method("quantize", optarg, &qo)) return CMD_EXIT_USAGE;
            break;
        case O_PCT:
            if (cmd_parse_percentile("quantize", optarg, &qo)) return CMD_EXIT_USAGE;
            break;
        case O_CALIB: calib = optarg; break;
        case 'o': out = optarg; break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 4096) {
                fprintf(stderr, "approxmap quantize: --threads must be a non-negative integer, not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            threads = (int)v;
            break;
        }
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind != argc || !out) {
        fprintf(stderr, optind != argc ? "approxmap quantize: unexpected argument '%s'\n"
                                       : "approxmap quantize: -o FILE.yaml is required%s\n",
                optind != argc ? argv[optind] : "");
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    if (cmd_check_range("quantize", "--calib", calib)) return CMD_EXIT_USAGE;
    qo.threads = threads;
    qnn_int8_net *net;
    if (qnn_quant_load(model, calib, &qo, NULL, &net)) return CMD_EXIT_FAIL;
    char cdesc[48], *prov = xasprintf("%s (%s of |x|)", calib, qnn_quant_opts_describe(&qo, cdesc));
    int rc = qnn_yaml_write(out, net, model, prov);
    free(prov);
    qnn_int8_net_free(net);
    return rc ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}
