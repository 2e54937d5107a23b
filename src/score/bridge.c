/*
 * bridge.c - classes of the image models related to query words through
 * WordNet and GloVe (see bridge.h).
 *
 * Load time: every class synset's ancestors are walked once and stored as
 * an "ancestor table", (ancestor synset, class, depth) sorted by ancestor.
 * A query word's "down" classes (kinds of the word) are then one binary
 * search per sense; its "up" classes (the word is a kind of them) are found
 * by walking the sense's own ancestors and looking each up among the depth-0
 * rows, i.e. the class synsets themselves.
 */
#include "score/bridge.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/lines.h"
#include "core/utf8.h"
#include "text/sensecount.h"
#include "text/tokenize.h"

#define LABEL_FILE_MAX (1u << 20)
#define WALK_MAX 4096 /* synsets visited by one ancestor walk, at most */

typedef struct gloss_pair {
    const char *lemma; /* points into gstore */
    uint32_t dim;
    uint32_t df;       /* dimensions whose gloss has this lemma */
} gloss_pair;

typedef struct anc_row {
    uint32_t anc;   /* ancestor synset offset */
    uint16_t cls;   /* bridge class */
    uint16_t depth; /* hypernym steps from the class synset up to anc */
} anc_row;

struct ps_bridge {
    const ps_wordnet *wn;
    const ps_glove *glove;
    uint32_t dim;
    char *label[PS_BRIDGE_CLASSES];
    char *name[PS_BRIDGE_CLASSES];
    int nsyn[PS_BRIDGE_CLASSES];
    uint32_t syn[PS_BRIDGE_CLASSES][PS_BRIDGE_MAX_SYNSETS];
    float *namevec;                          /* PS_BRIDGE_CLASSES x dim */
    unsigned char has_vec[PS_BRIDGE_CLASSES];
    anc_row *anc;
    size_t nanc;
    ps_sense_counts *senses;
    /* Concepts: the synsets of ImageNet classes and all their ancestors. */
    size_t nconc;
    uint32_t *cofs;        /* sorted synset offsets */
    char **clabel;         /* owned */
    size_t *cfirst;        /* classes below concept k: ccls[cfirst[k] .. cfirst[k+1]) */
    uint16_t *ccls;
    float *cvec;           /* nconc x dim name vectors */
    unsigned char *has_cvec;
    unsigned char *cinner; /* 1: not the synset of a class */
    int *cdepth;           /* hypernym steps from the root (entity) */
    /* Gloss index: (lemma, dimension) pairs from each dimension's WordNet
     * definition, sorted by lemma; gdf[i] = how many dimensions share
     * gpairs[i]'s lemma. */
    gloss_pair *gpairs;
    size_t ngpairs;
    char *gstore;
};

void ps_bridge_params_default(ps_bridge_params *p)
{
    p->down_decay = 0.85f;
    p->max_down_depth = 12;
    p->up_decay = 0.5f;
    p->max_up_depth = 8;
    p->up_min_depth = 2;
    p->sense_decay = 0.5f;
    p->max_senses = 8;
    p->sense_counts = 1;
    p->glove_weight = 0.2f;
    p->glove_floor = 0.55f;
    p->glove_inner = 1;
    p->gloss_weight = 0.2f;
    p->gloss_max_df = 10;
    p->use_voc = 1;
}

const char *ps_bridge_why_name(ps_bridge_why w)
{
    switch (w) {
    case PS_WHY_DOWN: return "is-a";
    case PS_WHY_UP: return "kind-of";
    case PS_WHY_GLOVE: return "similar";
    case PS_WHY_GLOSS: return "in-definition";
    default: return "";
    }
}

ps_class_source ps_bridge_source(int c)
{
    return c >= PS_BRIDGE_VOC0 ? PS_SRC_VOC : PS_SRC_IMAGENET;
}

int ps_bridge_source_index(int c)
{
    return c >= PS_BRIDGE_VOC0 ? c - PS_BRIDGE_VOC0 : c;
}

const char *ps_bridge_label(const ps_bridge *b, int c) { return b->label[c]; }
const char *ps_bridge_name(const ps_bridge *b, int c) { return b->name[c]; }
int ps_bridge_nsynsets(const ps_bridge *b, int c) { return b->nsyn[c]; }
uint32_t ps_bridge_synset(const ps_bridge *b, int c, int i) { return b->syn[c][i]; }

const float *ps_bridge_name_vector(const ps_bridge *b, int c)
{
    return b->has_vec[c] ? b->namevec + (size_t)c * b->dim : NULL;
}

void ps_bridge_free(ps_bridge *b)
{
    if (!b)
        return;
    for (int c = 0; c < PS_BRIDGE_CLASSES; c++) {
        free(b->label[c]);
        free(b->name[c]);
    }
    free(b->namevec);
    free(b->anc);
    ps_sense_counts_free(b->senses);
    for (size_t k = 0; k < b->nconc && b->clabel; k++)
        free(b->clabel[k]);
    free(b->clabel);
    free(b->cofs);
    free(b->cfirst);
    free(b->ccls);
    free(b->cvec);
    free(b->has_cvec);
    free(b->cinner);
    free(b->cdepth);
    free(b->gpairs);
    free(b->gstore);
    free(b);
}

/* ---- ancestor walks ------------------------------------------------------ */

/* Breadth-first walk up hypernym links from `start`, recording each synset's
 * fewest steps.  A small open-addressing set marks the visited synsets. */
typedef struct walk {
    uint32_t node[WALK_MAX];
    int depth[WALK_MAX];
    int n;
    uint32_t set[2 * WALK_MAX]; /* offset + 1; 0 = empty */
} walk;

static int walk_mark(walk *w, uint32_t off)
{
    size_t i = (off * 2654435761u) & (2 * WALK_MAX - 1);
    while (w->set[i]) {
        if (w->set[i] == off + 1)
            return 0;
        i = (i + 1) & (2 * WALK_MAX - 1);
    }
    w->set[i] = off + 1;
    return 1;
}

static int walk_up(const ps_wordnet *wn, uint32_t start, int max_depth, walk *w, ps_error *err)
{
    memset(w->set, 0, sizeof w->set);
    w->n = 0;
    walk_mark(w, start);
    w->node[w->n] = start;
    w->depth[w->n++] = 0;
    uint32_t up[PS_WN_MAX_PTRS];
    for (int head = 0; head < w->n; head++) {
        if (w->depth[head] >= max_depth)
            continue;
        int k = ps_wn_hypernyms(wn, w->node[head], up, PS_WN_MAX_PTRS, err);
        if (k < 0)
            return -1;
        for (int i = 0; i < k; i++) {
            if (!walk_mark(w, up[i]))
                continue;
            if (w->n == WALK_MAX)
                return ps_errorf(err, "synset %08u: more than %d ancestors (cycle in the "
                                 "WordNet hypernyms?)", (unsigned)start, WALK_MAX);
            w->node[w->n] = up[i];
            w->depth[w->n++] = w->depth[head] + 1;
        }
    }
    return 0;
}

static int cmp_anc(const void *a, const void *b)
{
    const anc_row *x = a, *y = b;
    if (x->anc != y->anc)
        return x->anc < y->anc ? -1 : 1;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (int)x->depth - (int)y->depth;
}

/* First row with anc == off, or nanc. */
static size_t anc_lower(const ps_bridge *b, uint32_t off)
{
    size_t lo = 0, hi = b->nanc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->anc[mid].anc < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int build_ancestors(ps_bridge *b, ps_error *err)
{
    walk *w = ps_xmalloc(sizeof *w);
    size_t cap = 16384;
    b->anc = ps_xmalloc(cap * sizeof *b->anc);
    for (int c = 0; c < PS_BRIDGE_CLASSES; c++) {
        for (int s = 0; s < b->nsyn[c]; s++) {
            if (walk_up(b->wn, b->syn[c][s], 1000, w, err)) {
                free(w);
                return ps_error_prefix(err, "class %d (%s)", ps_bridge_source_index(c),
                                       b->label[c]);
            }
            for (int i = 0; i < w->n; i++) {
                if (b->nanc == cap) {
                    cap *= 2;
                    b->anc = ps_xrealloc(b->anc, cap * sizeof *b->anc);
                }
                b->anc[b->nanc++] = (anc_row){w->node[i], (uint16_t)c,
                                              (uint16_t)(w->depth[i] > 65535 ? 65535 : w->depth[i])};
            }
        }
    }
    free(w);
    qsort(b->anc, b->nanc, sizeof *b->anc, cmp_anc);
    /* Keep the smallest depth of each (ancestor, class): sorted, so the first. */
    size_t k = 0;
    for (size_t i = 0; i < b->nanc; i++)
        if (k == 0 || b->anc[k - 1].anc != b->anc[i].anc || b->anc[k - 1].cls != b->anc[i].cls)
            b->anc[k++] = b->anc[i];
    b->nanc = k;
    return 0;
}

/* ---- label files --------------------------------------------------------- */

/* The line r just returned, NUL-terminated in place: data is the buffer r
 * reads (read_text's, which has a NUL after its last byte). */
static char *terminate(const ps_lines *r, char *data, const char *s, size_t n)
{
    char *w = data + ps_lines_offset(r, s);
    w[n] = '\0';
    return w;
}

/* Split a file into lines (in place); returns the count, lines[] point into
 * data.  At most `max` lines; more is an error (returns -1). */
static int split_lines(char *data, size_t len, char **lines, int max)
{
    int n = 0;
    ps_lines r;
    ps_lines_init(&r, data, len);
    const char *s;
    size_t l;
    while (ps_lines_next(&r, &s, &l)) {
        if (n == max)
            return -1;
        lines[n++] = terminate(&r, data, s, l);
    }
    return n;
}

/* The next line of a data file that is neither blank nor a '#' comment,
 * NUL-terminated in place; NULL at the end.  r->no numbers it. */
static char *next_data_line(ps_lines *r, char *data)
{
    const char *s;
    size_t n;
    return ps_lines_next_data(r, &s, &n) ? terminate(r, data, s, n) : NULL;
}

static char *read_text(const char *dir, const char *name, size_t *len, char **path_out,
                       ps_error *err)
{
    char *path = dir ? ps_path_join(dir, name) : ps_xstrdup(name);
    char *data = ps_read_file(path, LABEL_FILE_MAX, len, err);
    size_t bad;
    if (data && !ps_utf8_validate(data, *len, &bad)) {
        ps_errorf(err, "%s: byte offset %zu: invalid UTF-8", path, bad);
        free(data);
        data = NULL;
    }
    if (data && memchr(data, '\0', *len)) {
        ps_errorf(err, "%s: contains a NUL byte", path);
        free(data);
        data = NULL;
    }
    *path_out = path;
    return data;
}

/* The first name of an ImageNet label line, lower-cased ("Granny Smith" ->
 * "granny smith"). */
static char *first_name(const char *line)
{
    size_t n = strcspn(line, ",");
    while (n && line[n - 1] == ' ')
        n--;
    char *s = ps_xstrndup(line, n);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static int load_imagenet(ps_bridge *b, const char *dir, ps_error *err)
{
    static const int want = PS_IMAGENET_CLASSES;
    char *lines_l[PS_IMAGENET_CLASSES + 1], *lines_w[PS_IMAGENET_CLASSES + 1];
    size_t ll, lw;
    char *pl = NULL, *pw = NULL;
    int rc = -1;
    char *dl = read_text(dir, "imagenet_labels.txt", &ll, &pl, err);
    char *dw = dl ? read_text(dir, "imagenet_wnids.txt", &lw, &pw, err) : NULL;
    if (!dw)
        goto out;
    int nl = split_lines(dl, ll, lines_l, want + 1);
    int nw = split_lines(dw, lw, lines_w, want + 1);
    if (nl != want) {
        ps_errorf(err, "%s: expected %d lines (class 0 = background), found %s%d", pl, want,
                  nl < 0 ? "more than " : "", nl < 0 ? want : nl);
        goto out;
    }
    if (nw != want) {
        ps_errorf(err, "%s: expected %d lines (class 0 = background), found %s%d", pw, want,
                  nw < 0 ? "more than " : "", nw < 0 ? want : nw);
        goto out;
    }
    for (int c = 0; c < want; c++) {
        if (!*lines_l[c]) {
            ps_errorf(err, "%s:%d: empty label", pl, c + 1);
            goto out;
        }
        b->name[c] = ps_xstrdup(lines_l[c]);
        b->label[c] = first_name(lines_l[c]);
        if (c == 0) {
            if (strcmp(lines_w[0], "background") != 0) {
                ps_errorf(err, "%s:1: expected 'background'", pw);
                goto out;
            }
            continue;
        }
        ps_wn_pos pos;
        ps_error e2;
        if (ps_wn_parse_id(lines_w[c], &pos, &b->syn[c][0], &e2)) {
            ps_errorf(err, "%s:%d: %s", pw, c + 1, e2.msg);
            goto out;
        }
        if (pos != PS_WN_NOUN) {
            ps_errorf(err, "%s:%d: %s is not a noun synset id", pw, c + 1, lines_w[c]);
            goto out;
        }
        ps_wn_synset *s = ps_wn_synset_read(b->wn, PS_WN_NOUN, b->syn[c][0], &e2);
        if (!s) {
            ps_errorf(err, "%s:%d: %s is not a WordNet 3.0 noun synset (%s)", pw, c + 1,
                      lines_w[c], e2.msg);
            goto out;
        }
        ps_wn_synset_free(s);
        b->nsyn[c] = 1;
    }
    rc = 0;
out:
    free(dl);
    free(dw);
    free(pl);
    free(pw);
    return rc;
}

/* VOC names from the models folder (the model's own label file), to check
 * the hand-made synset file against. */
static int load_voc_names(const char *dir, char names[PS_VOC_CLASSES][32], ps_error *err)
{
    size_t len;
    char *path = NULL;
    char *data = read_text(dir, "pascal_voc_segmentation_labels.txt", &len, &path, err);
    if (!data) {
        free(path);
        return -1;
    }
    char *lines[PS_VOC_CLASSES];
    /* The file continues with a note after the 21 names: read the first 21. */
    int n = 0;
    char *p = data;
    while (n < PS_VOC_CLASSES && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
    int rc = 0;
    if (n < PS_VOC_CLASSES)
        rc = ps_errorf(err, "%s: expected at least %d class names, found %d", path,
                       PS_VOC_CLASSES, n);
    for (int i = 0; rc == 0 && i < n; i++) {
        size_t l = strlen(lines[i]);
        if (l && lines[i][l - 1] == '\r')
            lines[i][--l] = '\0';
        if (l == 0 || l >= 32)
            rc = ps_errorf(err, "%s:%d: class name must be 1 to 31 bytes", path, i + 1);
        else
            memcpy(names[i], lines[i], l + 1);
    }
    free(data);
    free(path);
    return rc;
}

/* Fields of one tab-separated line; returns the count (at most max). */
static int split_tabs(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return max + 1;
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (!t)
            return n;
        *t = '\0';
        s = t + 1;
    }
}

static int load_voc(ps_bridge *b, const char *models_dir, const char *voc_path, char **glove_words,
                    ps_error *err)
{
    char names[PS_VOC_CLASSES][32];
    if (load_voc_names(models_dir, names, err))
        return -1;
    char *def = NULL;
    if (!voc_path) {
        const char *env = getenv("PICSEEK_VOC_SYNSETS");
        voc_path = def = env && *env ? ps_xstrdup(env)
                                     : ps_path_join(PICSEEK_SOURCE_DIR, "data/voc_synsets.tsv");
    }
    size_t len;
    char *path = NULL;
    char *data = read_text(NULL, voc_path, &len, &path, err);
    int rc = -1, line = 0, v = 0;
    if (!data)
        goto out;
    ps_lines r;
    ps_lines_init(&r, data, len);
    char *s;
    while ((s = next_data_line(&r, data)) != NULL) {
        line = r.no;
        char *f[5];
        if (split_tabs(s, f, 4) != 4) {
            ps_errorf(err, "%s:%d: expected 4 tab-separated fields: name, label, GloVe words, "
                      "synset ids", path, line);
            goto out;
        }
        if (v == PS_VOC_CLASSES) {
            ps_errorf(err, "%s:%d: more than %d classes", path, line, PS_VOC_CLASSES);
            goto out;
        }
        if (strcmp(f[0], names[v]) != 0) {
            ps_errorf(err, "%s:%d: class %d is '%s' in pascal_voc_segmentation_labels.txt, "
                      "not '%s'", path, line, v, names[v], f[0]);
            goto out;
        }
        int c = PS_BRIDGE_VOC0 + v;
        b->name[c] = ps_xstrdup(f[0]);
        b->label[c] = ps_xstrdup(*f[1] ? f[1] : f[0]);
        glove_words[v] = strcmp(f[2], "-") ? ps_xstrdup(f[2]) : NULL;
        if (strcmp(f[3], "-") != 0) {
            char *save = NULL;
            for (char *id = strtok_r(f[3], " ", &save); id; id = strtok_r(NULL, " ", &save)) {
                ps_wn_pos pos;
                uint32_t off;
                ps_error e2;
                if (b->nsyn[c] == PS_BRIDGE_MAX_SYNSETS) {
                    ps_errorf(err, "%s:%d: more than %d synsets", path, line,
                              PS_BRIDGE_MAX_SYNSETS);
                    goto out;
                }
                if (ps_wn_parse_id(id, &pos, &off, &e2)) {
                    ps_errorf(err, "%s:%d: %s", path, line, e2.msg);
                    goto out;
                }
                if (pos != PS_WN_NOUN) {
                    ps_errorf(err, "%s:%d: %s is not a noun synset id", path, line, id);
                    goto out;
                }
                ps_wn_synset *ss = ps_wn_synset_read(b->wn, PS_WN_NOUN, off, &e2);
                if (!ss) {
                    ps_errorf(err, "%s:%d: %s is not a WordNet 3.0 noun synset", path, line, id);
                    goto out;
                }
                ps_wn_synset_free(ss);
                b->syn[c][b->nsyn[c]++] = off;
            }
        }
        v++;
    }
    if (v != PS_VOC_CLASSES) {
        ps_errorf(err, "%s: expected %d classes, found %d", path, PS_VOC_CLASSES, v);
        goto out;
    }
    rc = 0;
out:
    free(data);
    free(path);
    free(def);
    return rc;
}

/* data/imagenet_words.tsv: better GloVe names for some ImageNet classes.
 * Fills words[c] (owned by the caller) for the classes listed. */
static int load_imagenet_words(const ps_bridge *b, const char *path_opt, char **words,
                               ps_error *err)
{
    char *def = path_opt ? NULL : ps_path_join(PICSEEK_SOURCE_DIR, "data/imagenet_words.tsv");
    size_t len;
    char *path = NULL;
    char *data = read_text(NULL, path_opt ? path_opt : def, &len, &path, err);
    int rc = -1, line = 0;
    if (!data)
        goto out;
    ps_lines r;
    ps_lines_init(&r, data, len);
    char *s;
    while ((s = next_data_line(&r, data)) != NULL) {
        line = r.no;
        char *f[5];
        int nf = split_tabs(s, f, 4);
        if (nf == 4 && f[3][0] == '#') /* a trailing comment */
            nf = 3;
        if (nf != 3) {
            ps_errorf(err, "%s:%d: expected 3 tab-separated fields: class id, WordNet id, "
                      "words", path, line);
            goto out;
        }
        char *e;
        long c = strtol(f[0], &e, 10);
        if (*e || e == f[0] || c < 1 || c >= PS_IMAGENET_CLASSES) {
            ps_errorf(err, "%s:%d: class id must be a whole number from 1 to %d", path, line,
                      PS_IMAGENET_CLASSES - 1);
            goto out;
        }
        char id[16];
        snprintf(id, sizeof id, "n%08u", (unsigned)b->syn[c][0]);
        if (strcmp(id, f[1]) != 0) {
            ps_errorf(err, "%s:%d: class %ld is %s, not %s", path, line, c, id, f[1]);
            goto out;
        }
        if (!*f[2] || strlen(f[2]) > 200) {
            ps_errorf(err, "%s:%d: words must be 1 to 200 bytes", path, line);
            goto out;
        }
        free(words[c]);
        words[c] = ps_xstrdup(f[2]);
    }
    rc = 0;
out:
    free(data);
    free(path);
    free(def);
    return rc;
}

/* ---- name vectors ------------------------------------------------------- */

/* Unit name vector of a class from the words of `name` (split on spaces,
 * hyphens, apostrophes, underscores): head (last found) word weight 1,
 * the others' mean weight mw.  Returns 0 if no word has a vector. */
static int name_vector(const ps_glove *g, const char *name, float mw, float *out)
{
    uint32_t dim = ps_glove_dim(g);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", name);
    int64_t rows[32];
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " -'_", &save); w && n < 32; w = strtok_r(NULL, " -'_", &save)) {
        for (char *q = w; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        int64_t r = ps_glove_find(g, w, strlen(w));
        if (r >= 0 && ps_glove_norm(g, (uint32_t)r) > 0)
            rows[n++] = r;
    }
    if (n == 0)
        return 0;
    memset(out, 0, dim * sizeof *out);
    for (int i = 0; i < n; i++) {
        const float *v = ps_glove_vector(g, (uint32_t)rows[i]);
        float wt = (i == n - 1) ? 1.0f : mw / (float)(n - 1);
        float inv = wt / ps_glove_norm(g, (uint32_t)rows[i]);
        for (uint32_t d = 0; d < dim; d++)
            out[d] += v[d] * inv;
    }
    double nn = 0;
    for (uint32_t d = 0; d < dim; d++)
        nn += (double)out[d] * out[d];
    if (!(nn > 0))
        return 0;
    float inv = (float)(1.0 / sqrt(nn));
    for (uint32_t d = 0; d < dim; d++)
        out[d] *= inv;
    return 1;
}

/* ---- concepts ------------------------------------------------------------ */

long ps_bridge_concept_dim(const ps_bridge *b, uint32_t synset)
{
    size_t lo = 0, hi = b->nconc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->cofs[mid] < synset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nconc && b->cofs[lo] == synset ? (long)lo : -1;
}

/* The label of an inner concept: its synset's first word, '_' as ' '. */
static char *synset_label(const ps_wordnet *wn, uint32_t off, ps_error *err)
{
    ps_wn_synset *s = ps_wn_synset_read(wn, PS_WN_NOUN, off, err);
    if (!s)
        return NULL;
    char *l = ps_xstrdup(s->nwords ? s->words[0] : "?");
    ps_wn_synset_free(s);
    for (char *p = l; *p; p++)
        if (*p == '_')
            *p = ' ';
    return l;
}

static int build_concepts(ps_bridge *b, float mw, ps_error *err)
{
    /* The ancestor table is sorted by ancestor then class: one pass finds
     * the concepts and the classes below each. */
    size_t n = 0;
    for (size_t r = 0; r < b->nanc; r++)
        if (b->anc[r].cls < PS_BRIDGE_VOC0 && (n == 0 || b->cofs[n - 1] != b->anc[r].anc)) {
            if (n == 0)
                b->cofs = ps_xmalloc(b->nanc * sizeof *b->cofs);
            b->cofs[n++] = b->anc[r].anc;
        }
    b->nconc = n;
    b->cfirst = ps_xcalloc(n + 1, sizeof *b->cfirst);
    b->ccls = ps_xmalloc((b->nanc ? b->nanc : 1) * sizeof *b->ccls);
    size_t m = 0, k = 0;
    for (size_t r = 0; r < b->nanc; r++) {
        if (b->anc[r].cls >= PS_BRIDGE_VOC0)
            continue;
        while (b->cofs[k] != b->anc[r].anc)
            b->cfirst[++k] = m;
        b->ccls[m++] = b->anc[r].cls;
    }
    while (k < n)
        b->cfirst[++k] = m;
    b->clabel = ps_xcalloc(n ? n : 1, sizeof *b->clabel);
    b->cinner = ps_xcalloc(n ? n : 1, 1);
    b->cdepth = ps_xcalloc(n ? n : 1, sizeof *b->cdepth);
    for (size_t i = 0; i < n; i++) {
        if ((b->cdepth[i] = ps_wn_noun_depth(b->wn, b->cofs[i], err)) < 0)
            return -1;
        int cls = -1;
        for (size_t j = b->cfirst[i]; j < b->cfirst[i + 1] && cls < 0; j++)
            if (b->syn[b->ccls[j]][0] == b->cofs[i])
                cls = b->ccls[j];
        if (cls >= 0) {
            b->clabel[i] = ps_xstrdup(b->label[cls]);
        } else {
            b->cinner[i] = 1;
            if (!(b->clabel[i] = synset_label(b->wn, b->cofs[i], err)))
                return -1;
        }
    }
    if (b->glove) {
        b->cvec = ps_xcalloc((n ? n : 1) * b->dim, sizeof *b->cvec);
        b->has_cvec = ps_xcalloc(n ? n : 1, 1);
        for (size_t i = 0; i < n; i++) {
            float *out = b->cvec + i * b->dim;
            int cls = -1;
            for (size_t j = b->cfirst[i]; j < b->cfirst[i + 1] && cls < 0; j++)
                if (!b->cinner[i] && b->syn[b->ccls[j]][0] == b->cofs[i])
                    cls = b->ccls[j];
            if (cls >= 0 && b->has_vec[cls]) {
                memcpy(out, b->namevec + (size_t)cls * b->dim, b->dim * sizeof *out);
                b->has_cvec[i] = 1;
            } else if (cls < 0) {
                b->has_cvec[i] = (unsigned char)name_vector(b->glove, b->clabel[i], mw, out);
            }
        }
    }
    return 0;
}

size_t ps_bridge_nconcepts(const ps_bridge *b) { return b->nconc; }
const ps_sense_counts *ps_bridge_sense_counts(const ps_bridge *b) { return b->senses; }
size_t ps_bridge_ndims(const ps_bridge *b) { return b->nconc + PS_VOC_CLASSES; }
size_t ps_bridge_voc_dim(const ps_bridge *b, int v) { return b->nconc + (size_t)v; }

const char *ps_bridge_dim_label(const ps_bridge *b, size_t d)
{
    return d < b->nconc ? b->clabel[d] : b->label[PS_BRIDGE_VOC0 + (d - b->nconc)];
}

ps_class_source ps_bridge_dim_source(const ps_bridge *b, size_t d)
{
    return d < b->nconc ? PS_SRC_IMAGENET : PS_SRC_VOC;
}

uint32_t ps_bridge_dim_synset(const ps_bridge *b, size_t d)
{
    return d < b->nconc ? b->cofs[d] : 0;
}

size_t ps_bridge_dim_classes(const ps_bridge *b, size_t d, const uint16_t **classes)
{
    if (d >= b->nconc) {
        *classes = NULL;
        return 0;
    }
    *classes = b->ccls + b->cfirst[d];
    return b->cfirst[d + 1] - b->cfirst[d];
}

static float clamp01(float x)
{
    return x > 0 ? (x < 1 ? x : 1) : 0; /* NaN -> 0 */
}

void ps_bridge_photo_mass(const ps_bridge *b, const ps_features *f, float *mass)
{
    for (size_t k = 0; k < b->nconc; k++) {
        double s = 0;
        for (size_t j = b->cfirst[k]; j < b->cfirst[k + 1]; j++)
            s += clamp01(f->class_prob[b->ccls[j]]);
        mass[k] = clamp01((float)s);
    }
    mass[b->nconc] = 0;
    for (int v = 1; v < PS_VOC_CLASSES; v++)
        mass[b->nconc + (size_t)v] = clamp01(f->voc_area[v]);
}

/* ---- the gloss index ------------------------------------------------------ */

static int cmp_gloss(const void *a, const void *b)
{
    const gloss_pair *x = a, *y = b;
    int c = strcmp(x->lemma, y->lemma);
    if (c)
        return c;
    return x->dim < y->dim ? -1 : x->dim > y->dim;
}

/* Lemmas of a definition ("narrow wood or metal ... for gliding over
 * snow"): the gloss up to its first example or ';'. */
static void add_gloss(ps_bridge *b, uint32_t dim, const char *gloss, ps_buf *store, gloss_pair **v,
                      size_t *n, size_t *cap)
{
    size_t len = strcspn(gloss, ";\"");
    ps_tokens toks;
    ps_error err;
    if (ps_tokenize(gloss, len, 256, &toks, &err))
        return; /* not UTF-8: no lemmas from this gloss */
    for (size_t i = 0; i < toks.n; i++) {
        char lem[PS_QUERY_WORD_MAX];
        if (toks.v[i].truncated ||
            !ps_query_lemma(b->wn, b->senses, toks.v[i].text, toks.v[i].len, lem))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *v = ps_xrealloc(*v, *cap * sizeof **v);
        }
        /* Offsets now, pointers once the store stops moving. */
        (*v)[*n].lemma = (const char *)(uintptr_t)store->len;
        (*v)[*n].dim = dim;
        (*v)[*n].df = 0;
        (*n)++;
        ps_buf_append(store, lem, strlen(lem) + 1);
    }
    ps_tokens_free(&toks);
}

static int build_glosses(ps_bridge *b, ps_error *err)
{
    ps_buf store = {0};
    gloss_pair *v = NULL;
    size_t n = 0, cap = 0;
    size_t nd = ps_bridge_ndims(b);
    for (size_t d = 0; d < nd; d++) {
        int c = d >= b->nconc ? PS_BRIDGE_VOC0 + (int)(d - b->nconc) : -1;
        int nsyn = c >= 0 ? b->nsyn[c] : 1;
        for (int i = 0; i < nsyn; i++) {
            uint32_t off = c >= 0 ? b->syn[c][i] : b->cofs[d];
            ps_wn_synset *s = ps_wn_synset_read(b->wn, PS_WN_NOUN, off, err);
            if (!s) {
                free(v);
                ps_buf_free(&store);
                return -1;
            }
            add_gloss(b, (uint32_t)d, s->gloss, &store, &v, &n, &cap);
            ps_wn_synset_free(s);
        }
    }
    b->gstore = store.data ? ps_buf_steal(&store) : ps_xstrdup("");
    for (size_t i = 0; i < n; i++)
        v[i].lemma = b->gstore + (uintptr_t)v[i].lemma;
    qsort(v, n, sizeof *v, cmp_gloss);
    /* One pair per (lemma, dimension), then each lemma's document count. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(v[k - 1].lemma, v[i].lemma) || v[k - 1].dim != v[i].dim)
            v[k++] = v[i];
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j < k && strcmp(v[j].lemma, v[i].lemma) == 0)
            j++;
        for (size_t t = i; t < j; t++)
            v[t].df = (uint32_t)(j - i);
        i = j;
    }
    b->gpairs = v;
    b->ngpairs = k;
    return 0;
}

/* First gloss pair with this lemma, or ngpairs. */
static size_t gloss_lower(const ps_bridge *b, const char *lemma)
{
    size_t lo = 0, hi = b->ngpairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(b->gpairs[mid].lemma, lemma) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void free_words(char **w, int n)
{
    for (int i = 0; i < n; i++)
        free(w[i]);
}

ps_bridge *ps_bridge_load(const ps_wordnet *wn, const ps_glove *glove,
                          const ps_bridge_opts *opts, ps_error *err)
{
    if (!opts || !opts->models_dir) {
        ps_errorf(err, "bridge: no models folder given");
        return NULL;
    }
    ps_bridge *b = ps_xcalloc(1, sizeof *b);
    b->wn = wn;
    b->glove = glove;
    char *glove_words[PS_VOC_CLASSES] = {0};
    char **in_words = ps_xcalloc(PS_IMAGENET_CLASSES, sizeof *in_words);
    if (!(b->senses = ps_sense_counts_load(ps_wordnet_dir(wn), err)) ||
        load_imagenet(b, opts->models_dir, err) ||
        load_voc(b, opts->models_dir, opts->voc_path, glove_words, err) ||
        load_imagenet_words(b, opts->words_path, in_words, err) || build_ancestors(b, err))
        goto fail;
    if (glove) {
        b->dim = ps_glove_dim(glove);
        b->namevec = ps_xcalloc((size_t)PS_BRIDGE_CLASSES * b->dim, sizeof *b->namevec);
        float mw = opts->modifier_weight < 0 ? 0.5f : opts->modifier_weight;
        for (int c = 1; c < PS_BRIDGE_CLASSES; c++) {
            const char *nm = c < PS_IMAGENET_CLASSES && in_words[c] ? in_words[c] : b->label[c];
            if (c >= PS_BRIDGE_VOC0)
                nm = glove_words[c - PS_BRIDGE_VOC0];
            if (c == PS_BRIDGE_VOC0 || !nm)
                continue;
            b->has_vec[c] = (unsigned char)name_vector(glove, nm, mw,
                                                       b->namevec + (size_t)c * b->dim);
        }
    }
    free_words(glove_words, PS_VOC_CLASSES);
    free_words(in_words, PS_IMAGENET_CLASSES);
    free(in_words);
    if (build_concepts(b, opts->modifier_weight < 0 ? 0.5f : opts->modifier_weight, err) ||
        build_glosses(b, err)) {
        ps_bridge_free(b);
        return NULL;
    }
    return b;
fail:
    free_words(glove_words, PS_VOC_CLASSES);
    free_words(in_words, PS_IMAGENET_CLASSES);
    free(in_words);
    ps_bridge_free(b);
    return NULL;
}

/* ---- relevance -------------------------------------------------------- */

static void lift(float *rel, unsigned char *why, size_t d, float r, ps_bridge_why kind)
{
    if (r > rel[d]) {
        rel[d] = r;
        if (why)
            why[d] = (unsigned char)kind;
    }
}

/* Breadth-first walk up from s that does not go past concepts: each concept
 * reached is recorded with its depth, its own ancestors are not visited. */
static int walk_to_concepts(const ps_bridge *b, uint32_t start, int max_depth, walk *w,
                            ps_error *err)
{
    memset(w->set, 0, sizeof w->set);
    w->n = 0;
    walk_mark(w, start);
    w->node[w->n] = start;
    w->depth[w->n++] = 0;
    uint32_t up[PS_WN_MAX_PTRS];
    for (int head = 0; head < w->n; head++) {
        if (w->depth[head] >= max_depth ||
            (head > 0 && ps_bridge_concept_dim(b, w->node[head]) >= 0))
            continue;
        int k = ps_wn_hypernyms(b->wn, w->node[head], up, PS_WN_MAX_PTRS, err);
        if (k < 0)
            return -1;
        for (int i = 0; i < k; i++) {
            if (!walk_mark(w, up[i]))
                continue;
            if (w->n == WALK_MAX)
                return ps_errorf(err, "synset %08u: more than %d ancestors", (unsigned)start,
                                 WALK_MAX);
            w->node[w->n] = up[i];
            w->depth[w->n++] = w->depth[head] + 1;
        }
    }
    return 0;
}

/* Relations of one noun sense s (weight sw) to the dimensions. */
static int sense_relevance(const ps_bridge *b, const ps_bridge_params *p, uint32_t s, float sw,
                           walk *wk, float *rel, unsigned char *why, ps_error *err)
{
    size_t voc0 = b->nconc;
    /* is-a: the sense is a concept; VOC classes below the sense. */
    if (p->down_decay > 0) {
        long d = ps_bridge_concept_dim(b, s);
        if (d >= 0)
            lift(rel, why, (size_t)d, sw, PS_WHY_DOWN);
        for (size_t r = anc_lower(b, s); r < b->nanc && b->anc[r].anc == s; r++) {
            if (b->anc[r].cls < PS_BRIDGE_VOC0 || b->anc[r].depth > p->max_down_depth)
                continue;
            lift(rel, why, voc0 + (size_t)(b->anc[r].cls - PS_BRIDGE_VOC0),
                 sw * powf(p->down_decay, b->anc[r].depth), PS_WHY_DOWN);
        }
    }
    /* kind-of, concepts: the nearest concepts above the sense. */
    if (p->up_decay > 0 && ps_bridge_concept_dim(b, s) < 0) {
        if (walk_to_concepts(b, s, p->max_up_depth, wk, err))
            return -1;
        for (int a = 1; a < wk->n; a++) {
            long d = ps_bridge_concept_dim(b, wk->node[a]);
            if (d >= 0 && b->cdepth[d] >= p->up_min_depth)
                lift(rel, why, (size_t)d, sw * powf(p->up_decay, wk->depth[a]), PS_WHY_UP);
        }
    }
    /* kind-of, VOC: any VOC synset above the sense. */
    float vdecay = p->up_decay;
    if (vdecay <= 0)
        return 0;
    if (walk_up(b->wn, s, p->max_up_depth, wk, err))
        return -1;
    for (int a = 1; a < wk->n; a++)
        for (size_t r = anc_lower(b, wk->node[a]); r < b->nanc && b->anc[r].anc == wk->node[a];
             r++)
            if (b->anc[r].depth == 0 && b->anc[r].cls >= PS_BRIDGE_VOC0)
                lift(rel, why, voc0 + (size_t)(b->anc[r].cls - PS_BRIDGE_VOC0),
                     sw * powf(vdecay, wk->depth[a]), PS_WHY_UP);
    return 0;
}

static float dotf(const float *a, const float *b, uint32_t n)
{
    float s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

int ps_bridge_word_relevance(const ps_bridge *b, const ps_bridge_params *p, const ps_query *q,
                             size_t i, float *rel, unsigned char *why, ps_error *err)
{
    size_t nd = ps_bridge_ndims(b);
    memset(rel, 0, nd * sizeof *rel);
    if (why)
        memset(why, 0, nd);
    const ps_query_word *w = &q->words[i];
    walk *wk = ps_xmalloc(sizeof *wk);
    /* Sense weights: tag counts (smoothed by 1) relative to the most
     * frequent sense of any of the word's base forms ("fields": the senses
     * of field outweigh W. C. Fields), times sense_decay^k for WordNet's
     * order within a base form (which alone decides between senses never
     * tagged). */
    enum { MAXS = 64 };
    unsigned cmax = 0, cnt[PS_WN_MAX_LEMMAS][MAXS];
    size_t nsen[PS_WN_MAX_LEMMAS];
    const uint32_t *offl[PS_WN_MAX_LEMMAS];
    for (int l = 0; l < w->nouns.n; l++) {
        size_t ns = ps_wn_synsets(b->wn, PS_WN_NOUN, w->nouns.lemma[l],
                                  strlen(w->nouns.lemma[l]), &offl[l]);
        if ((int)ns > p->max_senses)
            ns = (size_t)p->max_senses;
        if (ns > MAXS)
            ns = MAXS;
        nsen[l] = ns;
        for (size_t k = 0; k < ns; k++) {
            cnt[l][k] = p->sense_counts
                            ? ps_sense_count(b->senses, PS_WN_NOUN, w->nouns.lemma[l], (int)k + 1)
                            : 0;
            if (cnt[l][k] > cmax)
                cmax = cnt[l][k];
        }
    }
    for (int l = 0; l < w->nouns.n; l++) {
        const uint32_t *offs = offl[l];
        size_t ns = nsen[l];
        float pw = 1.0f;
        for (size_t k = 0; k < ns; k++, pw *= p->sense_decay) {
            float sw = pw * (float)(cnt[l][k] + 1) / (float)(cmax + 1);
            if (sense_relevance(b, p, offs[k], sw, wk, rel, why, err)) {
                free(wk);
                return -1;
            }
        }
    }
    free(wk);
    if (p->glove_weight > 0 && b->glove && q->dim == b->dim && w->vector_row != -1) {
        const float *wv = q->word_vecs + i * q->dim;
        float span = 1.0f - p->glove_floor;
        for (size_t k = 0; k < b->nconc; k++) {
            if (!b->has_cvec[k] || (b->cinner[k] && !p->glove_inner))
                continue;
            float c = dotf(wv, b->cvec + k * b->dim, b->dim);
            if (c > p->glove_floor)
                lift(rel, why, k, p->glove_weight * (c - p->glove_floor) / span, PS_WHY_GLOVE);
        }
        for (int v = 1; v < PS_VOC_CLASSES; v++) {
            const float *nv = ps_bridge_name_vector(b, PS_BRIDGE_VOC0 + v);
            if (!nv)
                continue;
            float c = dotf(wv, nv, b->dim);
            if (c > p->glove_floor)
                lift(rel, why, b->nconc + (size_t)v,
                     p->glove_weight * (c - p->glove_floor) / span, PS_WHY_GLOVE);
        }
    }
    if (p->gloss_weight > 0) {
        /* The word's lemma and noun base forms, each looked up once. */
        const char *cand[1 + PS_WN_MAX_LEMMAS];
        int nc = 0;
        cand[nc++] = w->lemma;
        for (int l = 0; l < w->nouns.n; l++)
            if (strcmp(w->nouns.lemma[l], w->lemma) != 0)
                cand[nc++] = w->nouns.lemma[l];
        for (int ci = 0; ci < nc; ci++)
            for (size_t g = gloss_lower(b, cand[ci]);
                 g < b->ngpairs && strcmp(b->gpairs[g].lemma, cand[ci]) == 0; g++)
                if ((int)b->gpairs[g].df <= p->gloss_max_df)
                    lift(rel, why, b->gpairs[g].dim, p->gloss_weight, PS_WHY_GLOSS);
    }
    rel[b->nconc] = 0; /* VOC background */
    if (!p->use_voc)
        memset(rel + b->nconc, 0, PS_VOC_CLASSES * sizeof *rel);
    return 0;
}
