/*
 * svgplot.h - tiny standalone SVG charts for evaluation reports.
 *
 * Two chart kinds: a scatter plot (e.g. predicted vs true relevance, with
 * the y = x diagonal) and a line chart (e.g. recall@K curves, one series
 * per model, with a legend).  Axes get "nice" ticks (1, 2, 5 x 10^k, or
 * 1-2-5 decades on a log x axis), labels and a title.  Output is a
 * complete SVG 1.1 document (XML declaration, one <svg> root, all text
 * escaped) appended to a ps_buf; non-finite points are skipped.
 */
#ifndef PS_LEARN_SVGPLOT_H
#define PS_LEARN_SVGPLOT_H

#include <stddef.h>

#include "core/buf.h"

typedef struct ps_svg_axes {
    const char *title, *xlabel, *ylabel; /* NULL = none */
    int log_x;         /* logarithmic x axis (x must be > 0; others skipped) */
    int fixed_y;       /* use [ymin, ymax] below instead of the data range */
    double ymin, ymax;
    int width, height; /* pixels; 0 = 640 x 480 */
} ps_svg_axes;

typedef struct ps_svg_series {
    const char *name; /* legend text */
    const double *x, *y;
    size_t n;
} ps_svg_series;

/* Scatter of n points; with `diagonal`, both axes share one range and the
 * line y = x is drawn dashed. */
void ps_svg_scatter(ps_buf *out, const ps_svg_axes *ax, const double *x, const double *y,
                    size_t n, int diagonal);
/* Line chart of several series with markers and a legend. */
void ps_svg_lines(ps_buf *out, const ps_svg_axes *ax, const ps_svg_series *s, size_t n_series);

#endif
