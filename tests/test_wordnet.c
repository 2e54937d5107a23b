/*
 * test_wordnet.c - the WordNet reader: morphology, synsets and hierarchy on
 * the real database (Debian wordnet-base), and error handling on small
 * databases written here, some of them corrupt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"
#include "test.h"
#include "text/wordnet.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *real_dir(void)
{
    const char *d = getenv("WNSEARCHDIR");
    return d && *d ? d : "/usr/share/wordnet";
}

static ps_wordnet *real_wn(void)
{
    static ps_wordnet *wn; /* loaded once for the whole file; freed in main */
    static int tried;
    if (!tried) {
        tried = 1;
        ps_error err;
        if (ps_is_dir(real_dir())) {
            wn = ps_wordnet_load(NULL, &err);
            if (!wn)
                fprintf(stderr, "load failed: %s\n", err.msg);
        }
    }
    return wn;
}

#define NEED_WN(wn)                                                     \
    ps_wordnet *wn = real_wn();                                         \
    if (!ps_is_dir(real_dir()))                                         \
        SKIP("WordNet database not installed (Debian wordnet-base)");   \
    CHECK(wn != NULL);                                                  \
    if (!wn)                                                            \
        return

/* Does morphy(word) in pos give exactly the lemmas listed (in order)? */
static int morphy_is(ps_wordnet *wn, ps_wn_pos pos, const char *word, const char *expect)
{
    ps_wn_lemmas l;
    ps_wn_morphy(wn, pos, word, strlen(word), &l);
    ps_buf got = {0};
    for (int i = 0; i < l.n; i++)
        ps_buf_printf(&got, "%s%s", i ? " " : "", l.lemma[i]);
    int ok = strcmp(got.data ? got.data : "", expect) == 0;
    if (!ok)
        fprintf(stderr, "  morphy(%s, %s) = \"%s\", expected \"%s\"\n", ps_wn_pos_name(pos), word,
                got.data ? got.data : "", expect);
    ps_buf_free(&got);
    return ok;
}

static uint32_t first_synset(ps_wordnet *wn, const char *lemma)
{
    const uint32_t *offs;
    return ps_wn_synsets(wn, PS_WN_NOUN, lemma, strlen(lemma), &offs) ? offs[0] : 0;
}

/* ---- the real database ---------------------------------------------------- */

TEST(morphy_nouns)
{
    NEED_WN(wn);
    CHECK(morphy_is(wn, PS_WN_NOUN, "children", "child"));   /* exception list */
    CHECK(morphy_is(wn, PS_WN_NOUN, "babies", "baby"));      /* -ies > -y */
    CHECK(morphy_is(wn, PS_WN_NOUN, "toddlers", "toddler")); /* -s */
    CHECK(morphy_is(wn, PS_WN_NOUN, "geese", "goose"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "men", "men man"));      /* "men" is itself a noun */
    CHECK(morphy_is(wn, PS_WN_NOUN, "child", "child"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "Children", "child"));   /* ASCII lowercased */
    CHECK(morphy_is(wn, PS_WN_NOUN, "axes", "ax axis"));     /* two bases in noun.exc */
    CHECK(morphy_is(wn, PS_WN_NOUN, "crosses", "crosse cross")); /* every rule, in order */
    CHECK(morphy_is(wn, PS_WN_NOUN, "glass", "glass"));      /* -ss: no rule */
    CHECK(morphy_is(wn, PS_WN_NOUN, "boxesful", "boxful"));  /* -ful on the stem */
    CHECK(morphy_is(wn, PS_WN_NOUN, "attorneys_general", "attorney_general"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "attorneys general", "attorney_general"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "felos_de_se", "felo-de-se")); /* getindex spelling */
    CHECK(morphy_is(wn, PS_WN_NOUN, "kidding", ""));         /* not a noun, and not "kid" */
    CHECK(morphy_is(wn, PS_WN_NOUN, "cowboys", "cowboy"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "qwzxv", ""));
    CHECK(morphy_is(wn, PS_WN_NOUN, "", ""));
}

TEST(morphy_other_pos)
{
    NEED_WN(wn);
    CHECK(morphy_is(wn, PS_WN_VERB, "running", "run"));   /* verb.exc */
    CHECK(morphy_is(wn, PS_WN_VERB, "kids", "kid"));
    CHECK(morphy_is(wn, PS_WN_VERB, "bogging-down", "bog_down"));
    CHECK(morphy_is(wn, PS_WN_ADJ, "bigger", "bigger big"));
    CHECK(morphy_is(wn, PS_WN_ADJ, "busiest", "busy"));   /* adj.exc */
    CHECK(morphy_is(wn, PS_WN_ADV, "best", "best well"));
    CHECK(morphy_is(wn, PS_WN_ADV, "fastly", ""));        /* adverbs: exceptions only */
}

TEST(morphy_long_input)
{
    NEED_WN(wn);
    char w[PS_WN_LEMMA_MAX + 10];
    memset(w, 'a', sizeof w - 1);
    w[sizeof w - 1] = '\0';
    ps_wn_lemmas l;
    CHECK_INT(ps_wn_morphy(wn, PS_WN_NOUN, w, strlen(w), &l), 0);
    memcpy(w + sizeof w - 3, "es", 2);
    CHECK_INT(ps_wn_rule_forms(PS_WN_NOUN, w, strlen(w), &l), 0);
}

TEST(rule_forms_ignore_the_index)
{
    ps_wn_lemmas l;
    CHECK_INT(ps_wn_rule_forms(PS_WN_NOUN, "kiddos", 6, &l), 1);
    CHECK_STR(l.lemma[0], "kiddo");
    CHECK_INT(ps_wn_rule_forms(PS_WN_NOUN, "bushes", 6, &l), 2);
    CHECK_STR(l.lemma[0], "bushe");
    CHECK_STR(l.lemma[1], "bush");
    CHECK_INT(ps_wn_rule_forms(PS_WN_NOUN, "boss", 4, &l), 0); /* -ss */
    CHECK_INT(ps_wn_rule_forms(PS_WN_ADV, "fastly", 6, &l), 0);
}

TEST(index_and_synsets)
{
    NEED_WN(wn);
    /* Counts from the first field of each non-license line (wc -l minus 29). */
    CHECK_INT(ps_wn_lemma_count(wn, PS_WN_NOUN), 117798);
    CHECK_INT(ps_wn_lemma_count(wn, PS_WN_VERB), 11529);
    CHECK(ps_wn_has_lemma(wn, PS_WN_NOUN, "domestic_dog", 12));
    CHECK(!ps_wn_has_lemma(wn, PS_WN_NOUN, "domestic dog", 12));
    const uint32_t *offs;
    /* index.noun: "dog n 7 5 @ ~ #m #p %p 7 1 02084071 10114209 ..." */
    CHECK_INT(ps_wn_synsets(wn, PS_WN_NOUN, "dog", 3, &offs), 7);
    CHECK_INT(offs[0], 2084071);
    CHECK_INT(offs[1], 10114209);
    CHECK_INT(ps_wn_synsets(wn, PS_WN_NOUN, "nosuchword", 10, &offs), 0);
    CHECK(offs == NULL);

    ps_error err;
    ps_wn_synset *s = ps_wn_synset_read(wn, PS_WN_NOUN, 2084071, &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(s->offset, 2084071);
    CHECK_INT(s->lexfile, 5);
    CHECK_INT(s->ss_type, 'n');
    CHECK_INT(s->nwords, 3);
    CHECK_STR(s->words[0], "dog");
    CHECK_STR(s->words[1], "domestic_dog");
    CHECK_STR(s->words[2], "Canis_familiaris");
    CHECK_INT(s->nptrs, 23);
    CHECK_STR(s->ptrs[0].symbol, "@");
    CHECK_INT(s->ptrs[0].offset, 2083346);
    CHECK_INT(s->ptrs[0].pos, PS_WN_NOUN);
    CHECK(strncmp(s->gloss, "a member of the genus Canis", 27) == 0);
    ps_wn_synset_free(s);

    /* Adjective markers are removed: "00014358 00 s 02 abounding 0 galore(ip) 0". */
    s = ps_wn_synset_read(wn, PS_WN_ADJ, 14358, &err);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(s->ss_type, 's');
        CHECK_INT(s->nwords, 2);
        CHECK_STR(s->words[1], "galore");
        ps_wn_synset_free(s);
    }
    /* A verb line has frames before the gloss. */
    CHECK_INT(ps_wn_synsets(wn, PS_WN_VERB, "run", 3, &offs) > 0, 1);
    s = ps_wn_synset_read(wn, PS_WN_VERB, offs[0], &err);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(s->ss_type, 'v');
        CHECK(strlen(s->gloss) > 0);
        ps_wn_synset_free(s);
    }
}

TEST(hierarchy)
{
    NEED_WN(wn);
    ps_error err;
    uint32_t dog = 2084071, collie = first_synset(wn, "collie"), entity = first_synset(wn, "entity");
    uint32_t person = first_synset(wn, "person"), einstein = first_synset(wn, "einstein");
    uint32_t up[PS_WN_MAX_PTRS];
    CHECK_INT(ps_wn_hypernyms(wn, dog, up, PS_WN_MAX_PTRS, &err), 2); /* canine, domestic animal */
    CHECK_INT(up[0], 2083346);
    CHECK_INT(up[1], 1317541);

    /* Every hyponym of dog has dog among its hypernyms. */
    uint32_t *down = malloc(PS_WN_MAX_PTRS * sizeof *down);
    int nd = ps_wn_hyponyms(wn, dog, down, PS_WN_MAX_PTRS, &err);
    CHECK_INT(nd, 18);
    for (int i = 0; i < nd; i++) {
        int nu = ps_wn_hypernyms(wn, down[i], up, PS_WN_MAX_PTRS, &err);
        int found = 0;
        for (int k = 0; k < nu; k++)
            found |= up[k] == dog;
        CHECK(found);
    }
    free(down);

    /* wn collie -hypen: collie => shepherd dog => working dog => dog */
    int depth = -1;
    CHECK_INT(ps_wn_noun_is_a(wn, collie, dog, &depth, &err), 1);
    CHECK_INT(depth, 3);
    CHECK_INT(ps_wn_noun_is_a(wn, dog, collie, &depth, &err), 0);
    CHECK_INT(ps_wn_noun_is_a(wn, dog, dog, &depth, &err), 1);
    CHECK_INT(depth, 0);
    CHECK_INT(ps_wn_noun_is_a(wn, dog, person, NULL, &err), 0);
    /* Instance hypernyms count: Einstein is an instance of physicist. */
    CHECK_INT(ps_wn_noun_is_a(wn, einstein, person, &depth, &err), 1);
    CHECK_INT(depth, 3); /* physicist => scientist => person */
    /* wn person -hypen: person => causal agent => physical entity => entity */
    CHECK_INT(ps_wn_noun_depth(wn, person, &err), 3);
    CHECK_INT(ps_wn_noun_depth(wn, entity, &err), 0);
    CHECK_INT(ps_wn_noun_is_a(wn, collie, entity, NULL, &err), 1);
    /* A non-synset offset is an error, not a crash. */
    CHECK_INT(ps_wn_noun_is_a(wn, 12345, dog, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "data.noun: byte offset 12345: not the start of a synset line");
}

TEST(imagenet_ids)
{
    NEED_WN(wn);
    ps_wn_pos pos;
    uint32_t off;
    ps_error err;
    CHECK_INT(ps_wn_parse_id("n02084071", &pos, &off, &err), 0);
    CHECK_INT(pos, PS_WN_NOUN);
    CHECK_INT(off, 2084071);
    CHECK_INT(ps_wn_parse_id("n0208407", &pos, &off, &err), -1);
    CHECK_STR(err.msg, "'n0208407' is not a WordNet synset id (a letter n, v, a, s or r and "
                       "eight digits, e.g. n02084071)");
    CHECK_INT(ps_wn_parse_id("x02084071", &pos, &off, &err), -1);
    CHECK_INT(ps_wn_parse_id("n02084071 ", &pos, &off, &err), -1);

    const char *shared = test_shared_dir();
    if (!shared)
        SKIP("PICSEEK_SHARED not set");
    char *path = ps_path_join(shared, "models/imagenet_wnids.txt");
    size_t len;
    char *text = ps_read_file(path, 1 << 20, &len, &err);
    free(path);
    if (!text)
        SKIP("models/imagenet_wnids.txt not present");
    /* Every class id (after the "background" line) is a noun synset under
     * entity; the Chihuahua class is a dog, the tench class is not. */
    int n = 0, dogs_ok = 1;
    uint32_t dog = 2084071, entity = 1740;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "background") == 0)
            continue;
        n++;
        if (ps_wn_parse_id(line, &pos, &off, &err) || pos != PS_WN_NOUN ||
            ps_wn_noun_is_a(wn, off, entity, NULL, &err) != 1) {
            fprintf(stderr, "  %s: %s\n", line, err.msg);
            dogs_ok = 0;
        }
    }
    CHECK_INT(n, 1000);
    CHECK(dogs_ok);
    CHECK_INT(ps_wn_noun_is_a(wn, 2085620, dog, NULL, &err), 1); /* n02085620 Chihuahua */
    CHECK_INT(ps_wn_noun_is_a(wn, 1440764, dog, NULL, &err), 0); /* n01440764 tench */
    free(text);
}

/* ---- small databases written by the test ---------------------------------- */

static const char *HDR = "  1 test license\n";

#define E_LINE "%08u 03 n 01 entity 0 001 ~ %08u n 0000 | the root  \n"
#define A_LINE "%08u 05 n 01 animal 0 002 @ %08u n 0000 ~ %08u n 0000 | a creature  \n"
#define D_LINE "%08u 05 n 02 dog 0 domestic_dog 0 001 @ %08u n 0000 | a dog  \n"

typedef struct fake_db {
    char dir[512];
    uint32_t e, a, d; /* offsets of the three noun synsets */
    ps_buf index_noun, data_noun;
} fake_db;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* A valid database with entity > animal > dog and one word in each other POS. */
static void fake_init(fake_db *db, const char *name)
{
    const char *tmp = getenv("PICSEEK_TEST_TMP");
    snprintf(db->dir, sizeof db->dir, "%s/%s", tmp && *tmp ? tmp : "/tmp", name);
    mkdir(db->dir, 0755);
    db->e = (uint32_t)strlen(HDR);
    db->a = db->e + (uint32_t)snprintf(NULL, 0, E_LINE, 0u, 0u);
    db->d = db->a + (uint32_t)snprintf(NULL, 0, A_LINE, 0u, 0u, 0u);
    memset(&db->index_noun, 0, sizeof db->index_noun);
    memset(&db->data_noun, 0, sizeof db->data_noun);
    ps_buf_puts(&db->data_noun, HDR);
    ps_buf_printf(&db->data_noun, E_LINE, db->e, db->a);
    ps_buf_printf(&db->data_noun, A_LINE, db->a, db->e, db->d);
    ps_buf_printf(&db->data_noun, D_LINE, db->d, db->a);
    ps_buf_puts(&db->index_noun, HDR);
    ps_buf_printf(&db->index_noun, "animal n 1 2 @ ~ 1 0 %08u  \n", db->a);
    ps_buf_printf(&db->index_noun, "dog n 1 1 @ 1 0 %08u  \n", db->d);
    ps_buf_printf(&db->index_noun, "domestic_dog n 1 1 @ 1 0 %08u  \n", db->d);
    ps_buf_printf(&db->index_noun, "entity n 1 1 ~ 1 0 %08u  \n", db->e);

    char line[256];
    size_t h = strlen(HDR);
    snprintf(line, sizeof line, "%srun v 1 0 1 0 %08zu  \n", HDR, h);
    write_file(db->dir, "index.verb", line);
    snprintf(line, sizeof line, "%s%08zu 38 v 01 run 0 000 01 + 01 00 | move fast  \n", HDR, h);
    write_file(db->dir, "data.verb", line);
    snprintf(line, sizeof line, "%sbig a 1 0 1 0 %08zu  \n", HDR, h);
    write_file(db->dir, "index.adj", line);
    snprintf(line, sizeof line, "%s%08zu 00 a 01 big(a) 0 000 | large  \n", HDR, h);
    write_file(db->dir, "data.adj", line);
    snprintf(line, sizeof line, "%sfast r 1 0 1 0 %08zu  \n", HDR, h);
    write_file(db->dir, "index.adv", line);
    snprintf(line, sizeof line, "%s%08zu 02 r 01 fast 0 000 | quickly  \n", HDR, h);
    write_file(db->dir, "data.adv", line);
    write_file(db->dir, "noun.exc", "dogz dog\n");
    write_file(db->dir, "verb.exc", "ran run\n");
    write_file(db->dir, "adj.exc", "bigger big\n");
    write_file(db->dir, "adv.exc", "faster fast\n");
}

static ps_wordnet *fake_load(fake_db *db, ps_error *err)
{
    write_file(db->dir, "index.noun", db->index_noun.data);
    write_file(db->dir, "data.noun", db->data_noun.data);
    return ps_wordnet_load(db->dir, err);
}

static void fake_free(fake_db *db)
{
    ps_buf_free(&db->index_noun);
    ps_buf_free(&db->data_noun);
}

/* Replace the first `from` in b by `to` (same length or not); returns the
 * byte offset where it was. */
static size_t buf_replace(ps_buf *b, const char *from, const char *to)
{
    char *at = strstr(b->data, from);
    if (!at) {
        fprintf(stderr, "buf_replace: '%s' not found\n", from);
        exit(2);
    }
    size_t off = (size_t)(at - b->data);
    ps_buf nb = {0};
    ps_buf_append(&nb, b->data, off);
    ps_buf_puts(&nb, to);
    ps_buf_puts(&nb, at + strlen(from));
    ps_buf_free(b);
    *b = nb;
    return off;
}

TEST(fake_database_works)
{
    fake_db db;
    fake_init(&db, "ok");
    ps_error err;
    ps_wordnet *wn = fake_load(&db, &err);
    CHECK(wn != NULL);
    if (!wn) {
        fprintf(stderr, "%s\n", err.msg);
        fake_free(&db);
        return;
    }
    CHECK_STR(ps_wordnet_dir(wn), db.dir);
    CHECK_INT(ps_wn_lemma_count(wn, PS_WN_NOUN), 4);
    CHECK(morphy_is(wn, PS_WN_NOUN, "dogs", "dog"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "dogz", "dog"));
    CHECK(morphy_is(wn, PS_WN_NOUN, "domestic dogs", "domestic_dog"));
    CHECK(morphy_is(wn, PS_WN_VERB, "ran", "run"));
    CHECK(morphy_is(wn, PS_WN_ADJ, "bigger", "big"));
    CHECK(morphy_is(wn, PS_WN_ADV, "faster", "fast"));
    int depth;
    CHECK_INT(ps_wn_noun_is_a(wn, db.d, db.e, &depth, &err), 1);
    CHECK_INT(depth, 2);
    CHECK_INT(ps_wn_noun_depth(wn, db.d, &err), 2);
    ps_wn_synset *s = ps_wn_synset_read(wn, PS_WN_ADJ, (uint32_t)strlen(HDR), &err);
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(s->words[0], "big");
        CHECK_STR(s->gloss, "large");
        ps_wn_synset_free(s);
    }
    ps_wordnet_free(wn);

    /* $WNSEARCHDIR is the default location. */
    setenv("WNSEARCHDIR", db.dir, 1);
    wn = ps_wordnet_load(NULL, &err);
    unsetenv("WNSEARCHDIR");
    CHECK(wn != NULL);
    if (wn)
        CHECK_STR(ps_wordnet_dir(wn), db.dir);
    ps_wordnet_free(wn);
    fake_free(&db);
}

/* Load a database whose index.noun was edited; expect this exact error. */
static void expect_load_error(fake_db *db, const char *expect)
{
    ps_error err = {{0}};
    ps_wordnet *wn = fake_load(db, &err);
    CHECK(wn == NULL);
    ps_wordnet_free(wn);
    CHECK_STR(err.msg, expect);
}

TEST(corrupt_index)
{
    fake_db db;
    char bad[128], expect[1200];

    fake_init(&db, "idx1");
    snprintf(bad, sizeof bad, "%08u", db.d);
    size_t at = buf_replace(&db.index_noun, bad, "0000x123");
    snprintf(expect, sizeof expect, "%s/index.noun: byte offset %zu: bad synset offset '0000x123'",
             db.dir, at);
    expect_load_error(&db, expect);
    fake_free(&db);

    fake_init(&db, "idx2");
    at = buf_replace(&db.index_noun, bad, "99999999");
    snprintf(expect, sizeof expect,
             "%s/index.noun: byte offset %zu: synset offset 99999999 is beyond the end of "
             "%s/data.noun",
             db.dir, at, db.dir);
    expect_load_error(&db, expect);
    fake_free(&db);

    fake_init(&db, "idx3");
    at = buf_replace(&db.index_noun, "entity n ", "entity v ");
    snprintf(expect, sizeof expect,
             "%s/index.noun: byte offset %zu: expected part of speech 'n' after the lemma", db.dir,
             at);
    expect_load_error(&db, expect);
    fake_free(&db);

    fake_init(&db, "idx4");
    at = buf_replace(&db.index_noun, "animal n 1 2 @ ~ 1 0", "animal n 2 2 @ ~ 1 0");
    snprintf(expect, sizeof expect,
             "%s/index.noun: byte offset %zu: expected 2 synset offsets, found 1", db.dir, at);
    expect_load_error(&db, expect);
    fake_free(&db);

    fake_init(&db, "idx5");
    at = buf_replace(&db.index_noun, "dog n 1 1 @", "dog n 1 3 @");
    snprintf(expect, sizeof expect, "%s/index.noun: byte offset %zu: bad sense count", db.dir, at);
    expect_load_error(&db, expect);
    fake_free(&db);

    fake_init(&db, "idx6");
    at = buf_replace(&db.index_noun, "domestic_dog n", "dog n");
    snprintf(expect, sizeof expect, "%s/index.noun: byte offset %zu: lemma 'dog' is listed twice",
             db.dir, at);
    expect_load_error(&db, expect);
    fake_free(&db);

    /* Missing files and folders. */
    fake_init(&db, "idx7");
    char path[1024];
    snprintf(path, sizeof path, "%s/data.verb", db.dir);
    remove(path);
    snprintf(expect, sizeof expect, "%s/data.verb: cannot open: No such file or directory", db.dir);
    expect_load_error(&db, expect);
    fake_free(&db);

    ps_error err;
    CHECK(ps_wordnet_load("/nonexistent/wordnet", &err) == NULL);
    CHECK_STR(err.msg, "/nonexistent/wordnet: WordNet database folder not found (install Debian's "
                       "wordnet-base, or set WNSEARCHDIR to the folder holding index.noun)");

    fake_init(&db, "exc1");
    write_file(db.dir, "verb.exc", "ran run\nwent\n");
    snprintf(expect, sizeof expect, "%s/verb.exc: byte offset 8: 'went' has no base form", db.dir);
    expect_load_error(&db, expect);
    fake_free(&db);
}

/* Read the dog synset from a data.noun whose dog line was edited. */
static void expect_read_error(fake_db *db, uint32_t offset, const char *expect)
{
    ps_error err = {{0}};
    ps_wordnet *wn = fake_load(db, &err);
    CHECK(wn != NULL);
    if (!wn) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    ps_wn_synset *s = ps_wn_synset_read(wn, PS_WN_NOUN, offset, &err);
    CHECK(s == NULL);
    ps_wn_synset_free(s);
    CHECK_STR(err.msg, expect);
    ps_wordnet_free(wn);
}

TEST(corrupt_data)
{
    fake_db db;
    char expect[1200];

    fake_init(&db, "dat1");
    size_t at = buf_replace(&db.data_noun, "0 001 @", "0 0x1 @");
    snprintf(expect, sizeof expect, "%s/data.noun: byte offset %zu: bad pointer count", db.dir,
             at + 2);
    expect_read_error(&db, db.d, expect);
    fake_free(&db);

    fake_init(&db, "dat2");
    snprintf(expect, sizeof expect, "%s/data.noun: byte offset %u: not the start of a synset line",
             db.dir, db.d + 3);
    expect_read_error(&db, db.d + 3, expect);
    snprintf(expect, sizeof expect, "%s/data.noun: byte offset 99999999: not the start of a synset "
             "line", db.dir);
    expect_read_error(&db, 99999999, expect);
    fake_free(&db);

    fake_init(&db, "dat3");
    buf_replace(&db.data_noun, "| a dog  \n", "a dog\n");
    snprintf(expect, sizeof expect,
             "%s/data.noun: byte offset %u: expected '|' before the gloss", db.dir,
             (unsigned)(strstr(db.data_noun.data, "a dog\n") - db.data_noun.data));
    expect_read_error(&db, db.d, expect);
    fake_free(&db);

    fake_init(&db, "dat4");
    char own[32], other[32];
    snprintf(own, sizeof own, "%08u 05 n 02", db.d);
    snprintf(other, sizeof other, "%08u 05 n 02", db.d + 1);
    buf_replace(&db.data_noun, own, other);
    snprintf(expect, sizeof expect,
             "%s/data.noun: byte offset %u: the line does not start with its own offset %08u",
             db.dir, db.d, db.d);
    expect_read_error(&db, db.d, expect);
    fake_free(&db);

    fake_init(&db, "dat5");
    at = buf_replace(&db.data_noun, "dog 0 domestic_dog 0 001", "dog 0 domestic_dog 0 00z");
    snprintf(expect, sizeof expect, "%s/data.noun: byte offset %zu: bad pointer count", db.dir,
             at + 21);
    expect_read_error(&db, db.d, expect);
    fake_free(&db);
}

/* Every truncation of a synset line is handled: parsed or an error, and
 * the hierarchy walk on it fails cleanly. */
TEST(truncated_lines_never_crash)
{
    fake_db db;
    fake_init(&db, "trunc");
    ps_buf full = {0};
    ps_buf_puts(&full, db.data_noun.data);
    size_t line_len = full.len - db.d;
    int errors = 0;
    for (size_t keep = 0; keep < line_len; keep++) {
        ps_buf_clear(&db.data_noun);
        ps_buf_append(&db.data_noun, full.data, db.d + keep);
        ps_buf_puts(&db.data_noun, "\n");
        ps_error err;
        ps_wordnet *wn = fake_load(&db, &err);
        if (!wn) { /* an offset now beyond the end: a load error, fine */
            errors++;
            continue;
        }
        ps_wn_synset *s = ps_wn_synset_read(wn, PS_WN_NOUN, db.d, &err);
        errors += s == NULL;
        ps_wn_synset_free(s);
        int d = ps_wn_noun_depth(wn, db.d, &err);
        /* 2 when the pointer is read, 0 when the count "001" is cut to "0"
         * or "00" (a valid count: a root), -1 otherwise. */
        CHECK(d == 2 || d == 0 || d == -1);
        ps_wordnet_free(wn);
    }
    /* Exactly the cuts before the '|' fail: every field before it is needed,
     * and a gloss may be cut anywhere. */
    const char *bar = strchr(full.data + db.d, '|');
    CHECK_INT(errors, (bar - (full.data + db.d)) + 1);
    ps_buf_free(&full);
    fake_free(&db);
}

TEST(hypernym_cycle_terminates)
{
    fake_db db;
    fake_init(&db, "cycle");
    /* entity now has animal as hypernym: entity <-> animal is a cycle. */
    char from[64], to[64];
    snprintf(from, sizeof from, "entity 0 001 ~ %08u n 0000", db.a);
    snprintf(to, sizeof to, "entity 0 001 @ %08u n 0000", db.a);
    buf_replace(&db.data_noun, from, to);
    ps_error err;
    ps_wordnet *wn = fake_load(&db, &err);
    CHECK(wn != NULL);
    if (!wn)
        return;
    char expect[1200];
    snprintf(expect, sizeof expect, "%s/data.noun: synset %08u has no root (cycle in the "
             "hypernyms?)", db.dir, db.d);
    CHECK_INT(ps_wn_noun_depth(wn, db.d, &err), -1);
    CHECK_STR(err.msg, expect);
    CHECK_INT(ps_wn_noun_is_a(wn, db.d, 42, NULL, &err), 0);
    CHECK_INT(ps_wn_noun_is_a(wn, db.d, db.e, NULL, &err), 1);
    ps_wordnet_free(wn);
    fake_free(&db);
}

int main(void)
{
    RUN(morphy_nouns);
    RUN(morphy_other_pos);
    RUN(morphy_long_input);
    RUN(rule_forms_ignore_the_index);
    RUN(index_and_synsets);
    RUN(hierarchy);
    RUN(imagenet_ids);
    RUN(fake_database_works);
    RUN(corrupt_index);
    RUN(corrupt_data);
    RUN(truncated_lines_never_crash);
    RUN(hypernym_cycle_terminates);
    ps_wordnet_free(real_wn());
    return test_summary();
}
