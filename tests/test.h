/*
 * test.h - picseek's minimal unit-test harness (header only).
 *
 *   TEST(parses_quotes) { CHECK_STR(got, "a,b"); }
 *   int main(void) { RUN(parses_quotes); return test_summary(); }
 *
 * Each failed check prints file:line and the values; the run ends with the
 * line "N passed, N failed" and exits non-zero if anything failed.
 * A test may call SKIP("reason") when an optional asset is absent; skips are
 * counted and printed, never silently treated as passes.
 */
#ifndef PS_TEST_H
#define PS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_checks_;
static int test_passed_, test_failed_, test_skipped_;
static int test_cur_skipped_;

#define TEST(name) static void name(void)

#define RUN(name)                                                             \
    do {                                                                      \
        int before_ = test_failed_checks_;                                    \
        test_cur_skipped_ = 0;                                                \
        name();                                                               \
        if (test_cur_skipped_)                                                \
            test_skipped_++;                                                  \
        else if (test_failed_checks_ == before_)                              \
            test_passed_++;                                                   \
        else {                                                                \
            test_failed_++;                                                   \
            fprintf(stderr, "FAILED: %s\n", #name);                           \
        }                                                                     \
    } while (0)

#define SKIP(reason)                                                          \
    do {                                                                      \
        fprintf(stderr, "%s:%d: skipped: %s\n", __FILE__, __LINE__, reason);  \
        test_cur_skipped_ = 1;                                                \
        return;                                                               \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            test_failed_checks_++;                                            \
        }                                                                     \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_) {                                                       \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",       \
                    __FILE__, __LINE__, #a, a_, #b, b_);                      \
            test_failed_checks_++;                                            \
        }                                                                     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                 \
    do {                                                                      \
        double a_ = (double)(a), b_ = (double)(b);                            \
        if (!(fabs(a_ - b_) <= (tol))) {                                      \
            fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g (tol %g)\n",    \
                    __FILE__, __LINE__, #a, a_, b_, (double)(tol));           \
            test_failed_checks_++;                                            \
        }                                                                     \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
            fprintf(stderr, "%s:%d: %s ==\n  \"%s\"\nexpected\n  \"%s\"\n",   \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",               \
                    b_ ? b_ : "(null)");                                      \
            test_failed_checks_++;                                            \
        }                                                                     \
    } while (0)

/* Substring check, for messages that embed a temporary path. */
#define CHECK_CONTAINS(hay, needle)                                           \
    do {                                                                      \
        const char *h_ = (hay), *n_ = (needle);                               \
        if (!h_ || !strstr(h_, n_)) {                                         \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",        \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);              \
            test_failed_checks_++;                                            \
        }                                                                     \
    } while (0)

static inline int test_summary(void)
{
    printf("%d passed, %d failed, %d skipped\n", test_passed_, test_failed_,
           test_skipped_);
    return test_failed_ ? 1 : 0;
}

/* The folder holding dataset/ and models/ (set by ctest), or NULL. */
static inline const char *test_shared_dir(void)
{
    const char *s = getenv("PICSEEK_SHARED");
    return (s && *s) ? s : NULL;
}

/* Write `len` bytes to a fresh file under the test's temp folder; returns
 * the path in a static buffer rotated over 8 slots. */
static inline const char *test_write_tmp(const char *name, const void *data, size_t len)
{
    static char paths[8][512];
    static int slot;
    const char *dir = getenv("PICSEEK_TEST_TMP");
    if (!dir || !*dir)
        dir = "/tmp";
    char *p = paths[slot++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(2);
    }
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

#endif
