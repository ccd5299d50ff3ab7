#!/usr/bin/env python3
"""The PyTorch peer of `mrgan bench` (issue 19): DCI-Net, the PatchGAN critic
and the cWGAN-AGB step written from the paper (Malkiel et al., Sec. 3,
Alg. 1, Appendix A) and docs/dcinet.md, docs/gan.md -- not ported from
mrgan's C -- in float32 or with bf16 autocast, timed the way `mrgan bench`
times (a warm-up, then the best of --reps).

  peer.py --what inference|mse|agb [--config small|paper] [--precision fp32|bf16] [--reps 3]

prints one line: what, config, precision, seconds, peak resident MB of this
process (run each measurement in its own process: bench/peer/compare.sh).

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
import resource
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
    ap.add_argument("--what", choices=["inference", "mse", "agb"], required=True)
    ap.add_argument("--config", choices=list(CONFIGS), default="paper")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    run(a.what, a.config, a.precision, a.reps)
