/*
 * features.h - everything picseek keeps about a photo's pixels: the outputs
 * of the three pretrained models, dequantized to float, and the colours of
 * its pixels (image/color.h).
 *
 * This is the contract between the models (nn/), the index (stored per
 * photo) and the scores (score/, learn/).  A score may look only at these
 * numbers and at the query text: never at captions or file names.
 */
#ifndef PS_NN_FEATURES_H
#define PS_NN_FEATURES_H

#include "image/color.h"

#define PS_IMAGENET_CLASSES 1001 /* class 0 = background */
#define PS_MNV2_FEATURE_DIM 1280 /* MobileNetV2 pre-logits (global average pool) */
#define PS_MNV1_EMBED_DIM 1024   /* MobileNetV1 pooled embedding */
#define PS_VOC_CLASSES 21        /* class 0 = background */

/* Colour-share regions (image/color.h), both of DeepLab's 513-pixel
 * centre square: all its pixels, and those DeepLab does not call background
 * (people, animals, vehicles...: what captions usually describe). */
#define PS_COLOR_ALL 0
#define PS_COLOR_FOREGROUND 1
#define PS_COLOR_REGIONS 2

/* Bump when the meaning or layout of ps_features changes: stored features
 * of an older version are recomputed. */
#define PS_FEATURES_VERSION 2

typedef struct ps_features {
    float class_prob[PS_IMAGENET_CLASSES]; /* MobileNetV2 softmax, sums to ~1 */
    float mnv2[PS_MNV2_FEATURE_DIM];       /* MobileNetV2 pre-logits */
    float mnv1[PS_MNV1_EMBED_DIM];         /* MobileNetV1 embedding */
    float voc_area[PS_VOC_CLASSES];        /* DeepLabV3 share of pixels per VOC class */
    float colors[PS_COLOR_REGIONS][PS_COLORS]; /* share of each colour term per region;
                                                  all zero where a region has no pixel */
} ps_features;

#endif
