/*
 * fuzz_tflite.c - libFuzzer target for the TFLite reader and interpreter:
 * arbitrary bytes through ps_tfl_parse and ps_nn_model_new; a model that
 * loads and is small enough to run quickly is run once with the AVX2
 * kernels and once with the reference kernels on a pattern input, and the
 * two outputs must be byte-identical.  Inputs of odd length run with the
 * xnnpack arithmetic option, even ones with TFLite's reference arithmetic.
 * Build with clang -DPICSEEK_FUZZ=ON;
 * seeds: fuzz/seeds/fuzz_tflite and the models in shared/models.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nn/interp.h"
#include "nn/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A rough count of inner-loop steps, so that the fuzzer does not spend its
 * time on one huge (but valid) convolution. */
static double work(const ps_tfl_model *t)
{
    double w = 0;
    for (int i = 0; i < t->nops; i++) {
        const ps_tfl_op *op = &t->ops[i];
        const ps_tfl_tensor *out = &t->tensors[op->outputs[0]];
        double n = (double)out->count;
        if ((op->code == PS_TFL_OP_CONV_2D || op->code == PS_TFL_OP_DEPTHWISE_CONV_2D) &&
            op->ninputs > 1 && op->inputs[1] >= 0 && out->ndim > 0)
            n *= (double)t->tensors[op->inputs[1]].count / out->dims[out->ndim - 1];
        else if (op->code == PS_TFL_OP_AVERAGE_POOL_2D)
            n *= (double)op->opt.pool.filter_w * op->opt.pool.filter_h;
        else if (op->code == PS_TFL_OP_ARG_MAX || op->code == PS_TFL_OP_SOFTMAX)
            n *= 64;
        w += n;
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_error err;
    ps_tfl_model *t = ps_tfl_parse(data, size, "fuzz.tflite", &err);
    if (!t)
        return 0;
    double steps = work(t);
    ps_nn_options opt = {.xnnpack = (int)(size & 1), .softmax_table = (int)(size & 1)};
    ps_nn_model *m = ps_nn_model_new(t, &opt, &err);
    if (!m)
        return 0;
    const ps_tfl_model *tm = ps_nn_model_tfl(m);
    const ps_tfl_tensor *in = &tm->tensors[ps_nn_input(m, 0)];
    if (steps < 2e7 && ps_nn_arena_bytes(m) <= ((size_t)16 << 20) && in->nbytes <= (1u << 20)) {
        unsigned char *x = ps_xmalloc(in->nbytes ? in->nbytes : 1);
        for (size_t i = 0; i < in->nbytes; i++)
            x[i] = (unsigned char)(i * 131 + 7);
        ps_nn_workspace *fast = ps_nn_workspace_new(m, 1);
        ps_nn_workspace *ref = ps_nn_workspace_new(m, 1);
        ps_nn_workspace_set_reference(ref, 1);
        if (ps_nn_run(m, fast, x, in->nbytes, &err) != 0 ||
            ps_nn_run(m, ref, x, in->nbytes, &err) != 0)
            __builtin_trap();
        for (int k = 0; k < tm->noutputs; k++) {
            size_t na, nb;
            const void *a = ps_nn_tensor_data(m, fast, tm->outputs[k], &na);
            const void *b = ps_nn_tensor_data(m, ref, tm->outputs[k], &nb);
            if (!a || !b || na != nb || memcmp(a, b, na) != 0)
                __builtin_trap(); /* the AVX2 and reference kernels disagree */
        }
        ps_nn_workspace_free(fast);
        ps_nn_workspace_free(ref);
        free(x);
    }
    ps_nn_model_free(m);
    return 0;
}
