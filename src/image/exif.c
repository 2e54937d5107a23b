/*
 * exif.c - the one EXIF tag picseek needs: Orientation (0x0112) in IFD0.
 *
 * Parsed by hand rather than with libexif: we need a single SHORT from the
 * first directory, which takes a few bounds-checked reads; libexif would be
 * another dependency with a long CVE history that parses (and allocates for)
 * everything in the block.  The layout, per the TIFF 6 / EXIF 2.3 specs:
 *
 *   ["Exif\0\0"]  only in a JPEG APP1 segment (some WebP files keep it too)
 *   "II" or "MM"  byte order of everything below (Intel / Motorola)
 *   u16 42        TIFF magic
 *   u32 offset    of IFD0, from the "II"/"MM"
 *   IFD0:  u16 count, then count 12-byte entries
 *          { u16 tag, u16 type, u32 count, 4 bytes value-or-offset }
 *
 * Orientation has type SHORT (3), count 1, so its value sits in the first
 * two bytes of the value field.
 */
#include <string.h>

#include "image/decode.h"

static unsigned rd16(const unsigned char *p, int big)
{
    return big ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static unsigned long rd32(const unsigned char *p, int big)
{
    return big ? ((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
                  (unsigned long)p[2] << 8 | p[3])
               : ((unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 |
                  (unsigned long)p[1] << 8 | p[0]);
}

int ps_exif_orientation(const unsigned char *p, size_t len)
{
    if (!p)
        return 0;
    if (len >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
        p += 6;
        len -= 6;
    }
    if (len < 8)
        return 0;
    int big;
    if (p[0] == 'I' && p[1] == 'I')
        big = 0;
    else if (p[0] == 'M' && p[1] == 'M')
        big = 1;
    else
        return 0;
    if (rd16(p + 2, big) != 42)
        return 0;
    unsigned long ifd = rd32(p + 4, big);
    if (ifd < 8 || ifd > len - 2)
        return 0;
    size_t count = rd16(p + ifd, big);
    size_t room = (len - ifd - 2) / 12; /* entries that fit in the data */
    if (count > room)
        count = room;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *e = p + ifd + 2 + 12 * i;
        if (rd16(e, big) != 0x0112)
            continue;
        unsigned type = rd16(e + 2, big);
        unsigned long n = rd32(e + 4, big);
        unsigned v;
        if (type == 3 && n >= 1)
            v = rd16(e + 8, big);
        else if (type == 4 && n >= 1) /* LONG: wrong but seen in the wild */
            v = (unsigned)rd32(e + 8, big);
        else
            return 0;
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}
