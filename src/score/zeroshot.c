/*
 * zeroshot.c - the zero-shot score (see zeroshot.h).
 */
#include "score/zeroshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "image/color.h"

#define ZS_CALIBRATION_SCALE 0.25f
#define ZS_LINEAR_EPS 1e6f /* an evidence transform this flat is linear to 1e-6 */
#define ZS_MIN_FOREGROUND 0.01f /* share of pixels that makes a foreground */

struct ps_zeroshot {
    ps_wordnet *wn;
    ps_glove *glove;
    ps_idf *idf;
    ps_bridge *bridge;
    ps_query_model qm;
    ps_zs_params p;
    size_t dim;
    size_t nd;     /* bridge dimensions: [0, nd) */
    size_t vec_off; /* colours: [nd, vec_off); query vector: [vec_off, dim) */
    uint32_t gdim;
    char name[64];
};

void ps_zs_params_default(ps_zs_params *p)
{
    memset(p, 0, sizeof *p);
    ps_bridge_params_default(&p->bridge);
    p->weighting = PS_QW_IDF;
    p->prob_eps = 0.03f;
    p->voc_weight = 0.5f;
    p->voc_eps = 1e-5f;
    p->vector_weight = 0.0f;
    p->modifier_weight = 1.0f;
    p->collocations = 1;
    p->modifiers = 1;
    p->adj_weight = 0.5f;
    p->color_weight = 0.15f;
    p->color_eps = 0.01f;
}

const char *const ps_zs_ablation_names[] = {"down", "up", "decay", "log", "sense-counts", "voc",
                                            "gloss", "glove", "idf", "vector", "collocations",
                                            "modifiers", "colors", NULL};

int ps_zs_params_ablate(ps_zs_params *p, const char *part, ps_error *err)
{
    ps_bridge_params *b = &p->bridge;
    if (strcmp(part, "down") == 0) {
        b->down_decay = 0;
    } else if (strcmp(part, "up") == 0) {
        b->up_decay = 0;
    } else if (strcmp(part, "decay") == 0) {
        if (b->down_decay > 0)
            b->down_decay = 1;
        if (b->up_decay > 0)
            b->up_decay = 1;
    } else if (strcmp(part, "log") == 0) {
        p->prob_eps = ZS_LINEAR_EPS;
        p->voc_eps = ZS_LINEAR_EPS;
    } else if (strcmp(part, "sense-counts") == 0) {
        b->sense_counts = 0;
    } else if (strcmp(part, "voc") == 0) {
        p->voc_weight = 0;
        b->use_voc = 0;
    } else if (strcmp(part, "gloss") == 0) {
        b->gloss_weight = 0;
    } else if (strcmp(part, "glove") == 0) {
        b->glove_weight = 0;
    } else if (strcmp(part, "idf") == 0) {
        p->weighting = PS_QW_UNIFORM;
    } else if (strcmp(part, "vector") == 0) {
        p->vector_weight = 0;
    } else if (strcmp(part, "collocations") == 0) {
        p->collocations = 0;
    } else if (strcmp(part, "modifiers") == 0) {
        p->modifiers = 0;
    } else if (strcmp(part, "colors") == 0) {
        p->color_weight = 0;
    } else {
        ps_buf names = {0};
        for (int i = 0; ps_zs_ablation_names[i]; i++)
            ps_buf_printf(&names, "%s%s", i ? ", " : "", ps_zs_ablation_names[i]);
        ps_errorf(err, "unknown part '%s' (known: %s)", part, names.data);
        ps_buf_free(&names);
        return -1;
    }
    return 0;
}

int ps_zs_params_set(ps_zs_params *p, const char *name, const char *value, ps_error *err)
{
    ps_bridge_params *b = &p->bridge;
    if (strcmp(name, "weighting") == 0) {
        if (strcmp(value, "idf") == 0)
            p->weighting = PS_QW_IDF;
        else if (strcmp(value, "uniform") == 0)
            p->weighting = PS_QW_UNIFORM;
        else
            return ps_errorf(err, "weighting must be idf or uniform, not '%s'", value);
        return 0;
    }
    struct {
        const char *name;
        float *f;
        int *i;
    } const tab[] = {
        {"down_decay", &b->down_decay, NULL},   {"max_down_depth", NULL, &b->max_down_depth},
        {"up_decay", &b->up_decay, NULL},       {"max_up_depth", NULL, &b->max_up_depth},
        {"up_min_depth", NULL, &b->up_min_depth},
        {"sense_decay", &b->sense_decay, NULL}, {"max_senses", NULL, &b->max_senses},
        {"sense_counts", NULL, &b->sense_counts}, {"glove_weight", &b->glove_weight, NULL},
        {"glove_floor", &b->glove_floor, NULL}, {"use_voc", NULL, &b->use_voc},
        {"glove_inner", NULL, &b->glove_inner},
        {"gloss_weight", &b->gloss_weight, NULL}, {"gloss_max_df", NULL, &b->gloss_max_df},
        {"prob_eps", &p->prob_eps, NULL},       {"voc_weight", &p->voc_weight, NULL},
        {"voc_eps", &p->voc_eps, NULL},         {"vector_weight", &p->vector_weight, NULL},
        {"modifier_weight", &p->modifier_weight, NULL},
        {"collocations", NULL, &p->collocations},
        {"modifiers", NULL, &p->modifiers},     {"adj_weight", &p->adj_weight, NULL},
        {"color_weight", &p->color_weight, NULL}, {"color_eps", &p->color_eps, NULL},
    };
    for (size_t k = 0; k < sizeof tab / sizeof *tab; k++) {
        if (strcmp(tab[k].name, name) != 0)
            continue;
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end || !isfinite(v) || v < -1e6 || v > 1e6)
            return ps_errorf(err, "%s: '%s' is not a number", name, value);
        if (tab[k].f) {
            *tab[k].f = (float)v;
        } else {
            if (v != floor(v))
                return ps_errorf(err, "%s: '%s' is not a whole number", name, value);
            *tab[k].i = (int)v;
        }
        return 0;
    }
    return ps_errorf(err, "unknown parameter '%s'", name);
}

void ps_zs_config_default(ps_zs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    ps_zs_params_default(&cfg->params);
}

static int check_params(const ps_zs_params *p, ps_error *err)
{
    const ps_bridge_params *b = &p->bridge;
    if (!(p->prob_eps >= 1e-6f && p->prob_eps <= ZS_LINEAR_EPS) ||
        !(p->voc_eps >= 1e-6f && p->voc_eps <= ZS_LINEAR_EPS) ||
        !(p->color_eps >= 1e-6f && p->color_eps <= ZS_LINEAR_EPS))
        return ps_errorf(err, "zero-shot parameters: evidence eps must be in [1e-6, 1e6]");
    if (!(p->voc_weight >= 0 && p->voc_weight <= 100) ||
        !(p->vector_weight >= 0 && p->vector_weight <= 100) ||
        !(p->color_weight >= 0 && p->color_weight <= 100))
        return ps_errorf(err, "zero-shot parameters: weights must be in [0, 100]");
    if (!(b->down_decay >= 0 && b->down_decay <= 1) || !(b->up_decay >= 0 && b->up_decay <= 1) ||
        !(b->sense_decay >= 0 && b->sense_decay <= 1))
        return ps_errorf(err, "zero-shot parameters: decays must be in [0, 1]");
    if (!(b->glove_floor >= -1 && b->glove_floor < 1) ||
        !(b->glove_weight >= 0 && b->glove_weight <= 1) ||
        !(b->gloss_weight >= 0 && b->gloss_weight <= 1) || b->gloss_max_df < 0)
        return ps_errorf(err, "zero-shot parameters: GloVe floor must be in [-1, 1), weight "
                              "in [0, 1]");
    if (b->max_senses < 0 || b->max_senses > 64 || b->max_down_depth < 0 ||
        b->max_down_depth > 1000 || b->max_up_depth < 0 || b->max_up_depth > 1000)
        return ps_errorf(err, "zero-shot parameters: senses must be in [0, 64], depth limits "
                              "in [0, 1000]");
    return 0;
}

/* A name that changes whenever the photo or query embedding could. */
static void make_name(ps_zeroshot *z)
{
    const ps_zs_params *p = &z->p;
    const ps_bridge_params *b = &p->bridge;
    ps_buf s = {0};
    ps_buf_printf(&s, "v%d down %g %d up %g %d %d senses %g %d %d glove %g %g %d gloss %g %d",
                  PS_ZS_VERSION, b->down_decay, b->max_down_depth, b->up_decay, b->max_up_depth,
                  b->up_min_depth, b->sense_decay, b->max_senses, b->sense_counts,
                  b->glove_weight, b->glove_floor, b->glove_inner, b->gloss_weight,
                  b->gloss_max_df);
    ps_buf_printf(&s, "|mod %d %g", p->modifiers, p->adj_weight);
    ps_buf_printf(&s, "|colors %d %g %g", PS_COLORS, p->color_weight, p->color_eps);
    ps_buf_printf(&s, "|voc %d %g %g|w %d|eps %g|vec %g|mod %g|coll %d", b->use_voc,
                  p->voc_weight, p->voc_eps, (int)p->weighting, p->prob_eps, p->vector_weight,
                  p->modifier_weight, p->collocations);
    if (z->glove)
        ps_buf_printf(&s, "|%s", ps_glove_source_sha256(z->glove));
    for (int c = 0; c < PS_BRIDGE_CLASSES; c++) {
        ps_buf_printf(&s, "|%s", ps_bridge_label(z->bridge, c));
        for (int i = 0; i < ps_bridge_nsynsets(z->bridge, c); i++)
            ps_buf_printf(&s, " %u", (unsigned)ps_bridge_synset(z->bridge, c, i));
    }
    ps_buf_printf(&s, "|%zu", ps_bridge_ndims(z->bridge));
    if (z->idf)
        ps_buf_printf(&s, "|%zu %zu", ps_idf_documents(z->idf), ps_idf_size(z->idf));
    char hex[65];
    ps_sha256_hex(s.data, s.len, hex);
    ps_buf_free(&s);
    snprintf(z->name, sizeof z->name, "zeroshot-v%d-%.8s", PS_ZS_VERSION, hex);
}

ps_zeroshot *ps_zeroshot_open(const ps_zs_config *cfg, ps_error *err)
{
    if (check_params(&cfg->params, err))
        return NULL;
    ps_zeroshot *z = ps_xcalloc(1, sizeof *z);
    z->p = cfg->params;
    char *models = NULL;
    if (!(z->wn = ps_wordnet_load(cfg->wordnet_dir, err)))
        goto fail;
    z->glove = cfg->glove_path ? ps_glove_open(cfg->glove_path, err)
                               : ps_glove_open_default(NULL, NULL, err);
    if (!z->glove)
        goto fail;
    if (z->p.weighting == PS_QW_IDF && !(z->idf = ps_idf_load(cfg->idf_path, err)))
        goto fail;
    models = cfg->models_dir ? ps_xstrdup(cfg->models_dir) : ps_models_dir(NULL, err);
    if (!models)
        goto fail;
    ps_bridge_opts bo = {.models_dir = models, .voc_path = cfg->voc_path,
                         .modifier_weight = z->p.modifier_weight};
    if (!(z->bridge = ps_bridge_load(z->wn, z->glove, &bo, err)))
        goto fail;
    free(models);
    z->qm = (ps_query_model){z->wn,          z->glove,
                             z->idf,         z->p.weighting,
                             !z->p.collocations, !z->p.modifiers,
                             ps_bridge_sense_counts(z->bridge)};
    z->gdim = ps_glove_dim(z->glove);
    z->nd = ps_bridge_ndims(z->bridge);
    z->vec_off = z->nd + PS_COLORS;
    z->dim = z->vec_off + z->gdim;
    make_name(z);
    return z;
fail:
    free(models);
    ps_zeroshot_close(z);
    return NULL;
}

void ps_zeroshot_close(ps_zeroshot *z)
{
    if (!z)
        return;
    ps_bridge_free(z->bridge);
    ps_idf_free(z->idf);
    ps_glove_close(z->glove);
    ps_wordnet_free(z->wn);
    free(z);
}

size_t ps_zeroshot_dim(const ps_zeroshot *z) { return z->dim; }
size_t ps_zeroshot_color_offset(const ps_zeroshot *z) { return z->nd; }
size_t ps_zeroshot_vector_offset(const ps_zeroshot *z) { return z->vec_off; }
const char *ps_zeroshot_name(const ps_zeroshot *z) { return z->name; }
const ps_query_model *ps_zeroshot_query_model(const ps_zeroshot *z) { return &z->qm; }
const ps_bridge *ps_zeroshot_bridge(const ps_zeroshot *z) { return z->bridge; }
const ps_zs_params *ps_zeroshot_params(const ps_zeroshot *z) { return &z->p; }

/* ev(m, eps) = ln(1 + m/eps) / ln(1 + 1/eps), see zeroshot.h. */
static float evidence(float m, float eps)
{
    if (!(m > 0))
        return 0;
    return (float)(log1p((double)m / eps) / log1p(1.0 / eps));
}

/* The colour shares the score reads: those of the foreground when DeepLab
 * found one (at least ZS_MIN_FOREGROUND of the pixels), else of all pixels
 * (a landscape: "a green field"). */
static const float *photo_colors(const ps_features *f)
{
    const float *fg = f->colors[PS_COLOR_FOREGROUND];
    float sum = 0;
    for (int c = 0; c < PS_COLORS; c++)
        sum += fg[c];
    if (sum > 0 && 1.0f - f->voc_area[0] >= ZS_MIN_FOREGROUND)
        return fg;
    return f->colors[PS_COLOR_ALL];
}

void ps_zeroshot_embed_photo(const ps_zeroshot *z, const ps_features *f, float *out)
{
    const ps_bridge *b = z->bridge;
    size_t nc = ps_bridge_nconcepts(b);
    ps_bridge_photo_mass(b, f, out);
    for (size_t d = 0; d < z->nd; d++)
        out[d] = evidence(out[d], d < nc ? z->p.prob_eps : z->p.voc_eps);
    const float *col = photo_colors(f);
    for (int c = 0; c < PS_COLORS; c++)
        out[z->nd + (size_t)c] = evidence(col[c], z->p.color_eps);
    float *u = out + z->vec_off;
    double *acc = ps_xcalloc(z->gdim, sizeof *acc);
    for (int c = 1; c < PS_IMAGENET_CLASSES; c++) {
        const float *nv = ps_bridge_name_vector(b, c);
        float pc = f->class_prob[c];
        if (!nv || !(pc > 0))
            continue;
        if (pc > 1)
            pc = 1;
        for (uint32_t d = 0; d < z->gdim; d++)
            acc[d] += (double)pc * nv[d];
    }
    double nn = 0;
    for (uint32_t d = 0; d < z->gdim; d++)
        nn += acc[d] * acc[d];
    double inv = nn > 0 ? 1.0 / sqrt(nn) : 0;
    for (uint32_t d = 0; d < z->gdim; d++)
        u[d] = (float)(acc[d] * inv);
    free(acc);
}

/* The colour a query word names, or -1 (collocations name none). */
static int word_color(const ps_query_word *w)
{
    return w->ntokens == 1 ? ps_color_of_word(w->text) : -1;
}

/* The colour part of Q: color_weight times each colour's share of the
 * query's colour words ("a black and white dog": 1/2 black, 1/2 white), so
 * that it weighs the same however many colours a query names. */
static void query_colors(const ps_zeroshot *z, const ps_query *q, float *out)
{
    int n = 0;
    for (size_t i = 0; i < q->nwords; i++) {
        int c = word_color(&q->words[i]);
        if (c >= 0) {
            out[c] += 1;
            n++;
        }
    }
    for (int c = 0; c < PS_COLORS && n; c++)
        out[c] *= z->p.color_weight / (float)n;
}

int ps_zeroshot_check_query(const ps_query *q, ps_error *err)
{
    if (q->nwords == 0)
        return ps_errorf(err, "the query has no word to search for (only stop words, "
                              "punctuation or nothing)");
    return 0;
}

int ps_zeroshot_embed_parsed(const ps_zeroshot *z, const ps_query *q, float *out, int *best_word,
                             unsigned char *why, ps_error *err)
{
    if (ps_zeroshot_check_query(q, err) != 0)
        return -1;
    size_t nd = z->nd;
    memset(out, 0, z->dim * sizeof *out);
    float *rel = ps_xmalloc(nd * sizeof *rel);
    float *best = ps_xcalloc(nd, sizeof *best);
    unsigned char *wwhy = ps_xmalloc(nd);
    if (best_word)
        for (size_t c = 0; c < nd; c++)
            best_word[c] = -1;
    if (why)
        memset(why, 0, nd);
    double wsum = 0;
    int rc = 0;
    for (size_t i = 0; i < q->nwords; i++) {
        if (ps_bridge_word_relevance(z->bridge, &z->p.bridge, q, i, rel, wwhy, err)) {
            rc = -1;
            break;
        }
        float w = q->words[i].weight;
        if (q->words[i].pos == PS_WN_ADJ)
            w *= z->p.adj_weight;
        wsum += w;
        for (size_t c = 0; c < nd; c++) {
            if (rel[c] <= 0)
                continue;
            float part = w * rel[c];
            out[c] += part;
            if (part > best[c]) {
                best[c] = part;
                if (best_word)
                    best_word[c] = (int)i;
                if (why)
                    why[c] = wwhy[c];
            }
        }
    }
    free(rel);
    free(best);
    free(wwhy);
    if (rc)
        return -1;
    float inv = wsum > 0 ? (float)(1.0 / wsum) : 0;
    size_t nc = ps_bridge_nconcepts(z->bridge);
    for (size_t c = 0; c < nd; c++)
        out[c] *= inv * (c >= nc ? z->p.voc_weight : 1.0f);
    query_colors(z, q, out + nd);
    if (q->has_vector && q->dim == z->gdim)
        for (uint32_t d = 0; d < z->gdim; d++)
            out[z->vec_off + d] = z->p.vector_weight * q->vec[d];
    return 0;
}

int ps_zeroshot_embed_query(const ps_zeroshot *z, const char *text, size_t len, float *out,
                            ps_error *err)
{
    ps_query q;
    int rc = ps_query_parse(&z->qm, text, len, &q, err);
    if (rc == 0)
        rc = ps_zeroshot_embed_parsed(z, &q, out, NULL, NULL, err);
    ps_query_free(&q);
    return rc;
}

float ps_zeroshot_calibrate(float raw)
{
    if (!(raw > 0))
        return 0;
    return raw / (raw + ZS_CALIBRATION_SCALE);
}

/* ---- the scorer interface ---------------------------------------------- */

static int sc_embed_photo(const ps_scorer *s, const ps_features *f, float *out, ps_error *err)
{
    (void)err;
    ps_zeroshot_embed_photo(s->impl, f, out);
    return 0;
}

static int sc_embed_query(const ps_scorer *s, const char *text, size_t len, float *out,
                          ps_error *err)
{
    return ps_zeroshot_embed_query(s->impl, text, len, out, err);
}

static float sc_calibrate(const ps_scorer *s, float raw)
{
    (void)s;
    return ps_zeroshot_calibrate(raw);
}

static void sc_destroy(ps_scorer *s)
{
    ps_zeroshot_close(s->impl);
    free(s);
}

ps_scorer *ps_zeroshot_scorer_new(const ps_zs_config *cfg, ps_error *err)
{
    ps_zeroshot *z = ps_zeroshot_open(cfg, err);
    if (!z)
        return NULL;
    ps_scorer *s = ps_xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", z->name);
    s->dim = z->dim;
    s->embed_photo = sc_embed_photo;
    s->embed_query = sc_embed_query;
    s->calibrate = sc_calibrate;
    s->destroy = sc_destroy;
    s->impl = z;
    return s;
}

const ps_zeroshot *ps_zeroshot_of(const ps_scorer *s)
{
    return s && s->destroy == sc_destroy ? s->impl : NULL;
}

/* ---- explanations ----------------------------------------------------------- */

static int cmp_contrib(const void *a, const void *b)
{
    const ps_zs_contrib *x = a, *y = b;
    if (x->contribution != y->contribution)
        return x->contribution > y->contribution ? -1 : 1;
    return x->dim < y->dim ? -1 : x->dim > y->dim;
}

/* The most probable ImageNet classes below a concept dimension. */
static void top_classes(const ps_bridge *b, size_t d, const ps_features *f, ps_zs_contrib *t)
{
    const uint16_t *cls;
    size_t n = ps_bridge_dim_classes(b, d, &cls);
    t->nclasses = 0;
    for (size_t i = 0; i < n; i++) {
        float p = f->class_prob[cls[i]];
        if (!(p > 0))
            continue;
        int pos = t->nclasses;
        while (pos > 0 && t->class_prob[pos - 1] < p)
            pos--;
        if (pos >= PS_ZS_CONTRIB_CLASSES)
            continue;
        int last = t->nclasses < PS_ZS_CONTRIB_CLASSES ? t->nclasses : PS_ZS_CONTRIB_CLASSES - 1;
        for (int j = last; j > pos; j--) {
            t->classes[j] = t->classes[j - 1];
            t->class_prob[j] = t->class_prob[j - 1];
        }
        t->classes[pos] = cls[i];
        t->class_prob[pos] = p;
        if (t->nclasses < PS_ZS_CONTRIB_CLASSES)
            t->nclasses++;
    }
}

/* The first query word that names colour c, into out ("" if none). */
static void color_word(const ps_query *q, int c, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < q->nwords; i++)
        if (word_color(&q->words[i]) == c) {
            snprintf(out, n, "%s", q->words[i].text);
            return;
        }
}

/* Set main_reason (zeroshot.h) on contributors sorted best first. */
static void mark_main_reasons(ps_zs_contrib *c, size_t n)
{
    float floor = n ? 0.1f * c[0].contribution : 0;
    for (size_t i = 0; i < n; i++) {
        c[i].main_reason = c[i].contribution >= floor;
        for (size_t p = 0; p < i && c[i].main_reason; p++)
            if (c[p].main_reason && strcmp(c[p].word, c[i].word) == 0)
                c[i].main_reason = 0;
    }
}

int ps_zeroshot_explain(const ps_zeroshot *z, const ps_query *q, const ps_features *f, size_t k,
                        ps_zs_explanation *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const ps_bridge *b = z->bridge;
    size_t nd = z->nd, nc = ps_bridge_nconcepts(b);
    float *qe = ps_xmalloc(z->dim * sizeof *qe), *pe = ps_xmalloc(z->dim * sizeof *pe);
    float *mass = ps_xmalloc(nd * sizeof *mass);
    int *bw = ps_xmalloc(nd * sizeof *bw);
    unsigned char *why = ps_xmalloc(nd);
    int rc = ps_zeroshot_embed_parsed(z, q, qe, bw, why, err);
    if (rc == 0) {
        ps_zeroshot_embed_photo(z, f, pe);
        ps_bridge_photo_mass(b, f, mass);
        if (k > PS_ZS_MAX_CONTRIB)
            k = PS_ZS_MAX_CONTRIB;
        ps_zs_contrib *all = ps_xmalloc(z->vec_off * sizeof *all);
        size_t n = 0;
        double cls = 0, col = 0, vec = 0;
        const float *shares = photo_colors(f);
        for (size_t d = 0; d < z->vec_off; d++) {
            float part = qe[d] * pe[d];
            if (d < nd)
                cls += part;
            else
                col += part;
            if (!(part > 0))
                continue;
            ps_zs_contrib *t = &all[n++];
            memset(t, 0, sizeof *t);
            t->dim = d;
            t->relevance = qe[d];
            t->contribution = part;
            if (d >= nd) {
                int c = (int)(d - nd);
                t->source = PS_SRC_COLOR;
                t->voc_class = -1;
                t->label = ps_color_name(c);
                t->value = shares[c];
                t->foreground = shares == f->colors[PS_COLOR_FOREGROUND];
                color_word(q, c, t->word, sizeof t->word);
                continue;
            }
            t->source = ps_bridge_dim_source(b, d);
            t->voc_class = d >= nc ? (int)(d - nc) : -1;
            t->label = ps_bridge_dim_label(b, d);
            t->synset = ps_bridge_dim_synset(b, d);
            t->value = mass[d];
            t->why = (ps_bridge_why)why[d];
            if (bw[d] >= 0)
                snprintf(t->word, sizeof t->word, "%s", q->words[bw[d]].text);
        }
        for (size_t d = z->vec_off; d < z->dim; d++)
            vec += (double)qe[d] * pe[d];
        qsort(all, n, sizeof *all, cmp_contrib);
        mark_main_reasons(all, n);
        out->n = n < k ? n : k;
        for (size_t i = 0; i < out->n; i++)
            if (all[i].source != PS_SRC_COLOR)
                top_classes(b, all[i].dim, f, &all[i]);
        memcpy(out->top, all, out->n * sizeof *all);
        free(all);
        out->classes_part = (float)cls;
        out->colors_part = (float)col;
        out->vector_part = (float)vec;
        out->raw = (float)(cls + col + vec);
        out->score = ps_zeroshot_calibrate(out->raw);
    }
    free(qe);
    free(pe);
    free(mass);
    free(bw);
    free(why);
    return rc;
}

/* ---- explanations as words and JSON ------------------------------------------ */

const char *ps_zs_source_name(ps_class_source s)
{
    return s == PS_SRC_VOC ? "voc" : s == PS_SRC_COLOR ? "color" : "imagenet";
}

const char *ps_zs_value_name(ps_class_source s)
{
    return s == PS_SRC_VOC ? "area" : s == PS_SRC_COLOR ? "share" : "prob";
}

const char *ps_zs_why_name(const ps_zs_contrib *c)
{
    return c->source == PS_SRC_COLOR ? "color" : ps_bridge_why_name(c->why);
}

static void contrib_json(ps_json *j, const ps_bridge *br, const ps_zs_contrib *c)
{
    ps_json_obj(j);
    ps_json_key(j, "label"); ps_json_str(j, c->label);
    ps_json_key(j, "source"); ps_json_str(j, ps_zs_source_name(c->source));
    if (c->source == PS_SRC_VOC) {
        ps_json_key(j, "class"); ps_json_int(j, c->voc_class);
    } else if (c->source == PS_SRC_COLOR) {
        ps_json_key(j, "region"); ps_json_str(j, c->foreground ? "foreground" : "all");
    } else {
        char id[16];
        snprintf(id, sizeof id, "n%08u", (unsigned)c->synset);
        ps_json_key(j, "synset"); ps_json_str(j, id);
    }
    ps_json_key(j, "word"); ps_json_str(j, c->word);
    ps_json_key(j, "why"); ps_json_str(j, ps_zs_why_name(c));
    ps_json_key(j, "weight"); ps_json_num(j, c->relevance);
    ps_json_key(j, ps_zs_value_name(c->source)); ps_json_num(j, c->value);
    ps_json_key(j, "contribution"); ps_json_num(j, c->contribution);
    ps_json_key(j, "main"); ps_json_bool(j, c->main_reason);
    if (c->source == PS_SRC_IMAGENET) {
        ps_json_key(j, "classes");
        ps_json_arr(j);
        for (int i = 0; i < c->nclasses; i++) {
            ps_json_obj(j);
            ps_json_key(j, "label"); ps_json_str(j, ps_bridge_label(br, c->classes[i]));
            ps_json_key(j, "class"); ps_json_int(j, c->classes[i]);
            ps_json_key(j, "prob"); ps_json_num(j, c->class_prob[i]);
            ps_json_end(j);
        }
        ps_json_end(j);
    }
    ps_json_end(j);
}

void ps_zs_explanation_json(ps_json *j, const ps_zeroshot *z, const ps_zs_explanation *ex)
{
    ps_json_key(j, "score"); ps_json_num(j, ex->score);
    ps_json_key(j, "raw"); ps_json_num(j, ex->raw);
    ps_json_key(j, "classes_part"); ps_json_num(j, ex->classes_part);
    ps_json_key(j, "colors_part"); ps_json_num(j, ex->colors_part);
    ps_json_key(j, "vector_part"); ps_json_num(j, ex->vector_part);
    ps_json_key(j, "contributors");
    ps_json_arr(j);
    for (size_t i = 0; i < ex->n; i++)
        contrib_json(j, z->bridge, &ex->top[i]);
    ps_json_end(j);
}
