/*
 * glove_format.h - the on-disk layout of a converted GloVe file, shared by
 * the converter (glove_convert.c) and the reader (glove.c).  Not a public
 * API: see glove.h for the format description.
 */
#ifndef PS_TEXT_GLOVE_FORMAT_H
#define PS_TEXT_GLOVE_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "core/le.h"

#define PSG_MAGIC "PSGLOVE" /* 8 bytes with the NUL */
#define PSG_VERSION 1u
#define PSG_HEADER_SIZE 256u
#define PSG_MAX_COUNT (1u << 26) /* 67M words: far above any real vocabulary */

/* Byte positions of the header fields. */
enum {
    PSG_OFF_MAGIC = 0,        /* char[8] */
    PSG_OFF_VERSION = 8,      /* u32 */
    PSG_OFF_DIM = 12,         /* u32 */
    PSG_OFF_COUNT = 16,       /* u32 */
    PSG_OFF_FLAGS = 20,       /* u32, 0 = float32 vectors */
    PSG_OFF_VECTORS = 24,     /* u64 */
    PSG_OFF_NORMS = 32,       /* u64 */
    PSG_OFF_WORD_OFF = 40,    /* u64 */
    PSG_OFF_SORTED = 48,      /* u64 */
    PSG_OFF_STRINGS = 56,     /* u64 */
    PSG_OFF_STRINGS_LEN = 64, /* u64 */
    PSG_OFF_FILE_LEN = 72,    /* u64 */
    PSG_OFF_META_SHA = 80,    /* u8[32]: SHA-256 of the header (this field zeroed) + sections after the vectors */
    PSG_OFF_VEC_SHA = 112,    /* u8[32]: SHA-256 of the vectors section */
    PSG_OFF_SRC_SHA = 144,    /* u8[32]: SHA-256 of the source JSON */
    PSG_OFF_END = 176         /* bytes 176..255 are zero */
};

/* The section offsets follow from count, dim and the strings' length; the
 * reader recomputes them and requires the header to agree. */
typedef struct psg_layout {
    uint64_t vectors, norms, word_off, sorted, strings, strings_len, file_len;
} psg_layout;

static inline void psg_layout_compute(psg_layout *l, uint32_t count, uint32_t dim,
                                      uint64_t strings_len)
{
    /* count <= 2^26 and dim <= 4096: every product fits easily in 64 bits. */
    l->vectors = PSG_HEADER_SIZE;
    l->norms = l->vectors + (uint64_t)count * dim * 4u;
    l->word_off = l->norms + (uint64_t)count * 4u;
    l->sorted = l->word_off + (uint64_t)count * 4u;
    l->strings = l->sorted + (uint64_t)count * 4u;
    l->strings_len = strings_len;
    l->file_len = l->strings + strings_len;
}

/* The sections are read in place as float / uint32_t arrays, which is only
 * right on a little-endian host. */
static inline int psg_host_is_little_endian(void)
{
    uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

#endif
