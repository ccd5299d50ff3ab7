#!/usr/bin/env python3
"""The PyTorch peer of `mrgan bench` (issue 19): DCI-Net, the PatchGAN critic
and the cWGAN-AGB step written from the paper (Malkiel et al., Sec. 3,
Alg. 1, Appendix A) and docs/dcinet.md, docs/gan.md -- not ported from
mrgan's C -- in float32 or with bf16 autocast, timed the way `mrgan bench`
times (a warm-up, then the best of --reps).

  peer.py --what inference|mse|agb [--config small|paper] [--precision fp32|bf16] [--reps 3]

prints one line: what, config, precision, seconds, peak resident MB of this
process (run each measurement in its own process: bench/peer/compare.sh).

  peer.py --check-step PEERSTEP [--config small|paper]

checks that the peer does mrgan's work: the peer's freshly initialised
DCI-Net and sample go to mrgan (tests/peerstep.c: one MSE step of mrgan's
trainer on given weights and data), and the forward output, the loss, every
parameter's gradient and the weights after one Adam step must agree with the
peer's own step in float32 (prints the errors; exit 1 when one is off).

Definitions (as mrgan): F the centred orthonormal FFT, A = M F S; block b:
dc = y_{b-1} - lambda_b A^H (A y_{b-1} - ku); in = [dc, y_{b-2}, ...,
y_{b-1-G}]; y_b = dc + conv3(lrelu(conv2(lrelu(conv1(in))))), 5x5 convs,
zero padding 2, LeakyReLU 0.2. The critic: four 4x4 stride-2 convs (C, 2C,
4C, 8C, C = 64), batch norm and LeakyReLU 0.2 after each, flatten, linear;
input [|mz|, |x|]. The generator step: L = MSE + L_adv, L_adv = -(1/beta)
mean D(mz, G); the critic step: (1/beta)(mean D(fake) - mean D(real)), Adam
(lr 5e-4), weights clipped to 0.01; AGB measures the STDs of the two
gradients with respect to the generated image. Convolutions run in bf16
under autocast; FFTs, the DC units and the losses stay float32."""
import argparse
import json
import os
import resource
import struct
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

CONFIGS = {"small": (128, 8, 5, 5, 16), "paper": (256, 8, 20, 5, 40)}  # N, coils, blocks, growth, kernels


def fft2c(x):
    return torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


def ifft2c(x):
    return torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


class DCINet(nn.Module):
    def __init__(self, blocks, growth, kernels, slope=0.2):
        super().__init__()
        self.blocks, self.growth, self.slope = blocks, growth, slope
        self.convs = nn.ModuleList()
        for b in range(blocks):
            cin = 2 * (1 + min(b, growth))
            self.convs.append(nn.ModuleList([nn.Conv2d(cin, kernels, 5, padding=2), nn.Conv2d(kernels, kernels, 5, padding=2),
                                             nn.Conv2d(kernels, 2, 5, padding=2)]))
        self.lam = nn.Parameter(torch.ones(blocks))

    def forward(self, ku, sens, mask):
        # ku, sens: (B, C, H, W) complex64; mask: (B, 1, H, 1)
        A = lambda x: mask * fft2c(sens * x[:, None])
        AH = lambda y: (sens.conj() * ifft2c(mask * y)).sum(1)
        planes = lambda z: torch.stack([z.real, z.imag], 1)
        y = [planes(AH(ku))]
        for b in range(self.blocks):
            x = torch.complex(y[-1][:, 0], y[-1][:, 1])
            dc = planes(x - self.lam[b] * AH(A(x) - ku))
            inp = torch.cat([dc] + [y[-2 - j] for j in range(min(b, self.growth))], 1)
            c1, c2, c3 = self.convs[b]
            a = Fn.leaky_relu(c1(inp), self.slope)
            a = Fn.leaky_relu(c2(a), self.slope)
            y.append(dc + c3(a).float())
        return y[-1]


class PatchGAN(nn.Module):
    def __init__(self, cin, ch, n):
        super().__init__()
        layers, c = [], cin
        for i in range(4):
            layers += [nn.Conv2d(c, ch << i, 4, stride=2, padding=1), nn.BatchNorm2d(ch << i), nn.LeakyReLU(0.2)]
            c = ch << i
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c * (n // 16) ** 2, 1)

    def forward(self, x):
        return self.fc(self.body(x).flatten(1)).float()


def sample(n, coils, seed=1):
    """A synthetic slice: a smooth random image, birdcage-like maps (unit
    norm), k-space, a 1D variable-density R = 4 mask with 12 centre lines."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n - 0.5
    img = (np.exp(-(yy ** 2 + xx ** 2) / 0.08) * (1 + 0.3 * rng.standard_normal((n, n)))).astype(np.complex64)
    maps = np.stack([np.exp(-((yy - 0.6 * np.cos(a)) ** 2 + (xx - 0.6 * np.sin(a)) ** 2) / 0.3) * np.exp(1j * a)
                     for a in 2 * np.pi * np.arange(coils) / coils])
    maps /= np.sqrt((np.abs(maps) ** 2).sum(0, keepdims=True))
    mask = np.zeros(n, np.float32)
    mask[n // 2 - 6:n // 2 + 6] = 1
    mask[rng.choice(n, n // 4 - 12, replace=False)] = 1
    k = torch.tensor(maps * img)
    k = fft2c(k.to(torch.complex64))
    m = torch.tensor(mask).reshape(1, 1, n, 1)
    return m * k[None], torch.tensor(maps, dtype=torch.complex64)[None], m, torch.tensor(np.stack([img.real, img.imag]))[None].float()


def write_safetensors(path, tensors, meta):
    """float32 tensors (numpy arrays) in safetensors' layout, with string metadata"""
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(t["shape"])
    return out


def mrgan_names(net):
    """(mrgan's checkpoint name, the peer's parameter, the slice of it) for every generator parameter"""
    for b in range(net.blocks):
        for i in range(3):
            yield "block%d.conv%d.weight" % (b, i + 1), net.convs[b][i].weight, slice(None)
            yield "block%d.conv%d.bias" % (b, i + 1), net.convs[b][i].bias, slice(None)
        yield "block%d.dc.lambda" % b, net.lam, slice(b, b + 1)


def named(net, what):
    """every generator parameter's value (what = "w") or gradient ("g") by mrgan's names, as numpy"""
    return {k: (p if what == "w" else p.grad).detach()[sl].numpy().copy() for k, p, sl in mrgan_names(net)}


def check_step(peerstep, config):
    torch.manual_seed(1)
    torch.set_num_threads(2)
    n, coils, blocks, growth, kernels = CONFIGS[config]
    net = DCINet(blocks, growth, kernels)
    with torch.no_grad():  # lambda away from its initial 1, different per block
        net.lam.copy_(0.5 + 0.1 * torch.arange(blocks, dtype=torch.float32))
    ku, sens, mask, target = sample(n, coils)
    before = named(net, "w")
    with tempfile.TemporaryDirectory() as d:
        meta = {"format": "mrgan-dcinet-1", "blocks": str(blocks), "growth": str(growth), "kernels": str(kernels),
                "slope": "%.9g" % net.slope}
        write_safetensors(d + "/net.safetensors", before, meta)
        write_safetensors(d + "/sample.safetensors", {
            "ku": torch.view_as_real(ku[0]).numpy(), "sens": torch.view_as_real(sens[0]).numpy(),
            "mask": mask.reshape(-1).numpy(), "target": target[0].numpy()}, {"format": "mrgan-peerstep-1"})
        subprocess.run([peerstep, d + "/net.safetensors", d + "/sample.safetensors", d + "/step.safetensors"],
                       check=True)
        m = read_safetensors(d + "/step.safetensors")
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    out = net(ku, sens, mask)
    loss = 2 * Fn.mse_loss(out, target)
    opt.zero_grad()
    loss.backward()
    grads = named(net, "g")
    opt.step()
    after = named(net, "w")
    rel = lambda a, b: float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))
    checks = [("forward output", rel(m["out"], out[0].detach().numpy()), 1e-5),
              ("loss", abs(float(m["loss"][0]) - float(loss)) / float(loss), 1e-5)]
    gerr = max(rel(m["grad." + k], grads[k]) for k in before)
    worst = max(before, key=lambda k: rel(m["grad." + k], grads[k]))
    checks.append(("gradients (worst tensor: %s)" % worst, gerr, 1e-3))
    # one Adam step moves each weight by about lr sign(g): compare the moves where the gradient is not ~0
    # (relative to its RMS: there float32 rounding may flip its sign)
    dm = np.concatenate([(m["new." + k] - before[k]).ravel() for k in before])
    dt = np.concatenate([(after[k] - before[k]).ravel() for k in before])
    gt = np.concatenate([grads[k].ravel() for k in before])
    sure = np.abs(gt) > 1e-3 * np.sqrt(np.mean(gt ** 2))
    checks.append(("update of one Adam step (%d of %d weights, |g| > RMS/1000)" % (sure.sum(), sure.size),
                   rel(dm[sure], dt[sure]), 1e-4))
    print("check-step %s: all weights: update relative error %.2e, %d move differently by more than lr/100" % (
        config, rel(dm, dt), int((np.abs(dm - dt) > 0.01 * 5e-4).sum())))
    ok = True
    for name, err, bound in checks:
        good = np.isfinite(err) and err <= bound
        ok &= bool(good)
        print("check-step %s: %s relative error %.2e (bound %.0e) %s" % (config, name, err, bound, "ok" if good else "FAIL"))
    return ok


def run(what, config, precision, reps):
    torch.manual_seed(1)
    torch.set_num_threads(2)
    n, coils, blocks, growth, kernels = CONFIGS[config]
    net = DCINet(blocks, growth, kernels)
    ku, sens, mask, target = sample(n, coils)
    mz = (sens.conj() * ifft2c(mask * ku)).sum(1).abs()[:, None]  # the critic's condition |A^H ku|
    bf16 = precision == "bf16"
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else (lambda: torch.autocast("cpu", enabled=False))
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    critic = PatchGAN(2, 64, n) if what == "agb" else None
    opt_d = torch.optim.Adam(critic.parameters(), lr=5e-4) if critic else None
    agb = {"beta": 10.0, "gma": 0.0, "pma": 0.0}
    mag = lambda z: torch.sqrt(z[:, 0] ** 2 + z[:, 1] ** 2 + 1e-12)[:, None]

    def step():
        if what == "inference":
            with torch.no_grad(), ctx():
                return net(ku, sens, mask)
        if what == "mse":
            opt.zero_grad()
            with ctx():
                out = net(ku, sens, mask)
            loss = 2 * Fn.mse_loss(out, target)
            loss.backward()
            opt.step()
            return loss
        # cWGAN-AGB: one critic step, then the generator step
        with torch.no_grad(), ctx():
            fake = net(ku, sens, mask)
        opt_d.zero_grad()
        with ctx():
            d_real = critic(torch.cat([mz, mag(target)], 1)).mean()
            d_fake = critic(torch.cat([mz, mag(fake)], 1)).mean()
        ((d_fake - d_real) / agb["beta"]).backward()
        opt_d.step()
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-0.01, 0.01)
        opt.zero_grad()
        with ctx():
            out = net(ku, sens, mask)
            l_adv = -critic(torch.cat([mz, mag(out)], 1)).mean() / agb["beta"]
        l_mse = 2 * Fn.mse_loss(out, target)
        g_mse, = torch.autograd.grad(l_mse, out, retain_graph=True)
        g_gan, = torch.autograd.grad(l_adv, out, retain_graph=True)
        out.backward(g_mse + g_gan)
        opt.step()
        agb["gma"] = 0.99 * agb["gma"] + 0.01 * float(g_gan.std(unbiased=False))
        agb["pma"] = 0.99 * agb["pma"] + 0.01 * float(g_mse.std(unbiased=False))
        if agb["gma"] > 10 * agb["pma"]:
            agb["beta"] *= 1.1
            agb["gma"] *= 0.9
        return l_mse

    step()  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("%s %s %s %.3f %.0f" % (what, config, precision, best, peak))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", choices=["inference", "mse", "agb"])
    ap.add_argument("--check-step", metavar="PEERSTEP", help="check the peer's MSE step against mrgan's (tests/peerstep.c)")
    ap.add_argument("--config", choices=list(CONFIGS), default="paper")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.check_step:
        raise SystemExit(0 if check_step(a.check_step, a.config) else 1)
    if not a.what:
        ap.error("--what or --check-step is required")
    run(a.what, a.config, a.precision, a.reps)
