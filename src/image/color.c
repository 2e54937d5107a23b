/*
 * color.c - naming pixels with the basic colour terms (see color.h).
 */
#include "image/color.h"

#include <string.h>

static const char *const NAMES[PS_COLORS] = {"black", "white", "gray",   "red",  "orange", "yellow",
                                             "green", "blue",  "purple", "pink", "brown"};

const char *ps_color_name(int c) { return c >= 0 && c < PS_COLORS ? NAMES[c] : NULL; }

/* Thresholds of the rule in color.h, in integer units: value and chroma in
 * 0..255, saturation compared as chroma vs a fraction of value, hue in
 * degrees.  Integers keep the rule exact and the same on every machine. */
ps_color ps_color_of_rgb(uint8_t r, uint8_t g, uint8_t b)
{
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    int d = mx - mn;
    /* value < 0.22 */
    if (mx * 100 < 22 * 255)
        return PS_COLOR_BLACK;
    /* saturation d/mx < 0.18, or chroma < 0.08 */
    if (d * 100 < 18 * mx || d * 100 < 8 * 255)
        return mx * 100 > 78 * 255 ? PS_COLOR_WHITE : PS_COLOR_GRAY;
    /* Hue in tenths of a degree, 0..3599. */
    int h;
    if (mx == r)
        h = (600 * (g - b)) / d + (g < b ? 3600 : 0);
    else if (mx == g)
        h = (600 * (b - r)) / d + 1200;
    else
        h = (600 * (r - g)) / d + 2400;
    if (h >= 3600)
        h -= 3600;
    if (h < 150 || h >= 3400) {
        if (mx * 100 < 55 * 255)
            return PS_COLOR_BROWN;
        if (mx * 100 > 70 * 255 && d * 100 < 50 * mx)
            return PS_COLOR_PINK;
        return PS_COLOR_RED;
    }
    if (h < 450)
        return mx * 100 < 65 * 255 ? PS_COLOR_BROWN : PS_COLOR_ORANGE;
    if (h < 700)
        return mx * 100 < 50 * 255 ? PS_COLOR_BROWN : PS_COLOR_YELLOW;
    if (h < 1650)
        return PS_COLOR_GREEN;
    if (h < 2550)
        return PS_COLOR_BLUE;
    if (h < 2900)
        return PS_COLOR_PURPLE;
    return PS_COLOR_PINK;
}

static void to_shares(const size_t count[PS_COLORS], size_t total, float out[PS_COLORS])
{
    for (int c = 0; c < PS_COLORS; c++)
        out[c] = total ? (float)((double)count[c] / (double)total) : 0.0f;
}

size_t ps_color_shares(const uint8_t *rgb, size_t n, const uint8_t *sel, float all[PS_COLORS],
                       float selected[PS_COLORS])
{
    size_t count[PS_COLORS] = {0}, count_sel[PS_COLORS] = {0}, nsel = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        ps_color c = ps_color_of_rgb(p[0], p[1], p[2]);
        count[c]++;
        if (sel && sel[i]) {
            count_sel[c]++;
            nsel++;
        }
    }
    if (all)
        to_shares(count, n, all);
    if (!sel)
        return n;
    if (selected)
        to_shares(count_sel, nsel, selected);
    return nsel;
}

int ps_color_of_word(const char *word)
{
    static const struct {
        const char *word;
        ps_color color;
    } synonyms[] = {
        {"grey", PS_COLOR_GRAY},     {"silver", PS_COLOR_GRAY},  {"tan", PS_COLOR_BROWN},
        {"blond", PS_COLOR_YELLOW},  {"blonde", PS_COLOR_YELLOW}, {"golden", PS_COLOR_YELLOW},
        {"gold", PS_COLOR_YELLOW},
    };
    for (int c = 0; c < PS_COLORS; c++)
        if (strcmp(word, NAMES[c]) == 0)
            return c;
    for (size_t i = 0; i < sizeof synonyms / sizeof *synonyms; i++)
        if (strcmp(word, synonyms[i].word) == 0)
            return (int)synonyms[i].color;
    return -1;
}
