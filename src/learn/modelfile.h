/*
 * modelfile.h - the one file format for every trained model of learn/.
 *
 * A model file is a versioned container of named float arrays.  Layout
 * (all integers little-endian):
 *
 *   offset 0   8 bytes   magic "PSMODEL\x1a"
 *          8   u32       format version (PS_MODELFILE_VERSION)
 *         12   32 bytes  model kind, e.g. "ridge", NUL-padded, [a-z0-9_-]
 *         44   u32       number of arrays (at most PS_MODEL_MAX_ARRAYS)
 *         48   u64       total file length in bytes, checksum included
 *         56   arrays, one after another:
 *                u32 name length (1..63), the name ([A-Za-z0-9_.])
 *                u32 number of dimensions (0..4; 0 = a scalar)
 *                u64 each dimension
 *                f32 the values, row-major
 *   end - 32   SHA-256 of every byte before it
 *
 * Loading checks everything, in file order, and rejects a file with
 * "FILE: byte offset N: reason": bad magic, another format version, another
 * kind of model, a truncated or over-long file, a checksum mismatch, then
 * (for files that were built wrong but checksummed) impossible sizes, bad
 * names, duplicate names and non-finite values.  Saving is deterministic:
 * the same arrays give the same bytes.
 *
 * Ownership: a ps_modelfile owns copies of all its arrays; free it with
 * ps_modelfile_free.  Pointers from ps_modelfile_find/_array stay valid
 * until then.
 */
#ifndef PS_LEARN_MODELFILE_H
#define PS_LEARN_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define PS_MODELFILE_VERSION 1
#define PS_MODEL_KIND_MAX 32
#define PS_MODEL_NAME_MAX 64
#define PS_MODEL_MAX_DIMS 4
#define PS_MODEL_MAX_ARRAYS 4096
#define PS_MODEL_MAX_BYTES ((size_t)1 << 31)
#define PS_MODEL_HEADER_BYTES 56
#define PS_MODEL_CHECKSUM_BYTES 32

typedef struct ps_model_array {
    char name[PS_MODEL_NAME_MAX];
    uint32_t ndim;
    uint64_t dims[PS_MODEL_MAX_DIMS];
    size_t count;  /* product of dims (1 for a scalar) */
    float *data;   /* owned */
    size_t offset; /* where the array starts in the file it came from */
} ps_model_array;

typedef struct ps_modelfile {
    char kind[PS_MODEL_KIND_MAX];
    char source[512]; /* file name used in messages ("(memory)" if built) */
    size_t n, cap;
    ps_model_array *arrays;
} ps_modelfile;

/* Start an empty container for a model kind (1..31 chars of [a-z0-9_-]). */
void ps_modelfile_init(ps_modelfile *m, const char *kind);
void ps_modelfile_free(ps_modelfile *m);

/* Add a copy of an array.  Names must be valid and unique: breaking that is
 * a programming error and aborts. */
void ps_modelfile_add(ps_modelfile *m, const char *name, const float *data, uint32_t ndim,
                      const uint64_t *dims);
void ps_modelfile_add_vec(ps_modelfile *m, const char *name, const float *data, size_t n);
void ps_modelfile_add_mat(ps_modelfile *m, const char *name, const float *data, size_t rows,
                          size_t cols);
void ps_modelfile_add_scalar(ps_modelfile *m, const char *name, double v);

/* prefix + name into out (PS_MODEL_NAME_MAX bytes), returned: the name of
 * an array of a model stored under a prefix ("content.ridge." + "w"). */
const char *ps_model_key(char *out, const char *prefix, const char *name);

/* Append the file image to out. */
void ps_modelfile_serialize(const ps_modelfile *m, ps_buf *out);
/* Write atomically (temp file + rename). */
int ps_modelfile_save(const ps_modelfile *m, const char *path, ps_error *err);

/* Parse a file image.  `source` names it in messages; expect_kind may be
 * NULL to accept any kind.  On failure *out is left empty. */
int ps_modelfile_parse(const void *data, size_t len, const char *source, const char *expect_kind,
                       ps_modelfile *out, ps_error *err);
int ps_modelfile_load(const char *path, const char *expect_kind, ps_modelfile *out, ps_error *err);

/* The array called name, or NULL. */
const ps_model_array *ps_modelfile_find(const ps_modelfile *m, const char *name);
/* The data of array `name`, which must have exactly the given shape;
 * otherwise NULL and "FILE: byte offset N: array 'w' has shape [3], expected
 * [4]" (or "... no array 'w'"). */
const float *ps_modelfile_array(const ps_modelfile *m, const char *name, uint32_t ndim,
                                const uint64_t *dims, ps_error *err);
/* Like ps_modelfile_array, but returns a copy the caller frees (never NULL
 * on success, even for a zero-size array). */
float *ps_modelfile_take(const ps_modelfile *m, const char *name, uint32_t ndim,
                         const uint64_t *dims, ps_error *err);
/* A 1-D array of any non-zero length (stored in *n), or a 2-D array of any
 * non-zero shape; NULL with a message otherwise. */
const float *ps_modelfile_vec(const ps_modelfile *m, const char *name, size_t *n, ps_error *err);
const float *ps_modelfile_mat(const ps_modelfile *m, const char *name, size_t *rows, size_t *cols,
                              ps_error *err);
/* A scalar that must be an integer in [lo, hi]. */
int ps_modelfile_int(const ps_modelfile *m, const char *name, long lo, long hi, long *out,
                     ps_error *err);
/* A scalar that must be finite. */
int ps_modelfile_scalar(const ps_modelfile *m, const char *name, double *out, ps_error *err);

#endif
