/*
 * test_nn_golden.c - the three models against reference outputs.
 *
 * 1. the folders of shared/golden (see its README): for every NAME.in, our output against
 *    NAME.out0 / NAME.logits / NAME.argmax / NAME.fractions.  Those files
 *    were computed by Arm NN 20.08's CpuRef backend, which dequantizes to
 *    float, computes in float and requantizes.  In the `armnn` arithmetic
 *    (ps_nn_options.armnn) the criterion is asserted for every
 *    input: >= 99.9% of output values identical, none off by more than one
 *    quantum, the same top-5 classes (MobileNetV2); DeepLab: the logits
 *    criterion where NAME.logits exists, >= 99.9% of pixels with golden's
 *    class and every class share within 1/1000.  (Measured: all identical.)
 *    The default arithmetic (TFLite's integer kernels, which the features
 *    use) drifts from float by a few quanta over 28-70 layers; for it the
 *    checks are the ones any faithful uint8 execution must pass: same top
 *    classes up to quantization ties, embeddings at cosine >= 0.99, >= 99%
 *    of pixels with the same class, shares within 1%, bounded differences.
 * 2. tests/data/litert: outputs of LiteRT (TFLite's current runtime, whose
 *    CPU path is XNNPACK) for the same inputs.  With the xnnpack option
 *    (XNNPACK's rescaling rules) our bytes must be identical: the MobileNet
 *    outputs byte for byte, DeepLab's 513x513x21 logits by SHA-256.
 * 3. The plain C reference kernels and the AVX2 kernels give identical bytes
 *    on a full model, with one and with two threads.
 *
 * Missing shared assets make the tests SKIP, not pass.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/sha256.h"
#include "nn/models.h"
#include "test.h"

#define MAX_FILES 64

static char *shared_path(const char *sub)
{
    const char *s = test_shared_dir();
    if (!s)
        return NULL;
    char *p = ps_path_join(s, sub);
    if (!ps_is_dir(p) && !ps_is_file(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* Sorted NAME stems of the .in files in dir. */
static int list_inputs(const char *dir, char names[][128])
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FILES) {
        size_t l = strlen(e->d_name);
        if (l > 3 && l < 120 && strcmp(e->d_name + l - 3, ".in") == 0) {
            memcpy(names[n], e->d_name, l - 3);
            names[n][l - 3] = '\0';
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

static char *read_sibling(const char *dir, const char *name, const char *ext, size_t *len)
{
    ps_buf path = {0};
    ps_buf_printf(&path, "%s/%s%s", dir, name, ext);
    ps_error err;
    char *data = ps_read_file(path.data, (size_t)64 << 20, len, &err);
    ps_buf_free(&path);
    return data;
}

/* tests/data/litert/NAME, or NULL (with a note) when the source tree is unknown. */
static char *litert_file(const char *name, size_t *len)
{
    const char *src = getenv("PICSEEK_SOURCE_DIR");
    if (!src)
        return NULL;
    ps_buf path = {0};
    ps_buf_printf(&path, "%s/tests/data/litert/%s", src, name);
    ps_error err;
    char *data = ps_read_file(path.data, 1 << 20, len, &err);
    if (!data)
        fprintf(stderr, "%s\n", err.msg);
    ps_buf_free(&path);
    return data;
}

/* Our bytes against LiteRT's, in the xnnpack mode. */
static void check_litert(const char *model, const char *name, const uint8_t *got, size_t n)
{
    ps_buf f = {0};
    ps_buf_printf(&f, "%s_%s.out0", model, name);
    size_t len;
    char *want = litert_file(f.data, &len);
    CHECK(want && len == n);
    if (want && len == n) {
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += got[i] == (uint8_t)want[i];
        printf("%s %s vs LiteRT (xnnpack arithmetic): %zu/%zu identical\n", model, name, same, n);
        CHECK_INT(same, n);
    }
    free(want);
    ps_buf_free(&f);
}

static const ps_nn_options XNNPACK = {.xnnpack = 1, .softmax_table = 1};
static const ps_nn_options ARMNN = {.armnn = 1};

/* ---- a golden folder and its model ----------------------------------------------
 * Every model test starts the same way: find shared/models and a folder of
 * shared/golden, list the folder's inputs, load the model. */

/* The model in one arithmetic with a workspace; m is NULL when the load
 * failed (a failed check, already reported). */
typedef struct arith {
    ps_model *m;
    ps_nn_workspace *ws;
} arith;

static arith arith_load(const char *models, ps_model_kind kind, const ps_nn_options *opt,
                        int threads)
{
    ps_error err;
    arith a = {ps_model_load(kind, models, opt, &err), NULL};
    CHECK(a.m != NULL);
    if (a.m)
        a.ws = ps_model_workspace(a.m, threads);
    else
        fprintf(stderr, "%s\n", err.msg);
    return a;
}

/* Runs the model on one input: 0 when it is loaded and the run succeeded.
 * scores and features as ps_model_run takes them (NULL: not wanted). */
static int arith_run(const arith *a, const char *in, size_t len, float *scores, float *features)
{
    ps_error err;
    return a->m && ps_model_run(a->m, a->ws, (const uint8_t *)in, len, scores, features,
                                &err) == 0 ? 0 : -1;
}

static const uint8_t *arith_output(const arith *a)
{
    return ps_model_raw_output(a->m, a->ws, NULL);
}

static void arith_free(arith *a)
{
    ps_nn_workspace_free(a->ws);
    ps_model_free(a->m);
}

typedef struct golden {
    char *models;                /* shared/models */
    char *dir;                   /* the golden folder */
    char names[MAX_FILES][128];  /* stems of its .in files, sorted */
    int n;
    /* golden_check: the model in the default arithmetic (TFLite's integer
     * kernels), in xnnpack's and in armnn's. */
    arith def, xnn, arm;
    char *first;                 /* golden_load_first: the first input */
    size_t first_len;
} golden;

/* shared/<sub> and shared/models: -1 (nothing to close) when either is
 * missing, for the caller to SKIP or return. */
static int golden_open(golden *g, const char *sub)
{
    memset(g, 0, sizeof *g);
    g->models = shared_path("models");
    g->dir = shared_path(sub);
    if (!g->models || !g->dir) {
        free(g->models);
        free(g->dir);
        return -1;
    }
    g->n = list_inputs(g->dir, g->names);
    return 0;
}

/* For the tests of one model on one input: the model in arithmetic opt as
 * g->def.m (without a workspace: they make their own) and the folder's
 * first input.  0 when both are there, else a failed check. */
static int golden_load_first(golden *g, ps_model_kind kind, const ps_nn_options *opt)
{
    ps_error err;
    g->def.m = ps_model_load(kind, g->models, opt, &err);
    if (g->n)
        g->first = read_sibling(g->dir, g->names[0], ".in", &g->first_len);
    CHECK(g->def.m && g->first);
    return g->def.m && g->first ? 0 : -1;
}

static void golden_close(golden *g)
{
    free(g->first);
    arith_free(&g->def);
    arith_free(&g->xnn);
    arith_free(&g->arm);
    free(g->models);
    free(g->dir);
}

/* Checks of one golden input NAME (the files NAME.* of g->dir). */
typedef void (*input_check)(const golden *g, const char *name);

/* Part 1 and 2 for one model: loads it in the three arithmetics (xnnpack's
 * workspace with xnn_threads, the others with two) and runs `check` on every
 * input of shared/<sub>.  -1 when the folders are missing (the caller
 * SKIPs); a failed load is a failed check, and a missing xnnpack or armnn
 * model only drops the checks that need it. */
static int golden_check(const char *sub, ps_model_kind kind, int xnn_threads,
                        input_check check)
{
    golden g;
    if (golden_open(&g, sub) != 0)
        return -1;
    g.def = arith_load(g.models, kind, NULL, 2);
    g.xnn = arith_load(g.models, kind, &XNNPACK, xnn_threads);
    g.arm = arith_load(g.models, kind, &ARMNN, 2);
    CHECK(g.n > 0);
    for (int i = 0; g.def.m && i < g.n; i++)
        check(&g, g.names[i]);
    golden_close(&g);
    return 0;
}

typedef struct agree {
    size_t same, total;
    int max_diff;
} agree;

static agree compare(const uint8_t *a, const uint8_t *b, size_t n)
{
    agree g = {0, n, 0};
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        g.same += d == 0;
        g.max_diff = d > g.max_diff ? d : g.max_diff;
    }
    return g;
}

/* The value criterion: >= 99.9% identical, no value off by more
 * than one quantum. */
static void check_exact(const char *what, const char *name, const uint8_t *got,
                        const uint8_t *want, size_t n)
{
    agree g = compare(got, want, n);
    printf("%s %s (armnn arithmetic): %zu/%zu identical (%.3f%%), max diff %d\n", what, name,
           g.same, g.total, 100.0 * g.same / g.total, g.max_diff);
    CHECK(g.same * 1000 >= g.total * 999);
    CHECK(g.max_diff <= 1);
}

/* Same top-5 classes.  ps_top_k breaks ties by index, so when golden's 5th
 * and 6th values are equal "the" top 5 is not unique; the sets must then
 * agree up to that tie: each of our 5 classes scores at least golden's 5th
 * value in golden, and each of golden's 5 at least our 5th value in ours.
 * Without a tie at the 5th place this is plain set equality. */
static int same_top5(const uint8_t *got, const uint8_t *want, int n, int *strict)
{
    float a[1001], b[1001];
    int ta[5], tb[5];
    for (int i = 0; i < n; i++) {
        a[i] = got[i];
        b[i] = want[i];
    }
    ps_top_k(a, n, 5, ta);
    ps_top_k(b, n, 5, tb);
    int ok = 1;
    *strict = 1;
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int j = 0; j < 5; j++)
            found |= ta[k] == tb[j];
        *strict &= found;
        ok &= want[ta[k]] >= want[tb[4]] && got[tb[k]] >= got[ta[4]];
    }
    return ok;
}

static void u8_scores(const uint8_t *q, int n, float *out)
{
    for (int i = 0; i < n; i++)
        out[i] = q[i];
}

/* MobileNetV2 in the default arithmetic against golden: bounded drift, the
 * same top classes up to quantization, sane features and probabilities. */
static void v2_check_default(const golden *g, const char *name, const char *in, size_t in_len,
                             const uint8_t *want)
{
    float probs[1001], feat[1280];
    if (arith_run(&g->def, in, in_len, probs, feat) != 0) {
        CHECK(0);
        return;
    }
    const uint8_t *got = arith_output(&g->def);
    agree ag = compare(got, want, 1001);
    float a[1001], b[1001];
    u8_scores(got, 1001, a);
    u8_scores(want, 1001, b);
    int ta[5], tb[5];
    ps_top_k(a, 1001, 5, ta);
    ps_top_k(b, 1001, 5, tb);
    /* Strict set equality is printed; what must hold is equality up to
     * quantization: softmax values are multiples of 1/256, so classes
     * within a quantum or two of each other swap ranks between
     * implementations.  Our top class must be golden's top (within one
     * quantum) and each of our top 5 must be within two quanta of
     * golden's 5th value. */
    int set_equal = 1, close5 = 1;
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int j = 0; j < 5; j++)
            found |= ta[k] == tb[j];
        set_equal &= found;
        close5 &= b[ta[k]] >= b[tb[4]] - 2;
    }
    printf("mobilenet_v2 %s: %zu/%zu identical (%.2f%%), max diff %d, top-1 %d/%d, "
           "top-5 %s\n", name, ag.same, ag.total, 100.0 * ag.same / ag.total, ag.max_diff,
           ta[0], tb[0], set_equal ? "same" : "same up to quantization ties");
    CHECK(b[ta[0]] >= b[tb[0]] - 1);
    CHECK(close5);
    CHECK(ag.same * 100 >= ag.total * 95);
    CHECK(ag.max_diff <= 24);
    /* Features are dequantized, non-negative (after RELU6) and not all zero. */
    float sum = 0;
    for (int k = 0; k < 1280; k++) {
        CHECK(feat[k] >= 0 && feat[k] <= 6.01f);
        sum += feat[k];
    }
    CHECK(sum > 1.0f);
    /* Probabilities are the dequantized softmax bytes (scale 1/256). */
    for (int k = 0; k < 1001; k++)
        CHECK(probs[k] == got[k] / 256.0f);
}

/* One golden input in the three arithmetics. */
static void v2_check_input(const golden *g, const char *name)
{
    size_t in_len, out_len;
    char *in = read_sibling(g->dir, name, ".in", &in_len);
    char *want = read_sibling(g->dir, name, ".out0", &out_len);
    const uint8_t *w = (const uint8_t *)want;
    int ok = in && want && out_len == 1001;
    CHECK(ok);
    if (in && arith_run(&g->xnn, in, in_len, NULL, NULL) == 0)
        check_litert("mobilenet_v2", name, arith_output(&g->xnn), 1001);
    if (ok && arith_run(&g->arm, in, in_len, NULL, NULL) == 0) {
        const uint8_t *got = arith_output(&g->arm);
        check_exact("mobilenet_v2", name, got, w, 1001);
        int strict;
        CHECK(same_top5(got, w, 1001, &strict));
        printf("mobilenet_v2 %s (armnn arithmetic): top-5 %s\n", name,
               strict ? "same" : "same up to a tie at the 5th place");
    } else {
        CHECK(0);
    }
    if (ok)
        v2_check_default(g, name, in, in_len, w);
    else
        CHECK(0);
    free(in);
    free(want);
}

TEST(mobilenet_v2_golden)
{
    if (golden_check("golden/mobilenet_v2_1.0_224_quant", PS_MODEL_CLASSIFIER, 2,
                     v2_check_input) != 0)
        SKIP("shared models or golden/mobilenet_v2_1.0_224_quant missing");
}

static double cosine(const uint8_t *a, const uint8_t *b, size_t n, int zp)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] - zp, y = b[i] - zp;
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / (sqrt(aa) * sqrt(bb)) : 0;
}

/* One golden input: the embedding in the default arithmetic close to
 * golden's, xnnpack's identical to LiteRT's, armnn's to golden's. */
static void v1_check_input(const golden *g, const char *name)
{
    size_t in_len, out_len;
    char *in = read_sibling(g->dir, name, ".in", &in_len);
    char *want = read_sibling(g->dir, name, ".out0", &out_len);
    const uint8_t *w = (const uint8_t *)want;
    float emb[1024];
    CHECK(in && want && out_len == 1024);
    if (!in || !want || out_len != 1024 || arith_run(&g->def, in, in_len, NULL, emb) != 0) {
        CHECK(0);
        free(in);
        free(want);
        return;
    }
    const uint8_t *got = arith_output(&g->def);
    agree ag = compare(got, w, 1024);
    double cos = cosine(got, w, 1024, 0);
    printf("mobilenet_v1 %s: %zu/%zu identical (%.2f%%), max diff %d, cosine %.5f\n", name,
           ag.same, ag.total, 100.0 * ag.same / ag.total, ag.max_diff, cos);
    CHECK(cos >= 0.99);
    CHECK(ag.max_diff <= 16);
    CHECK(ag.same * 100 >= ag.total * 30);

    if (arith_run(&g->xnn, in, in_len, NULL, NULL) == 0)
        check_litert("mobilenet_v1", name, arith_output(&g->xnn), 1024);
    if (arith_run(&g->arm, in, in_len, NULL, NULL) == 0)
        check_exact("mobilenet_v1", name, arith_output(&g->arm), w, 1024);
    else
        CHECK(0);
    free(in);
    free(want);
}

TEST(mobilenet_v1_golden)
{
    /* xnnpack on one thread here: the other models run it on two. */
    if (golden_check("golden/mobilenet_v1_1.0_224_quant_embedding_extractor", PS_MODEL_EMBEDDER,
                     1, v1_check_input) != 0)
        SKIP("shared models or golden/mobilenet_v1_1.0_224_quant_embedding_extractor missing");
}

/* "class fraction" lines of a .fractions file; absent classes have 0. */
static void parse_fractions(const char *text, float share[21])
{
    const char *p = text;
    int cls;
    float f;
    int consumed;
    for (int c = 0; c < 21; c++)
        share[c] = 0;
    while (sscanf(p, "%d %f%n", &cls, &f, &consumed) == 2) {
        if (cls >= 0 && cls < 21)
            share[cls] = f;
        p += consumed;
    }
}

#define DEEPLAB_PIXELS ((size_t)513 * 513)

/* The golden files of one DeepLab input; lg (the logits) is optional. */
typedef struct seg_golden {
    char *in, *am, *fr, *lg;
    size_t in_len, am_len, fr_len, lg_len;
} seg_golden;

/* xnnpack: the logits' SHA-256 is LiteRT's, as listed in
 * tests/data/litert/deeplab_logits.sha256 (no check without that list). */
static void deeplab_check_litert(const golden *g, const char *name, const seg_golden *s)
{
    size_t hl = 0;
    char *hashes = litert_file("deeplab_logits.sha256", &hl);
    if (hashes && arith_run(&g->xnn, s->in, s->in_len, NULL, NULL) == 0) {
        size_t nl;
        const uint8_t *lx = ps_model_raw_logits(g->xnn.m, g->xnn.ws, &nl);
        char hex[65];
        ps_sha256_hex(lx, nl, hex);
        ps_buf line = {0};
        ps_buf_printf(&line, "%s  %s\n", hex, name);
        int same = strstr(hashes, line.data) != NULL;
        ps_buf_free(&line);
        printf("deeplab %s vs LiteRT (xnnpack arithmetic): logits SHA-256 %s\n", name,
               same ? "identical" : "DIFFERENT");
        CHECK(same);
    }
    free(hashes);
}

/* The default arithmetic (already run: classes and frac are its output):
 * >= 99% of pixels with golden's class, bounded logits, shares within 1%. */
static void deeplab_check_default(const golden *g, const char *name, const seg_golden *s,
                                  const uint8_t *classes, const float frac[21],
                                  const float want[21])
{
    agree ga = compare(classes, (const uint8_t *)s->am, DEEPLAB_PIXELS);
    printf("deeplab %s: argmax %zu/%zu pixels agree (%.3f%%)\n", name, ga.same, ga.total,
           100.0 * ga.same / ga.total);
    CHECK(ga.same * 100 >= ga.total * 99);
    if (s->lg && s->lg_len == DEEPLAB_PIXELS * 21) {
        size_t n_lg;
        const uint8_t *logits = ps_model_raw_logits(g->def.m, g->def.ws, &n_lg);
        CHECK(logits && n_lg == s->lg_len);
        if (logits && n_lg == s->lg_len) {
            agree gl = compare(logits, (const uint8_t *)s->lg, s->lg_len);
            printf("deeplab %s: logits %zu/%zu identical (%.2f%%), max diff %d\n", name,
                   gl.same, gl.total, 100.0 * gl.same / gl.total, gl.max_diff);
            CHECK(gl.max_diff <= 8);
            CHECK(gl.same * 100 >= gl.total * 30);
        }
    }
    float total = 0;
    for (int c = 0; c < 21; c++) {
        CHECK_NEAR(frac[c], want[c], 0.01);
        total += frac[c];
    }
    CHECK_NEAR(total, 1.0, 1e-4);
}

/* The criterion, in Arm NN's arithmetic (classes: scratch). */
static void deeplab_check_armnn(const golden *g, const char *name, const seg_golden *s,
                                uint8_t *classes, const float want[21])
{
    ps_error err;
    float frac[21];
    if (arith_run(&g->arm, s->in, s->in_len, frac, NULL) != 0 ||
        ps_model_class_map(g->arm.m, g->arm.ws, classes, DEEPLAB_PIXELS, &err) != 0) {
        CHECK(0);
        return;
    }
    agree aa = compare(classes, (const uint8_t *)s->am, DEEPLAB_PIXELS);
    double worst = 0;
    for (int c = 0; c < 21; c++)
        worst = fabs(frac[c] - want[c]) > worst ? fabs(frac[c] - want[c]) : worst;
    printf("deeplab %s (armnn arithmetic): argmax %zu/%zu pixels agree (%.3f%%), "
           "largest class share difference %.6f\n", name, aa.same, aa.total,
           100.0 * aa.same / aa.total, worst);
    CHECK(aa.same * 1000 >= aa.total * 999);
    /* The golden shares are printed with 6 decimals. */
    CHECK(worst <= 0.001);
    if (s->lg && s->lg_len == DEEPLAB_PIXELS * 21) {
        size_t n_lg;
        const uint8_t *logits = ps_model_raw_logits(g->arm.m, g->arm.ws, &n_lg);
        CHECK(logits && n_lg == s->lg_len);
        if (logits && n_lg == s->lg_len)
            check_exact("deeplab logits", name, logits, (const uint8_t *)s->lg, s->lg_len);
    }
}

/* One golden input in the three arithmetics; the default arithmetic's
 * classes are checked before the armnn run reuses the buffer. */
static void deeplab_check_input(const golden *g, const char *name)
{
    ps_error err;
    seg_golden s = {0};
    s.in = read_sibling(g->dir, name, ".in", &s.in_len);
    s.am = read_sibling(g->dir, name, ".argmax", &s.am_len);
    s.fr = read_sibling(g->dir, name, ".fractions", &s.fr_len);
    s.lg = read_sibling(g->dir, name, ".logits", &s.lg_len);
    uint8_t *classes = ps_xmalloc(DEEPLAB_PIXELS);
    float frac[21], want[21];
    CHECK(s.in && s.am && s.fr && s.am_len == DEEPLAB_PIXELS);
    if (!s.in || !s.am || !s.fr || s.am_len != DEEPLAB_PIXELS ||
        arith_run(&g->def, s.in, s.in_len, frac, NULL) != 0 ||
        ps_model_class_map(g->def.m, g->def.ws, classes, DEEPLAB_PIXELS, &err) != 0) {
        CHECK(0);
    } else {
        deeplab_check_litert(g, name, &s);
        parse_fractions(s.fr, want);
        deeplab_check_default(g, name, &s, classes, frac, want);
        deeplab_check_armnn(g, name, &s, classes, want);
    }
    free(classes);
    free(s.in);
    free(s.am);
    free(s.fr);
    free(s.lg);
}

TEST(deeplab_golden)
{
    if (golden_check("golden/deeplabv3_mnv2_pascal_quant", PS_MODEL_SEGMENTER, 2,
                     deeplab_check_input) != 0)
        SKIP("shared models or golden/deeplabv3_mnv2_pascal_quant missing");
}

/* Reference kernels, fast kernels, 1 and 2 threads: identical bytes
 * (opt: the arithmetic, NULL for the default). */
static void same_paths(ps_model_kind kind, const char *golden_sub, const ps_nn_options *opt)
{
    golden g;
    if (golden_open(&g, golden_sub) != 0)
        return;
    if (golden_load_first(&g, kind, opt) == 0) {
        const ps_model *m = g.def.m;
        const uint8_t *in = (const uint8_t *)g.first;
        ps_error err;
        ps_nn_workspace *w1 = ps_model_workspace(m, 1), *w2 = ps_model_workspace(m, 2),
                        *wr = ps_model_workspace(m, 2);
        ps_nn_workspace_set_reference(wr, 1);
        CHECK(ps_model_run(m, w1, in, g.first_len, NULL, NULL, &err) == 0);
        CHECK(ps_model_run(m, w2, in, g.first_len, NULL, NULL, &err) == 0);
        CHECK(ps_model_run(m, wr, in, g.first_len, NULL, NULL, &err) == 0);
        size_t n1, n2, nr;
        const uint8_t *a = ps_model_raw_output(m, w1, &n1), *b = ps_model_raw_output(m, w2, &n2),
                      *r = ps_model_raw_output(m, wr, &nr);
        CHECK(a && b && r && n1 == n2 && n1 == nr);
        if (a && b && r && n1 == n2 && n1 == nr) {
            CHECK(memcmp(a, b, n1) == 0);
            CHECK(memcmp(a, r, n1) == 0);
        }
        ps_nn_workspace_free(w1);
        ps_nn_workspace_free(w2);
        ps_nn_workspace_free(wr);
    }
    golden_close(&g);
}

TEST(reference_and_fast_kernels_agree_on_models)
{
    char *models = shared_path("models");
    if (!models)
        SKIP("shared models missing");
    free(models);
    same_paths(PS_MODEL_CLASSIFIER, "golden/mobilenet_v2_1.0_224_quant", NULL);
    same_paths(PS_MODEL_EMBEDDER, "golden/mobilenet_v1_1.0_224_quant_embedding_extractor", NULL);
    same_paths(PS_MODEL_CLASSIFIER, "golden/mobilenet_v2_1.0_224_quant", &ARMNN);
    same_paths(PS_MODEL_EMBEDDER, "golden/mobilenet_v1_1.0_224_quant_embedding_extractor",
               &ARMNN);
}

/* One loaded model, several threads each with its own workspace. */
typedef struct shared_run {
    const ps_model *m;
    const uint8_t *in;
    size_t len;
    uint8_t out[1024];
    int ok;
} shared_run;

static void *run_thread(void *arg)
{
    shared_run *r = arg;
    ps_error err;
    ps_nn_workspace *ws = ps_model_workspace(r->m, 1);
    r->ok = 1;
    for (int i = 0; i < 3; i++) {
        r->ok &= ps_model_run(r->m, ws, r->in, r->len, NULL, NULL, &err) == 0;
        const uint8_t *o = ps_model_raw_output(r->m, ws, NULL);
        if (i == 0)
            memcpy(r->out, o, 1024);
        else
            r->ok &= memcmp(r->out, o, 1024) == 0;
    }
    ps_nn_workspace_free(ws);
    return NULL;
}

TEST(one_model_many_threads)
{
    golden g;
    if (golden_open(&g, "golden/mobilenet_v1_1.0_224_quant_embedding_extractor") != 0)
        SKIP("shared models or golden files missing");
    if (golden_load_first(&g, PS_MODEL_EMBEDDER, NULL) == 0) {
        shared_run r[3];
        pthread_t t[3];
        for (int i = 0; i < 3; i++) {
            r[i].m = g.def.m;
            r[i].in = (const uint8_t *)g.first;
            r[i].len = g.first_len;
            CHECK(pthread_create(&t[i], NULL, run_thread, &r[i]) == 0);
        }
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 3; i++) {
            CHECK(r[i].ok);
            CHECK(memcmp(r[i].out, r[0].out, 1024) == 0);
        }
    }
    golden_close(&g);
}

TEST(labels_and_metadata)
{
    char *models = shared_path("models");
    if (!models)
        SKIP("shared models missing");
    ps_error err;
    ps_model *c = ps_model_load(PS_MODEL_CLASSIFIER, models, NULL, &err);
    ps_model *s = ps_model_load(PS_MODEL_SEGMENTER, models, NULL, &err);
    CHECK(c && s);
    if (c && s) {
        CHECK_INT(ps_model_num_classes(c), 1001);
        CHECK_STR(ps_model_label(c, 0), "background");
        CHECK_STR(ps_model_label(c, 1), "tench, Tinca tinca");
        CHECK(ps_model_label(c, 1001) == NULL);
        CHECK_INT(ps_model_feature_dim(c), 1280);
        CHECK_INT(ps_model_input_side(c), 224);
        CHECK_INT(ps_model_num_classes(s), 21);
        CHECK_STR(ps_model_label(s, 15), "person");
        CHECK_STR(ps_model_label(s, 20), "tvmonitor");
        CHECK_INT(ps_model_input_side(s), 513);
    }
    ps_model_free(c);
    ps_model_free(s);
    free(models);
}

TEST(checksum_mismatch_is_refused)
{
    char *models = shared_path("models");
    if (!models)
        SKIP("shared models missing");
    /* A models folder whose MobileNetV2 file is damaged by one byte. */
    const char *tmp = getenv("PICSEEK_TEST_TMP");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/badmodels", tmp && *tmp ? tmp : "/tmp");
    mkdir(dir, 0755);
    char *src = ps_path_join(models, "mobilenet_v2_1.0_224_quant.tflite");
    size_t len;
    ps_error err;
    char *data = ps_read_file(src, 64 << 20, &len, &err);
    CHECK(data != NULL);
    if (data) {
        data[len / 2] ^= 1;
        char *dst = ps_path_join(dir, "mobilenet_v2_1.0_224_quant.tflite");
        CHECK(ps_write_file_atomic(dst, data, len, &err) == 0);
        ps_model *m = ps_model_load(PS_MODEL_CLASSIFIER, dir, NULL, &err);
        CHECK(m == NULL);
        CHECK_CONTAINS(err.msg, "checksum mismatch");
        ps_model_free(m);
        free(dst);
    }
    free(data);
    free(src);
    free(models);
}

TEST(top_k_orders_and_breaks_ties_by_index)
{
    float s[6] = {0.1f, 0.5f, 0.5f, 0.9f, 0.0f, 0.5f};
    int idx[4];
    CHECK_INT(ps_top_k(s, 6, 4, idx), 4);
    CHECK_INT(idx[0], 3);
    CHECK_INT(idx[1], 1);
    CHECK_INT(idx[2], 2);
    CHECK_INT(idx[3], 5);
    CHECK_INT(ps_top_k(s, 2, 5, idx), 2);
    CHECK_INT(idx[0], 1);
    CHECK_INT(idx[1], 0);
}

int main(void)
{
    RUN(top_k_orders_and_breaks_ties_by_index);
    RUN(labels_and_metadata);
    RUN(checksum_mismatch_is_refused);
    RUN(mobilenet_v2_golden);
    RUN(mobilenet_v1_golden);
    RUN(deeplab_golden);
    RUN(reference_and_fast_kernels_agree_on_models);
    RUN(one_model_many_threads);
    return test_summary();
}
