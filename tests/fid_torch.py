#!/usr/bin/env python3
"""Reference for mrgan's Inception-v3 / FID (run by tests/cli_fid_torch.sh).

Builds pytorch-fid's FID Inception-v3 (torchvision's inception_v3 with the
FIDInceptionA/C/E_1/E_2 blocks of pytorch_fid/inception.py: average pools
that exclude padding, a max pool in Mixed_7c) with random weights and
batch-norm statistics, writes them as mrgan reads them, writes two small
image stacks as cfl, and computes the features and FID the PyTorch way.

usage: fid_torch.py OUTDIR      writes OUTDIR/w.safetensors, a.cfl/hdr,
                                b.cfl/hdr, ref_feat_a.f32, ref_feat_b.f32, ref_fid.txt
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models import inception

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from convert_inception_weights import write_safetensors  # noqa: E402


class FIDInceptionA(inception.InceptionA):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDInceptionC(inception.InceptionC):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(bd))))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([b1, b7, bd, bp], 1)


class FIDInceptionE(inception.InceptionE):
    def __init__(self, cin, max_pool):
        super().__init__(cin)
        self.max_pool = max_pool

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.max_pool:
            bp = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            bp = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([b1, b3, bd, self.branch_pool(bp)], 1)


def fid_inception():
    net = inception.inception_v3(weights=None, aux_logits=False, init_weights=True, num_classes=1008)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, max_pool=False)
    net.Mixed_7c = FIDInceptionE(2048, max_pool=True)
    return net


def features(net, imgs, vmax):
    """pytorch-fid's InceptionV3 forward up to the pool3 block."""
    x = torch.from_numpy(np.clip(imgs / vmax, 0, 1)).float()[:, None].repeat(1, 3, 1, 1)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"]:
        x = getattr(net, name)(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                 "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
        x = getattr(net, name)(x)
    return F.adaptive_avg_pool2d(x, (1, 1))[:, :, 0, 0].numpy().astype(np.float64)


def frechet(a, b):
    """pytorch-fid's formula, the square root via the general eigen-decomposition
    of the (non-symmetric) product: a different route from mrgan's."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def write_cfl(base, imgs):
    n, h, w = imgs.shape
    with open(base + ".hdr", "w") as f:
        f.write("# Dimensions\n%d %d 1 1 1 1 1 1 1 1 1 1 1 %d\n" % (w, h, n))
    imgs.astype(np.complex64).tofile(base + ".cfl")


def main():
    out = sys.argv[1]
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    net = fid_inception().eval()
    tensors = {}
    with torch.no_grad():
        for name, mod in net.named_modules():
            if isinstance(mod, inception.BasicConv2d):
                mod.bn.running_mean.normal_(0, 0.01)
                mod.bn.running_var.uniform_(0.5, 1.5)
                mod.bn.weight.uniform_(0.5, 1.5)
                mod.bn.bias.normal_(0, 0.01)
                tensors[name + ".conv.weight"] = mod.conv.weight
                for k in ["weight", "bias", "running_mean", "running_var"]:
                    tensors[name + ".bn." + k] = getattr(mod.bn, k)
    assert len(tensors) == 470, len(tensors)
    write_safetensors(os.path.join(out, "w.safetensors"), tensors, {"format": "mrgan-fid-inception-v3"})
    h, w = 48, 40
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.stack([np.sin(xx / (3 + i)) * np.cos(yy / (4 + i)) + 1.2 + 0.1 * rng.standard_normal((h, w))
                  for i in range(6)])
    b = np.stack([np.cos(xx / (2 + i)) + np.sin(yy / (5 + i)) + 2 + 0.3 * rng.standard_normal((h, w))
                  for i in range(5)])
    a, b = np.abs(a), np.abs(b)
    write_cfl(os.path.join(out, "a"), a)
    write_cfl(os.path.join(out, "b"), b)
    vmax = a.max()
    with torch.no_grad():
        fa, fb = features(net, a, vmax), features(net, b, vmax)
    fa, fb = fa.astype("<f4"), fb.astype("<f4")  # mrgan's features are float32 too
    fa.tofile(os.path.join(out, "ref_feat_a.f32"))
    fb.tofile(os.path.join(out, "ref_feat_b.f32"))
    with open(os.path.join(out, "ref_fid.txt"), "w") as f:
        f.write("%.10g\n" % frechet(fb.astype(np.float64), fa.astype(np.float64)))


if __name__ == "__main__":
    main()
