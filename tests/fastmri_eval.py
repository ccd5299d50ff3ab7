#!/usr/bin/env python3
"""An independent implementation of fastMRI's evaluate.py (its metrics as
published: numpy NMSE, skimage PSNR and SSIM with data_range = the volume's
maximum, SSIM averaged over slices, each metric averaged over volumes),
checked against `mrgan eval --reference rss`'s table.csv.

    fastmri_eval.py TARGET_DIR PRED_DIR TABLE_CSV METHOD [KSPACE_CFL]

TARGET_DIR holds the ground-truth files (reconstruction_rss); PRED_DIR the
predictions of the same names (reconstruction). With KSPACE_CFL (one fully
sampled slice [W H 1 C]) the target is instead the root-sum-of-squares of
its coil images (fastMRI's ifft2c: centred, orthonormal), centre-cropped to
the prediction's size. Exits 1 when a metric differs by more than 1e-6
relative."""
import os
import sys

import h5py
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def nmse(gt, pred):
    return np.linalg.norm(gt - pred) ** 2 / np.linalg.norm(gt) ** 2


def psnr(gt, pred, maxval):
    return peak_signal_noise_ratio(gt, pred, data_range=maxval)


def ssim(gt, pred, maxval):
    return np.mean([structural_similarity(gt[s], pred[s], data_range=maxval) for s in range(gt.shape[0])])


def read_cfl(base):
    with open(base + ".hdr") as f:
        lines = [l for l in f if not l.startswith("#")]
    dims = [int(x) for x in lines[0].split()]
    data = np.fromfile(base + ".cfl", dtype=np.complex64)
    return data.reshape(dims, order="F")


def center_crop(x, h, w):
    y0, x0 = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., y0:y0 + h, x0:x0 + w]


def main():
    tdir, pdir, table, method = sys.argv[1:5]
    ksp = sys.argv[5] if len(sys.argv) > 5 else None
    m = {"NMSE": [], "PSNR": [], "SSIM": []}
    for name in sorted(os.listdir(pdir)):
        with h5py.File(os.path.join(pdir, name), "r") as f:
            pred = f["reconstruction"][()].astype(np.float64)
        if ksp:
            k = read_cfl(ksp)  # [W, H, 1, C]
            k = np.transpose(k[:, :, 0, :], (2, 0, 1))  # C, W (rows), H (cols): fastMRI's (coils, rows, cols)
            img = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
            rss = np.sqrt(np.sum(np.abs(img) ** 2, axis=0))
            gt = center_crop(rss, pred.shape[-2], pred.shape[-1])[None].astype(np.float32).astype(np.float64)
        else:
            with h5py.File(os.path.join(tdir, name), "r") as f:
                gt = f["reconstruction_rss"][()].astype(np.float64)
        maxval = gt.max()
        m["NMSE"].append(nmse(gt, pred))
        m["PSNR"].append(psnr(gt, pred, maxval))
        m["SSIM"].append(ssim(gt, pred, maxval))
    mean = {k: float(np.mean(v)) for k, v in m.items()}
    row = None
    with open(table) as f:
        head = f.readline().strip().split(",")
        for line in f:
            v = line.strip().split(",")
            if v[0] == method:
                row = dict(zip(head, v))
    if row is None:
        print("no row %s in %s" % (method, table))
        return 1
    ours = {"NMSE": float(row["nmse"]), "PSNR": float(row["psnr_db"]), "SSIM": float(row["ssim"])}
    bad = 0
    for k in ("NMSE", "PSNR", "SSIM"):
        rel = abs(ours[k] - mean[k]) / abs(mean[k])
        print("%s %s: evaluate.py %.9g, mrgan %.9g, relative difference %.2e" % (method, k, mean[k], ours[k], rel))
        bad |= rel > 1e-6
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
