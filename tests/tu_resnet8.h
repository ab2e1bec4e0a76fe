/* The ResNet-8 test fixture shared by the Check tests that need the reference model and CIFAR-10
 * (test_approx.c, test_sens.c): the int8 network quantized on 50 calibration images, its layers, the
 * first N test images, the calibration set and the default multiplier library, loaded once in main()
 * (the tests run in forked children that inherit them).
 *
 *   static tu_resnet8 g;
 *   static Suite *suite(int with_data) { ... data tests only when with_data ... }
 *   int main(void) { return tu_resnet8_main(&g, 150, suite); }
 *
 * Without the data, only the data-free tests run, and the program then exits 77 (skipped) if they pass. */
#ifndef TESTS_TU_RESNET8_H
#define TESTS_TU_RESNET8_H

#include "approx.h"
#include "qnn_quant.h"
#include "tu.h"

#define TU_RESNET8_MODEL "models/resnet8_mlperf_float.onnx"
#define TU_RESNET8_TEST "cifar10/cifar-10-batches-bin/test_batch.bin"
#define TU_RESNET8_CALIB "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:50"

typedef struct tu_resnet8 {
    qnn_int8_net *net;
    amap_layer *layers; /* net->n_layers */
    cifar_set set, cal; /* test records 0..n-1; the calibration records */
    amul_lib lib;
} tu_resnet8;

static inline void tu_resnet8_free(tu_resnet8 *f)
{
    free(f->layers);
    amul_lib_deinit(&f->lib);
    cifar_set_deinit(&f->set);
    cifar_set_deinit(&f->cal);
    qnn_int8_net_free(f->net);
    memset(f, 0, sizeof *f);
}

static inline int tu_resnet8_main(tu_resnet8 *f, int n_test, Suite *(*suite)(int with_data))
{
    char *model = datadir_resolve(TU_RESNET8_MODEL), *test = datadir_resolve(TU_RESNET8_TEST);
    const int with_data = access(model, R_OK) == 0 && access(test, R_OK) == 0;
    free(model);
    free(test);
    if (!with_data) {
        printf("SKIP: model or CIFAR-10 absent: running the data-free tests only\n");
        return tu_run(suite(0)) ? 1 : 77;
    }
    qnn_quant_opts qo = qnn_quant_opts_default();
    qo.threads = 2;
    char range[sizeof TU_RESNET8_TEST + 32];
    snprintf(range, sizeof range, "%s:0:%d", TU_RESNET8_TEST, n_test);
    if (qnn_quant_load(TU_RESNET8_MODEL, TU_RESNET8_CALIB, &qo, NULL, &f->net) || cifar_load_range(range, &f->set) ||
        cifar_load_range(TU_RESNET8_CALIB, &f->cal) || approx_lib_load(NULL, &f->lib))
        return 1;
    f->layers = xcalloc((size_t)f->net->n_layers, sizeof *f->layers);
    approx_layers_from_net(f->net, f->layers);
    int rc = tu_run(suite(1));
    tu_resnet8_free(f);
    return rc;
}

#endif
