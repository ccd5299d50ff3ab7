#!/usr/bin/env python3
"""An independent DCI-Net forward in PyTorch, written from the paper (Malkiel
et al., Sec. 3 and Appendix A) and docs/dcinet.md, not from mrgan's C.

  python3 dcinet_torch.py make DIR   random weights (mrgan's checkpoint format),
                                     k-space, maps and a mask as BART cfl
  python3 dcinet_torch.py check DIR  the reference reconstruction of DIR's data
                                     against mrgan recon's DIR/out.cfl

Definitions: F is the centred orthonormal 2D FFT; A = M F S; the network's
input is ku = M k / s with s the 99th percentile of |A^H M k|; y_{-1} = A^H ku;
block b: dc = y_{b-1} - lambda_b A^H (A y_{b-1} - ku), in = [dc, y_{b-2}, ...,
y_{b-1-G}] (blocks that exist), y_b = dc + conv3(lrelu(conv2(lrelu(conv1(in))))),
5x5 convolutions with bias, zero padding 2; the image is s * y_{N-1}."""
import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn.functional as Fn

# the speed peer (bench/peer/peer.py): its safetensors reader and writer, and
# its DCI-Net, which check() compares with mrgan too
_spec = importlib.util.spec_from_file_location("peer", os.path.join(os.path.dirname(__file__), "..", "bench", "peer", "peer.py"))
peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peer)
write_safetensors, read_safetensors = peer.write_safetensors, peer.read_safetensors

N_BLOCKS, GROWTH, K, SLOPE = 3, 2, 6, 0.2
C, H, W = 4, 24, 20


def write_cfl(base, arr_fortran_dims, data):
    with open(base + ".hdr", "w") as f:
        f.write("# Dimensions\n" + " ".join(str(d) for d in arr_fortran_dims) + "\n")
    np.asarray(data, dtype=np.complex64).ravel().tofile(base + ".cfl")


def read_cfl(base):
    dims = [int(x) for x in open(base + ".hdr").read().split("\n")[1].split()]
    return dims, np.fromfile(base + ".cfl", dtype=np.complex64)


def skips(b):
    return min(b, GROWTH)


def make(d):
    rng = np.random.default_rng(7)
    ts = {}
    for b in range(N_BLOCKS):
        cin = 2 * (1 + skips(b))
        for i, (ci, co) in enumerate([(cin, K), (K, K), (K, 2)], 1):
            ts["block%d.conv%d.weight" % (b, i)] = rng.normal(0, 0.6 / np.sqrt(25 * ci), (co, ci, 5, 5))
            ts["block%d.conv%d.bias" % (b, i)] = rng.normal(0, 0.05, (co,))
        ts["block%d.dc.lambda" % b] = np.array([0.6 + 0.2 * b])
    meta = {"format": "mrgan-dcinet-1", "blocks": str(N_BLOCKS), "growth": str(GROWTH), "kernels": str(K),
            "slope": "%.9g" % SLOPE}
    write_safetensors(d + "/net.safetensors", ts, meta)
    # smooth image, smooth maps normalised to sum |s|^2 = 1, k-space with noise
    yy, xx = np.mgrid[0:H, 0:W]
    img = (np.exp(-((yy - H / 2) ** 2 / 40 + (xx - W / 2) ** 2 / 30)) * np.exp(1j * 0.3 * xx / W)
           + 0.05 * rng.normal(size=(H, W)))
    maps = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 300) * np.exp(1j * 0.5 * c)
                     for c, (cy, cx) in enumerate([(0, 0), (0, W), (H, 0), (H, W)])])
    maps /= np.sqrt((np.abs(maps) ** 2).sum(0, keepdims=True))
    k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(maps * img, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    k = k + 0.01 * (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape))
    mask = np.zeros(H)
    mask[[0, 3, 7, 9, 10, 11, 12, 13, 14, 17, 21]] = 1
    write_cfl(d + "/ksp", [W, H, 1, C], k)
    write_cfl(d + "/sens", [W, H, 1, C], maps)
    write_cfl(d + "/mask", [1, H], mask)


def fft2c(x):
    return torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


def ifft2c(x):
    return torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


def check(d):
    torch.set_default_dtype(torch.float64)
    _, k = read_cfl(d + "/ksp")
    _, s = read_cfl(d + "/sens")
    _, m = read_cfl(d + "/mask")
    k = torch.tensor(k.reshape(C, H, W).astype(np.complex128))
    s = torch.tensor(s.reshape(C, H, W).astype(np.complex128))
    M = torch.tensor(m.real.astype(np.float64)).reshape(1, H, 1)
    A = lambda x: M * fft2c(s * x)
    AH = lambda y: (s.conj() * ifft2c(M * y)).sum(0)
    mz = AH(k)
    mags = np.sort(np.abs(mz.numpy()).astype(np.float32).ravel())
    scale = float(mags[int(0.99 * (H * W - 1))])
    ku = M * k / scale
    w = {n: torch.tensor(a.astype(np.float64)) for n, a in read_safetensors(d + "/net.safetensors").items()}
    planes = lambda z: torch.stack([z.real, z.imag])[None]
    y = [planes(AH(ku))]  # y[0] is y_{-1}
    for b in range(N_BLOCKS):
        x = torch.complex(y[-1][0, 0], y[-1][0, 1])
        dc = planes(x - w["block%d.dc.lambda" % b][0] * AH(A(x) - ku))
        inp = torch.cat([dc] + [y[-2 - j] for j in range(skips(b))], 1)
        a = Fn.leaky_relu(Fn.conv2d(inp, w["block%d.conv1.weight" % b], w["block%d.conv1.bias" % b], padding=2), SLOPE)
        a = Fn.leaky_relu(Fn.conv2d(a, w["block%d.conv2.weight" % b], w["block%d.conv2.bias" % b], padding=2), SLOPE)
        y.append(dc + Fn.conv2d(a, w["block%d.conv3.weight" % b], w["block%d.conv3.bias" % b], padding=2))
    ref = scale * torch.complex(y[-1][0, 0], y[-1][0, 1]).numpy()
    dims, out = read_cfl(d + "/out")
    out = out[: H * W].reshape(H, W)
    err = np.abs(out - ref).max() / np.abs(ref).max()
    nrmse = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    print("DCI-Net forward: max |mrgan - torch| / max |torch| = %.2e, NRMSE %.2e (bounds 1e-5)" % (err, nrmse))
    assert err < 1e-5 and nrmse < 1e-5
    # the speed peer (bench/peer/peer.py, float32) computes the same network:
    # its DCINet with these weights on the same scaled input
    torch.set_default_dtype(torch.float32)
    net = peer.DCINet(N_BLOCKS, GROWTH, K, SLOPE)
    with torch.no_grad():
        for b in range(N_BLOCKS):
            for i in range(3):
                net.convs[b][i].weight.copy_(w["block%d.conv%d.weight" % (b, i + 1)].float())
                net.convs[b][i].bias.copy_(w["block%d.conv%d.bias" % (b, i + 1)].float())
            net.lam[b] = float(w["block%d.dc.lambda" % b][0])
        y = net(ku.to(torch.complex64)[None], s.to(torch.complex64)[None], M.float().reshape(1, 1, H, 1))
    pv = scale * torch.complex(y[0, 0], y[0, 1]).numpy()
    perr = np.linalg.norm(out - pv) / np.linalg.norm(ref)
    print("the speed peer (bench/peer/peer.py, float32) vs mrgan: NRMSE %.2e (bound 1e-5)" % perr)
    assert perr < 1e-5


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
