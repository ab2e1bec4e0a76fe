/* ONNX import (onnx_import_buffer: protobuf decoding, graph, attributes, initializers), seeded from the
 * reference ResNet-8. */
#include "fuzz.h"
#include "onnx_import.h"
#include "qnn_model.h"
#include "status.h"

FUZZ_ENTRY(onnx)
{
    fuzz_quiet();
    qnn_model *m = NULL;
    if (onnx_import_buffer(data, size, "fuzz.onnx", &m) != ST_OK) return 0;
    fuzz_accepted++;
    qnn_model_free(m);
    return 0;
}
