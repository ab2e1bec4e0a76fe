/* The shared CNN set-up (approx_cnn.h). */
#include "approx_cnn.h"

#include <stdlib.h>
#include <string.h>

#include "approx.h"
#include "cifar.h"
#include "msg.h"
#include "status.h"

approx_cnn_opts approx_cnn_opts_default(void)
{
    return (approx_cnn_opts){.qo = qnn_quant_opts_default(), .with_library = 1, .compensate = -1};
}

void approx_cnn_close(approx_cnn *c)
{
    if (!c) return;
    approx_comp_deinit(&c->comp);
    energy_model_deinit(&c->em);
    free(c->layers);
    amul_lib_deinit(&c->lib);
    qnn_int8_net_free(c->net);
    qnn_model_free(c->fmodel);
    memset(c, 0, sizeof *c);
}

int approx_cnn_open(approx_cnn *c, const approx_cnn_opts *o)
{
    memset(c, 0, sizeof *c);
    int rc = qnn_quant_load(o->model, o->calib, &o->qo, o->want_float ? &c->fmodel : NULL, &c->net);
    if (rc) goto fail;
    const int32_t n_out = qnn_int8_n_out(c->net);
    if (n_out != CIFAR_CLASSES) {
        rc = o->where ? msg_error(ST_EFORMAT, "%s: model '%s' has %d outputs; CIFAR-10 needs 10", o->where, o->model,
                                  (int)n_out)
                      : msg_error(ST_EFORMAT, "%s: the model has %d outputs; CIFAR-10 needs 10", o->model, (int)n_out);
        goto fail;
    }
    if (!o->with_library) return ST_OK;
    if ((rc = approx_lib_load(o->library, &c->lib))) goto fail;
    c->has_lib = 1;
    c->n_layers = c->net->n_layers;
    c->layers = xcalloc((size_t)c->n_layers + 1, sizeof *c->layers);
    approx_layers_from_net(c->net, c->layers);
    if (o->energy) {
        if ((rc = energy_model_load(o->energy, &c->lib, c->layers, c->n_layers, &c->em))) goto fail;
        c->has_em = 1;
    }
    if (o->compensate >= 0) {
        /* the exact network's activation distributions on the calibration (training) images */
        cifar_set cal = {0};
        if ((rc = cifar_load_range(o->calib, &cal))) goto fail;
        rc = approx_comp_init(&c->comp, c->net, c->layers, &c->lib, &cal, o->compensate, o->threads);
        cifar_set_deinit(&cal);
        if (rc) goto fail;
        c->has_comp = 1;
    }
    return ST_OK;
fail:
    approx_cnn_close(c);
    return rc ? rc : ST_EINVAL;
}
