/* Flip averaging: DCI-Net inference averaged over mirror images of its
 * input (test-time self-ensembling, docs/models.md "Flip averaging").
 *
 * With the centred FFT of fft.h (index i <-> position i - floor(N/2)), the
 * mirror about the centre, i -> (2 floor(N/2) - i) mod N, maps position n to
 * -n, and the DFT of x(-n) is X(-k): the same index map in k-space, with no
 * phase. So a mirrored acquisition is a permutation of the samples, the
 * maps and (along phase encode) the mask; the network's output is mirrored
 * back and the results are averaged. Mirroring each axis is an involution,
 * so one map serves both ways, and the average over the group is exactly
 * mirror-equivariant (tests/test_dcinet.c). For even N the map is the
 * mirror i -> N-1-i followed by a circular shift of one pixel. */
#include "models.h"

#include <stdlib.h>
#include <string.h>

static long mirror(long i, long n)
{
    long j = 2 * (n / 2) - i;
    return j >= n ? j - n : j;
}

void mg_flip_images(const cfloat *src, cfloat *dst, long batch, long H, long W, int fh, int fw)
{
    for (long b = 0; b < batch; b++)
        for (long y = 0; y < H; y++) {
            const cfloat *s = src + (b * H + (fh ? mirror(y, H) : y)) * W;
            cfloat *d = dst + (b * H + y) * W;
            for (long x = 0; x < W; x++) d[x] = s[fw ? mirror(x, W) : x];
        }
}

void mg_infer_flips(mg_engine *e, const cfloat *ku, const cfloat *sens, const float *mask, float *out, int flips,
                    int C, int H, int W)
{
    if (flips <= 1) {
        e->infer(e, ku, sens, mask, out, 1, C, H, W);
        return;
    }
    const long hw = (long)H * W, n = C * hw;
    cfloat *k2 = mg_malloc_array((size_t)n, sizeof(cfloat)), *s2 = mg_malloc_array((size_t)n, sizeof(cfloat));
    cfloat *z = mg_malloc_array((size_t)hw, sizeof(cfloat)), *zf = mg_malloc_array((size_t)hw, sizeof(cfloat));
    cfloat *acc = mg_malloc_array((size_t)hw, sizeof(cfloat));
    memset(acc, 0, (size_t)hw * sizeof(cfloat));
    float *m2 = mg_malloc_array((size_t)H, sizeof(float));
    for (int f = 0; f < flips; f++) {
        const int fw = f & 1, fh = (f >> 1) & 1; /* 0: as acquired, 1: readout, 2: phase encode, 3: both */
        mg_flip_images(ku, k2, C, H, W, fh, fw);
        mg_flip_images(sens, s2, C, H, W, fh, fw);
        for (long y = 0; y < H; y++) m2[y] = mask[fh ? mirror(y, H) : y];
        e->infer(e, k2, s2, m2, out, 1, C, H, W);
        mg_planes2c(out, z, hw);
        mg_flip_images(z, zf, 1, H, W, fh, fw);
        for (long i = 0; i < hw; i++) acc[i] += zf[i];
    }
    for (long i = 0; i < hw; i++) acc[i] *= 1.0f / (float)flips;
    mg_c2planes(acc, out, hw);
    free(k2), free(s2), free(z), free(zf), free(acc), free(m2);
}
