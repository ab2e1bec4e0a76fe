## int8 network: ONNX import, float reference, quantization, graph executor, CIFAR-10 (owner: engine).
approxmap_SOURCES += src/cli/cmd_info.c src/cli/cmd_eval.c src/cli/cmd_quantize.c
src_libcore_a_SOURCES += src/engine/cifar.h src/engine/cifar.c src/engine/onnx_import.h src/engine/onnx_import.c \
	src/engine/qnn_model.h src/engine/qnn_model.c src/engine/qnn_quant.h src/engine/qnn_quant.c src/engine/qnn_int8.h src/engine/qnn_int8.c \
	src/engine/qnn_yaml.h src/engine/qnn_yaml.c
# ONNX's schema is compiled by protoc-c into the build tree (never distributed: it comes from
# libonnx-dev, see configure's --with-onnx-proto).
nodist_src_libcore_a_SOURCES = src/onnx.pb-c.c src/onnx.pb-c.h
BUILT_SOURCES += src/onnx.pb-c.c src/onnx.pb-c.h
CLEANFILES += src/onnx.pb-c.c src/onnx.pb-c.h
src/onnx.pb-c.h: src/onnx.pb-c.c
# so that building a single target (not only all/check) generates the header first
src/engine/onnx_import.$(OBJEXT) tests/test_onnx-test_onnx.$(OBJEXT): src/onnx.pb-c.h
src/onnx.pb-c.c: $(ONNX_PROTO)
	$(AM_V_GEN)$(MKDIR_P) src && \
	  $(PROTOC_C) --c_out=src --proto_path="`dirname '$(ONNX_PROTO)'`" '$(ONNX_PROTO)'

check_PROGRAMS += tests/test_cifar tests/test_onnx tests/test_quant tests/test_int8
tests_test_cifar_SOURCES = tests/test_cifar.c tests/tu.h
tests_test_cifar_CFLAGS = $(TEST_CFLAGS)
tests_test_cifar_LDADD = $(TEST_LIBS)
tests_test_onnx_SOURCES = tests/test_onnx.c tests/tu.h
tests_test_onnx_CFLAGS = $(TEST_CFLAGS)
tests_test_onnx_LDADD = $(TEST_LIBS)
tests_test_quant_SOURCES = tests/test_quant.c tests/tu.h
tests_test_quant_CFLAGS = $(TEST_CFLAGS)
tests_test_quant_LDADD = $(TEST_LIBS)
tests_test_int8_SOURCES = tests/test_int8.c tests/tu.h
tests_test_int8_CFLAGS = $(TEST_CFLAGS)
tests_test_int8_LDADD = $(TEST_LIBS)
TESTS += tests/cli_engine.sh
EXTRA_DIST += tests/cli_engine.sh tests/qnn_yaml_ref.py
