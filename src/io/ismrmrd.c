/* ISMRMRD raw data (an HDF5 group `dataset` with `data`, the acquisitions,
 * and `xml`, the header) through Debian's libismrmrd, into mg_kdata
 * (docs/formats.md, "ISMRMRD raw data"):
 *   - Cartesian 2D encodings, any number of slices (idx.slice);
 *   - repetitions and averages of a line are averaged;
 *   - noise measurements, navigators, phase correction, feedback, dummy scans
 *     and phase-stabilisation acquisitions are not image data and are skipped;
 *   - calibration-only lines (parallel imaging references) fill lines the
 *     imaging scan did not acquire, and are otherwise skipped;
 *   - reversed readouts (ISMRMRD_ACQ_IS_REVERSE) are flipped back;
 *   - a line goes to row step_1 - center + H/2 (fastMRI's placement), its
 *     samples so that center_sample lands on W/2 (partial echoes);
 *   - contrasts, phases, sets and 3D encodings are refused.
 * Readout oversampling is removed by the caller (h5.c), as for fastMRI. */
#include "io.h"
#include "io_internal.h"

#include <ismrmrd/dataset.h>
#include <ismrmrd/ismrmrd.h>
#include <stdlib.h>
#include <string.h>

static void quiet_handler(const char *file, int line, const char *function, int code, const char *msg)
{
    (void)file, (void)line, (void)function, (void)code, (void)msg;
}

static int read_acq(const ISMRMRD_Dataset *ds, uint32_t i, ISMRMRD_Acquisition *acq, const char *path)
{
    if (ismrmrd_read_acquisition(ds, i, acq) == ISMRMRD_NOERROR) return 0;
    mg_set_error("%s: cannot read acquisition %u (file truncated or corrupt)", path, i);
    return -1;
}

/* acquisitions that carry no image data */
static int not_image(uint64_t flags)
{
    static const int skip[] = {ISMRMRD_ACQ_IS_NOISE_MEASUREMENT, ISMRMRD_ACQ_IS_NAVIGATION_DATA,
                               ISMRMRD_ACQ_IS_PHASECORR_DATA,    ISMRMRD_ACQ_IS_HPFEEDBACK_DATA,
                               ISMRMRD_ACQ_IS_DUMMYSCAN_DATA,    ISMRMRD_ACQ_IS_RTFEEDBACK_DATA,
                               ISMRMRD_ACQ_IS_SURFACECOILCORRECTIONSCAN_DATA,
                               ISMRMRD_ACQ_IS_PHASE_STABILIZATION_REFERENCE, ISMRMRD_ACQ_IS_PHASE_STABILIZATION};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (ismrmrd_is_flag_set(flags, (uint64_t)skip[i])) return 1;
    return 0;
}

int mg_ismrmrd_read(const char *path, long s0, long cnt, mg_kdata *d, mg_ismrmrd_hdr *hdr)
{
    ismrmrd_set_error_handler(quiet_handler);
    ISMRMRD_Dataset ds;
    if (ismrmrd_init_dataset(&ds, path, "/dataset") != ISMRMRD_NOERROR ||
        ismrmrd_open_dataset(&ds, false) != ISMRMRD_NOERROR) {
        mg_set_error("%s: cannot open as ISMRMRD raw data (no /dataset group?)", path);
        return -1;
    }
    int rc = -1;
    char *xml = ismrmrd_read_header(&ds);
    mg_ismrmrd_header_parse(xml, xml ? strlen(xml) : 0, hdr);
    free(xml);
    const long W = hdr->matrix[0][0], H = hdr->matrix[0][1];
    const uint32_t na = ismrmrd_get_number_of_acquisitions(&ds);
    ISMRMRD_Acquisition acq;
    ismrmrd_init_acquisition(&acq);
    float *cnt_img = NULL, *cnt_cal = NULL;
    cfloat *cal = NULL;
    long S = 0, C = 0;
    if (W < 2 || H < 2) {
        mg_set_error("%s: the ISMRMRD header gives no encoded matrix (encoding/encodedSpace/matrixSize)", path);
        goto out;
    }
    if (hdr->matrix[0][2] > 1) {
        mg_set_error("%s: a 3D encoding (encodedSpace z = %ld): mrgan reads 2D multi-slice data", path,
                     hdr->matrix[0][2]);
        goto out;
    }
    const long center = hdr->has_limits ? hdr->e1_center : H / 2;
    /* first pass: slices and channels */
    for (uint32_t i = 0; i < na; i++) {
        if (read_acq(&ds, i, &acq, path)) goto out;
        const ISMRMRD_AcquisitionHeader *h = &acq.head;
        if (not_image(h->flags)) continue;
        if (h->trajectory_dimensions > 0) {
            mg_set_error("%s: acquisition %u has a trajectory: mrgan reads Cartesian data", path, i);
            goto out;
        }
        if (h->idx.contrast || h->idx.phase || h->idx.set || h->idx.kspace_encode_step_2) {
            mg_set_error("%s: acquisition %u has contrast %u, phase %u, set %u, partition %u: mrgan reads one 2D "
                         "contrast", path, i, h->idx.contrast, h->idx.phase, h->idx.set, h->idx.kspace_encode_step_2);
            goto out;
        }
        if (C == 0) C = h->active_channels;
        if (h->active_channels != C || C < 1) {
            mg_set_error("%s: acquisition %u has %u channels, the first had %ld", path, i, h->active_channels, C);
            goto out;
        }
        if ((long)h->idx.slice + 1 > S) S = (long)h->idx.slice + 1;
    }
    if (S == 0) {
        mg_set_error("%s: no image acquisitions (all %u are noise, navigator or other non-image data)", path, na);
        goto out;
    }
    if (cnt == 0) cnt = S;
    if (cnt > 0 && (s0 < 0 || s0 + cnt > S)) {
        mg_set_error("%s: holds %ld slices; slices %ld..%ld do not exist", path, S, s0, s0 + cnt - 1);
        goto out;
    }
    d->nslices = cnt > 0 ? cnt : S;
    d->coils = C;
    d->h = H;
    d->w = W;
    if (cnt < 0) { /* the shape only */
        d->nslices = S;
        rc = 0;
        goto out;
    }
    const long n = H * W, tot = cnt * C * n;
    d->kspace = mg_calloc((size_t)tot, sizeof(cfloat));
    cal = mg_calloc((size_t)tot, sizeof(cfloat));
    cnt_img = mg_calloc((size_t)(cnt * H), sizeof(float));
    cnt_cal = mg_calloc((size_t)(cnt * H), sizeof(float));
    for (uint32_t i = 0; i < na; i++) {
        if (read_acq(&ds, i, &acq, path)) goto out;
        const ISMRMRD_AcquisitionHeader *h = &acq.head;
        if (not_image(h->flags)) continue;
        const long s = (long)h->idx.slice - s0;
        if (s < 0 || s >= cnt) continue;
        const long y = (long)h->idx.kspace_encode_step_1 - center + H / 2;
        const long ns = h->number_of_samples, x0 = W / 2 - (long)h->center_sample;
        if (y < 0 || y >= H || x0 < 0 || x0 + ns > W) {
            mg_set_error("%s: acquisition %u (line %u, %ld samples, centre sample %u) does not fit the encoded matrix "
                         "%ldx%ld", path, i, h->idx.kspace_encode_step_1, ns, h->center_sample, W, H);
            goto out;
        }
        const int calib = ismrmrd_is_flag_set(h->flags, ISMRMRD_ACQ_IS_PARALLEL_CALIBRATION);
        const int rev = ismrmrd_is_flag_set(h->flags, ISMRMRD_ACQ_IS_REVERSE);
        cfloat *dst = calib ? cal : d->kspace;
        for (long c = 0; c < C; c++) {
            cfloat *row = dst + ((s * C + c) * H + y) * W + x0;
            const cfloat *src = (const cfloat *)acq.data + c * ns;
            for (long k = 0; k < ns; k++) row[k] += src[rev ? ns - 1 - k : k];
        }
        (calib ? cnt_cal : cnt_img)[s * H + y] += 1.0f;
    }
    /* repetitions and averages: the mean; calibration lines where the scan has none */
    for (long s = 0; s < cnt; s++)
        for (long y = 0; y < H; y++) {
            const float ni = cnt_img[s * H + y], nc = cnt_cal[s * H + y];
            for (long c = 0; c < C; c++) {
                cfloat *row = d->kspace + ((s * C + c) * H + y) * W;
                const cfloat *crow = cal + ((s * C + c) * H + y) * W;
                for (long x = 0; x < W; x++) row[x] = ni > 0 ? row[x] / ni : nc > 0 ? crow[x] / nc : 0.0f;
            }
        }
    rc = 0;
out:
    ismrmrd_cleanup_acquisition(&acq);
    ismrmrd_close_dataset(&ds);
    free(cal);
    free(cnt_img);
    free(cnt_cal);
    if (rc) mg_kdata_free(d);
    return rc;
}
