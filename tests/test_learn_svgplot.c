/* Tests for learn/svgplot: the output must be well-formed XML with one
 * <svg> root (checked by a small parser written here), contain the
 * expected elements, escape text, and skip non-finite points. */
#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "learn/svgplot.h"
#include "test.h"

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == ':' || c == '_';
}

/* 1 if s is one XML declaration followed by one balanced element tree with
 * quoted attributes and escaped text; *why names the first problem. */
static int well_formed(const char *s, const char **why)
{
    char stack[64][32];
    int depth = 0, roots = 0;
    if (strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) != 0) {
        *why = "missing XML declaration";
        return 0;
    }
    s += 39;
    while (*s) {
        if (*s == '&') {
            if (strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) &&
                strncmp(s, "&quot;", 6) && strncmp(s, "&apos;", 6)) {
                *why = "bare ampersand";
                return 0;
            }
            s++;
            continue;
        }
        if (*s == '>') {
            *why = "stray '>' in text";
            return 0;
        }
        if (*s != '<') {
            if (depth == 0 && *s != '\n' && *s != ' ') {
                *why = "text outside the root";
                return 0;
            }
            s++;
            continue;
        }
        s++;
        int closing = *s == '/';
        if (closing)
            s++;
        char name[32];
        int n = 0;
        while (is_name_char(*s) && n < 31)
            name[n++] = *s++;
        name[n] = '\0';
        if (n == 0) {
            *why = "empty tag name";
            return 0;
        }
        if (closing) {
            if (*s != '>' || depth == 0 || strcmp(stack[depth - 1], name) != 0) {
                *why = "unbalanced closing tag";
                return 0;
            }
            depth--;
            s++;
            continue;
        }
        /* Attributes: name="value" with no '<' or '"' inside. */
        for (;;) {
            while (*s == ' ' || *s == '\n')
                s++;
            if (*s == '>' || (*s == '/' && s[1] == '>'))
                break;
            int an = 0;
            while (is_name_char(*s)) {
                s++;
                an++;
            }
            if (an == 0 || *s != '=' || s[1] != '"') {
                *why = "bad attribute";
                return 0;
            }
            s += 2;
            while (*s && *s != '"') {
                if (*s == '<') {
                    *why = "'<' inside an attribute";
                    return 0;
                }
                s++;
            }
            if (!*s) {
                *why = "unterminated attribute";
                return 0;
            }
            s++;
        }
        int self = *s == '/';
        s += self ? 2 : 1;
        if (depth == 0)
            roots++;
        if (!self) {
            if (depth == 64) {
                *why = "too deep";
                return 0;
            }
            strcpy(stack[depth++], name);
        }
    }
    if (depth != 0 || roots != 1) {
        *why = depth ? "unclosed element" : "not exactly one root element";
        return 0;
    }
    return 1;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

TEST(the_checker_itself_rejects_broken_documents)
{
    const char *why;
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    char doc[256];
    snprintf(doc, sizeof doc, "%s<svg><g></svg></g>", decl);
    CHECK(!well_formed(doc, &why));
    snprintf(doc, sizeof doc, "%s<svg><text>a & b</text></svg>", decl);
    CHECK(!well_formed(doc, &why));
    snprintf(doc, sizeof doc, "%s<svg a=\"1\"><line/></svg><svg></svg>", decl);
    CHECK(!well_formed(doc, &why));
    snprintf(doc, sizeof doc, "%s<svg a=\"1\"><line b=\"2\"/><text>x &lt; y</text></svg>\n", decl);
    CHECK(well_formed(doc, &why));
}

TEST(scatter_is_well_formed_with_diagonal_and_points)
{
    double x[6] = {0.1, 0.5, 0.9, NAN, 0.3, 0.7}, y[6] = {0.2, 0.4, 1.0, 0.5, INFINITY, 0.6};
    ps_svg_axes ax = {"Predicted vs true <test> & \"quotes\"", "true relevance", "predicted", 0, 0,
                      0, 0, 0, 0};
    ps_buf b = {0};
    ps_svg_scatter(&b, &ax, x, y, 6, 1);
    const char *why = "";
    CHECK(well_formed(b.data, &why));
    if (!well_formed(b.data, &why))
        fprintf(stderr, "not well-formed: %s\n", why);
    CHECK_CONTAINS(b.data, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
    CHECK_CONTAINS(b.data, "Predicted vs true &lt;test&gt; &amp; &quot;quotes&quot;");
    CHECK_CONTAINS(b.data, ">true relevance</text>");
    CHECK_CONTAINS(b.data, "rotate(-90"); /* the y label is vertical */
    CHECK_CONTAINS(b.data, "stroke-dasharray"); /* the diagonal */
    CHECK_INT(count(b.data, "<circle"), 4);     /* NaN and inf points are skipped */
    CHECK(!strstr(b.data, "nan") && !strstr(b.data, "inf"));
    /* Ticks of [0, 1] in steps of 0.2. */
    CHECK_CONTAINS(b.data, ">0.2</text>");
    CHECK_CONTAINS(b.data, ">1</text>");
    ps_buf_free(&b);
}

TEST(line_chart_has_series_legend_and_log_ticks)
{
    double k[5] = {1, 5, 10, 20, 50};
    double r1[5] = {0.1, 0.3, 0.45, 0.6, 0.8}, r2[5] = {0.2, 0.5, 0.6, 0.75, 0.9};
    ps_svg_series s[2] = {{"ridge", k, r1, 5}, {"bilinear & zero-shot", k, r2, 5}};
    ps_svg_axes ax = {"Recall@K", "K", "recall", 1, 1, 0, 1, 800, 500};
    ps_buf b = {0};
    ps_svg_lines(&b, &ax, s, 2);
    const char *why = "";
    CHECK(well_formed(b.data, &why));
    CHECK_CONTAINS(b.data, "width=\"800\" height=\"500\"");
    CHECK_INT(count(b.data, "<polyline"), 2);
    CHECK_INT(count(b.data, "<circle"), 10);
    CHECK_CONTAINS(b.data, ">ridge</text>");
    CHECK_CONTAINS(b.data, ">bilinear &amp; zero-shot</text>");
    /* Log axis: 1-2-5 ticks across the decades 1..100. */
    CHECK_CONTAINS(b.data, ">2</text>");
    CHECK_CONTAINS(b.data, ">50</text>");
    CHECK_CONTAINS(b.data, ">100</text>");
    ps_buf_free(&b);
}

TEST(degenerate_input_still_gives_a_valid_document)
{
    const char *why = "";
    ps_buf b = {0};
    ps_svg_scatter(&b, NULL, NULL, NULL, 0, 0);
    CHECK(well_formed(b.data, &why));
    ps_buf_clear(&b);
    double x[3] = {2, 2, 2}, y[3] = {-1, -1, -1};
    ps_svg_series s = {NULL, x, y, 3};
    ps_svg_lines(&b, NULL, &s, 1);
    CHECK(well_formed(b.data, &why));
    CHECK(!strstr(b.data, "nan") && !strstr(b.data, "inf"));
    ps_buf_clear(&b);
    double big[2] = {-1e308, 1e308};
    ps_svg_scatter(&b, NULL, big, big, 2, 1);
    CHECK(well_formed(b.data, &why));
    ps_buf_free(&b);
}

int main(void)
{
    RUN(the_checker_itself_rejects_broken_documents);
    RUN(scatter_is_well_formed_with_diagonal_and_points);
    RUN(line_chart_has_series_legend_and_log_ticks);
    RUN(degenerate_input_still_gives_a_valid_document);
    return test_summary();
}
