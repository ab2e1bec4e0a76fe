/* ONNX import: tiny models built here with protobuf-c (conv with asymmetric pads and stride 2, relu
 * fusion, global pool, flatten, gemm, batch-norm folding, matmul + bias add after a spatial flatten),
 * checked against a direct NCHW float computation written independently in this file; the clear
 * errors for malformed files, unsupported operators and attributes; and, when the data is present, the
 * reference ResNet-8 (layers, MACs, float accuracy 88.10 % on test images 0..999). */
#include "tu.h"

#include <math.h>

#include "cifar.h"
#include "onnx.pb-c.h"
#include "onnx_import.h"
#include "status.h"

/* ---- a tiny arena so every protobuf object built here is freed ---- */
static void *arena[4096];
static int n_arena;

static void *anew(size_t n)
{
    ck_assert_int_lt(n_arena, 4096);
    return arena[n_arena++] = xcalloc(1, n ? n : 1);
}

static char *astr(const char *s)
{
    char *p = anew(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static void afree(void)
{
    while (n_arena) free(arena[--n_arena]);
}

typedef struct mb {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    Onnx__NodeProto *nodes[32];
    Onnx__TensorProto *inits[32];
    Onnx__ValueInfoProto *ins[1], *outs[1];
} mb;

static void mb_init(mb *b)
{
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto o = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    b->m = m;
    b->g = g;
    b->opset = o;
    b->opset.has_version = 1;
    b->opset.version = 13;
    b->opsets[0] = &b->opset;
    b->m.has_ir_version = 1;
    b->m.ir_version = 7;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->opsets;
    b->m.graph = &b->g;
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
    b->g.name = astr("g");
}

static Onnx__ValueInfoProto *value_info(const char *name, const int64_t *dims, size_t nd)
{
    Onnx__ValueInfoProto *v = anew(sizeof *v);
    Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT;
    *v = vi;
    v->name = astr(name);
    Onnx__TypeProto *tp = anew(sizeof *tp);
    Onnx__TypeProto tpi = ONNX__TYPE_PROTO__INIT;
    *tp = tpi;
    Onnx__TypeProto__Tensor *tt = anew(sizeof *tt);
    Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT;
    *tt = tti;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *sh = anew(sizeof *sh);
    Onnx__TensorShapeProto shi = ONNX__TENSOR_SHAPE_PROTO__INIT;
    *sh = shi;
    sh->n_dim = nd;
    sh->dim = anew(nd * sizeof *sh->dim);
    for (size_t i = 0; i < nd; i++) {
        Onnx__TensorShapeProto__Dimension *d = anew(sizeof *d);
        Onnx__TensorShapeProto__Dimension di = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        *d = di;
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = astr("N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        sh->dim[i] = d;
    }
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    return v;
}

static void mb_io(mb *b, const int64_t *in, size_t nin, const int64_t *out, size_t nout)
{
    b->ins[0] = value_info("x", in, nin);
    b->outs[0] = value_info("y", out, nout);
    b->g.n_input = b->g.n_output = 1;
}

static Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *in0, const char *in1,
                                const char *in2, const char *out)
{
    Onnx__NodeProto *n = anew(sizeof *n);
    Onnx__NodeProto ni = ONNX__NODE_PROTO__INIT;
    *n = ni;
    n->op_type = astr(op);
    n->name = astr(name);
    const char *ins[3] = {in0, in1, in2};
    n->input = anew(8 * sizeof(char *));
    for (int i = 0; i < 3 && ins[i]; i++) n->input[n->n_input++] = astr(ins[i]);
    n->n_output = 1;
    n->output = anew(sizeof(char *));
    n->output[0] = astr(out);
    n->attribute = anew(8 * sizeof *n->attribute);
    b->nodes[b->g.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *add_attr(Onnx__NodeProto *n, const char *name)
{
    Onnx__AttributeProto *a = anew(sizeof *a);
    Onnx__AttributeProto ai = ONNX__ATTRIBUTE_PROTO__INIT;
    *a = ai;
    a->name = astr(name);
    n->attribute[n->n_attribute++] = a;
    return a;
}

static void attr_ints(Onnx__NodeProto *n, const char *name, const int64_t *v, size_t k)
{
    Onnx__AttributeProto *a = add_attr(n, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = k;
    a->ints = anew(k * sizeof *a->ints);
    memcpy(a->ints, v, k * sizeof *v);
}

static void attr_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = add_attr(n, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

static void attr_float(Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = add_attr(n, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
}

static void mb_init_f(mb *b, const char *name, const int64_t *dims, size_t nd, const float *data)
{
    Onnx__TensorProto *t = anew(sizeof *t);
    Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT;
    *t = ti;
    t->name = astr(name);
    t->n_dims = nd;
    t->dims = anew(nd * sizeof *t->dims);
    memcpy(t->dims, dims, nd * sizeof *dims);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    size_t n = 1;
    for (size_t i = 0; i < nd; i++) n *= (size_t)dims[i];
    t->n_float_data = n;
    t->float_data = anew(n * sizeof(float));
    memcpy(t->float_data, data, n * sizeof(float));
    b->inits[b->g.n_initializer++] = t;
}

static int mb_import(mb *b, qnn_model **out)
{
    size_t len = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *buf = xmalloc(len);
    onnx__model_proto__pack(&b->m, buf);
    int rc = onnx_import_buffer(buf, len, "tiny.onnx", out);
    free(buf);
    return rc;
}

/* ---- the tiny CNN: conv 3x3 s2 pads [0,0,1,1] 2->2, relu, global pool, flatten, gemm 2->3 ---- */

static float W1[2 * 2 * 3 * 3], B1[2], W2[3 * 2], B2[3];

static void build_tiny(mb *b, const char *extra_conv_attr)
{
    mb_init(b);
    const int64_t in[4] = {-1, 2, 5, 5}, out[2] = {-1, 3};
    mb_io(b, in, 4, out, 2);
    for (int i = 0; i < 36; i++) W1[i] = 0.01f * (float)((i * 37) % 23 - 11);
    B1[0] = 0.5f;
    B1[1] = -1.0f;
    for (int i = 0; i < 6; i++) W2[i] = 0.1f * (float)(i - 2);
    B2[0] = 0.25f;
    B2[1] = 0;
    B2[2] = -0.5f;
    const int64_t dw1[4] = {2, 2, 3, 3}, db1[1] = {2}, dw2[2] = {3, 2}, db2[1] = {3};
    mb_init_f(b, "w1", dw1, 4, W1);
    mb_init_f(b, "b1", db1, 1, B1);
    mb_init_f(b, "w2", dw2, 2, W2);
    mb_init_f(b, "b2", db2, 1, B2);
    Onnx__NodeProto *c = mb_node(b, "Conv", "c1", "x", "w1", "b1", "c1o");
    const int64_t pads[4] = {0, 0, 1, 1}, strides[2] = {2, 2}, ks[2] = {3, 3}, dil2[2] = {2, 2};
    attr_ints(c, "pads", pads, 4);
    attr_ints(c, "strides", strides, 2);
    attr_ints(c, "kernel_shape", ks, 2);
    if (extra_conv_attr && !strcmp(extra_conv_attr, "group")) attr_int(c, "group", 2);
    if (extra_conv_attr && !strcmp(extra_conv_attr, "dilations")) attr_ints(c, "dilations", dil2, 2);
    if (extra_conv_attr && !strcmp(extra_conv_attr, "foo")) attr_int(c, "foo", 1);
    mb_node(b, "Relu", "r1", "c1o", NULL, NULL, "r1o");
    mb_node(b, "GlobalAveragePool", "gap", "r1o", NULL, NULL, "gapo");
    mb_node(b, "Flatten", "fl", "gapo", NULL, NULL, "flo");
    Onnx__NodeProto *g = mb_node(b, "Gemm", "fc", "flo", "w2", "b2", "y");
    attr_int(g, "transB", 1);
}

/* independent float reference in ONNX's NCHW layout */
static void tiny_reference(const uint8_t *px, float *y)
{
    float c[2][2][2];
    for (int co = 0; co < 2; co++)
        for (int oy = 0; oy < 2; oy++)
            for (int ox = 0; ox < 2; ox++) {
                double s = B1[co];
                for (int ci = 0; ci < 2; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy * 2 + ky, ix = ox * 2 + kx; /* pad top/left 0, bottom/right 1 */
                            if (iy >= 5 || ix >= 5) continue;
                            s += (double)W1[((co * 2 + ci) * 3 + ky) * 3 + kx] * px[(ci * 5 + iy) * 5 + ix];
                        }
                c[co][oy][ox] = s > 0 ? (float)s : 0.0f;
            }
    float g[2];
    for (int co = 0; co < 2; co++) {
        double s = 0;
        for (int k = 0; k < 4; k++) s += c[co][k / 2][k % 2];
        g[co] = (float)(s / 4);
    }
    for (int j = 0; j < 3; j++) y[j] = B2[j] + W2[j * 2] * g[0] + W2[j * 2 + 1] * g[1];
}

START_TEST(tiny_cnn)
{
    mb b;
    mb_init(&b);
    build_tiny(&b, NULL);
    qnn_model *m = NULL;
    ck_assert_int_eq(mb_import(&b, &m), ST_OK);
    ck_assert_int_eq(qnn_model_n_layers(m), 2);
    ck_assert_int_eq(m->n_nodes, 3); /* conv(+relu), avgpool, dense: flatten is an alias */
    const qnn_node *c = &m->nodes[0];
    ck_assert_int_eq(c->op, QNN_OP_CONV);
    ck_assert_str_eq(c->name, "c1");
    ck_assert_int_eq(c->has_clamp, 1);
    ck_assert(c->lo == 0.0f && isinf(c->hi));
    ck_assert_int_eq(c->shape.ho, 2); /* (5 + 0 + 1 - 3) / 2 + 1 */
    ck_assert_int_eq(c->shape.wo, 2);
    ck_assert_int_eq(c->shape.pad_t, 0);
    ck_assert_int_eq(c->shape.pad_b, 1);
    ck_assert_int_eq(c->shape.pad_r, 1);
    ck_assert_uint_eq(qnn_model_node_macs(c), 2 * 2 * 3 * 3 * 2 * 2);
    /* OIHW -> (co, ky, kx, ci) */
    ck_assert(c->weight[((1 * 3 + 2) * 3 + 1) * 2 + 1] == W1[((1 * 2 + 1) * 3 + 2) * 3 + 1]);
    ck_assert(c->weight[((0 * 3 + 1) * 3 + 0) * 2 + 1] == W1[((0 * 2 + 1) * 3 + 1) * 3 + 0]);
    ck_assert_int_eq(m->nodes[1].op, QNN_OP_AVGPOOL);
    ck_assert_int_eq(m->nodes[2].dense, 1);
    ck_assert_uint_eq(qnn_model_node_macs(&m->nodes[2]), 6);
    ck_assert_int_eq(qnn_model_n_out(m), 3);

    uint8_t px[3][50];
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 50; k++) px[i][k] = (uint8_t)((k * 29 + i * 71) % 256);
    float y[9], want[3];
    qnn_model_predict(m, &px[0][0], 3, 2, y, NULL);
    for (int i = 0; i < 3; i++) {
        tiny_reference(px[i], want);
        for (int j = 0; j < 3; j++) ck_assert_float_eq_tol(y[i * 3 + j], want[j], 1e-3f * (1 + fabsf(want[j])));
    }
    qnn_model_free(m);
    afree();
}
END_TEST

START_TEST(batchnorm_folded)
{
    mb b;
    mb_init(&b);
    const int64_t in[4] = {-1, 1, 2, 2}, out[4] = {-1, 2, 2, 2};
    mb_io(&b, in, 4, out, 4);
    const float w[2] = {2.0f, -1.0f}, sc[2] = {2, 3}, bb[2] = {1, -1}, mean[2] = {0.5f, 0}, var[2] = {3, 0};
    const int64_t dw[4] = {2, 1, 1, 1}, d2[1] = {2};
    mb_init_f(&b, "w", dw, 4, w);
    mb_init_f(&b, "sc", d2, 1, sc);
    mb_init_f(&b, "bb", d2, 1, bb);
    mb_init_f(&b, "mean", d2, 1, mean);
    mb_init_f(&b, "var", d2, 1, var);
    mb_node(&b, "Conv", "c", "x", "w", NULL, "co");
    Onnx__NodeProto *bn = mb_node(&b, "BatchNormalization", "bn", "co", "sc", "bb", "y");
    bn->input[bn->n_input++] = astr("mean");
    bn->input[bn->n_input++] = astr("var");
    attr_float(bn, "epsilon", 1.0f);
    qnn_model *m = NULL;
    ck_assert_int_eq(mb_import(&b, &m), ST_OK);
    ck_assert_int_eq(m->n_nodes, 1);
    /* s = gamma / sqrt(var + eps) = [1, 3]; w' = w s; b' = (0 - mean) s + beta */
    ck_assert_float_eq(m->nodes[0].weight[0], 2.0f);
    ck_assert_float_eq(m->nodes[0].weight[1], -3.0f);
    ck_assert_float_eq(m->nodes[0].bias[0], 0.5f);
    ck_assert_float_eq(m->nodes[0].bias[1], -1.0f);
    qnn_model_free(m);
    afree();
}
END_TEST

START_TEST(matmul_after_spatial_flatten)
{
    mb b;
    mb_init(&b);
    const int64_t in[4] = {-1, 2, 2, 2}, out[2] = {-1, 1};
    mb_io(&b, in, 4, out, 2);
    float w[8], bias[1] = {0.75f};
    for (int k = 0; k < 8; k++) w[k] = (float)(k + 1);
    const int64_t dw[2] = {8, 1}, db[1] = {1}, shape[2] = {0, -1};
    mb_init_f(&b, "w", dw, 2, w);
    mb_init_f(&b, "bias", db, 1, bias);
    /* Reshape's shape as an int64 initializer */
    Onnx__TensorProto *t = anew(sizeof *t);
    Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT;
    *t = ti;
    t->name = astr("shape");
    t->n_dims = 1;
    t->dims = anew(sizeof *t->dims);
    t->dims[0] = 2;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_int64_data = 2;
    t->int64_data = anew(2 * sizeof(int64_t));
    memcpy(t->int64_data, shape, sizeof shape);
    b.inits[b.g.n_initializer++] = t;
    mb_node(&b, "Reshape", "rs", "x", "shape", NULL, "flat");
    mb_node(&b, "MatMul", "mm", "flat", "w", NULL, "mmo");
    mb_node(&b, "Add", "ad", "mmo", "bias", NULL, "y");
    qnn_model *m = NULL;
    ck_assert_int_eq(mb_import(&b, &m), ST_OK);
    ck_assert_int_eq(m->n_nodes, 1);
    const qnn_node *d = &m->nodes[0];
    ck_assert_int_eq(d->dense, 1);
    ck_assert_int_eq(d->shape.kh, 2);
    ck_assert_int_eq(d->shape.cin, 2);
    ck_assert_float_eq(d->bias[0], 0.75f);
    uint8_t px[8];
    double want = 0.75;
    for (int k = 0; k < 8; k++) {
        px[k] = (uint8_t)(10 * k + 3); /* CHW, which is ONNX's flatten order */
        want += (double)px[k] * w[k];
    }
    float y;
    qnn_model_predict(m, px, 1, 1, &y, NULL);
    ck_assert_float_eq_tol(y, (float)want, 1e-3f);
    qnn_model_free(m);
    afree();
}
END_TEST

START_TEST(unsupported_operator)
{
    mb b;
    mb_init(&b);
    build_tiny(&b, NULL);
    b.nodes[1]->op_type = astr("Sigmoid");
    b.nodes[1]->name = astr("mysig");
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    qnn_model *m = NULL;
    ck_assert_int_eq(mb_import(&b, &m), ST_EFORMAT);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(cap.text, "tiny.onnx: node 'mysig' (op Sigmoid): unsupported operator");
    msg_set_sink(NULL, NULL);
    afree();
}
END_TEST

START_TEST(unsupported_attributes)
{
    static const char *const cases[3][2] = {
        {"group", "tiny.onnx: node 'c1' (op Conv): unsupported attribute 'group' = 2 (only 1)"},
        {"dilations", "tiny.onnx: node 'c1' (op Conv): unsupported attribute 'dilations' = [2, 2] (only 1)"},
        {"foo", "tiny.onnx: node 'c1' (op Conv): unsupported attribute 'foo'"}};
    for (int i = 0; i < 3; i++) {
        mb b;
        mb_init(&b);
        build_tiny(&b, cases[i][0]);
        tu_capture_buf cap = {{0}, 0};
        msg_set_sink(tu_capture, &cap);
        qnn_model *m = NULL;
        ck_assert_int_eq(mb_import(&b, &m), ST_EFORMAT);
        ck_assert_str_eq(cap.text, cases[i][1]);
        msg_set_sink(NULL, NULL);
        afree();
    }
}
END_TEST

START_TEST(bad_graphs)
{
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    qnn_model *m = NULL;
    /* an input nobody produces */
    mb b;
    mb_init(&b);
    build_tiny(&b, NULL);
    b.nodes[2]->input[0] = astr("nowhere");
    ck_assert_int_eq(mb_import(&b, &m), ST_EFORMAT);
    ck_assert_str_eq(cap.text, "tiny.onnx: node 'gap' (op GlobalAveragePool): input 'nowhere' is not produced by any "
                               "earlier node");
    afree();
    /* a batch norm that follows no conv */
    mb_init(&b);
    build_tiny(&b, NULL);
    b.nodes[2]->op_type = astr("BatchNormalization");
    ck_assert_int_eq(mb_import(&b, &m), ST_EFORMAT);
    ck_assert_ptr_nonnull(strstr(cap.text, "node 'gap' (op BatchNormalization): expects 5 inputs, not 1"));
    afree();
    /* output declared with the wrong width */
    mb_init(&b);
    build_tiny(&b, NULL);
    b.outs[0]->type->tensor_type->shape->dim[1]->dim_value = 4;
    ck_assert_int_eq(mb_import(&b, &m), ST_EFORMAT);
    ck_assert_str_eq(cap.text, "tiny.onnx: output 'y' is declared with a shape that differs from the inferred 1x1x3");
    afree();
    ck_assert_ptr_null(m);
    msg_set_sink(NULL, NULL);
}
END_TEST

/* Every field the importer reads is checked before use: each mutation of the tiny model is refused with
 * its own message (several of these segfaulted: strcmp on a missing name). */
START_TEST(hostile_fields)
{
    static const char *const want[] = {
        "tiny.onnx: graph input 1 has no name",
        "tiny.onnx: graph output 1 has no name",
        "tiny.onnx: node 1 ('c1'): attribute 1 has no name",
        "tiny.onnx: node 5 ('fc'): attribute 1 has no name",
        "tiny.onnx: initializers 1 and 2 are both named 'w1'",
        "tiny.onnx: node 1 ('c1'): attribute 'pads' is given twice",
        "tiny.onnx: node 'fc' (op Gemm): attribute 'transB' must be an integer",
        "tiny.onnx: node 'c1' (op Conv): attribute 'kernel_shape' must be a list of integers",
        "tiny.onnx: node 'c1' (op Conv): expects 2 to 3 inputs, not 4",
        "tiny.onnx: node 'fc' (op Gemm): constant 'w2': data size does not match its shape",
        "tiny.onnx: node 'c1' (op Conv): constant 'w1' has data type 6; only float is supported",
        "tiny.onnx: node 'c1' (op Conv): weights have an invalid shape",
        "tiny.onnx: node 'r1' (op Relu): expects 1 input, not 2",
        "tiny.onnx: the graph has 10001 nodes, 4 initializers, 1 inputs and 1 outputs; at most 10000 of each are "
        "supported",
        "tiny.onnx: node 'c1' (op Conv): pads [0, 0, 3, 1] must be smaller than the 3x3 kernel",
    };
    tu_capture_buf cap = {{0}, 0};
    for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++) {
        mb b;
        build_tiny(&b, NULL);
        Onnx__NodeProto *conv = b.nodes[0], *gemm = b.nodes[4];
        Onnx__NodeProto **many = NULL;
        switch (i) {
        case 0: b.ins[0]->name = NULL; break;
        case 1: b.outs[0]->name = NULL; break;
        case 2: conv->attribute[0]->name = NULL; break;
        case 3: gemm->attribute[0]->name = NULL; break;
        case 4: b.inits[1]->name = astr("w1"); break;
        case 5: conv->attribute[1]->name = astr("pads"); break;
        case 6: gemm->attribute[0]->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT; break;
        case 7: conv->attribute[2]->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT; break;
        case 8: conv->input[conv->n_input++] = astr("b1"); break;
        case 9:
            b.inits[2]->has_raw_data = 1;
            b.inits[2]->raw_data.len = 5;
            b.inits[2]->raw_data.data = anew(5);
            b.inits[2]->n_float_data = 0;
            break;
        case 10: b.inits[0]->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32; break;
        case 11: b.inits[0]->dims[2] = -3; break;
        case 12: b.nodes[1]->input[b.nodes[1]->n_input++] = astr("c1o"); break;
        case 13:
            many = xcalloc(10001, sizeof *many);
            for (int k = 0; k < 10001; k++) many[k] = b.nodes[k % 5];
            b.g.node = many;
            b.g.n_node = 10001;
            break;
        case 14: conv->attribute[0]->ints[2] = 3; break;
        }
        qnn_model *m = NULL;
        msg_set_sink(tu_capture, &cap);
        int rc = mb_import(&b, &m);
        msg_set_sink(NULL, NULL);
        ck_assert_msg(rc == ST_EFORMAT, "case %d: status %d", i, rc);
        ck_assert_ptr_null(m);
        ck_assert_str_eq(cap.text, want[i]);
        free(many);
        afree();
    }
}
END_TEST

/* Prepend a length-delimited field `field` holding buf[*start, end) (built back to front). */
static void pb_wrap(uint8_t *buf, size_t *start, size_t end, unsigned field)
{
    uint8_t v[12];
    size_t n = 0;
    uint64_t len = end - *start;
    v[n++] = (uint8_t)(field << 3 | 2);
    do {
        v[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
        len >>= 7;
    } while (len);
    while (n) buf[--*start] = v[--n];
}

START_TEST(protobuf_nesting_is_bounded)
{
    /* graph -> node -> attribute -> graph ... : 3 message levels per round, refused before protobuf-c's
     * recursive unpack; a shallow nesting of the same kind reaches the importer */
    tu_capture_buf cap = {{0}, 0};
    static const int rounds[] = {9, 11, 100000};
    for (int r = 0; r < 3; r++) {
        size_t cap_bytes = (size_t)rounds[r] * 3 * 12 + 64, end = cap_bytes, start = end;
        uint8_t *buf = xmalloc(cap_bytes);
        for (int k = 0; k < rounds[r]; k++) {
            pb_wrap(buf, &start, end, 6); /* AttributeProto.g */
            pb_wrap(buf, &start, end, 5); /* NodeProto.attribute */
            pb_wrap(buf, &start, end, 1); /* GraphProto.node */
        }
        pb_wrap(buf, &start, end, 7);     /* ModelProto.graph */
        qnn_model *m = NULL;
        msg_set_sink(tu_capture, &cap);
        int rc = onnx_import_buffer(buf + start, end - start, "deep.onnx", &m);
        msg_set_sink(NULL, NULL);
        ck_assert_int_eq(rc, ST_EFORMAT);
        ck_assert_ptr_null(m);
        if (r == 0)
            ck_assert_str_eq(cap.text, "deep.onnx: node 1: attribute 1 has no name");
        else
            ck_assert_str_eq(cap.text, "deep.onnx: protobuf messages nested deeper than 32");
        free(buf);
    }
}
END_TEST

START_TEST(malformed_protobuf)
{
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    qnn_model *m = NULL;
    const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    ck_assert_int_eq(onnx_import_buffer(junk, sizeof junk, "bad.onnx", &m), ST_EPARSE);
    ck_assert_str_eq(cap.text, "bad.onnx: not a valid ONNX model (protobuf parse failed)");
    char *p = tu_tempfile("this is not a model\n", 20);
    ck_assert_int_ne(onnx_import_file(p, &m), ST_OK);
    ck_assert_ptr_nonnull(strstr(cap.text, p));
    ck_assert_int_eq(onnx_import_file("/nonexistent/m.onnx", &m), ST_EIO);
    ck_assert_ptr_null(m);
    unlink(p);
    free(p);
    msg_set_sink(NULL, NULL);
}
END_TEST

/* ---- the reference model ---- */

START_TEST(resnet8_layers)
{
    char *p = datadir_resolve("models/resnet8_mlperf_float.onnx");
    qnn_model *m;
    ck_assert_int_eq(onnx_import_file(p, &m), ST_OK);
    static const uint64_t macs[10] = {442368, 2359296, 2359296, 1179648, 2359296, 131072, 1179648, 2359296, 131072, 640};
    static const int cout[10] = {16, 16, 16, 32, 32, 32, 64, 64, 64, 10};
    static const int cin[10] = {3, 16, 16, 16, 32, 16, 32, 64, 32, 64};
    ck_assert_int_eq(qnn_model_n_layers(m), 10);
    uint64_t total = 0, filters = 0, kernels = 0;
    for (int l = 0; l < 10; l++) {
        const qnn_node *nd = &m->nodes[qnn_model_layer_node(m, l)];
        ck_assert_uint_eq(qnn_model_node_macs(nd), macs[l]);
        ck_assert_int_eq(nd->shape.cout, cout[l]);
        ck_assert_int_eq(nd->shape.cin, cin[l]);
        ck_assert_int_eq(nd->dense, l == 9);
        total += macs[l];
        filters += (uint64_t)nd->shape.cout;
        kernels += (uint64_t)nd->shape.cout * nd->shape.cin;
    }
    ck_assert_uint_eq(total, 12501632);
    ck_assert_uint_eq(filters, 346);
    ck_assert_uint_eq(kernels, 11440);
    /* the stride-2 3x3 convs keep TF's asymmetric 'same' padding */
    const qnn_node *c3 = &m->nodes[qnn_model_layer_node(m, 3)];
    ck_assert_int_eq(c3->shape.stride_h, 2);
    ck_assert_int_eq(c3->shape.pad_t, 0);
    ck_assert_int_eq(c3->shape.pad_b, 1);
    ck_assert_int_eq(c3->shape.ho, 16);
    ck_assert_int_eq(m->n_nodes, 14); /* 10 layers, 3 adds, 1 pool */
    qnn_model_free(m);
    free(p);
}
END_TEST

START_TEST(resnet8_float_accuracy)
{
    char *p = datadir_resolve("models/resnet8_mlperf_float.onnx");
    qnn_model *m;
    ck_assert_int_eq(onnx_import_file(p, &m), ST_OK);
    cifar_set s;
    ck_assert_int_eq(cifar_load_range("cifar10/cifar-10-batches-bin/test_batch.bin:0:1000", &s), ST_OK);
    float *logits = xmalloc((size_t)s.n * 10 * sizeof *logits);
    qnn_model_predict(m, s.pixels, s.n, 0, logits, NULL);
    int ok = 0;
    for (int32_t i = 0; i < s.n; i++) ok += qnn_argmax_f32(logits + 10 * i, 10) == s.labels[i];
    ck_assert_int_eq(ok, 881); /* 88.10 %, as ONNX, Keras and TFLite float executors give */
    free(logits);
    cifar_set_deinit(&s);
    qnn_model_free(m);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("tiny");
    tcase_add_test(tc, tiny_cnn);
    tcase_add_test(tc, batchnorm_folded);
    tcase_add_test(tc, matmul_after_spatial_flatten);
    tcase_add_test(tc, unsupported_operator);
    tcase_add_test(tc, unsupported_attributes);
    tcase_add_test(tc, bad_graphs);
    tcase_add_test(tc, malformed_protobuf);
    tcase_add_test(tc, hostile_fields);
    tcase_add_test(tc, protobuf_nesting_is_bounded);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    char *p = datadir_resolve("models/resnet8_mlperf_float.onnx");
    char *q = datadir_resolve("cifar10/cifar-10-batches-bin/test_batch.bin");
    int have = access(p, R_OK) == 0 && access(q, R_OK) == 0;
    free(p);
    free(q);
    if (!have) {
        printf("SKIP: reference model or CIFAR-10 absent (set APPROXMAP_DATA or run ./quickstart.sh)\n");
        return rc ? rc : 77;
    }
    Suite *d = suite_create("onnx-resnet8");
    TCase *td = tcase_create("resnet8");
    tcase_set_timeout(td, 600);
    tcase_add_test(td, resnet8_layers);
    tcase_add_test(td, resnet8_float_accuracy);
    suite_add_tcase(d, td);
    return rc | tu_run(d);
}
