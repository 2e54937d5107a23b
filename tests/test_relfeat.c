/* Tests for the feature blocks of the learned scores (src/score/relfeat.h)
 * that need no assets: names, dimensions, the photo vector layout. */
#include "test.h"

#include "score/relfeat.h"

TEST(block_names_round_trip)
{
    unsigned m;
    ps_error err;
    char out[64];
    CHECK_INT(ps_relfeat_parse(PS_RF_PHOTO, "mnv2,voc", &m, &err), 0);
    CHECK_INT(m, PS_PF_MNV2 | PS_PF_VOC);
    ps_relfeat_format(PS_RF_PHOTO, m, out, sizeof out);
    CHECK_STR(out, "mnv2,voc");
    /* Order in the text does not matter; the format is canonical. */
    CHECK_INT(ps_relfeat_parse(PS_RF_PHOTO, "zs,logprob,mnv1", &m, &err), 0);
    ps_relfeat_format(PS_RF_PHOTO, m, out, sizeof out);
    CHECK_STR(out, "mnv1,logprob,zs");
    CHECK_INT(ps_relfeat_parse(PS_RF_EXTRA, "none", &m, &err), 0);
    CHECK_INT(m, 0);
    ps_relfeat_format(PS_RF_EXTRA, m, out, sizeof out);
    CHECK_STR(out, "none");
    CHECK_INT(ps_relfeat_parse(PS_RF_EXTRA, "zsvoc,zsconcept", &m, &err), 0);
    CHECK_INT(ps_relfeat_extra_dim(m), 2);
    CHECK_INT(ps_relfeat_parse(PS_RF_EXTRA, "zscolor,zs", &m, &err), 0);
    CHECK_INT(m, PS_EF_ZS | PS_EF_ZSCOLOR);
    ps_relfeat_format(PS_RF_EXTRA, m, out, sizeof out);
    CHECK_STR(out, "zs,zscolor");
    CHECK_INT(ps_relfeat_parse(PS_RF_TEXT, "glove,pixels", &m, &err), -1);
    CHECK_CONTAINS(err.msg, "'pixels'");
    CHECK_CONTAINS(err.msg, "glove");
    CHECK_INT(ps_relfeat_parse(PS_RF_PHOTO, "mnv2,", &m, &err), 0);
    CHECK_INT(m, PS_PF_MNV2);
}

TEST(dimensions)
{
    CHECK_INT(ps_relfeat_photo_dim(PS_PF_MNV2 | PS_PF_MNV1 | PS_PF_LOGPROB | PS_PF_VOC, 0),
              1280 + 1024 + 1001 + 21);
    CHECK_INT(ps_relfeat_photo_dim(PS_PF_ZS | PS_PF_VOC, 500), 521);
    CHECK_INT(ps_relfeat_text_dim(PS_TF_GLOVE, 2000, 100), 100);
    CHECK_INT(ps_relfeat_text_dim(PS_TF_ALL, 2000, 100), 2100);
    CHECK_INT(ps_relfeat_extra_dim(PS_EF_ALL), 6);
}

TEST(photo_vector_layout)
{
    static ps_features f;
    for (int i = 0; i < PS_MNV2_FEATURE_DIM; i++)
        f.mnv2[i] = (float)i;
    for (int i = 0; i < PS_MNV1_EMBED_DIM; i++)
        f.mnv1[i] = -(float)i;
    f.class_prob[3] = 0.5f;
    f.voc_area[15] = 0.25f;
    float zs[4] = {9, 8, 7, 6};
    unsigned all = PS_PF_ALL;
    size_t d = ps_relfeat_photo_dim(all, 4);
    float *v = calloc(d, sizeof *v);
    ps_relfeat_photo(all, &f, zs, 4, v);
    CHECK_NEAR(v[7], 7, 0);
    CHECK_NEAR(v[1280 + 5], -5, 0);
    /* log(p + 1e-4): 0 probability gives log(1e-4). */
    CHECK_NEAR(v[1280 + 1024 + 3], log(0.5 + 1e-4), 1e-6);
    CHECK_NEAR(v[1280 + 1024], log(1e-4), 1e-5);
    CHECK_NEAR(v[1280 + 1024 + 1001 + 15], 0.25, 0);
    CHECK_NEAR(v[d - 4], 9, 0);
    CHECK_NEAR(v[d - 1], 6, 0);
    /* Only the VOC block. */
    float voc[PS_VOC_CLASSES];
    ps_relfeat_photo(PS_PF_VOC, &f, NULL, 0, voc);
    CHECK_NEAR(voc[15], 0.25, 0);
    free(v);
}

int main(void)
{
    RUN(block_names_round_trip);
    RUN(dimensions);
    RUN(photo_vector_layout);
    return test_summary();
}
