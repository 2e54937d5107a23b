/*
 * Tests for src/image/color: naming pixels with the eleven basic colour
 * terms, colour shares over selected pixels, and the words that name them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/color.h"
#include "test.h"

TEST(names)
{
    CHECK_STR(ps_color_name(PS_COLOR_BLACK), "black");
    CHECK_STR(ps_color_name(PS_COLOR_BROWN), "brown");
    CHECK(ps_color_name(-1) == NULL);
    CHECK(ps_color_name(PS_COLORS) == NULL);
    /* Every name is its own word, and names differ. */
    for (int c = 0; c < PS_COLORS; c++) {
        CHECK_INT(ps_color_of_word(ps_color_name(c)), c);
        for (int d = 0; d < c; d++)
            CHECK(strcmp(ps_color_name(c), ps_color_name(d)) != 0);
    }
}

TEST(words)
{
    CHECK_INT(ps_color_of_word("grey"), PS_COLOR_GRAY);
    CHECK_INT(ps_color_of_word("silver"), PS_COLOR_GRAY);
    CHECK_INT(ps_color_of_word("tan"), PS_COLOR_BROWN);
    CHECK_INT(ps_color_of_word("blond"), PS_COLOR_YELLOW);
    CHECK_INT(ps_color_of_word("blonde"), PS_COLOR_YELLOW);
    CHECK_INT(ps_color_of_word("golden"), PS_COLOR_YELLOW);
    CHECK_INT(ps_color_of_word("dog"), -1);
    CHECK_INT(ps_color_of_word(""), -1);
    CHECK_INT(ps_color_of_word("Black"), -1); /* words arrive case-folded */
    CHECK_INT(ps_color_of_word("blackish"), -1);
}

/* The colours everybody agrees on, from the rule's regions. */
TEST(pixels)
{
    static const struct {
        uint8_t r, g, b;
        ps_color c;
    } cases[] = {
        {0, 0, 0, PS_COLOR_BLACK},         {30, 30, 40, PS_COLOR_BLACK},
        {255, 255, 255, PS_COLOR_WHITE},   {235, 235, 225, PS_COLOR_WHITE},
        {128, 128, 128, PS_COLOR_GRAY},    {90, 95, 100, PS_COLOR_GRAY},
        {220, 20, 30, PS_COLOR_RED},       {200, 0, 0, PS_COLOR_RED},
        {255, 140, 0, PS_COLOR_ORANGE},    {250, 230, 30, PS_COLOR_YELLOW},
        {30, 160, 40, PS_COLOR_GREEN},     {0, 100, 0, PS_COLOR_GREEN},
        {20, 60, 200, PS_COLOR_BLUE},      {100, 180, 240, PS_COLOR_BLUE},
        {120, 40, 170, PS_COLOR_PURPLE},   {255, 105, 180, PS_COLOR_PINK},
        {250, 170, 180, PS_COLOR_PINK},    {120, 70, 30, PS_COLOR_BROWN},
        {139, 69, 19, PS_COLOR_BROWN},     {110, 30, 30, PS_COLOR_BROWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ps_color got = ps_color_of_rgb(cases[i].r, cases[i].g, cases[i].b);
        if (got != cases[i].c)
            fprintf(stderr, "  rgb(%d, %d, %d) is %s, expected %s\n", cases[i].r, cases[i].g,
                    cases[i].b, ps_color_name(got), ps_color_name(cases[i].c));
        CHECK_INT(got, cases[i].c);
    }
    /* Every pixel gets a colour in range (the whole cube, coarsely). */
    for (int r = 0; r < 256; r += 5)
        for (int g = 0; g < 256; g += 5)
            for (int b = 0; b < 256; b += 5) {
                ps_color c = ps_color_of_rgb((uint8_t)r, (uint8_t)g, (uint8_t)b);
                if (c < 0 || c >= PS_COLORS)
                    CHECK(0);
            }
    /* Grays stay gray whatever their level between black and white. */
    for (int v = 60; v <= 195; v++)
        CHECK_INT(ps_color_of_rgb((uint8_t)v, (uint8_t)v, (uint8_t)v), PS_COLOR_GRAY);
}

TEST(shares)
{
    /* Four pixels: red, red, blue, white; a selection of the last three. */
    const uint8_t rgb[] = {220, 20, 30, 220, 20, 30, 20, 60, 200, 255, 255, 255};
    const uint8_t sel[] = {0, 3, 1, 7};
    float out[PS_COLORS], all[PS_COLORS];
    CHECK_INT(ps_color_shares(rgb, 4, NULL, out, NULL), 4);
    CHECK_NEAR(out[PS_COLOR_RED], 0.5, 1e-7);
    CHECK_NEAR(out[PS_COLOR_BLUE], 0.25, 1e-7);
    CHECK_NEAR(out[PS_COLOR_WHITE], 0.25, 1e-7);
    CHECK_NEAR(out[PS_COLOR_GREEN], 0, 0);
    /* Both regions in one pass: all four pixels, and the three selected. */
    CHECK_INT(ps_color_shares(rgb, 4, sel, all, out), 3);
    CHECK_NEAR(out[PS_COLOR_RED], 1.0 / 3, 1e-7);
    CHECK_NEAR(out[PS_COLOR_BLUE], 1.0 / 3, 1e-7);
    CHECK_NEAR(all[PS_COLOR_RED], 0.5, 1e-7);
    CHECK_NEAR(all[PS_COLOR_WHITE], 0.25, 1e-7);
    /* Either output may be left out. */
    CHECK_INT(ps_color_shares(rgb, 4, sel, NULL, out), 3);
    CHECK_NEAR(out[PS_COLOR_WHITE], 1.0 / 3, 1e-7);
    /* Nothing selected: all zero, not a division by zero. */
    const uint8_t none[] = {0, 0, 0, 0};
    CHECK_INT(ps_color_shares(rgb, 4, none, all, out), 0);
    for (int c = 0; c < PS_COLORS; c++)
        CHECK(out[c] == 0);
    CHECK_NEAR(all[PS_COLOR_BLUE], 0.25, 1e-7);
    CHECK_INT(ps_color_shares(rgb, 0, NULL, out, NULL), 0);
    for (int c = 0; c < PS_COLORS; c++)
        CHECK(out[c] == 0);
}

int main(void)
{
    RUN(names);
    RUN(words);
    RUN(pixels);
    RUN(shares);
    return test_summary();
}
