/*
 * utf8.h - strict UTF-8 validation and decoding (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF).
 */
#ifndef PS_CORE_UTF8_H
#define PS_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at the start of s, or 0 if the
 * bytes there are not valid UTF-8 (or n == 0). */
size_t ps_utf8_valid_prefix(const char *s, size_t n);

/* Decode one code point; returns its byte length or 0 if invalid. */
size_t ps_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Encode cp (must be valid) into out[4]; returns byte length. */
size_t ps_utf8_encode(uint32_t cp, char *out);

/* Returns 1 if all n bytes are valid UTF-8; otherwise 0 and *bad_offset is
 * the byte offset of the first invalid sequence. */
int ps_utf8_validate(const char *s, size_t n, size_t *bad_offset);

#endif
