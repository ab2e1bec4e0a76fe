/* ONNX import (protobuf-c over ONNX's own schema) into the float graph of qnn_model.h.
 *
 * Supported (ai.onnx domain; anything else is rejected with "MODEL: node 'x' (op Foo): ..." naming
 * the node and what is unsupported):
 *   Conv                dilations 1, group 1, auto_pad NOTSET, any strides, symmetric or asymmetric pads;
 *                       weights (and bias) must be initializers or Constant outputs
 *   BatchNormalization  inference form, folded into the Conv that directly precedes it (only consumer)
 *   Relu, Clip          fused into their producer as an output clamp when they are its only consumer,
 *                       a standalone clamp otherwise (Clip bounds from attributes or constant inputs)
 *   Add                 of two tensors of one shape (no broadcasting), or of a constant that is the bias
 *                       of the preceding Conv / Gemm / MatMul (folded)
 *   MaxPool, AveragePool (ceil_mode 0, dilations 1, auto_pad NOTSET), GlobalAveragePool
 *   Flatten (axis 1), Reshape (only to [N, C*H*W])
 *   Gemm (transA 0, alpha, beta, transB), MatMul with a constant right operand (+ a following Add)
 *   Constant (a tensor value)
 * The graph has one float input [N, C, H, W] (N may be symbolic) and one output; every tensor's
 * shape is inferred and a declared output shape is checked against it. Layers are limited to
 * KH*KW*Cin <= 65535 taps, which keeps int32 accumulation of int8 (and 8-bit-table) products exact
 * (see qnn_conv.h). */
#ifndef SRC_ONNX_IMPORT_H
#define SRC_ONNX_IMPORT_H

#include <stddef.h>

#include "qnn_model.h"

/* Read `path` (used as given; resolve with datadir_resolve() first if needed) into *out.
 * Returns ST_OK, ST_EIO (unreadable), ST_EPARSE (not a valid ONNX protobuf) or ST_EFORMAT
 * (unsupported operator, attribute or shape), each reported. Caller frees with qnn_model_free(). */
int onnx_import_file(const char *path, qnn_model **out);

/* Same from a serialized ModelProto in memory; `name` is used in messages. */
int onnx_import_buffer(const void *data, size_t len, const char *name, qnn_model **out);

#endif
