/* Tests for the dataset loader (src/data/dataset.h) and photo listing. */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/photos.h"

/* A small valid dataset; each test replaces one file. */
static const char TRAIN[] =
    "image,query_id,query_text\n"
    "a.jpg,b.jpg#0,A dog runs .\n"
    "a.jpg,c.jpg#1,\"A boy , smiling .\"\n"
    "b.jpg,b.jpg#0,A dog runs .\n";
static const char EXPERT[] =
    "a.jpg\tb.jpg#0\t1\t1\t2\n"
    "a.jpg\tc.jpg#1\t4\t4\t3\n"
    "b.jpg\tb.jpg#0\t1\t2\t3\n";
static const char CROWD[] =
    "a.jpg\tc.jpg#1\t0.666666666666667\t2\t1\n"
    "b.jpg\tb.jpg#0\t1\t3\t0\n"
    "c.jpg\tb.jpg#0\t0\t0\t3\n";
static const char TEST_QUERIES[] =
    "|query_id|query_text|image\n"
    "0|t1.jpg#0|A cat .|t1.jpg\n"
    "1|t1.jpg#1|\"A \"\"cat\"\" sits .\"|t1.jpg\n";
static const char TEST_IMAGES[] = "image\nt1.jpg\n";

static const char JPEG[] = "\xFF\xD8\xFF\xE0\0\x10JFIF";
static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
static const char WEBP[] = "RIFF\x24\0\0\0WEBPVP8 ";
static const char DS_STORE[] = "\0\0\0\1Bud1\0\0\x10\0";

typedef struct files {
    const char *train, *expert, *crowd, *test_queries, *test_images;
    int no_photos; /* don't create the photo folders */
} files;

static char dirbuf[8][512];
static int dirslot;

/* Write a dataset folder named `name` under the test tmp folder; NULL
 * members get the valid defaults, "-" leaves the file out.  Returns the
 * folder path. */
static const char *make(const char *name, files f)
{
    const char *tmp = getenv("PICSEEK_TEST_TMP");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char *dir = dirbuf[dirslot++ % 8];
    snprintf(dir, 512, "%s/%s", tmp, name);
    mkdir(dir, 0755);
    const char *names[5] = {"train_dataset.csv", "ExpertAnnotations.tsv", "CrowdAnnotations.tsv",
                            "test_queries.csv", "test_images.csv"};
    const char *content[5] = {f.train ? f.train : TRAIN, f.expert ? f.expert : EXPERT,
                              f.crowd ? f.crowd : CROWD,
                              f.test_queries ? f.test_queries : TEST_QUERIES,
                              f.test_images ? f.test_images : TEST_IMAGES};
    char rel[256];
    for (int i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "%s/%s", name, names[i]);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", tmp, rel);
        unlink(path);
        if (strcmp(content[i], "-") != 0)
            test_write_tmp(rel, content[i], strlen(content[i]));
    }
    if (!f.no_photos) {
        char sub[600];
        snprintf(sub, sizeof sub, "%s/train_images", dir);
        mkdir(sub, 0755);
        snprintf(sub, sizeof sub, "%s/test_images", dir);
        mkdir(sub, 0755);
        snprintf(rel, sizeof rel, "%s/train_images/a.jpg", name);
        test_write_tmp(rel, JPEG, sizeof JPEG - 1);
        snprintf(rel, sizeof rel, "%s/train_images/b.jpg", name);
        test_write_tmp(rel, PNG, sizeof PNG - 1);
        snprintf(rel, sizeof rel, "%s/train_images/c.webp", name);
        test_write_tmp(rel, WEBP, sizeof WEBP - 1);
        snprintf(rel, sizeof rel, "%s/train_images/.DS_Store", name);
        test_write_tmp(rel, DS_STORE, sizeof DS_STORE - 1);
        snprintf(rel, sizeof rel, "%s/train_images/empty.jpg", name);
        test_write_tmp(rel, "", 0);
        snprintf(rel, sizeof rel, "%s/test_images/t1.jpg", name);
        test_write_tmp(rel, JPEG, sizeof JPEG - 1);
    }
    return dir;
}

/* Load dir strictly and return the error message ("" on success). */
static const char *load_error(const char *dir, ps_error *e)
{
    ps_dataset ds;
    if (ps_dataset_load(&ds, dir, NULL, e) == 0) {
        ps_dataset_free(&ds);
        e->msg[0] = '\0';
    }
    return e->msg;
}

/* Expect loading a dataset whose `file` is broken to fail with
 * "<dir>/<file>:<rest>". */
#define CHECK_LOAD_ERROR(dir, file, rest)                                     \
    do {                                                                      \
        ps_error e_;                                                          \
        char want_[2048];                                                     \
        snprintf(want_, sizeof want_, "%s/%s%s", dir, file, rest);            \
        CHECK_STR(load_error(dir, &e_), want_);                               \
    } while (0)

TEST(loads_valid_dataset)
{
    const char *dir = make("valid", (files){0});
    ps_dataset ds;
    ps_error e;
    int rc = ps_dataset_load(&ds, dir, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    CHECK_INT(ds.ntrain, 3);
    CHECK_STR(ds.train[1].image, "a.jpg");
    CHECK_STR(ds.train[1].query_id, "c.jpg#1");
    CHECK_STR(ds.train[1].query_text, "A boy , smiling .");
    CHECK_INT(ds.train[1].line, 3);
    CHECK_INT(ds.nexpert, 3);
    CHECK_INT(ds.expert[1].score[0], 4);
    CHECK_INT(ds.expert[1].score[2], 3);
    CHECK_INT(ds.ncrowd, 3);
    CHECK_NEAR(ds.crowd[0].ratio, 2.0 / 3.0, 1e-12);
    CHECK_INT(ds.crowd[0].agree, 2);
    CHECK_INT(ds.crowd[0].disagree, 1);
    CHECK_INT(ds.ntest_queries, 2);
    CHECK_INT(ds.test_queries[1].index, 1);
    CHECK_STR(ds.test_queries[1].query_text, "A \"cat\" sits .");
    CHECK_STR(ds.test_queries[1].image, "t1.jpg");
    CHECK_INT(ds.ntest_images, 1);
    CHECK_STR(ds.test_images[0], "t1.jpg");
    /* photos: sniffed by content, not by name; strays reported */
    CHECK(ds.photos_listed);
    CHECK_INT(ds.train_photos.n, 3);
    CHECK_STR(ds.train_photos.names[0], "a.jpg");
    CHECK_STR(ds.train_photos.names[1], "b.jpg");
    CHECK_STR(ds.train_photos.names[2], "c.webp");
    CHECK_INT(ds.train_photos.nskipped, 2);
    char want[1024];
    snprintf(want, sizeof want, "%s/train_images/.DS_Store", dir);
    CHECK_STR(ds.train_photos.skipped[0].path, want);
    CHECK_STR(ds.train_photos.skipped[0].reason,
              "not a JPEG, PNG or WebP image (first bytes 00 00 00 01)");
    CHECK_STR(ds.train_photos.skipped[1].reason, "empty file, not an image");
    CHECK_INT(ds.test_photos.n, 1);
    CHECK_INT(ds.test_photos.nskipped, 0);
    /* c.jpg is referenced by the crowd file but the folder has c.webp */
    CHECK_INT(ds.train_photos_missing, 1);
    CHECK_INT(ds.test_photos_missing, 0);
    for (int f = 0; f < PS_DS_NFILES; f++)
        CHECK_INT(ds.rows_skipped[f], 0);
    CHECK_INT(ds.warnings_total, 0);
    ps_dataset_free(&ds);
}

TEST(expert_errors)
{
    const char *f = "ExpertAnnotations.tsv";
    const char *dir = make("e_cols", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                                                       "a.jpg\tc.jpg#1\t4\t4\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 5: record has 4 fields, expected 5");

    dir = make("e_nonnum", (files){.expert = "a.jpg\tb.jpg#0\t1\tx\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 4: expert score 'x' is not a whole number");
    dir = make("e_sign", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t+2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 5: expert score '+2' is not a whole number");
    dir = make("e_float", (files){.expert = "a.jpg\tb.jpg#0\t1.0\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: expert score '1.0' is not a whole number");
    dir = make("e_empty", (files){.expert = "a.jpg\tb.jpg#0\t\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: expert score '' is not a whole number");

    dir = make("e_range", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                                            "a.jpg\tc.jpg#1\t4\t5\t3\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 4: expert score 5 is outside 1..4");
    dir = make("e_zero", (files){.expert = "a.jpg\tb.jpg#0\t0\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: expert score 0 is outside 1..4");

    dir = make("e_trunc", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                                            "a.jpg\tc.jpg#1\t4"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 4: record has 3 fields, expected 5 (truncated last line?)");

    dir = make("e_dup", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                                          "a.jpg\tc.jpg#1\t4\t4\t3\n"
                                          "a.jpg\tb.jpg#0\t2\t2\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 2: duplicated pair (a.jpg, b.jpg#0), first on line 1");

    dir = make("e_utf8", (files){.expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                                           "a\xe9.jpg\tc.jpg#1\t4\t4\t3\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 1: invalid UTF-8 at byte offset 21");

    dir = make("e_capid", (files){.expert = "a.jpg\tb.jpg\t1\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f,
                     ":1: column 2: caption id 'b.jpg' is not of the form <photo file name>#<n>");
    dir = make("e_capid2", (files){.expert = "a.jpg\tb.jpg#x\t1\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f,
                     ":1: column 2: caption id 'b.jpg#x' is not of the form <photo file name>#<n>");
    dir = make("e_capid3", (files){.expert = "a.jpg\t#0\t1\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f,
                     ":1: column 2: caption id '#0' is not of the form <photo file name>#<n>");
    dir = make("e_capid4", (files){.expert = "a.jpg\tdir/b.jpg#0\t1\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f,
                     ":1: column 2: caption id 'dir/b.jpg#0' is not of the form <photo file name>#<n>");
    dir = make("e_image", (files){.expert = "../a.jpg\tb.jpg#0\t1\t1\t2\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 1: image name '../a.jpg' is not a valid photo file name");

    dir = make("e_empty_file", (files){.expert = ""});
    CHECK_LOAD_ERROR(dir, f, ": file is empty");
    dir = make("e_missing", (files){.expert = "-"});
    CHECK_LOAD_ERROR(dir, f, ": cannot open: No such file or directory");
}

TEST(crowd_errors)
{
    const char *f = "CrowdAnnotations.tsv";
    const char *dir = make("c_range", (files){.crowd = "a.jpg\tc.jpg#1\t1.5\t2\t1\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: agreement ratio 1.5 is outside 0..1");
    dir = make("c_nan", (files){.crowd = "a.jpg\tc.jpg#1\tnan\t2\t1\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: agreement ratio 'nan' is not a number");
    dir = make("c_neg", (files){.crowd = "a.jpg\tc.jpg#1\t-0\t0\t1\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: agreement ratio '-0' is not a number");
    dir = make("c_count", (files){.crowd = "a.jpg\tc.jpg#1\t0.5\t1\t-1\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 5: disagree count '-1' is not a whole number");
    dir = make("c_zero", (files){.crowd = "a.jpg\tc.jpg#1\t0\t0\t0\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 5: agree and disagree counts are both 0");
    dir = make("c_mismatch", (files){.crowd = "a.jpg\tc.jpg#1\t0.5\t2\t1\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 3: agreement ratio 0.5 does not match 2 agree / 1 disagree");
    dir = make("c_dup", (files){.crowd = "a.jpg\tc.jpg#1\t1\t1\t0\n"
                                         "a.jpg\tc.jpg#1\t0\t0\t1\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 2: duplicated pair (a.jpg, c.jpg#1), first on line 1");
    /* rounded ratios and exponents are accepted */
    dir = make("c_ok", (files){.crowd = "a.jpg\tc.jpg#1\t0.667\t2\t1\n"
                                        "b.jpg\tb.jpg#0\t3.33e-1\t1\t2\n"});
    ps_error e;
    CHECK_STR(load_error(dir, &e), "");
}

TEST(train_errors)
{
    const char *f = "train_dataset.csv";
    const char *dir = make("t_header", (files){.train = "image,caption_id,query_text\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 2: header is 'caption_id', expected 'query_id'");
    dir = make("t_quote", (files){.train = "image,query_id,query_text\n"
                                           "a.jpg,b.jpg#0,\"A dog runs .\n"});
    CHECK_LOAD_ERROR(dir, f,
                     ":2: column 3: unterminated quoted field at end of file (truncated file?)");
    dir = make("t_utf8", (files){.train = "image,query_id,query_text\n"
                                          "a.jpg,b.jpg#0,A d\xffg .\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 3: invalid UTF-8 at byte offset 43");
    dir = make("t_text", (files){.train = "image,query_id,query_text\n"
                                          "a.jpg,b.jpg#0,\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 3: empty query text");
    dir = make("t_dup", (files){.train = "image,query_id,query_text\n"
                                         "a.jpg,b.jpg#0,A dog .\n"
                                         "a.jpg,b.jpg#0,A dog .\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 2: duplicated pair (a.jpg, b.jpg#0), first on line 2");
    dir = make("t_text2", (files){.train = "image,query_id,query_text\n"
                                           "a.jpg,b.jpg#0,A dog .\n"
                                           "c.jpg,b.jpg#0,A cat .\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 3: query 'b.jpg#0' has a different text than on line 2");
    dir = make("t_noheader", (files){.train = "\xEF\xBB\xBF"});
    CHECK_LOAD_ERROR(dir, f, ": file is empty");
    /* a multi-line record: the error names the line where it starts */
    dir = make("t_multi", (files){.train = "image,query_id,query_text\n"
                                           "a.jpg,b.jpg#0,\"two\nlines\"\n"
                                           "a.jpg,b.jpg#1\n"});
    CHECK_LOAD_ERROR(dir, f, ":4: column 3: record has 2 fields, expected 3");
}

TEST(test_file_errors)
{
    const char *f = "test_queries.csv";
    const char *dir = make("q_header", (files){.test_queries = "query_id|query_text|image\n"});
    CHECK_LOAD_ERROR(dir, f, ":1: column 4: record has 3 fields, expected 4");
    dir = make("q_index", (files){.test_queries = "|query_id|query_text|image\n"
                                                  "x|t1.jpg#0|A cat .|t1.jpg\n"});
    CHECK_LOAD_ERROR(dir, f, ":2: column 1: row index 'x' is not a whole number");
    dir = make("q_dup", (files){.test_queries = "|query_id|query_text|image\n"
                                                "0|t1.jpg#0|A cat .|t1.jpg\n"
                                                "1|t1.jpg#0|A cat .|t1.jpg\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 2: duplicated query id 't1.jpg#0', first on line 2");
    f = "test_images.csv";
    dir = make("i_dup", (files){.test_images = "image\nt1.jpg\nt1.jpg\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 1: duplicated image 't1.jpg', first on line 2");
    dir = make("i_missing", (files){.test_images = "-"});
    CHECK_LOAD_ERROR(dir, f, ": cannot open: No such file or directory");
    dir = make("i_blank", (files){.test_images = "image\nt1.jpg\n\n"});
    CHECK_LOAD_ERROR(dir, f, ":3: column 1: image name '' is not a valid photo file name");
}

TEST(folders)
{
    ps_error e;
    const char *dir = make("no_photos", (files){.no_photos = 1});
    char want[1024];
    snprintf(want, sizeof want, "%s/train_images: cannot open folder: No such file or directory",
             dir);
    CHECK_STR(load_error(dir, &e), want);
    /* without photo listing the same folder loads */
    ps_dataset ds;
    ps_dataset_opts o;
    ps_dataset_opts_default(&o);
    o.photos = false;
    CHECK_INT(ps_dataset_load(&ds, dir, &o, &e), 0);
    CHECK(!ds.photos_listed);
    ps_dataset_free(&ds);

    snprintf(want, sizeof want, "%s/nowhere", dir);
    char msg[1200];
    snprintf(msg, sizeof msg,
             "%s: not a folder (the dataset folder holds train_dataset.csv, "
             "ExpertAnnotations.tsv, ...)", want);
    CHECK_STR(load_error(want, &e), msg);
}

TEST(lenient_mode)
{
    const char *dir = make("lenient", (files){
        .expert = "a.jpg\tb.jpg#0\t1\t1\t2\n"
                  "a.jpg\tc.jpg#1\t4\t9\t3\n"     /* out of range */
                  "a.jpg\tb.jpg#0\t2\t2\t2\n"     /* duplicate */
                  "b.jpg\tb.jpg#0\t1\t2\n"        /* 4 columns */
                  "b.jpg\tb.jpg#0\t1\t2\t3\n",
        .crowd = "a.jpg\tc.jpg#1\tx\t2\t1\n"      /* not a number */
                 "b.jpg\tb.jpg#0\t1\t3\t0\n",
        .train = "image,query_id,query_text\n"
                 "a.jpg,b.jpg#0,A dog runs .\n"
                 "a.jpg,c.jpg,A boy .\n"          /* bad query id */
                 "b.jpg,b.jpg#0,A d\xc3g .\n"}); /* invalid UTF-8 */
    ps_dataset ds;
    ps_dataset_opts o;
    ps_dataset_opts_default(&o);
    o.lenient = true;
    ps_error e;
    int rc = ps_dataset_load(&ds, dir, &o, &e);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    CHECK_INT(ds.nexpert, 2);
    CHECK_INT(ds.rows_skipped[PS_DS_EXPERT], 3);
    CHECK_INT(ds.ncrowd, 1);
    CHECK_INT(ds.rows_skipped[PS_DS_CROWD], 1);
    CHECK_INT(ds.ntrain, 1);
    CHECK_INT(ds.rows_skipped[PS_DS_TRAIN], 2);
    CHECK_INT(ds.rows_skipped[PS_DS_TEST_QUERIES], 0);
    CHECK_INT(ds.warnings_total, 6);
    CHECK_INT(ds.nwarnings, 6);
    /* warnings are the strict-mode messages, in file order */
    char want[1024];
    snprintf(want, sizeof want, "%s/train_dataset.csv:3: column 2: query id 'c.jpg' is not of the "
             "form <photo file name>#<n>", dir);
    CHECK_STR(ds.warnings[0], want);
    snprintf(want, sizeof want, "%s/train_dataset.csv:4: column 3: invalid UTF-8 at byte offset 90",
             dir);
    CHECK_STR(ds.warnings[1], want);
    snprintf(want, sizeof want, "%s/ExpertAnnotations.tsv:2: column 4: expert score 9 is outside "
             "1..4", dir);
    CHECK_STR(ds.warnings[2], want);
    snprintf(want, sizeof want, "%s/ExpertAnnotations.tsv:3: column 2: duplicated pair (a.jpg, "
             "b.jpg#0), first on line 1", dir);
    CHECK_STR(ds.warnings[3], want);
    snprintf(want, sizeof want, "%s/ExpertAnnotations.tsv:4: column 5: record has 4 fields, "
             "expected 5", dir);
    CHECK_STR(ds.warnings[4], want);
    snprintf(want, sizeof want, "%s/CrowdAnnotations.tsv:1: column 3: agreement ratio 'x' is not "
             "a number", dir);
    CHECK_STR(ds.warnings[5], want);
    /* the good rows are intact */
    CHECK_STR(ds.expert[1].image, "b.jpg");
    CHECK_INT(ds.expert[1].line, 5);
    ps_dataset_free(&ds);

    /* the warning list is capped but the counts stay exact */
    o.max_warnings = 2;
    CHECK_INT(ps_dataset_load(&ds, dir, &o, &e), 0);
    CHECK_INT(ds.nwarnings, 2);
    CHECK_INT(ds.warnings_total, 6);
    ps_dataset_free(&ds);

    /* broken CSV syntax still stops a lenient load */
    dir = make("lenient_fatal", (files){.train = "image,query_id,query_text\n"
                                                 "a.jpg,b.jpg#0,A \"dog\" .\n"});
    CHECK_INT(ps_dataset_load(&ds, dir, &o, &e), -1);
    snprintf(want, sizeof want, "%s/train_dataset.csv:2: column 3: quote character inside an "
             "unquoted field (quote the whole field and double the quote)", dir);
    CHECK_STR(e.msg, want);
}

TEST(validators)
{
    size_t plen;
    long n;
    CHECK(ps_caption_id_parse("1000_abc.jpg#4", 14, &plen, &n));
    CHECK_INT(plen, 12);
    CHECK_INT(n, 4);
    CHECK(ps_caption_id_parse("a#b.jpg#12", 10, &plen, &n));  /* the last '#' splits */
    CHECK_INT(plen, 7);
    CHECK_INT(n, 12);
    CHECK(!ps_caption_id_parse("a.jpg#", 6, NULL, NULL));
    CHECK(!ps_caption_id_parse("a.jpg#-1", 8, NULL, NULL));
    CHECK(!ps_caption_id_parse("a.jpg# 1", 8, NULL, NULL));
    CHECK(!ps_caption_id_parse("..#1", 4, NULL, NULL));
    CHECK(!ps_caption_id_parse("a.jpg#1234567890", 16, NULL, NULL));
    CHECK(ps_photo_name_valid("x.jpg", 5));
    CHECK(ps_photo_name_valid("caf\xc3\xa9.jpg", 9));
    CHECK(!ps_photo_name_valid("", 0));
    CHECK(!ps_photo_name_valid(".", 1));
    CHECK(!ps_photo_name_valid("a/b", 3));
    CHECK(!ps_photo_name_valid("a\\b", 3));
    CHECK(!ps_photo_name_valid("a\tb", 3));
    CHECK_STR(ps_photo_sniff((const unsigned char *)JPEG, 3), "jpeg");
    CHECK_STR(ps_photo_sniff((const unsigned char *)PNG, 8), "png");
    CHECK_STR(ps_photo_sniff((const unsigned char *)WEBP, 12), "webp");
    CHECK(ps_photo_sniff((const unsigned char *)PNG, 7) == NULL);
    CHECK(ps_photo_sniff((const unsigned char *)DS_STORE, 12) == NULL);
    CHECK(ps_photo_sniff((const unsigned char *)"RIFF\0\0\0\0WAVE", 12) == NULL);
}

TEST(real_dataset)
{
    const char *shared = test_shared_dir();
    if (!shared)
        SKIP("PICSEEK_SHARED not set");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/dataset", shared);
    ps_dataset ds;
    ps_error e;
    int rc = ps_dataset_load(&ds, dir, NULL, &e);
    if (rc != 0 && strstr(e.msg, "No such file"))
        SKIP("the dataset is not in PICSEEK_SHARED");
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    /* the row counts of ../shared/dataset/README.md */
    CHECK_INT(ds.ntrain, 5822);
    CHECK_INT(ds.nexpert, 5822);
    CHECK_INT(ds.ncrowd, 47830);
    CHECK_INT(ds.ntest_queries, 500);
    CHECK_INT(ds.ntest_images, 100);
    CHECK_INT(ds.train_photos.n, 1000);
    CHECK_INT(ds.test_photos.n, 100);
    /* README: the folders hold stray .DS_Store files, which are not photos */
    size_t ds_store = 0;
    const ps_photo_list *lists[2] = {&ds.train_photos, &ds.test_photos};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lists[k]->nskipped; i++)
            ds_store += strstr(lists[k]->skipped[i].path, "/.DS_Store") != NULL;
    CHECK(ds_store >= 1);
    CHECK_INT(ds.train_photos_missing, 0);
    CHECK_INT(ds.test_photos_missing, 0);
    CHECK_INT(ds.warnings_total, 0);
    /* a quoted training caption with a comma (README: quoted fields may occur) */
    int quoted = 0;
    for (size_t i = 0; i < ds.ntrain; i++)
        quoted += strcmp(ds.train[i].query_text,
                         "A young boy dressed in a black hoodie crawling through a large , white "
                         "tube .") == 0;
    CHECK(quoted > 0);
    ps_dataset_free(&ds);
}

int main(void)
{
    RUN(loads_valid_dataset);
    RUN(expert_errors);
    RUN(crowd_errors);
    RUN(train_errors);
    RUN(test_file_errors);
    RUN(folders);
    RUN(lenient_mode);
    RUN(validators);
    RUN(real_dataset);
    return test_summary();
}
