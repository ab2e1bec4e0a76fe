## int8 network: ONNX import, float reference, quantization, graph executor, CIFAR-10 (owner: engine).
approxmap_SOURCES += src/cmd_info.c src/cmd_eval.c src/cmd_quantize.c
