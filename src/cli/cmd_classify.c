/*
 * cmd_classify.c - `picseek classify`: run the MobileNetV2 classifier (top-k
 * ImageNet classes) or the DeepLabV3 segmenter (share of pixels per Pascal
 * VOC class) on photos or raw input tensors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/file.h"
#include "core/json.h"
#include "image/resize.h"
#include "nn/models.h"

#define MAX_INPUTS 4096

static void help(void)
{
    printf(
        "usage: picseek classify [options] PHOTO...\n"
        "       picseek classify [options] --tensor FILE [--tensor FILE]...\n"
        "\n"
        "Say what a photo shows, with picseek's pretrained models:\n"
        "  mobilenet_v2  the ImageNet classifier: the K most likely of 1001 classes\n"
        "                (class 0 is 'background') with their probabilities;\n"
        "  deeplab       the Pascal VOC segmenter: for each of its 21 classes that\n"
        "                covers some pixels, the share of the picture it covers,\n"
        "                largest first (at most K classes).\n"
        "\n"
        "A photo is decoded, cropped to its center square and resized to the model's\n"
        "input (224x224 for mobilenet_v2, 513x513 for deeplab).  --tensor FILE instead\n"
        "gives the model's input tensor directly: raw RGB bytes, row by row, exactly\n"
        "side*side*3 bytes (150528 for mobilenet_v2, 789507 for deeplab), such as the\n"
        ".in files of shared/golden.  Inputs are processed in the order given.\n"
        "\n"
        "Options:\n"
        "  --model NAME     mobilenet_v2 (default) or deeplab\n"
        "  -k, --top N      how many classes to show, 1 to 1001 (default 5)\n"
        "  --tensor FILE    an input tensor file (repeatable)\n"
        "  --json           print a JSON array with one object per input:\n"
        "                     {\"input\": FILE, \"model\": NAME,\n"
        "                      \"classes\": [{\"index\": N, \"label\": TEXT,\n"
        "                                   \"score\": X}, ...]}\n"
        "                   where score is a probability (mobilenet_v2) or the share\n"
        "                   of pixels (deeplab), from 0 to 1, largest first\n"
        "  --models DIR     the folder holding the .tflite files and labels\n"
        "                   (default: $PICSEEK_MODELS, $PICSEEK_SHARED/models,\n"
        "                   ../shared/models)\n"
        "  --threads N      threads used inside each model, 1 to 64 (default:\n"
        "                   $PICSEEK_THREADS, else the number of CPUs, at most 8)\n"
        "  --arithmetic A   how the uint8 models compute, to check any reference:\n"
        "                   tflite   TFLite's reference integer kernels (default,\n"
        "                            and what picseek's features use)\n"
        "                   xnnpack  XNNPACK's rescaling, byte-identical to\n"
        "                            LiteRT's CPU outputs\n"
        "                   armnn    Arm NN CpuRef's dequantize-float-requantize,\n"
        "                            byte-identical to shared/golden (slower)\n"
        "  -h, --help       show this help\n"
        "\n"
        "Output (without --json), per input:\n"
        "  FILE (mobilenet_v2)\n"
        "    1.  0.8711  cab, hack, taxi, taxicab  [469]\n"
        "\n"
        "The models' files are checked against pinned SHA-256 sums before use.\n"
        "\n"
        "Examples:\n"
        "  picseek classify photo.jpg\n"
        "  picseek classify -k 3 --json a.jpg b.png\n"
        "  picseek classify --model deeplab street.jpg\n"
        "  picseek classify --tensor ../shared/golden/mobilenet_v2_1.0_224_quant/X.in\n"
        "  picseek classify --arithmetic armnn -k 1001 --json \\\n"
        "      --tensor ../shared/golden/mobilenet_v2_1.0_224_quant/X.in\n"
        "\n"
        "Exit status: 0 when every input was classified; 1 when an input or a model\n"
        "could not be read (the other inputs are still reported); 2 on a usage error.\n");
}

typedef struct input {
    const char *path;
    int is_tensor;
} input;

/* The model's input bytes (side*side*3) for one input, in a new buffer. */
static int load_input(const input *in, int side, uint8_t **out, ps_error *err)
{
    size_t need = (size_t)side * side * 3;
    if (!in->is_tensor) {
        /* Decode, center square, PIL-compatible resize (image/resize.h). */
        uint8_t *px = ps_xmalloc(need);
        if (ps_image_load_square(in->path, side, NULL, px, err) != 0) {
            free(px);
            return -1;
        }
        *out = px;
        return 0;
    }
    size_t len;
    char *data = ps_read_file(in->path, need + 1, &len, err);
    if (!data)
        return -1;
    if (len != need) {
        free(data);
        return ps_errorf(err, "%s: a tensor file must hold exactly %zu bytes (the model's "
                         "input), it has %zu", in->path, need, len);
    }
    *out = (uint8_t *)data;
    return 0;
}

static void print_text(ps_buf *b, const ps_model *m, const char *path, const float *scores,
                       const int *idx, int n)
{
    int seg = ps_model_get_kind(m) == PS_MODEL_SEGMENTER;
    ps_buf_printf(b, "%s (%s)\n", path, ps_model_name(m));
    for (int i = 0; i < n; i++) {
        if (seg)
            ps_buf_printf(b, "  %2d. %6.2f%%  %s  [%d]\n", i + 1, 100.0 * scores[idx[i]],
                          ps_model_label(m, idx[i]), idx[i]);
        else
            ps_buf_printf(b, "  %2d.  %.4f  %s  [%d]\n", i + 1, (double)scores[idx[i]],
                          ps_model_label(m, idx[i]), idx[i]);
    }
}

static void print_json(ps_json *j, const ps_model *m, const char *path, const float *scores,
                       const int *idx, int n)
{
    ps_json_obj(j);
    ps_json_key(j, "input");
    ps_json_str(j, path);
    ps_json_key(j, "model");
    ps_json_str(j, ps_model_name(m));
    ps_json_key(j, "classes");
    ps_json_arr(j);
    for (int i = 0; i < n; i++) {
        ps_json_obj(j);
        ps_json_key(j, "index");
        ps_json_int(j, idx[i]);
        ps_json_key(j, "label");
        ps_json_str(j, ps_model_label(m, idx[i]));
        ps_json_key(j, "score");
        ps_json_num(j, scores[idx[i]]);
        ps_json_end(j);
    }
    ps_json_end(j);
    ps_json_end(j);
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'k'},
        {"tensor", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"models", required_argument, NULL, 'M'},
        {"threads", required_argument, NULL, 'T'},
        {"arithmetic", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_name = "mobilenet_v2", *models_dir = NULL;
    long k = 5, threads = 0;
    int json = 0, c;
    ps_nn_options nopt = {.nkeep = 0};
    input *inputs = ps_xcalloc(MAX_INPUTS, sizeof *inputs);
    int ninputs = 0;
    optind = 1;
    opterr = 0;
    /* A leading '-' returns operands in order as option 1, so photos and
     * tensors keep the order they were given in. */
    while ((c = getopt_long(argc, argv, "-hk:", opts, NULL)) != -1) {
        switch (c) {
        case 1:
        case 't':
            if (ninputs == MAX_INPUTS) {
                free(inputs);
                return cli_usage("classify", "at most %d inputs", MAX_INPUTS);
            }
            inputs[ninputs].path = optarg;
            inputs[ninputs++].is_tensor = c == 't';
            break;
        case 'm': model_name = optarg; break;
        case 'k':
            if (cli_parse_int("classify", "--top", optarg, 1, 1001, &k) != 0) {
                free(inputs);
                return PS_EXIT_USAGE;
            }
            break;
        case 'j': json = 1; break;
        case 'M': models_dir = optarg; break;
        case 'A':
            if (strcmp(optarg, "armnn") == 0) {
                nopt.armnn = 1;
            } else if (strcmp(optarg, "xnnpack") == 0) {
                nopt.xnnpack = 1;
                nopt.softmax_table = 1;
            } else if (strcmp(optarg, "tflite") != 0) {
                free(inputs);
                return cli_usage("classify", "--arithmetic must be tflite, xnnpack or armnn, "
                                 "not '%s'", optarg);
            }
            break;
        case 'T':
            if (cli_parse_int("classify", "--threads", optarg, 1, 64, &threads) != 0) {
                free(inputs);
                return PS_EXIT_USAGE;
            }
            break;
        case 'h':
            help();
            free(inputs);
            return PS_EXIT_OK;
        default:
            free(inputs);
            return cli_usage("classify", "unknown option or missing value: '%s'",
                             argv[optind - 1]);
        }
    }
    int kind = ps_model_kind_parse(model_name);
    if (kind != PS_MODEL_CLASSIFIER && kind != PS_MODEL_SEGMENTER) {
        free(inputs);
        return cli_usage("classify", "--model must be mobilenet_v2 or deeplab, not '%s'",
                         model_name);
    }
    if (ninputs == 0) {
        free(inputs);
        return cli_usage("classify", "give at least one PHOTO or --tensor FILE");
    }

    ps_error err = {{0}};
    ps_model *m = ps_model_load((ps_model_kind)kind, models_dir, &nopt, &err);
    if (!m) {
        free(inputs);
        return cli_fail("classify", &err);
    }
    ps_nn_workspace *ws = ps_model_workspace(m, (int)threads);
    int nclasses = ps_model_num_classes(m);
    float *scores = ps_xcalloc((size_t)nclasses, sizeof *scores);
    int *idx = ps_xcalloc((size_t)nclasses, sizeof *idx);
    ps_buf out = {0};
    ps_json j;
    ps_json_init(&j, &out, 0);
    if (json)
        ps_json_arr(&j);
    int failed = 0;
    for (int i = 0; i < ninputs; i++) {
        uint8_t *tensor = NULL;
        if (load_input(&inputs[i], ps_model_input_side(m), &tensor, &err) != 0 ||
            ps_model_run(m, ws, tensor, ps_model_input_bytes(m), scores, NULL, &err) != 0) {
            cli_fail("classify", &err);
            failed = 1;
            free(tensor);
            continue;
        }
        free(tensor);
        int n = ps_top_k(scores, nclasses, (int)k, idx);
        if (kind == PS_MODEL_SEGMENTER)
            while (n > 0 && scores[idx[n - 1]] <= 0.0f)
                n--; /* only classes that cover some pixels */
        if (json)
            print_json(&j, m, inputs[i].path, scores, idx, n);
        else
            print_text(&out, m, inputs[i].path, scores, idx, n);
    }
    if (json) {
        ps_json_end(&j);
        ps_buf_putc(&out, '\n');
    }
    int rc = cli_write_stdout(&out);
    ps_buf_free(&out);
    free(scores);
    free(idx);
    ps_nn_workspace_free(ws);
    ps_model_free(m);
    free(inputs);
    if (rc != PS_EXIT_OK)
        return PS_EXIT_FAIL;
    return failed ? PS_EXIT_FAIL : PS_EXIT_OK;
}
