/* ONNX import and a float forward pass of one image, seeded from a tiny valid model (conv, relu,
 * pools, add, flatten, gemm: tests/fuzz/mkonnx.c): every model that imports must run. Models whose
 * pass would take long (over 2 M multiply-accumulates or 1 M activations) are imported only. */
#include <stdlib.h>

#include "fuzz.h"
#include "msg.h"
#include "onnx_import.h"
#include "qnn_model.h"
#include "status.h"

FUZZ_ENTRY(onnx_fwd)
{
    fuzz_quiet();
    qnn_model *m = NULL;
    if (onnx_import_buffer(data, size, "fuzz.onnx", &m) != ST_OK) return 0;
    uint64_t macs = 0, acts = 0;
    for (int i = 0; i < m->n_nodes; i++) macs += qnn_model_node_macs(&m->nodes[i]);
    for (int t = 0; t < m->n_tensors; t++)
        acts += (uint64_t)m->tensors[t].h * (uint64_t)m->tensors[t].w * (uint64_t)m->tensors[t].c;
    if (macs <= 2000000 && acts <= 1000000) {
        const qnn_tensor *in = &m->tensors[m->input];
        size_t npx = (size_t)in->h * (size_t)in->w * (size_t)in->c;
        uint8_t *px = xmalloc(npx + 1);
        for (size_t i = 0; i < npx; i++) px[i] = (uint8_t)(i * 37 + 11);
        int32_t nout = qnn_model_n_out(m);
        float *logits = xmalloc(((size_t)nout + 1) * sizeof *logits);
        qnn_model_predict(m, px, 1, 1, logits, NULL);
        fuzz_accepted++;
        free(logits);
        free(px);
    }
    qnn_model_free(m);
    return 0;
}
