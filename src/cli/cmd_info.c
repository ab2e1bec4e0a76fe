/* approxmap info: a model's layers, shapes, MACs and genome sizes (text or JSON). Shapes are per image
 * and printed HxWxC (the engine's NHWC layout); MACs count every tap including padding. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "datadir.h"
#include "onnx_import.h"
#include "qnn_model.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: approxmap info [--format text|json] [--data-dir DIR] MODEL.onnx\n\n"
                "Show every node of the imported model (after folding batch normalization and fusing\n"
                "activations): type, input and output shape (per image, HxWxC), MACs per image\n"
                "(padding taps included), filters and kernels of the approximable layers (conv and\n"
                "dense); then totals and the genome sizes at layer, filter and kernel granularity.\n\n"
                "  -f, --format FMT   text (default) or json\n"
                "      --data-dir DIR resolve MODEL against DIR\n"
                "  -h, --help         this help\n");
}

static const char *commas(uint64_t v, char *buf)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

static void shape_str(const qnn_tensor *t, char *buf, size_t n)
{
    snprintf(buf, n, "%dx%dx%d", (int)t->h, (int)t->w, (int)t->c);
}

/* Approximable layers and their sums over the model. */
typedef struct totals {
    uint64_t macs, filters, kernels;
    int n_conv, n_dense, n_layers;
} totals;

static totals count_totals(const qnn_model *m)
{
    totals t = {0};
    for (int i = 0; i < m->n_nodes; i++) {
        const qnn_node *nd = &m->nodes[i];
        if (nd->op != QNN_OP_CONV) continue;
        t.macs += qnn_model_node_macs(nd);
        t.filters += (uint64_t)nd->shape.cout;
        t.kernels += (uint64_t)nd->shape.cout * nd->shape.cin;
        t.n_conv += !nd->dense;
        t.n_dense += nd->dense;
    }
    t.n_layers = t.n_conv + t.n_dense;
    return t;
}

static void print_json(const char *path, const qnn_model *m, const totals *t)
{
    const qnn_tensor *ti = &m->tensors[m->input];
    printf("{\"model\": ");
    cmd_json_str(path);
    printf(", \"input\": [%d, %d, %d], \"outputs\": %d, \"shape_layout\": \"HWC\", \"nodes\": [", (int)ti->c,
           (int)ti->h, (int)ti->w, (int)qnn_model_n_out(m));
    int layer = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const qnn_node *nd = &m->nodes[i];
        const qnn_tensor *to = &m->tensors[nd->out];
        printf("%s\n  {\"name\": ", i ? "," : "");
        cmd_json_str(nd->name);
        printf(", \"type\": \"%s\", \"onnx_op\": \"%s\", \"inputs\": [", qnn_model_op_name(nd), nd->onnx_op);
        for (int k = 0; k < nd->n_in; k++) {
            const qnn_tensor *tk = &m->tensors[nd->in[k]];
            printf("%s[%d, %d, %d]", k ? ", " : "", (int)tk->h, (int)tk->w, (int)tk->c);
        }
        printf("], \"output\": [%d, %d, %d]", (int)to->h, (int)to->w, (int)to->c);
        if (nd->op == QNN_OP_CONV) {
            const qnn_conv_shape *s = &nd->shape;
            printf(", \"layer\": %d, \"kernel\": [%d, %d], \"stride\": [%d, %d], \"pads\": [%d, %d, %d, %d]"
                   ", \"macs\": %" PRIu64 ", \"filters\": %d, \"kernels\": %d",
                   layer++, (int)s->kh, (int)s->kw, (int)s->stride_h, (int)s->stride_w, (int)s->pad_t,
                   (int)s->pad_l, (int)s->pad_b, (int)s->pad_r, qnn_model_node_macs(nd), (int)s->cout,
                   (int)(s->cout * s->cin));
        }
        printf("}");
    }
    printf("\n], \"layers\": %d, \"conv_layers\": %d, \"dense_layers\": %d, \"macs\": %" PRIu64
           ", \"filters\": %" PRIu64 ", \"kernels\": %" PRIu64 ", \"genome\": {\"layer\": %d, \"filter\": %" PRIu64
           ", \"kernel\": %" PRIu64 "}}\n",
           t->n_layers, t->n_conv, t->n_dense, t->macs, t->filters, t->kernels, t->n_layers, t->filters, t->kernels);
}

/* One row of the text table (node i; *layer counts the approximable layers so far), and its fused
 * activation. */
static void print_text_node(const qnn_model *m, int i, int *layer)
{
    const qnn_node *nd = &m->nodes[i];
    char b1[32], s1[48], s2[48];
    shape_str(&m->tensors[nd->in[0]], s1, sizeof s1);
    shape_str(&m->tensors[nd->out], s2, sizeof s2);
    if (nd->op == QNN_OP_CONV || nd->op == QNN_OP_MAXPOOL || nd->op == QNN_OP_AVGPOOL) {
        const qnn_conv_shape *s = &nd->shape;
        char k[32], sp[64], lay[16];
        snprintf(k, sizeof k, "%dx%d", (int)s->kh, (int)s->kw);
        snprintf(sp, sizeof sp, "%d/%d%d%d%d", (int)s->stride_h, (int)s->pad_t, (int)s->pad_l, (int)s->pad_b,
                 (int)s->pad_r);
        if (nd->op == QNN_OP_CONV) {
            snprintf(lay, sizeof lay, "%d", (*layer)++);
            printf("%-3d %-5s %-18s %-7s %-10s %-10s %-7s %-10s %12s %8d %8d\n", i, lay, nd->name,
                   qnn_model_op_name(nd), s1, s2, k, sp, commas(qnn_model_node_macs(nd), b1), (int)s->cout,
                   (int)(s->cout * s->cin));
        } else {
            printf("%-3d %-5s %-18s %-7s %-10s %-10s %-7s %-10s %12s %8s %8s\n", i, "-", nd->name,
                   qnn_model_op_name(nd), s1, s2, k, sp, "-", "-", "-");
        }
    } else {
        if (nd->n_in > 1) {
            size_t l = strlen(s1);
            snprintf(s1 + l, sizeof s1 - l, "+");
        }
        printf("%-3d %-5s %-18s %-7s %-10s %-10s %-7s %-10s %12s %8s %8s\n", i, "-", nd->name,
               qnn_model_op_name(nd), s1, s2, "-", "-", "-", "-", "-");
    }
    if (nd->has_clamp && nd->op != QNN_OP_CLAMP) {
        if (nd->lo == 0 && isinf(nd->hi))
            printf("%-3s %-5s   + relu (fused)\n", "", "");
        else
            printf("%-3s %-5s   + clamp [%g, %g] (fused)\n", "", "", (double)nd->lo, (double)nd->hi);
    }
}

static void print_text(const char *path, const qnn_model *m, const totals *t)
{
    const qnn_tensor *ti = &m->tensors[m->input];
    char b1[32], b2[32], b3[32];
    printf("model: %s\ninput: %dx%dx%d (CxHxW), outputs: %d\n\n", path, (int)ti->c, (int)ti->h, (int)ti->w,
           (int)qnn_model_n_out(m));
    printf("%-3s %-5s %-18s %-7s %-10s %-10s %-7s %-10s %12s %8s %8s\n", "#", "layer", "name", "type", "input",
           "output", "kernel", "stride/pad", "MACs/image", "filters", "kernels");
    int layer = 0;
    for (int i = 0; i < m->n_nodes; i++) print_text_node(m, i, &layer);
    printf("\napproximable layers: %d (%d conv + %d dense)\n", t->n_layers, t->n_conv, t->n_dense);
    printf("MACs per image: %s (padding taps included)\n", commas(t->macs, b1));
    printf("filters: %s\nkernels: %s\n", commas(t->filters, b2), commas(t->kernels, b3));
    printf("genome sizes: layer %d, filter %s, kernel %s\n", t->n_layers, b2, b3);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                         {"data-dir", required_argument, NULL, 'D'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cmd_parse_format("info", optarg, &json)) return CMD_EXIT_USAGE;
            break;
        case 'D': datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "approxmap info: expected one MODEL.onnx\n");
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    char *path = datadir_resolve(argv[optind]);
    qnn_model *m;
    if (onnx_import_file(path, &m)) {
        free(path);
        return CMD_EXIT_FAIL;
    }
    const totals t = count_totals(m);
    if (json)
        print_json(path, m, &t);
    else
        print_text(path, m, &t);
    free(path);
    qnn_model_free(m);
    return CMD_EXIT_OK;
}
