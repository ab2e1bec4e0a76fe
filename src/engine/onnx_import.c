/* ONNX -> qnn_model import (see onnx_import.h).
 *
 * One pass over the nodes in file order (ONNX requires topological order). Every ONNX value name is
 * bound either to a constant (initializer / Constant output) or to a model tensor id; fusions
 * (BatchNormalization, Relu/Clip, bias Add, Flatten/Reshape) rebind a name to the tensor that
 * already holds its value. A fusion is only done when the fused node is the sole consumer of its
 * input name (graph outputs count as consumers), so no other reader sees the changed values.
 * Invariant: each bound tensor id has exactly one producer (node index, or -1 for the input). */
#include "onnx_import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "msg.h"
#include "onnx.pb-c.h"
#include "status.h"

enum { MAX_DIM = 1 << 16 };

/* Bounds on what a model may hold before anything is looked up: the name lookups are linear, so these
 * keep a hostile graph from taking quadratic time (ResNet-8 has 31 nodes, 40 initializers). */
enum { MAX_NODES = 10000, MAX_INITIALIZERS = 10000, MAX_GRAPH_VALUES = 10000, MAX_NODE_INPUTS = 8,
       MAX_ATTRIBUTES = 32 };

/* protobuf-c unpacks nested messages recursively; ONNX needs 7 levels (model, graph, value info, type,
 * tensor type, shape, dimension); deeper files are refused before unpacking. */
enum { MAX_PB_DEPTH = 32 };

typedef struct binding {
    const char *name;                /* borrowed from the protobuf */
    int is_const;
    int tid;                         /* tensor id when !is_const */
    int flat;                        /* a Flatten of an (h, w, c) map: ONNX sees [N, c*h*w] */
    const Onnx__TensorProto *cst;    /* when is_const (borrowed) */
} binding;

typedef struct imp {
    const char *path;
    qnn_model *m;
    binding *b;
    int nb, capb;
    const char **cons_name;          /* consumer counts by name */
    int *cons_count;
    int ncons;
    int *producer;                   /* per tensor id: node index or -1 */
    int capprod;
    /* the node being processed, for messages */
    const char *node_name, *node_op;
} imp;

static int nerr(imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int nerr(imp *im, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return msg_error(ST_EFORMAT, "%s: node '%s' (op %s): %s", im->path, im->node_name, im->node_op, buf);
}

static binding *lookup(imp *im, const char *name)
{
    for (int i = im->nb - 1; i >= 0; i--)
        if (!strcmp(im->b[i].name, name)) return &im->b[i];
    return NULL;
}

static binding *bind(imp *im, const char *name)
{
    if (im->nb == im->capb) {
        im->capb = im->capb ? 2 * im->capb : 64;
        im->b = xrealloc(im->b, (size_t)im->capb * sizeof *im->b);
    }
    binding *b = &im->b[im->nb++];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->tid = -1;
    return b;
}

static void count_consumer(imp *im, const char *name)
{
    if (!name || !*name) return;
    for (int i = 0; i < im->ncons; i++)
        if (!strcmp(im->cons_name[i], name)) {
            im->cons_count[i]++;
            return;
        }
    im->cons_name = xrealloc(im->cons_name, (size_t)(im->ncons + 1) * sizeof *im->cons_name);
    im->cons_count = xrealloc(im->cons_count, (size_t)(im->ncons + 1) * sizeof *im->cons_count);
    im->cons_name[im->ncons] = name;
    im->cons_count[im->ncons++] = 1;
}

static int consumers(const imp *im, const char *name)
{
    for (int i = 0; i < im->ncons; i++)
        if (!strcmp(im->cons_name[i], name)) return im->cons_count[i];
    return 0;
}

static void set_producer(imp *im, int tid, int node)
{
    if (tid >= im->capprod) {
        int cap = im->capprod ? 2 * im->capprod : 64;
        while (cap <= tid) cap *= 2;
        im->producer = xrealloc(im->producer, (size_t)cap * sizeof *im->producer);
        im->capprod = cap;
    }
    im->producer[tid] = node;
}

static int64_t numel(const Onnx__TensorProto *t)
{
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || t->dims[i] > (1 << 24)) return -1;
        n *= t->dims[i];
        if (n > (1 << 26)) return -1;
    }
    return n;
}

/* Decode a FLOAT or DOUBLE constant into a fresh double array of numel values. */
static int const_doubles(imp *im, const Onnx__TensorProto *t, double **out, int64_t *n_out)
{
    int64_t n = numel(t);
    if (n < 0) return nerr(im, "constant '%s' has an invalid shape", t->name ? t->name : "");
    if (t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL || t->n_external_data)
        return nerr(im, "constant '%s' uses external data, which is unsupported", t->name ? t->name : "");
    double *v = xmalloc((size_t)(n ? n : 1) * sizeof *v);
    int ok = 0;
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        if (t->has_raw_data && t->raw_data.len == (size_t)n * 4) {
            for (int64_t i = 0; i < n; i++) {
                float f;
                memcpy(&f, t->raw_data.data + 4 * i, 4);
                v[i] = f;
            }
            ok = 1;
        } else if (!t->has_raw_data && t->n_float_data == (size_t)n) {
            for (int64_t i = 0; i < n; i++) v[i] = t->float_data[i];
            ok = 1;
        }
    } else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE) {
        if (t->has_raw_data && t->raw_data.len == (size_t)n * 8) {
            memcpy(v, t->raw_data.data, (size_t)n * 8);
            ok = 1;
        } else if (!t->has_raw_data && t->n_double_data == (size_t)n) {
            memcpy(v, t->double_data, (size_t)n * 8);
            ok = 1;
        }
    } else {
        free(v);
        return nerr(im, "constant '%s' has data type %d; only float is supported", t->name ? t->name : "",
                    (int)t->data_type);
    }
    if (!ok) {
        free(v);
        return nerr(im, "constant '%s': data size does not match its shape", t->name ? t->name : "");
    }
    *out = v;
    *n_out = n;
    return ST_OK;
}

static int const_ints(imp *im, const Onnx__TensorProto *t, int64_t **out, int64_t *n_out)
{
    int64_t n = numel(t);
    if (n < 0 || n > 64) return nerr(im, "constant '%s' has an invalid shape", t->name ? t->name : "");
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return nerr(im, "constant '%s' must be int64", t->name ? t->name : "");
    int64_t *v = xmalloc((size_t)(n ? n : 1) * sizeof *v);
    if (t->has_raw_data && t->raw_data.len == (size_t)n * 8)
        memcpy(v, t->raw_data.data, (size_t)n * 8);
    else if (!t->has_raw_data && t->n_int64_data == (size_t)n)
        memcpy(v, t->int64_data, (size_t)n * 8);
    else {
        free(v);
        return nerr(im, "constant '%s': data size does not match its shape", t->name ? t->name : "");
    }
    *out = v;
    *n_out = n;
    return ST_OK;
}

/* ---- node inputs ---- */

/* The operator takes between lo and hi inputs (trailing optional inputs may be absent). */
static int n_inputs(imp *im, const Onnx__NodeProto *nd, size_t lo, size_t hi)
{
    if (nd->n_input < lo || nd->n_input > hi) {
        if (lo == hi) return nerr(im, "expects %zu input%s, not %zu", lo, lo == 1 ? "" : "s", nd->n_input);
        return nerr(im, "expects %zu to %zu inputs, not %zu", lo, hi, nd->n_input);
    }
    return ST_OK;
}

static int in_tensor(imp *im, const Onnx__NodeProto *nd, size_t k, binding **out)
{
    if (k >= nd->n_input || !nd->input[k][0]) return nerr(im, "input %zu is missing", k + 1);
    binding *b = lookup(im, nd->input[k]);
    if (!b) return nerr(im, "input '%s' is not produced by any earlier node", nd->input[k]);
    if (b->is_const) return nerr(im, "input '%s' is a constant; a computed tensor is expected", nd->input[k]);
    *out = b;
    return ST_OK;
}

/* A constant input; *out NULL when optional and absent. */
static int in_const(imp *im, const Onnx__NodeProto *nd, size_t k, int optional, const Onnx__TensorProto **out)
{
    *out = NULL;
    if (k >= nd->n_input || !nd->input[k][0]) return optional ? ST_OK : nerr(im, "input %zu is missing", k + 1);
    binding *b = lookup(im, nd->input[k]);
    if (!b) return nerr(im, "input '%s' is not produced by any earlier node", nd->input[k]);
    if (!b->is_const) return nerr(im, "input '%s' must be a constant (initializer)", nd->input[k]);
    *out = b->cst;
    return ST_OK;
}

static const qnn_tensor *tens(imp *im, const binding *b)
{
    return &im->m->tensors[b->tid];
}

/* ---- attributes ---- */

typedef struct attrs {
    const Onnx__NodeProto *nd;
    unsigned used; /* bit per attribute index (first 32) */
} attrs;

static const Onnx__AttributeProto *attr(attrs *a, const char *name)
{
    for (size_t i = 0; i < a->nd->n_attribute; i++)
        if (!strcmp(a->nd->attribute[i]->name, name)) {
            if (i < 32) a->used |= 1u << i;
            return a->nd->attribute[i];
        }
    return NULL;
}

/* Every attribute must have been looked at by the handler. */
static int attrs_check(imp *im, attrs *a)
{
    for (size_t i = 0; i < a->nd->n_attribute; i++)
        if (i >= 32 || !(a->used & (1u << i)))
            return nerr(im, "unsupported attribute '%s'", a->nd->attribute[i]->name);
    return ST_OK;
}

/* Whether attribute `p` holds a value of `type`: its declared type when it has one (ONNX IR >= 2),
 * else whether the matching field is present. */
static int attr_is(const Onnx__AttributeProto *p, Onnx__AttributeProto__AttributeType type, int present)
{
    return p->has_type ? p->type == type : present;
}

static int attr_int(imp *im, attrs *a, const char *name, int64_t def, int64_t *v)
{
    const Onnx__AttributeProto *p = attr(a, name);
    if (!p) {
        *v = def;
        return ST_OK;
    }
    if (!attr_is(p, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, p->has_i))
        return nerr(im, "attribute '%s' must be an integer", name);
    *v = p->i;
    return ST_OK;
}

static int attr_float(imp *im, attrs *a, const char *name, double def, double *v)
{
    const Onnx__AttributeProto *p = attr(a, name);
    if (!p) {
        *v = def;
        return ST_OK;
    }
    if (!attr_is(p, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, p->has_f))
        return nerr(im, "attribute '%s' must be a float", name);
    *v = p->f;
    return ST_OK;
}

/* An INTS attribute of exactly n values (absent: *present = 0). */
static int attr_ints(imp *im, attrs *a, const char *name, size_t n, int64_t *v, int *present)
{
    const Onnx__AttributeProto *p = attr(a, name);
    *present = p != NULL;
    if (!p) return ST_OK;
    if (!attr_is(p, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, p->n_ints > 0))
        return nerr(im, "attribute '%s' must be a list of integers", name);
    if (p->n_ints != n) return nerr(im, "attribute '%s' must have %zu values, not %zu", name, n, p->n_ints);
    for (size_t i = 0; i < n; i++) v[i] = p->ints[i];
    return ST_OK;
}

static int check_auto_pad(imp *im, attrs *a)
{
    const Onnx__AttributeProto *p = attr(a, "auto_pad");
    if (!p) return ST_OK;
    if (!attr_is(p, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, p->has_s))
        return nerr(im, "attribute 'auto_pad' must be a string");
    if (p->has_s && p->s.len == 6 && !memcmp(p->s.data, "NOTSET", 6)) return ST_OK;
    return nerr(im, "unsupported attribute 'auto_pad' = '%.*s' (only NOTSET; write explicit pads)",
                p->has_s ? (int)p->s.len : 0, p->has_s ? (const char *)p->s.data : "");
}

static int check_all_one(imp *im, attrs *a, const char *name)
{
    int64_t v[2] = {1, 1};
    int present;
    int rc = attr_ints(im, a, name, 2, v, &present);
    if (rc) return rc;
    if (present && (v[0] != 1 || v[1] != 1))
        return nerr(im, "unsupported attribute '%s' = [%lld, %lld] (only 1)", name, (long long)v[0], (long long)v[1]);
    return ST_OK;
}

/* Window geometry shared by Conv and the pools: kernel_shape, strides, pads. */
static int window(imp *im, attrs *a, const qnn_tensor *in, int need_kernel, qnn_conv_shape *s)
{
    int64_t k[2] = {0, 0}, st[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    int has_k, has_s, has_p, rc;
    if ((rc = attr_ints(im, a, "kernel_shape", 2, k, &has_k)) || (rc = attr_ints(im, a, "strides", 2, st, &has_s)) ||
        (rc = attr_ints(im, a, "pads", 4, p, &has_p)) || (rc = check_auto_pad(im, a)) ||
        (rc = check_all_one(im, a, "dilations")))
        return rc;
    if (need_kernel && !has_k) return nerr(im, "attribute 'kernel_shape' is required");
    if (has_k) {
        if (k[0] < 1 || k[1] < 1 || k[0] > MAX_DIM || k[1] > MAX_DIM) return nerr(im, "invalid kernel_shape");
        if (s->kh && (s->kh != k[0] || s->kw != k[1]))
            return nerr(im, "kernel_shape [%lld, %lld] does not match the weights (%dx%d)", (long long)k[0],
                        (long long)k[1], (int)s->kh, (int)s->kw);
        s->kh = (int32_t)k[0];
        s->kw = (int32_t)k[1];
    }
    for (int i = 0; i < 2; i++)
        if (st[i] < 1 || st[i] > MAX_DIM) return nerr(im, "invalid strides");
    for (int i = 0; i < 4; i++)
        if (p[i] < 0 || p[i] > MAX_DIM) return nerr(im, "invalid pads");
    /* as ONNX requires of pools: a window never lies wholly in the padding */
    if (p[0] >= s->kh || p[2] >= s->kh || p[1] >= s->kw || p[3] >= s->kw)
        return nerr(im, "pads [%lld, %lld, %lld, %lld] must be smaller than the %dx%d kernel", (long long)p[0],
                    (long long)p[1], (long long)p[2], (long long)p[3], (int)s->kh, (int)s->kw);
    s->h = in->h;
    s->w = in->w;
    s->cin = in->c;
    s->stride_h = (int32_t)st[0];
    s->stride_w = (int32_t)st[1];
    /* ONNX pads: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right] */
    s->pad_t = (int32_t)p[0];
    s->pad_l = (int32_t)p[1];
    s->pad_b = (int32_t)p[2];
    s->pad_r = (int32_t)p[3];
    if (qnn_conv_shape_finish(s))
        return nerr(im, "window %dx%d with pads [%d, %d, %d, %d] does not fit the %dx%d input", (int)s->kh, (int)s->kw,
                    (int)s->pad_t, (int)s->pad_l, (int)s->pad_b, (int)s->pad_r, (int)s->h, (int)s->w);
    return ST_OK;
}

/* ---- output binding ---- */

static int out_name(imp *im, const Onnx__NodeProto *nd, const char **name)
{
    if (nd->n_output < 1 || !nd->output[0][0]) return nerr(im, "has no output");
    for (size_t i = 1; i < nd->n_output; i++)
        if (nd->output[i][0]) return nerr(im, "optional output %zu ('%s') is unsupported", i + 1, nd->output[i]);
    if (lookup(im, nd->output[0])) return nerr(im, "output '%s' is defined twice", nd->output[0]);
    *name = nd->output[0];
    return ST_OK;
}

/* New model tensor for node `node_idx`'s output. */
static void bind_new(imp *im, const char *name, qnn_node *qn, int32_t h, int32_t w, int32_t c)
{
    int tid = qnn_model_add_tensor(im->m, name, h, w, c);
    qn->out = tid;
    set_producer(im, tid, im->m->n_nodes - 1);
    bind(im, name)->tid = tid;
}

/* Rebind `name` to an existing tensor (a fusion). */
static void bind_alias(imp *im, const char *name, int tid, int flat)
{
    binding *b = bind(im, name);
    b->tid = tid;
    b->flat = flat;
}

/* The node whose output is fusable into: single consumer and produced by a node (not the input). */
static qnn_node *fusable_producer(imp *im, const char *in_name, const binding *in)
{
    if (in->flat || consumers(im, in_name) != 1) return NULL;
    int p = im->producer[in->tid];
    return p >= 0 ? &im->m->nodes[p] : NULL;
}

/* ---- operators ---- */

static int op_conv(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const Onnx__TensorProto *W, *B;
    const char *oname;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = in_const(im, nd, 1, 0, &W)) || (rc = in_const(im, nd, 2, 1, &B)) ||
        (rc = out_name(im, nd, &oname)))
        return rc;
    if (x->flat) return nerr(im, "expects a 4-d input, got a flattened tensor");
    const qnn_tensor *t = tens(im, x);
    int64_t group = 1;
    if ((rc = attr_int(im, &a, "group", 1, &group))) return rc;
    if (group != 1) return nerr(im, "unsupported attribute 'group' = %lld (only 1)", (long long)group);
    if (W->n_dims != 4) return nerr(im, "weights must be 4-d [Cout, Cin, KH, KW]");
    for (int i = 0; i < 4; i++)
        if (W->dims[i] < 1 || W->dims[i] > MAX_DIM) return nerr(im, "weights have an invalid shape");
    if (W->dims[1] != t->c)
        return nerr(im, "weights expect %lld input channels but the input has %d", (long long)W->dims[1], (int)t->c);
    qnn_conv_shape s = {0};
    s.cout = (int32_t)W->dims[0];
    s.kh = (int32_t)W->dims[2];
    s.kw = (int32_t)W->dims[3];
    if ((rc = window(im, &a, t, 0, &s)) || (rc = attrs_check(im, &a))) return rc;
    if ((int64_t)s.kh * s.kw * s.cin > 65535)
        return nerr(im, "%d taps per output (KH*KW*Cin) exceed 65535, the int32-exact bound", (int)(s.kh * s.kw * s.cin));
    double *w, *bv = NULL;
    int64_t nw, nbv;
    if ((rc = const_doubles(im, W, &w, &nw))) return rc;
    if (B) {
        if ((rc = const_doubles(im, B, &bv, &nbv))) {
            free(w);
            return rc;
        }
        if (nbv != s.cout) {
            free(w);
            free(bv);
            return nerr(im, "bias has %lld values for %d output channels", (long long)nbv, (int)s.cout);
        }
    }
    qnn_node *qn = qnn_model_add_node(im->m, QNN_OP_CONV, im->node_name, "Conv");
    qn->shape = s;
    qn->n_in = 1;
    qn->in[0] = x->tid;
    qn->weight = xmalloc((size_t)nw * sizeof(float));
    qn->bias = xcalloc((size_t)s.cout, sizeof(float));
    for (int32_t co = 0; co < s.cout; co++) {
        for (int32_t ci = 0; ci < s.cin; ci++)
            for (int32_t ky = 0; ky < s.kh; ky++)
                for (int32_t kx = 0; kx < s.kw; kx++)
                    qn->weight[(((size_t)co * s.kh + ky) * s.kw + kx) * s.cin + ci] =
                        (float)w[(((size_t)co * s.cin + ci) * s.kh + ky) * s.kw + kx];
        if (bv) qn->bias[co] = (float)bv[co];
    }
    free(w);
    free(bv);
    bind_new(im, oname, qn, s.ho, s.wo, s.cout);
    return ST_OK;
}

static int op_batchnorm(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const Onnx__TensorProto *c[4];
    const char *oname;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x))) return rc;
    for (int i = 0; i < 4; i++)
        if ((rc = in_const(im, nd, (size_t)i + 1, 0, &c[i]))) return rc;
    if ((rc = out_name(im, nd, &oname))) return rc;
    double eps = 1e-5, momentum = 0.9;
    int64_t training = 0, spatial = 1;
    if ((rc = attr_float(im, &a, "epsilon", 1e-5, &eps)) || (rc = attr_float(im, &a, "momentum", 0.9, &momentum)) ||
        (rc = attr_int(im, &a, "training_mode", 0, &training)) || (rc = attr_int(im, &a, "spatial", 1, &spatial)) ||
        (rc = attrs_check(im, &a)))
        return rc;
    if (training) return nerr(im, "unsupported attribute 'training_mode' = 1");
    if (spatial != 1) return nerr(im, "unsupported attribute 'spatial' = %lld", (long long)spatial);
    qnn_node *p = fusable_producer(im, nd->input[0], x);
    if (!p || p->op != QNN_OP_CONV || p->dense || p->has_clamp)
        return nerr(im, "batch normalization is supported only directly after a Conv whose only consumer it is");
    int32_t C = p->shape.cout;
    double *v[4];
    for (int i = 0; i < 4; i++) {
        int64_t n;
        if ((rc = const_doubles(im, c[i], &v[i], &n)) == ST_OK && n != C) {
            free(v[i]);
            rc = nerr(im, "parameter %d has %lld values for %d channels", i + 2, (long long)n, (int)C);
        }
        if (rc) {
            for (int j = 0; j < i; j++) free(v[j]);
            return rc;
        }
    }
    /* y = gamma (x - mean) / sqrt(var + eps) + beta, folded into x = W a + b, in double */
    size_t taps = (size_t)p->shape.kh * p->shape.kw * p->shape.cin;
    for (int32_t co = 0; co < C; co++) {
        double sc = v[0][co] / sqrt(v[3][co] + eps);
        for (size_t t = 0; t < taps; t++) p->weight[co * taps + t] = (float)((double)p->weight[co * taps + t] * sc);
        p->bias[co] = (float)(((double)p->bias[co] - v[2][co]) * sc + v[1][co]);
    }
    for (int i = 0; i < 4; i++) free(v[i]);
    bind_alias(im, oname, x->tid, 0);
    return ST_OK;
}

static int add_clamp(imp *im, const Onnx__NodeProto *nd, binding *x, const char *oname, float lo, float hi,
                     const char *onnx_op)
{
    qnn_node *p = fusable_producer(im, nd->input[0], x);
    if (p) {
        float nlo = fmaxf(p->lo, lo), nhi = fminf(p->hi, hi);
        if (nlo <= nhi) {
            p->lo = nlo;
            p->hi = nhi;
            p->has_clamp = 1;
            bind_alias(im, oname, x->tid, 0);
            return ST_OK;
        }
    }
    const qnn_tensor *t = tens(im, x);
    int32_t h = t->h, w = t->w, c = t->c;
    int tid = x->tid, flat = x->flat;
    qnn_node *qn = qnn_model_add_node(im->m, QNN_OP_CLAMP, im->node_name, onnx_op);
    qn->n_in = 1;
    qn->in[0] = tid;
    qn->has_clamp = 1;
    qn->lo = lo;
    qn->hi = hi;
    bind_new(im, oname, qn, h, w, c);
    im->b[im->nb - 1].flat = flat;
    return ST_OK;
}

static int op_relu(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const char *oname;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = out_name(im, nd, &oname)) || (rc = attrs_check(im, &a))) return rc;
    return add_clamp(im, nd, x, oname, 0.0f, INFINITY, "Relu");
}

static int scalar_const(imp *im, const Onnx__TensorProto *t, float *v)
{
    double *d;
    int64_t n;
    int rc = const_doubles(im, t, &d, &n);
    if (rc) return rc;
    if (n != 1) {
        free(d);
        return nerr(im, "clip bound must be a scalar");
    }
    *v = (float)d[0];
    free(d);
    return ST_OK;
}

static int op_clip(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const Onnx__TensorProto *tmin, *tmax;
    const char *oname;
    int rc;
    double amin = -INFINITY, amax = INFINITY;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = in_const(im, nd, 1, 1, &tmin)) || (rc = in_const(im, nd, 2, 1, &tmax)) ||
        (rc = out_name(im, nd, &oname)) || (rc = attr_float(im, &a, "min", -INFINITY, &amin)) ||
        (rc = attr_float(im, &a, "max", INFINITY, &amax)) || (rc = attrs_check(im, &a)))
        return rc;
    float lo = (float)amin, hi = (float)amax;
    if (tmin && (rc = scalar_const(im, tmin, &lo))) return rc;
    if (tmax && (rc = scalar_const(im, tmax, &hi))) return rc;
    if (!(lo <= hi)) return nerr(im, "clip range [%g, %g] is empty", (double)lo, (double)hi);
    return add_clamp(im, nd, x, oname, lo, hi, "Clip");
}

static int op_add(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    const char *oname;
    int rc;
    if (nd->n_input != 2) return nerr(im, "expects 2 inputs");
    if ((rc = out_name(im, nd, &oname)) || (rc = attrs_check(im, &a))) return rc;
    binding *b0 = lookup(im, nd->input[0]), *b1 = lookup(im, nd->input[1]);
    if (!b0 || !b1)
        return nerr(im, "input '%s' is not produced by any earlier node", !b0 ? nd->input[0] : nd->input[1]);
    if (b0->is_const && b1->is_const) return nerr(im, "adding two constants is unsupported");
    if (b0->is_const || b1->is_const) {
        /* a bias: fold into the producing Conv/Gemm/MatMul */
        binding *x = b0->is_const ? b1 : b0;
        const Onnx__TensorProto *c = b0->is_const ? b0->cst : b1->cst;
        qnn_node *p = fusable_producer(im, b0->is_const ? nd->input[1] : nd->input[0], x);
        if (!p || p->op != QNN_OP_CONV || p->has_clamp)
            return nerr(im, "adding a constant is supported only as the bias of the preceding Conv/Gemm/MatMul");
        int64_t n;
        double *v;
        if ((rc = const_doubles(im, c, &v, &n))) return rc;
        int32_t C = p->shape.cout;
        int ok = n == 1;
        if (n == C) {
            /* broadcast must run along the channel axis */
            if (p->dense) {
                ok = c->n_dims >= 1 && c->dims[c->n_dims - 1] == C;
                for (size_t i = 0; ok && i + 1 < c->n_dims; i++) ok = c->dims[i] == 1;
            } else {
                ok = c->n_dims >= 3 && c->dims[c->n_dims - 3] == C && c->dims[c->n_dims - 2] == 1 &&
                     c->dims[c->n_dims - 1] == 1;
                for (size_t i = 0; ok && i + 3 < c->n_dims; i++) ok = c->dims[i] == 1;
            }
        }
        if (!ok) {
            free(v);
            return nerr(im, "constant '%s' does not broadcast as a per-channel bias of %d channels", c->name ? c->name : "",
                        (int)C);
        }
        for (int32_t co = 0; co < C; co++) p->bias[co] = (float)((double)p->bias[co] + v[n == 1 ? 0 : co]);
        free(v);
        bind_alias(im, oname, x->tid, 0);
        return ST_OK;
    }
    const qnn_tensor *t0 = tens(im, b0), *t1 = tens(im, b1);
    if (t0->h != t1->h || t0->w != t1->w || t0->c != t1->c || b0->flat != b1->flat)
        return nerr(im, "inputs have different shapes (%dx%dx%d and %dx%dx%d); broadcasting is unsupported", (int)t0->h,
                    (int)t0->w, (int)t0->c, (int)t1->h, (int)t1->w, (int)t1->c);
    int32_t h = t0->h, w = t0->w, ch = t0->c;
    int flat = b0->flat, i0 = b0->tid, i1 = b1->tid;
    qnn_node *qn = qnn_model_add_node(im->m, QNN_OP_ADD, im->node_name, "Add");
    qn->n_in = 2;
    qn->in[0] = i0;
    qn->in[1] = i1;
    bind_new(im, oname, qn, h, w, ch);
    im->b[im->nb - 1].flat = flat;
    return ST_OK;
}

static int op_pool(imp *im, const Onnx__NodeProto *nd, int is_max, int global)
{
    attrs a = {nd, 0};
    binding *x;
    const char *oname;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = out_name(im, nd, &oname))) return rc;
    if (x->flat) return nerr(im, "expects a 4-d input, got a flattened tensor");
    const qnn_tensor *t = tens(im, x);
    qnn_conv_shape s = {0};
    int64_t ceil_mode = 0, cip = 0, storage = 0;
    s.cout = t->c;
    if (global) {
        s.h = t->h;
        s.w = t->w;
        s.cin = t->c;
        s.kh = t->h;
        s.kw = t->w;
        s.stride_h = s.stride_w = 1;
        qnn_conv_shape_finish(&s);
    } else {
        if ((rc = window(im, &a, t, 1, &s)) || (rc = attr_int(im, &a, "ceil_mode", 0, &ceil_mode))) return rc;
        if (!is_max && (rc = attr_int(im, &a, "count_include_pad", 0, &cip))) return rc;
        if (is_max && (rc = attr_int(im, &a, "storage_order", 0, &storage))) return rc;
    }
    if ((rc = attrs_check(im, &a))) return rc;
    if (ceil_mode) return nerr(im, "unsupported attribute 'ceil_mode' = %lld (only 0)", (long long)ceil_mode);
    if (storage) return nerr(im, "unsupported attribute 'storage_order' = %lld (only 0)", (long long)storage);
    s.cout = s.cin;
    int tid = x->tid;
    qnn_node *qn = qnn_model_add_node(im->m, is_max ? QNN_OP_MAXPOOL : QNN_OP_AVGPOOL, im->node_name,
                                      is_max ? "MaxPool" : global ? "GlobalAveragePool" : "AveragePool");
    qn->n_in = 1;
    qn->in[0] = tid;
    qn->shape = s;
    qn->count_include_pad = (int)cip;
    bind_new(im, oname, qn, s.ho, s.wo, s.cout);
    return ST_OK;
}

static int op_flatten(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const char *oname;
    int64_t axis = 1;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = out_name(im, nd, &oname)) ||
        (rc = attr_int(im, &a, "axis", 1, &axis)) || (rc = attrs_check(im, &a)))
        return rc;
    if (axis != 1) return nerr(im, "unsupported attribute 'axis' = %lld (only 1)", (long long)axis);
    const qnn_tensor *t = tens(im, x);
    bind_alias(im, oname, x->tid, x->flat || t->h * t->w > 1);
    return ST_OK;
}

static int op_reshape(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    binding *x;
    const Onnx__TensorProto *sh;
    const char *oname;
    int64_t allowzero = 0;
    int rc;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = in_const(im, nd, 1, 0, &sh)) || (rc = out_name(im, nd, &oname)) ||
        (rc = attr_int(im, &a, "allowzero", 0, &allowzero)) || (rc = attrs_check(im, &a)))
        return rc;
    int64_t *v = NULL, n = 0;
    if ((rc = const_ints(im, sh, &v, &n))) return rc;
    const qnn_tensor *t = tens(im, x);
    int64_t k = (int64_t)t->h * t->w * t->c;
    int ok = n == 2 && !allowzero && ((v[0] == 0 && (v[1] == -1 || v[1] == k)) || (v[0] == -1 && v[1] == k));
    if (!ok) {
        char buf[256];
        int len = 0;
        for (int64_t i = 0; i < n && len < 200; i++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%lld", i ? ", " : "", (long long)v[i]);
        buf[len] = 0;
        free(v);
        return nerr(im, "reshape to [%s] is unsupported (only flattening to [N, %lld])", buf, (long long)k);
    }
    free(v);
    bind_alias(im, oname, x->tid, x->flat || t->h * t->w > 1);
    return ST_OK;
}

/* Gemm and MatMul: y = alpha A B' + beta C as a dense layer. */
static int op_dense(imp *im, const Onnx__NodeProto *nd, int gemm)
{
    attrs a = {nd, 0};
    binding *x;
    const Onnx__TensorProto *Bt, *Ct = NULL;
    const char *oname;
    int rc;
    double alpha = 1, beta = 1;
    int64_t ta = 0, tb = 0;
    if ((rc = in_tensor(im, nd, 0, &x)) || (rc = in_const(im, nd, 1, 0, &Bt))) return rc;
    if (gemm && (rc = in_const(im, nd, 2, 1, &Ct))) return rc;
    if (!gemm && nd->n_input > 2) return nerr(im, "expects 2 inputs");
    if ((rc = out_name(im, nd, &oname))) return rc;
    if (gemm && ((rc = attr_float(im, &a, "alpha", 1, &alpha)) || (rc = attr_float(im, &a, "beta", 1, &beta)) ||
                 (rc = attr_int(im, &a, "transA", 0, &ta)) || (rc = attr_int(im, &a, "transB", 0, &tb))))
        return rc;
    if ((rc = attrs_check(im, &a))) return rc;
    if (ta) return nerr(im, "unsupported attribute 'transA' = %lld (only 0)", (long long)ta);
    const qnn_tensor *t = tens(im, x);
    if (!x->flat && t->h * t->w != 1) return nerr(im, "expects a 2-d input [N, K]; flatten the %dx%dx%d map first",
                                                   (int)t->h, (int)t->w, (int)t->c);
    int64_t K = (int64_t)t->h * t->w * t->c;
    if (Bt->n_dims != 2) return nerr(im, "weights must be 2-d");
    int64_t kb = tb ? Bt->dims[1] : Bt->dims[0], M = tb ? Bt->dims[0] : Bt->dims[1];
    if (kb != K) return nerr(im, "weights expect %lld inputs but the input has %lld", (long long)kb, (long long)K);
    if (M < 1 || M > MAX_DIM) return nerr(im, "weights have an invalid shape");
    if (K > 65535) return nerr(im, "%lld inputs exceed 65535, the int32-exact bound", (long long)K);
    double *w, *cv = NULL;
    int64_t nw, nc = 0;
    if ((rc = const_doubles(im, Bt, &w, &nw))) return rc;
    if (Ct) {
        if ((rc = const_doubles(im, Ct, &cv, &nc))) {
            free(w);
            return rc;
        }
        int ok = nc == 1 || (nc == M && Ct->n_dims >= 1 && Ct->dims[Ct->n_dims - 1] == M);
        if (!ok) {
            free(w);
            free(cv);
            return nerr(im, "bias of %lld values does not broadcast over %lld outputs", (long long)nc, (long long)M);
        }
    }
    qnn_conv_shape s = {0};
    s.h = s.kh = t->h;
    s.w = s.kw = t->w;
    s.cin = t->c;
    s.cout = (int32_t)M;
    s.stride_h = s.stride_w = 1;
    qnn_conv_shape_finish(&s);
    int tid = x->tid;
    qnn_node *qn = qnn_model_add_node(im->m, QNN_OP_CONV, im->node_name, gemm ? "Gemm" : "MatMul");
    qn->dense = 1;
    qn->shape = s;
    qn->n_in = 1;
    qn->in[0] = tid;
    qn->weight = xmalloc((size_t)M * K * sizeof(float));
    qn->bias = xcalloc((size_t)M, sizeof(float));
    const int64_t hw = (int64_t)s.h * s.w;
    for (int64_t co = 0; co < M; co++) {
        for (int64_t k = 0; k < K; k++) {
            /* ONNX flattens NCHW: k = c*H*W + y*W + x; ours is (co, y, x, c) */
            int64_t c = k / hw, yx = k % hw;
            double v = tb ? w[co * K + k] : w[k * M + co];
            qn->weight[(co * hw + yx) * s.cin + c] = (float)(alpha * v);
        }
        if (cv) qn->bias[co] = (float)(beta * cv[nc == 1 ? 0 : co]);
    }
    free(w);
    free(cv);
    bind_new(im, oname, qn, 1, 1, (int32_t)M);
    return ST_OK;
}

static int op_constant(imp *im, const Onnx__NodeProto *nd)
{
    attrs a = {nd, 0};
    const char *oname;
    int rc;
    if ((rc = out_name(im, nd, &oname))) return rc;
    const Onnx__AttributeProto *v = attr(&a, "value");
    if ((rc = attrs_check(im, &a))) return rc;
    if (!v || !v->t || !attr_is(v, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, 1))
        return nerr(im, "only a tensor 'value' is supported");
    binding *b = bind(im, oname);
    b->is_const = 1;
    b->cst = v->t;
    return ST_OK;
}

static int input_shape(imp *im, const Onnx__ValueInfoProto *vi, int64_t dims[4])
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type->shape)
        return msg_error(ST_EFORMAT, "%s: input '%s' has no tensor shape", im->path, vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return msg_error(ST_EFORMAT, "%s: input '%s' has element type %d; only float is supported", im->path,
                         vi->name, (int)tt->elem_type);
    if (tt->shape->n_dim != 4)
        return msg_error(ST_EFORMAT, "%s: input '%s' has %zu dimensions; expected [N, C, H, W]", im->path, vi->name,
                         tt->shape->n_dim);
    for (int i = 0; i < 4; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        dims[i] = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? d->dim_value : -1;
        if (i > 0 && (dims[i] < 1 || dims[i] > MAX_DIM))
            return msg_error(ST_EFORMAT, "%s: input '%s': dimension %d must be a fixed positive size", im->path,
                             vi->name, i + 1);
    }
    return ST_OK;
}

static int check_output(imp *im, const Onnx__ValueInfoProto *vi, const binding *b)
{
    const qnn_tensor *t = tens(im, b);
    const Onnx__TypeProto *tp = vi->type;
    if (b->flat && t->h * t->w > 1)
        return msg_error(ST_EFORMAT, "%s: output '%s' is a flattened %dx%d map, which is unsupported", im->path,
                         vi->name, (int)t->h, (int)t->w);
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type->shape) return ST_OK;
    const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
    int64_t want2[2] = {-1, (int64_t)t->c}, want4[4] = {-1, t->c, t->h, t->w};
    const int64_t *want = sh->n_dim == 2 ? want2 : want4;
    int ok = sh->n_dim == 4 || (sh->n_dim == 2 && t->h == 1 && t->w == 1);
    for (size_t i = 1; ok && i < sh->n_dim; i++)
        if (sh->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && sh->dim[i]->dim_value != want[i])
            ok = 0;
    if (!ok)
        return msg_error(ST_EFORMAT, "%s: output '%s' is declared with a shape that differs from the inferred %dx%dx%d",
                         im->path, vi->name, (int)t->h, (int)t->w, (int)t->c);
    return ST_OK;
}

/* Every name the importer looks up is present, counts are bounded, and names that must be unique are:
 * checked once here so that nothing later dereferences a missing field. */
static int check_structure(imp *im, const Onnx__GraphProto *g)
{
    if (g->n_node > MAX_NODES || g->n_initializer > MAX_INITIALIZERS || g->n_input > MAX_GRAPH_VALUES ||
        g->n_output > MAX_GRAPH_VALUES)
        return msg_error(ST_EFORMAT, "%s: the graph has %zu nodes, %zu initializers, %zu inputs and %zu outputs; "
                         "at most %d of each are supported", im->path, g->n_node, g->n_initializer, g->n_input,
                         g->n_output, MAX_NODES);
    for (size_t i = 0; i < g->n_input; i++)
        if (!g->input[i]->name || !g->input[i]->name[0])
            return msg_error(ST_EFORMAT, "%s: graph input %zu has no name", im->path, i + 1);
    for (size_t i = 0; i < g->n_output; i++)
        if (!g->output[i]->name || !g->output[i]->name[0])
            return msg_error(ST_EFORMAT, "%s: graph output %zu has no name", im->path, i + 1);
    for (size_t i = 0; i < g->n_initializer; i++) {
        const char *n = g->initializer[i]->name;
        if (!n || !n[0]) return msg_error(ST_EFORMAT, "%s: initializer %zu has no name", im->path, i + 1);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(g->initializer[j]->name, n))
                return msg_error(ST_EFORMAT, "%s: initializers %zu and %zu are both named '%s'", im->path, j + 1,
                                 i + 1, n);
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *nd = g->node[i];
        const char *nn = nd->name && *nd->name ? nd->name : NULL;
        if (nd->n_input > MAX_NODE_INPUTS || nd->n_attribute > MAX_ATTRIBUTES)
            return msg_error(ST_EFORMAT, "%s: node %zu%s%s%s has %zu inputs and %zu attributes; at most %d and %d "
                             "are supported", im->path, i + 1, nn ? " ('" : "", nn ? nn : "", nn ? "')" : "",
                             nd->n_input, nd->n_attribute, MAX_NODE_INPUTS, MAX_ATTRIBUTES);
        for (size_t k = 0; k < nd->n_attribute; k++) {
            const char *an = nd->attribute[k]->name;
            if (!an || !an[0])
                return msg_error(ST_EFORMAT, "%s: node %zu%s%s%s: attribute %zu has no name", im->path, i + 1,
                                 nn ? " ('" : "", nn ? nn : "", nn ? "')" : "", k + 1);
            for (size_t j = 0; j < k; j++)
                if (!strcmp(nd->attribute[j]->name, an))
                    return msg_error(ST_EFORMAT, "%s: node %zu%s%s%s: attribute '%s' is given twice", im->path,
                                     i + 1, nn ? " ('" : "", nn ? nn : "", nn ? "')" : "", an);
        }
    }
    return ST_OK;
}

static int import_graph(imp *im, const Onnx__ModelProto *mp)
{
    const Onnx__GraphProto *g = mp->graph;
    int rc;
    if (!g) return msg_error(ST_EFORMAT, "%s: the model has no graph", im->path);
    if ((rc = check_structure(im, g))) return rc;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain;
        if (d && *d && strcmp(d, "ai.onnx"))
            return msg_error(ST_EFORMAT, "%s: operator set domain '%s' is unsupported", im->path, d);
    }
    if (g->n_sparse_initializer) return msg_error(ST_EFORMAT, "%s: sparse initializers are unsupported", im->path);
    for (size_t i = 0; i < g->n_initializer; i++) {
        binding *b = bind(im, g->initializer[i]->name);
        b->is_const = 1;
        b->cst = g->initializer[i];
    }
    /* the image input: the graph input that is not an initializer */
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < g->n_input; i++) {
        binding *b = lookup(im, g->input[i]->name);
        if (b && b->is_const) continue;
        if (in) return msg_error(ST_EFORMAT, "%s: the graph has more than one input ('%s', '%s')", im->path, in->name,
                                 g->input[i]->name);
        in = g->input[i];
    }
    if (!in) return msg_error(ST_EFORMAT, "%s: the graph has no input", im->path);
    if (g->n_output != 1) return msg_error(ST_EFORMAT, "%s: the graph has %zu outputs; expected 1", im->path, g->n_output);
    int64_t dims[4];
    if ((rc = input_shape(im, in, dims))) return rc;
    im->m->input = qnn_model_add_tensor(im->m, in->name, (int32_t)dims[2], (int32_t)dims[3], (int32_t)dims[1]);
    set_producer(im, im->m->input, -1);
    bind(im, in->name)->tid = im->m->input;

    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_input; k++) count_consumer(im, g->node[i]->input[k]);
    count_consumer(im, g->output[0]->name);

    char fallback[32];
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *nd = g->node[i];
        snprintf(fallback, sizeof fallback, "#%zu", i);
        im->node_name = nd->name && *nd->name ? nd->name : nd->n_output && *nd->output[0] ? nd->output[0] : fallback;
        im->node_op = nd->op_type ? nd->op_type : "";
        const char *op = im->node_op;
        static const struct {
            const char *name;
            size_t lo, hi; /* input count */
        } ops[] = {{"Conv", 2, 3},       {"BatchNormalization", 5, 5}, {"Relu", 1, 1},    {"Clip", 1, 3},
                   {"Add", 2, 2},        {"MaxPool", 1, 1},            {"AveragePool", 1, 1},
                   {"GlobalAveragePool", 1, 1}, {"Flatten", 1, 1},     {"Reshape", 2, 2}, {"Gemm", 2, 3},
                   {"MatMul", 2, 2},     {"Constant", 0, 0}};
        int k = -1;
        for (int j = 0; j < (int)(sizeof ops / sizeof ops[0]); j++)
            if (!strcmp(op, ops[j].name)) k = j;
        if (nd->domain && *nd->domain && strcmp(nd->domain, "ai.onnx"))
            rc = nerr(im, "unsupported operator (domain '%s')", nd->domain);
        else if (k < 0)
            rc = nerr(im, "unsupported operator");
        else
            rc = n_inputs(im, nd, ops[k].lo, ops[k].hi);
        if (rc) return rc;
        switch (k) {
        case 0: rc = op_conv(im, nd); break;
        case 1: rc = op_batchnorm(im, nd); break;
        case 2: rc = op_relu(im, nd); break;
        case 3: rc = op_clip(im, nd); break;
        case 4: rc = op_add(im, nd); break;
        case 5: rc = op_pool(im, nd, 1, 0); break;
        case 6: rc = op_pool(im, nd, 0, 0); break;
        case 7: rc = op_pool(im, nd, 0, 1); break;
        case 8: rc = op_flatten(im, nd); break;
        case 9: rc = op_reshape(im, nd); break;
        case 10: rc = op_dense(im, nd, 1); break;
        case 11: rc = op_dense(im, nd, 0); break;
        default: rc = op_constant(im, nd); break;
        }
        if (rc) return rc;
    }
    binding *ob = lookup(im, g->output[0]->name);
    if (!ob || ob->is_const)
        return msg_error(ST_EFORMAT, "%s: output '%s' is not computed by the graph", im->path, g->output[0]->name);
    if (ob->tid == im->m->input) return msg_error(ST_EFORMAT, "%s: the graph computes nothing", im->path);
    if ((rc = check_output(im, g->output[0], ob))) return rc;
    im->m->output = ob->tid;
    if (qnn_model_n_layers(im->m) == 0) return msg_error(ST_EFORMAT, "%s: the graph has no Conv, Gemm or MatMul", im->path);
    return ST_OK;
}

/* Base-128 varint at *pos (< end); 0 when truncated or longer than 10 bytes. */
static int pb_varint(const uint8_t *buf, size_t end, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70 && *pos < end; shift += 7) {
        uint8_t b = buf[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

/* Deepest message nesting in a serialized ModelProto, walked iteratively with the descriptors (fields
 * unknown to the schema are skipped, as protobuf-c does). Returns -1 when the nesting exceeds
 * MAX_PB_DEPTH; malformed wire data ends the walk early (the unpacker reports it). */
static int pb_depth_ok(const uint8_t *buf, size_t len)
{
    struct {
        const ProtobufCMessageDescriptor *d;
        size_t end;
    } st[MAX_PB_DEPTH + 1];
    int top = 0;
    st[0].d = &onnx__model_proto__descriptor;
    st[0].end = len;
    size_t pos = 0;
    for (;;) {
        while (top > 0 && pos >= st[top].end) top--;
        if (pos >= st[top].end) return 1;
        uint64_t key, v;
        if (!pb_varint(buf, st[top].end, &pos, &key)) return 1;
        switch (key & 7) {
        case 0:
            if (!pb_varint(buf, st[top].end, &pos, &v)) return 1;
            break;
        case 1:
            pos += 8;
            break;
        case 5:
            pos += 4;
            break;
        case 2: {
            if (!pb_varint(buf, st[top].end, &pos, &v) || v > st[top].end - pos) return 1;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(st[top].d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (top == MAX_PB_DEPTH) return 0;
                top++;
                st[top].d = f->descriptor;
                st[top].end = pos + v;
            } else {
                pos += v;
            }
            break;
        }
        default:
            return 1; /* groups are not part of ONNX: the unpacker refuses them */
        }
    }
}

int onnx_import_buffer(const void *data, size_t len, const char *name, qnn_model **out)
{
    if (!pb_depth_ok(data, len))
        return msg_error(ST_EFORMAT, "%s: protobuf messages nested deeper than %d", name, MAX_PB_DEPTH);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) return msg_error(ST_EPARSE, "%s: not a valid ONNX model (protobuf parse failed)", name);
    imp im = {0};
    im.path = name;
    im.m = qnn_model_alloc(name);
    int rc = import_graph(&im, mp);
    free(im.b);
    free(im.cons_name);
    free(im.cons_count);
    free(im.producer);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (rc) {
        qnn_model_free(im.m);
        return rc;
    }
    qnn_model_finish(im.m);
    *out = im.m;
    return ST_OK;
}

int onnx_import_file(const char *path, qnn_model **out)
{
    char *data;
    size_t len;
    int rc = afile_read_all(path, &data, &len);
    if (rc) return rc;
    rc = onnx_import_buffer(data, len, path, out);
    free(data);
    return rc;
}
