/* Writes the seed of the onnx_fwd harness: a tiny valid ONNX model built with protobuf-c (input
 * 1x3x8x8; Conv 3->4 3x3 pad 1 + Relu; MaxPool 2x2; Conv 4->4 1x1 + BatchNormalization; Add with the
 * pool output; Clip; AveragePool 2x2; GlobalAveragePool; Flatten; Gemm 4->10 transB).
 *   usage: mkonnx OUT.onnx */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "onnx.pb-c.h"

/* every part of the model comes from here and is freed at the end */
static void *g_parts[1024];
static int g_n_parts;

static void *al(size_t n, size_t size)
{
    if (g_n_parts == 1024) msg_abort(__FILE__, __LINE__, "too many parts");
    return g_parts[g_n_parts++] = xcalloc(n ? n : 1, size);
}

static char *str(const char *s)
{
    char *p = al(strlen(s) + 1, 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

static Onnx__ValueInfoProto *value(const char *name, int nd, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = al(1, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = str(name);
    Onnx__TypeProto *tp = al(1, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = al(1, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *sh = al(1, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)nd;
    sh->dim = al((size_t)nd, sizeof *sh->dim);
    for (int i = 0; i < nd; i++) {
        Onnx__TensorShapeProto__Dimension *d = al(1, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
        sh->dim[i] = d;
    }
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    return v;
}

static Onnx__TensorProto *init_f(const char *name, int nd, const int64_t *dims, unsigned seed)
{
    Onnx__TensorProto *t = al(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = str(name);
    t->n_dims = (size_t)nd;
    t->dims = al((size_t)nd, sizeof *t->dims);
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)(t->dims[i] = dims[i]);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_float_data = n;
    t->float_data = al(n, sizeof(float));
    for (size_t i = 0; i < n; i++) t->float_data[i] = 0.01f * (float)((int)((i * 37 + seed * 11) % 29) - 14);
    return t;
}

static Onnx__NodeProto *node(const char *op, const char *name, int nin, const char *const *in, const char *out)
{
    Onnx__NodeProto *n = al(1, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = str(op);
    n->name = str(name);
    n->n_input = (size_t)nin;
    n->input = al((size_t)nin + 1, sizeof(char *));
    for (int i = 0; i < nin; i++) n->input[i] = str(in[i]);
    n->n_output = 1;
    n->output = al(1, sizeof(char *));
    n->output[0] = str(out);
    n->attribute = al(8, sizeof *n->attribute);
    return n;
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name)
{
    Onnx__AttributeProto *a = al(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = str(name);
    a->has_type = 1;
    n->attribute[n->n_attribute++] = a;
    return a;
}

static void ints(Onnx__NodeProto *n, const char *name, int k, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(n, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)k;
    a->ints = al((size_t)k, sizeof *a->ints);
    memcpy(a->ints, v, (size_t)k * sizeof *v);
}

static void one_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(n, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

static void one_float(Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(n, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkonnx OUT.onnx\n");
        return 2;
    }
    Onnx__NodeProto *nodes[16];
    Onnx__TensorProto *inits[16];
    int nn = 0, ni = 0;
    const int64_t din[4] = {1, 3, 8, 8}, dout[2] = {1, 10};
    const int64_t w1[4] = {4, 3, 3, 3}, b4[1] = {4}, w2[4] = {4, 4, 1, 1}, w3[2] = {10, 4}, b10[1] = {10};
    inits[ni++] = init_f("w1", 4, w1, 1);
    inits[ni++] = init_f("b1", 1, b4, 2);
    inits[ni++] = init_f("w2", 4, w2, 3);
    inits[ni++] = init_f("b2", 1, b4, 4);
    inits[ni++] = init_f("bn_scale", 1, b4, 5);
    inits[ni++] = init_f("bn_bias", 1, b4, 6);
    inits[ni++] = init_f("bn_mean", 1, b4, 7);
    inits[ni++] = init_f("bn_var", 1, b4, 8);
    for (int i = 0; i < 4; i++) inits[ni - 1]->float_data[i] = 1.0f + 0.25f * (float)i; /* variances > 0 */
    inits[ni++] = init_f("w3", 2, w3, 9);
    inits[ni++] = init_f("b3", 1, b10, 10);
    const int64_t k3[2] = {3, 3}, p1[4] = {1, 1, 1, 1}, k2[2] = {2, 2}, s2[2] = {2, 2}, k1[2] = {1, 1};
    Onnx__NodeProto *n;
    n = nodes[nn++] = node("Conv", "conv1", 3, (const char *const[]){"x", "w1", "b1"}, "c1");
    ints(n, "kernel_shape", 2, k3);
    ints(n, "pads", 4, p1);
    nodes[nn++] = node("Relu", "relu1", 1, (const char *const[]){"c1"}, "r1");
    n = nodes[nn++] = node("MaxPool", "pool1", 1, (const char *const[]){"r1"}, "p1");
    ints(n, "kernel_shape", 2, k2);
    ints(n, "strides", 2, s2);
    n = nodes[nn++] = node("Conv", "conv2", 3, (const char *const[]){"p1", "w2", "b2"}, "c2");
    ints(n, "kernel_shape", 2, k1);
    n = nodes[nn++] = node("BatchNormalization", "bn2", 5,
                           (const char *const[]){"c2", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, "n2");
    one_float(n, "epsilon", 1e-5f);
    nodes[nn++] = node("Add", "add", 2, (const char *const[]){"n2", "p1"}, "a");
    nodes[nn++] = node("Clip", "clip", 1, (const char *const[]){"a"}, "cl"); /* no bounds: identity */
    n = nodes[nn++] = node("AveragePool", "pool2", 1, (const char *const[]){"cl"}, "p2");
    ints(n, "kernel_shape", 2, k2);
    ints(n, "strides", 2, s2);
    nodes[nn++] = node("GlobalAveragePool", "gap", 1, (const char *const[]){"p2"}, "g");
    n = nodes[nn++] = node("Flatten", "flat", 1, (const char *const[]){"g"}, "f");
    one_int(n, "axis", 1);
    n = nodes[nn++] = node("Gemm", "fc", 3, (const char *const[]){"f", "w3", "b3"}, "y");
    one_int(n, "transB", 1);

    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = str("tiny");
    g.n_node = (size_t)nn;
    g.node = nodes;
    g.n_initializer = (size_t)ni;
    g.initializer = inits;
    Onnx__ValueInfoProto *in = value("x", 4, din), *out = value("y", 2, dout);
    g.n_input = g.n_output = 1;
    g.input = &in;
    g.output = &out;
    Onnx__OperatorSetIdProto opset, *opsets[1] = {&opset};
    onnx__operator_set_id_proto__init(&opset);
    opset.has_version = 1;
    opset.version = 13;
    Onnx__ModelProto m;
    onnx__model_proto__init(&m);
    m.has_ir_version = 1;
    m.ir_version = 7;
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.graph = &g;
    size_t len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = xmalloc(len);
    onnx__model_proto__pack(&m, buf);
    FILE *fp = fopen(argv[1], "wb");
    if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "mkonnx: cannot write '%s'\n", argv[1]);
        return 1;
    }
    free(buf);
    while (g_n_parts) free(g_parts[--g_n_parts]);
    return 0;
}
