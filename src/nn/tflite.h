/*
 * tflite.h - a validating reader for TensorFlow Lite model files.
 *
 * A .tflite file is a FlatBuffer (schema: tensorflow/lite/schema/schema.fbs).
 * This module reads the subset picseek needs - the first subgraph's tensors
 * (shape, type, constant data, quantization) and operators (opcode, inputs,
 * outputs, builtin options) - into plain C structs, checking as it goes
 * every offset, vtable, vector length and string against the file's bounds,
 * and every value against what the kernels accept: dimensions, buffer sizes,
 * tensor and operator indices, option values, quantization parameters.  A
 * damaged or hostile file gives an error "FILE: byte offset N: reason" and
 * never a read outside the file.
 *
 * What is checked here is what a single table can tell; the interpreter
 * (interp.h) checks what needs the whole graph (shapes across operators,
 * tensor lifetimes).
 *
 * Ownership: ps_tfl_model owns a copy of the file's bytes; tensor data and
 * names point into that copy and live as long as the model.  Free with
 * ps_tfl_free().
 */
#ifndef PS_NN_TFLITE_H
#define PS_NN_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define PS_TFL_MAX_DIMS 6
#define PS_TFL_MAX_OP_INPUTS 16
#define PS_TFL_MAX_OP_OUTPUTS 4
#define PS_TFL_MAX_GRAPH_IO 16
#define PS_TFL_MAX_TENSORS 16384
#define PS_TFL_MAX_OPS 16384
#define PS_TFL_MAX_FILE_BYTES ((size_t)512 << 20)
#define PS_TFL_MAX_DIM 65536                       /* one dimension */
#define PS_TFL_MAX_TENSOR_BYTES ((size_t)1 << 30) /* one tensor */

/* TensorType values of the schema. */
enum {
    PS_TFL_FLOAT32 = 0,
    PS_TFL_FLOAT16 = 1,
    PS_TFL_INT32 = 2,
    PS_TFL_UINT8 = 3,
    PS_TFL_INT64 = 4,
    PS_TFL_STRING = 5,
    PS_TFL_BOOL = 6,
    PS_TFL_INT16 = 7,
    PS_TFL_INT8 = 9,
    PS_TFL_FLOAT64 = 10,
};

/* BuiltinOperator codes of the operators picseek runs. */
enum {
    PS_TFL_OP_ADD = 0,
    PS_TFL_OP_AVERAGE_POOL_2D = 1,
    PS_TFL_OP_CONCATENATION = 2,
    PS_TFL_OP_CONV_2D = 3,
    PS_TFL_OP_DEPTHWISE_CONV_2D = 4,
    PS_TFL_OP_RESHAPE = 22,
    PS_TFL_OP_RESIZE_BILINEAR = 23,
    PS_TFL_OP_SOFTMAX = 25,
    PS_TFL_OP_ARG_MAX = 56,
    PS_TFL_OP_QUANTIZE = 114,
};

/* Fused activations (ActivationFunctionType) and paddings. */
enum { PS_TFL_ACT_NONE = 0, PS_TFL_ACT_RELU = 1, PS_TFL_ACT_RELU_N1_TO_1 = 2, PS_TFL_ACT_RELU6 = 3 };
enum { PS_TFL_PAD_SAME = 0, PS_TFL_PAD_VALID = 1 };

typedef struct ps_tfl_tensor {
    int ndim;                        /* 0 for a scalar */
    int32_t dims[PS_TFL_MAX_DIMS];   /* each 1..PS_TFL_MAX_DIM */
    size_t count;                    /* product of dims (1 for a scalar) */
    size_t nbytes;                   /* count * element size */
    int type;                        /* PS_TFL_FLOAT32 ... */
    const unsigned char *data;       /* constant contents (nbytes), or NULL */
    const char *name;                /* NUL-terminated, inside the model bytes */
    int quantized;                   /* scale and zero_point are set */
    float scale;                     /* > 0, finite */
    int32_t zero_point;              /* within the type's range */
    size_t offset;                   /* byte offset of its table, for messages */
} ps_tfl_tensor;

typedef struct ps_tfl_op {
    int code;    /* builtin operator code, PS_TFL_OP_... */
    int version;
    int ninputs, noutputs;
    int32_t inputs[PS_TFL_MAX_OP_INPUTS];   /* tensor index, or -1 for "absent" */
    int32_t outputs[PS_TFL_MAX_OP_OUTPUTS]; /* tensor index */
    union {
        struct { /* CONV_2D, DEPTHWISE_CONV_2D */
            int padding, stride_w, stride_h, activation;
            int dilation_w, dilation_h, depth_multiplier;
        } conv;
        struct { /* AVERAGE_POOL_2D */
            int padding, stride_w, stride_h, filter_w, filter_h, activation;
        } pool;
        struct { float beta; } softmax;
        struct { int axis, activation; } concat;
        struct { int activation; } add;
        struct { int align_corners, half_pixel_centers; } resize;
        struct { int output_type; } argmax;
        struct { int ndim; int32_t shape[PS_TFL_MAX_DIMS]; int present; } reshape;
    } opt;
    size_t offset; /* byte offset of its table, for messages */
} ps_tfl_op;

typedef struct ps_tfl_model {
    char *path;           /* the name used in messages */
    unsigned char *bytes; /* the file contents (owned) */
    size_t len;
    uint32_t version;     /* schema version, 3 */
    ps_tfl_tensor *tensors;
    int ntensors;
    ps_tfl_op *ops;
    int nops;
    int32_t inputs[PS_TFL_MAX_GRAPH_IO];
    int ninputs;
    int32_t outputs[PS_TFL_MAX_GRAPH_IO];
    int noutputs;
} ps_tfl_model;

/* Read and validate a model file.  NULL with "path: byte offset N: reason"
 * on any problem. */
ps_tfl_model *ps_tfl_read(const char *path, ps_error *err);

/* The same from bytes in memory (copied); name is used in messages. */
ps_tfl_model *ps_tfl_parse(const void *bytes, size_t len, const char *name, ps_error *err);

void ps_tfl_free(ps_tfl_model *m);

/* Upper-case schema name of a builtin operator ("CONV_2D"), or NULL when
 * the code is not one this reader knows by name. */
const char *ps_tfl_op_name(int code);
/* Schema name of a TensorType ("UINT8"), or "unknown". */
const char *ps_tfl_type_name(int type);
/* Size in bytes of one element, 0 for types without a fixed size. */
size_t ps_tfl_type_size(int type);

/* Index of the tensor with exactly this name, or -1. */
int ps_tfl_find_tensor(const ps_tfl_model *m, const char *name);
/* Index of the operator that writes tensor t, or -1. */
int ps_tfl_producer(const ps_tfl_model *m, int t);

#endif
