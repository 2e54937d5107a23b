/* sha256.h - FIPS 180-4 SHA-256, used to verify model and data assets. */
#ifndef PS_CORE_SHA256_H
#define PS_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ps_sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t fill;
} ps_sha256;

void ps_sha256_init(ps_sha256 *c);
void ps_sha256_update(ps_sha256 *c, const void *data, size_t n);
void ps_sha256_final(ps_sha256 *c, unsigned char out[32]);
/* Lower-case hex of a 32-byte digest into hex[65] (NUL-terminated). */
void ps_sha256_to_hex(const unsigned char d[32], char hex[65]);
/* Lower-case hex digest of a buffer into hex[65]. */
void ps_sha256_hex(const void *data, size_t n, char hex[65]);
/* Hex digest of a file's contents. */
int ps_sha256_file(const char *path, char hex[65], ps_error *err);

#endif
