#!/usr/bin/python3
"""The PyTorch peer for picseek's model benchmark (bench/models).

Runs the same three architectures as picseek's TFLite models - MobileNetV2
classifier (224), MobileNetV1 embedding extractor (224) and DeepLabV3 with a
MobileNetV2 backbone at output stride 16 (513) - with random weights (only the
timing matters) on the photos of a folder, end to end: PIL decode (with
JPEG draft mode, i.e. the same DCT-domain downscaling picseek uses), center
crop, bilinear resize, normalise, model.  Float32, as PyTorch runs these
architectures on a CPU by default.

Prints one JSON object per line: {"peer":"pytorch","model":..,"batch":..,
"photos_per_s":..,"threads":..,"blas":..}.
"""
import argparse, glob, json, os, sys, time

import torch
import torch.nn as nn
import torchvision
from PIL import Image


def mobilenet_v1(width=1.0):
    def conv_bn(i, o, s):
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU6(inplace=True))

    def conv_dw(i, o, s):
        return nn.Sequential(
            nn.Conv2d(i, i, 3, s, 1, groups=i, bias=False), nn.BatchNorm2d(i), nn.ReLU6(inplace=True),
            nn.Conv2d(i, o, 1, 1, 0, bias=False), nn.BatchNorm2d(o), nn.ReLU6(inplace=True))

    cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
          [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    layers = [conv_bn(3, 32, 2)] + [conv_dw(i, o, s) for i, o, s in cfg]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


class DeepLabV3MNV2(nn.Module):
    """DeepLabV3 as in the TFLite model: MobileNetV2 at output stride 16
    (last stages dilated), ASPP reduced to image pooling + 1x1 branch,
    a 1x1 classifier to 21 classes, bilinear upsampling to the input size."""

    def __init__(self):
        super().__init__()
        feats = torchvision.models.mobilenet_v2(weights=None).features[:-1]  # up to 320 channels
        # Output stride 16: drop the stride of the stage at index 14 and dilate after it.
        for idx in range(14, len(feats)):
            for m in feats[idx].modules():
                if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                    if m.stride == (2, 2):
                        m.stride = (1, 1)
                    m.dilation, m.padding = (2, 2), (2, 2)
        self.backbone = feats
        self.pool_branch = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(320, 256, 1), nn.ReLU())
        self.conv_branch = nn.Sequential(nn.Conv2d(320, 256, 1), nn.ReLU())
        self.project = nn.Sequential(nn.Conv2d(512, 256, 1), nn.ReLU())
        self.classifier = nn.Conv2d(256, 21, 1)

    def forward(self, x):
        size = x.shape[-2:]
        f = self.backbone(x)
        p = nn.functional.interpolate(self.pool_branch(f), size=f.shape[-2:], mode="bilinear", align_corners=True)
        y = self.classifier(self.project(torch.cat([p, self.conv_branch(f)], 1)))
        y = nn.functional.interpolate(y, size=size, mode="bilinear", align_corners=True)
        return y.argmax(1)


def load(path, size):
    im = Image.open(path)
    im.draft("RGB", (size, size))  # DCT-domain downscale, like picseek
    im = im.convert("RGB")
    w, h = im.size
    s = min(w, h)
    im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    im = im.resize((size, size), Image.BILINEAR)
    t = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(size, size, 3)
    return t.permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def blas_in_use():
    try:
        maps = open("/proc/self/maps").read()
        for name in ("openblas", "libmkl", "libblis", "libblas"):
            for line in maps.splitlines():
                if name in line:
                    return os.path.realpath(line.split()[-1])
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("photos", help="folder of photos")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--models", default="mobilenet_v2,mobilenet_v1,deeplab,all")
    ap.add_argument("--limit", type=int, default=100, help="photos per measurement")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    paths = sorted(p for p in glob.glob(os.path.join(a.photos, "*")) if p.lower().endswith((".jpg", ".jpeg", ".png")))[: a.limit]
    nets = {
        "mobilenet_v2": (torchvision.models.mobilenet_v2(weights=None).eval(), 224),
        "mobilenet_v1": (mobilenet_v1().eval(), 224),
        "deeplab": (DeepLabV3MNV2().eval(), 513),
    }
    # Ensure the BLAS is loaded before we look for it (a tiny matmul).
    torch.ones(64, 64) @ torch.ones(64, 64)
    blas = blas_in_use()
    for model in a.models.split(","):
        names = list(nets) if model == "all" else [model]
        for batch in [int(b) for b in a.batches.split(",")]:
            with torch.inference_mode():
                # Warm-up on one batch.
                for n in names:
                    net, size = nets[n]
                    net(torch.stack([load(p, size) for p in paths[:batch]]))
                t0 = time.perf_counter()
                done = 0
                for i in range(0, len(paths), batch):
                    chunk = paths[i:i + batch]
                    for n in names:
                        net, size = nets[n]
                        net(torch.stack([load(p, size) for p in chunk]))
                    done += len(chunk)
                dt = time.perf_counter() - t0
            print(json.dumps({"peer": "pytorch " + torch.__version__, "model": model, "batch": batch,
                              "photos": done, "seconds": round(dt, 3), "photos_per_s": round(done / dt, 2),
                              "threads": torch.get_num_threads(), "blas": blas}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
