/*
 * color.h - the eleven basic colour terms of English (Berlin & Kay: black,
 * white, gray, red, orange, yellow, green, blue, purple, pink, brown): which
 * one names a pixel, what share of a photo's pixels each names, and which
 * query words name one.
 *
 * Captions name colours all the time ("a black dog", "a man in a red
 * shirt"), and no model here sees them as words, so picseek measures them
 * from the pixels.  The naming is a fixed rule on HSV, the same for every
 * photo (no learning):
 *
 *   value < 0.22                                   black
 *   saturation < 0.18 or chroma < 0.08             white if value > 0.78, else gray
 *   hue [340, 15)   red; brown if value < 0.55; pink if light (value > 0.7)
 *                   and pale (saturation < 0.5)
 *   hue [15, 45)    orange; brown if value < 0.65
 *   hue [45, 70)    yellow; brown if value < 0.5
 *   hue [70, 165)   green      hue [165, 255)  blue
 *   hue [255, 290)  purple     hue [290, 340)  pink
 *
 * (hue in degrees, saturation = chroma / value, value = max(R, G, B) / 255).
 * Brown is dark orange, which is what makes it a colour term of its own.
 */
#ifndef PS_IMAGE_COLOR_H
#define PS_IMAGE_COLOR_H

#include <stddef.h>
#include <stdint.h>

typedef enum ps_color {
    PS_COLOR_BLACK,
    PS_COLOR_WHITE,
    PS_COLOR_GRAY,
    PS_COLOR_RED,
    PS_COLOR_ORANGE,
    PS_COLOR_YELLOW,
    PS_COLOR_GREEN,
    PS_COLOR_BLUE,
    PS_COLOR_PURPLE,
    PS_COLOR_PINK,
    PS_COLOR_BROWN,
    PS_COLORS /* their number */
} ps_color;

/* "black", ..., "brown"; NULL outside [0, PS_COLORS). */
const char *ps_color_name(int c);

/* The colour term that names an 8-bit sRGB pixel (rule above). */
ps_color ps_color_of_rgb(uint8_t r, uint8_t g, uint8_t b);

/*
 * Shares of the colour terms among n RGB pixels (3 bytes each), in one pass
 * naming each pixel once: all[c] = (pixels named c) / n, and, when sel (n
 * bytes) is given, selected[c] the same among the pixels with sel[i] != 0
 * (e.g. a segmentation class map, where 0 is background).  Each sums to 1,
 * or is all zero when no pixel counts.  all or selected may be NULL (not
 * wanted).  Returns the number of selected pixels (n when sel is NULL).
 */
size_t ps_color_shares(const uint8_t *rgb, size_t n, const uint8_t *sel, float all[PS_COLORS],
                       float selected[PS_COLORS]);

/* The colour term a folded word names, or -1: the eleven names, and
 * "grey" and "silver" (gray), "tan" (brown), "blond", "blonde", "golden"
 * and "gold" (yellow). */
int ps_color_of_word(const char *word);

#endif
