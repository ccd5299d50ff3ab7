#!/usr/bin/env python3
"""Where the error is: NMSE inside and outside the object, from the images
that `mrgan eval` writes (OUTDIR/images/NAME.cfl and reference.cfl).

  python3 scripts/region-nmse.py [--frac F] EVALDIR...

The object is where the reference magnitude, blurred by a 5 x 5 box, is above
F (0.1) of its slice maximum. Per method and slice: the NMSE over the whole
image (as `mrgan eval`), the NMSE inside the object (error and reference
energy both inside), and the error energy outside the object over the whole
reference energy (the part of the whole NMSE that the background makes);
means over all slices of all EVALDIRs, x1e3. A diagnostic for docs, not a
metric of `mrgan eval`: with `--reference rss` the reference's background
is the noise floor of the root-sum-of-squares (its mean is not zero), which
a reconstruction that removes noise does not reproduce. Needs numpy."""
import argparse
import glob
import os

import numpy as np


def read_cfl(base):
    dims = [int(x) for x in open(base + ".hdr").read().split("\n")[1].split()]
    return dims, np.fromfile(base + ".cfl", dtype=np.complex64)


def box5(a):
    k = np.ones(5) / 5
    a = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 2, a)
    return np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 1, a)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frac", type=float, default=0.1)
    ap.add_argument("evaldirs", nargs="+")
    a = ap.parse_args()
    acc, order = {}, []
    for d in a.evaldirs:
        if not os.path.exists(os.path.join(d, "images", "reference.cfl")):
            raise SystemExit("region-nmse: %s: no images/reference.cfl (not an eval output directory)" % d)
        dims, ref = read_cfl(os.path.join(d, "images", "reference"))
        W, H = dims[0], dims[1]
        ref = np.abs(ref.reshape(-1, H, W)).astype(np.float64)
        blur = box5(ref)
        obj = blur > a.frac * blur.reshape(len(blur), -1).max(1)[:, None, None]
        for p in sorted(glob.glob(os.path.join(d, "images", "*.cfl"))):
            name = os.path.basename(p)[:-4]
            if name in ("reference", "masks"):
                continue
            _, x = read_cfl(p[:-4])
            x = np.abs(x.reshape(-1, H, W)).astype(np.float64)
            if x.shape != ref.shape:
                raise SystemExit("region-nmse: %s: %s is not the reference's shape" % (d, name))
            e = (x - ref) ** 2
            if name not in acc:
                acc[name] = []
                order.append(name)
            for s in range(len(ref)):
                r2 = (ref[s] ** 2).sum()
                acc[name].append((e[s].sum() / r2, e[s][obj[s]].sum() / (ref[s][obj[s]] ** 2).sum(),
                                  e[s][~obj[s]].sum() / r2, obj[s].mean()))
    print("| method | NMSE x1e3 | inside the object | outside (of the whole) | object fraction |")
    print("|---|---|---|---|---|")
    for k in order:
        v = np.array(acc[k])
        if not np.all(np.isfinite(v)):
            raise SystemExit("region-nmse: %s: a result is not finite" % k)
        print("| %s | %.3f | %.3f | %.3f | %.2f |" % (k, 1e3 * v[:, 0].mean(), 1e3 * v[:, 1].mean(),
                                                     1e3 * v[:, 2].mean(), v[:, 3].mean()))


if __name__ == "__main__":
    main()
