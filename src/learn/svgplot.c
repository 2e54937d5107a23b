#include "learn/svgplot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const PALETTE[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define N_COLORS (sizeof PALETTE / sizeof PALETTE[0])

/* Plot geometry: the data range and the pixel box it maps to. */
typedef struct frame {
    double x0, x1, y0, y1; /* data range (log10 of x when log_x) */
    double left, right, top, bottom;
    int log_x;
} frame;

static void put_escaped(ps_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': ps_buf_puts(b, "&amp;"); break;
        case '<': ps_buf_puts(b, "&lt;"); break;
        case '>': ps_buf_puts(b, "&gt;"); break;
        case '"': ps_buf_puts(b, "&quot;"); break;
        case '\'': ps_buf_puts(b, "&apos;"); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                ps_buf_putc(b, *s);
        }
    }
}

static double px(const frame *f, double x)
{
    double v = f->log_x ? log10(x) : x;
    return f->left + (v - f->x0) / (f->x1 - f->x0) * (f->right - f->left);
}

static double py(const frame *f, double y)
{
    return f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top);
}

/* 1, 2 or 5 times a power of ten, near range / 5. */
static double nice_step(double range)
{
    double raw = range / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Widen [lo, hi] to whole ticks; a degenerate range becomes +-1 (or +-1%). */
static void nice_range(double *lo, double *hi)
{
    if (!(*hi > *lo)) {
        double pad = *lo == 0 ? 1 : fabs(*lo) * 0.01;
        *lo -= pad;
        *hi += pad;
    }
    double s = nice_step(*hi - *lo);
    if (!isfinite(s) || !(s > 0))
        return; /* a range too wide for doubles: keep it as it is */
    *lo = floor(*lo / s + 1e-9) * s;
    *hi = ceil(*hi / s - 1e-9) * s;
}

static void fmt_num(char *s, size_t cap, double v)
{
    if (fabs(v) < 1e-12)
        v = 0; /* no "-0" */
    snprintf(s, cap, "%.4g", v);
}

static void text(ps_buf *b, double x, double y, const char *anchor, const char *extra,
                 const char *s)
{
    ps_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor,
                  extra ? extra : "");
    put_escaped(b, s);
    ps_buf_puts(b, "</text>\n");
}

static void begin(ps_buf *b, const ps_svg_axes *ax, frame *f, int w, int h)
{
    ps_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    ps_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                     "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
                     "font-size=\"12\">\n",
                  w, h, w, h);
    ps_buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    f->left = 70;
    f->right = w - 20;
    f->top = 40;
    f->bottom = h - 55;
    if (ax && ax->title)
        text(b, w / 2.0, 24, "middle", " font-size=\"16\"", ax->title);
    if (ax && ax->xlabel)
        text(b, (f->left + f->right) / 2, h - 15, "middle", NULL, ax->xlabel);
    if (ax && ax->ylabel) {
        char rot[96];
        snprintf(rot, sizeof rot, " transform=\"rotate(-90 18 %.1f)\"", (f->top + f->bottom) / 2);
        text(b, 18, (f->top + f->bottom) / 2, "middle", rot, ax->ylabel);
    }
}

/* The ticks lo, lo + step, ... up to hi (at most 100; none for a range
 * that overflowed). */
static int ticks(double lo, double hi, double *v)
{
    double step = nice_step(hi - lo);
    int n = 0;
    if (!isfinite(step) || !(step > 0))
        return 0;
    for (int i = 0; i <= 100; i++) {
        double t = lo + step * i;
        if (t > hi + step * 1e-6)
            break;
        v[n++] = t;
    }
    return n;
}

/* Grid lines, tick labels and the axis box. */
static void axes(ps_buf *b, const frame *f)
{
    char s[32];
    double v[101];
    int nt = ticks(f->y0, f->y1, v);
    ps_buf_puts(b, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
    for (int i = 0; i < nt; i++)
        ps_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->left,
                      py(f, v[i]), f->right, py(f, v[i]));
    ps_buf_puts(b, "</g>\n");
    for (int i = 0; i < nt; i++) {
        fmt_num(s, sizeof s, v[i]);
        text(b, f->left - 6, py(f, v[i]) + 4, "end", NULL, s);
    }
    if (f->log_x) {
        /* 1-2-5 ticks in every decade of the range. */
        static const double mult[] = {1, 2, 5};
        for (double dec = floor(f->x0); dec <= ceil(f->x1); dec++)
            for (int k = 0; k < 3; k++) {
                double t = mult[k] * pow(10, dec), lt = log10(t);
                if (lt < f->x0 - 1e-9 || lt > f->x1 + 1e-9)
                    continue;
                fmt_num(s, sizeof s, t);
                text(b, px(f, t), f->bottom + 18, "middle", NULL, s);
                ps_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
                              px(f, t), f->bottom, px(f, t), f->bottom + 5);
            }
    } else {
        nt = ticks(f->x0, f->x1, v);
        for (int i = 0; i < nt; i++) {
            fmt_num(s, sizeof s, v[i]);
            text(b, px(f, v[i]), f->bottom + 18, "middle", NULL, s);
            ps_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
                          px(f, v[i]), f->bottom, px(f, v[i]), f->bottom + 5);
        }
    }
    ps_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                     "stroke=\"#000000\"/>\n",
                  f->left, f->top, f->right - f->left, f->bottom - f->top);
}

static int usable(const frame *f, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!f->log_x || x > 0);
}

/* Data range over the usable points of several series. */
static void data_range(frame *f, const ps_svg_series *s, size_t ns, const ps_svg_axes *ax)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!usable(f, s[k].x[i], s[k].y[i]))
                continue;
            double xv = f->log_x ? log10(s[k].x[i]) : s[k].x[i];
            x0 = fmin(x0, xv);
            x1 = fmax(x1, xv);
            y0 = fmin(y0, s[k].y[i]);
            y1 = fmax(y1, s[k].y[i]);
        }
    if (!(x1 >= x0)) {
        x0 = 0;
        x1 = 1;
    }
    if (!(y1 >= y0)) {
        y0 = 0;
        y1 = 1;
    }
    if (ax && ax->fixed_y && ax->ymax > ax->ymin) {
        y0 = ax->ymin;
        y1 = ax->ymax;
    } else {
        nice_range(&y0, &y1);
    }
    if (f->log_x) {
        x0 = floor(x0 + 1e-9); /* whole decades */
        x1 = ceil(x1 - 1e-9);
        if (x1 <= x0)
            x1 = x0 + 1;
    } else {
        nice_range(&x0, &x1);
    }
    f->x0 = x0;
    f->x1 = x1;
    f->y0 = y0;
    f->y1 = y1;
}

static void size_of(const ps_svg_axes *ax, int *w, int *h)
{
    *w = ax && ax->width >= 200 ? ax->width : 640;
    *h = ax && ax->height >= 150 ? ax->height : 480;
}

void ps_svg_scatter(ps_buf *out, const ps_svg_axes *ax, const double *x, const double *y,
                    size_t n, int diagonal)
{
    int w, h;
    size_of(ax, &w, &h);
    frame f = {0};
    f.log_x = 0; /* a scatter is always linear */
    ps_svg_series s = {NULL, x, y, n};
    data_range(&f, &s, 1, ax);
    if (diagonal) {
        /* One shared range, so y = x runs corner to corner. */
        double lo = fmin(f.x0, f.y0), hi = fmax(f.x1, f.y1);
        f.x0 = f.y0 = lo;
        f.x1 = f.y1 = hi;
    }
    begin(out, ax, &f, w, h);
    axes(out, &f);
    if (diagonal)
        ps_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888888\" "
                           "stroke-dasharray=\"5 4\"/>\n",
                      px(&f, f.x0), py(&f, f.y0), px(&f, f.x1), py(&f, f.y1));
    ps_buf_printf(out, "<g fill=\"%s\" fill-opacity=\"0.5\">\n", PALETTE[0]);
    for (size_t i = 0; i < n; i++)
        if (usable(&f, x[i], y[i]))
            ps_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", px(&f, x[i]),
                          py(&f, y[i]));
    ps_buf_puts(out, "</g>\n</svg>\n");
}

void ps_svg_lines(ps_buf *out, const ps_svg_axes *ax, const ps_svg_series *s, size_t n_series)
{
    int w, h;
    size_of(ax, &w, &h);
    frame f = {0};
    f.log_x = ax && ax->log_x;
    data_range(&f, s, n_series, ax);
    begin(out, ax, &f, w, h);
    axes(out, &f);
    for (size_t k = 0; k < n_series; k++) {
        const char *color = PALETTE[k % N_COLORS];
        ps_buf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                      color);
        int first = 1;
        for (size_t i = 0; i < s[k].n; i++) {
            if (!usable(&f, s[k].x[i], s[k].y[i]))
                continue;
            ps_buf_printf(out, "%s%.1f,%.1f", first ? "" : " ", px(&f, s[k].x[i]), py(&f, s[k].y[i]));
            first = 0;
        }
        ps_buf_puts(out, "\"/>\n");
        ps_buf_printf(out, "<g fill=\"%s\">\n", color);
        for (size_t i = 0; i < s[k].n; i++)
            if (usable(&f, s[k].x[i], s[k].y[i]))
                ps_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", px(&f, s[k].x[i]),
                              py(&f, s[k].y[i]));
        ps_buf_puts(out, "</g>\n");
    }
    /* Legend in the lower right corner of the plot box. */
    double lx = f.right - 170, ly = f.bottom - 10 - 18.0 * (double)n_series;
    if (n_series)
        ps_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"160\" height=\"%.1f\" fill=\"white\" "
                           "fill-opacity=\"0.85\" stroke=\"#999999\"/>\n",
                      lx, ly - 4, 18.0 * (double)n_series + 8);
    for (size_t k = 0; k < n_series; k++) {
        double yy = ly + 18.0 * (double)k + 9;
        ps_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                           "stroke-width=\"2\"/>\n",
                      lx + 8, yy, lx + 32, yy, PALETTE[k % N_COLORS]);
        text(out, lx + 40, yy + 4, "start", NULL, s[k].name ? s[k].name : "");
    }
    ps_buf_puts(out, "</svg>\n");
}
