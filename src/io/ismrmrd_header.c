/* The parts of an ISMRMRD XML header (the `ismrmrd_header` of a fastMRI
 * file, the `/dataset/xml` of raw data) that reconstruction needs: the
 * encoded and reconstructed matrix and field of view, and the limits of
 * kspace_encoding_step_1 (docs/formats.md, "ISMRMRD header"); read, and
 * written for the files mrgan writes.
 *
 * A small path reader, not a general XML parser: it finds an element by its
 * chain of names (namespace prefixes ignored) and reads a number from its
 * text. Anything missing or malformed leaves the field unset (0); readers
 * then fall back to the array's own shape. */
#include "io.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The content [*b, *e) of the first element `name` inside [b, e), skipping
 * comments and processing instructions. 0 when found. */
static int find_elem(const char *b, const char *e, const char *name, const char **cb, const char **ce)
{
    const size_t L = strlen(name);
    for (const char *p = b; p < e; p++) {
        if (*p != '<' || p + 1 >= e || p[1] == '/' || p[1] == '?' || p[1] == '!') continue;
        const char *t = p + 1, *q = t;
        while (q < e && !isspace((unsigned char)*q) && *q != '>' && *q != '/') q++;
        const char *colon = memchr(t, ':', (size_t)(q - t)); /* ns:name */
        if (colon) t = colon + 1;
        if ((size_t)(q - t) != L || memcmp(t, name, L)) continue;
        const char *gt = memchr(q, '>', (size_t)(e - q));
        if (!gt) return -1;
        if (gt[-1] == '/') { /* <name/>: empty */
            *cb = *ce = gt;
            return 0;
        }
        /* the matching close tag (same name; nested elements of the same
         * name do not occur in the header parts we read) */
        for (const char *r = gt + 1; r + 1 < e; r++) {
            if (r[0] != '<' || r[1] != '/') continue;
            const char *n = r + 2, *m = n;
            while (m < e && *m != '>' && !isspace((unsigned char)*m)) m++;
            const char *c2 = memchr(n, ':', (size_t)(m - n));
            if (c2) n = c2 + 1;
            if ((size_t)(m - n) == L && !memcmp(n, name, L)) {
                *cb = gt + 1;
                *ce = r;
                return 0;
            }
        }
        return -1;
    }
    return -1;
}

/* the number at the end of a path of element names (NULL-terminated) */
static int path_number(const char *xml, size_t len, const char *const *path, double *v)
{
    const char *b = xml, *e = xml + len;
    for (int i = 0; path[i]; i++)
        if (find_elem(b, e, path[i], &b, &e)) return -1;
    char buf[64];
    while (b < e && isspace((unsigned char)*b)) b++;
    size_t n = (size_t)(e - b) < sizeof buf - 1 ? (size_t)(e - b) : sizeof buf - 1;
    memcpy(buf, b, n);
    buf[n] = 0;
    char *end;
    double x = strtod(buf, &end);
    if (end == buf) return -1;
    while (*end && isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    *v = x;
    return 0;
}

void mg_ismrmrd_header_parse(const char *xml, size_t len, mg_ismrmrd_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!xml) return;
    const char *space[2] = {"encodedSpace", "reconSpace"};
    const char *axis[3] = {"x", "y", "z"};
    for (int s = 0; s < 2; s++)
        for (int a = 0; a < 3; a++) {
            double v;
            const char *pm[] = {"encoding", space[s], "matrixSize", axis[a], NULL};
            if (!path_number(xml, len, pm, &v) && v >= 1 && v <= 1 << 20) h->matrix[s][a] = (long)v;
            const char *pf[] = {"encoding", space[s], "fieldOfView_mm", axis[a], NULL};
            if (!path_number(xml, len, pf, &v) && v > 0 && v < 1e6) h->fov_mm[s][a] = v;
        }
    double mn, mx, ct;
    const char *p0[] = {"encoding", "encodingLimits", "kspace_encoding_step_1", "minimum", NULL};
    const char *p1[] = {"encoding", "encodingLimits", "kspace_encoding_step_1", "maximum", NULL};
    const char *p2[] = {"encoding", "encodingLimits", "kspace_encoding_step_1", "center", NULL};
    if (!path_number(xml, len, p0, &mn) && !path_number(xml, len, p1, &mx) && !path_number(xml, len, p2, &ct) &&
        mn >= 0 && mx >= mn && ct >= mn && ct <= mx && mx < 1 << 20) {
        h->has_limits = 1;
        h->e1_min = (long)mn;
        h->e1_max = (long)mx;
        h->e1_center = (long)ct;
    }
}

int mg_ismrmrd_acquired_range(const mg_ismrmrd_hdr *h, long n, long *lo, long *hi)
{
    *lo = 0;
    *hi = n;
    if (!h->has_limits || h->matrix[0][1] != n) return 0;
    /* fastMRI's rule (its mask functions): the encoded lines are placed so that
     * the limits' centre falls on n/2 */
    const long left = n / 2 - h->e1_center, right = left + h->e1_max + 1;
    if (left < 0 || right > n || left >= right) return 0;
    *lo = left;
    *hi = right;
    return left > 0 || right < n;
}

void mg_ismrmrd_header_format(const mg_kdata *d, char *xml, size_t len)
{
    const long H = d->h, W = d->w;
    const long rw = d->recon_w > 0 ? d->recon_w : W, rh = d->recon_h > 0 ? d->recon_h : H;
    const double fw = d->fov_w_mm > 0 ? d->fov_w_mm : (double)W, fh = d->fov_h_mm > 0 ? d->fov_h_mm : (double)H;
    const long lo = d->acq_hi > d->acq_lo ? d->acq_lo : 0, hi = d->acq_hi > d->acq_lo ? d->acq_hi : H;
    snprintf(xml, len,
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\"><encoding>"
             "<encodedSpace><matrixSize><x>%ld</x><y>%ld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%.6g</x><y>%.6g</y><z>1</z></fieldOfView_mm></encodedSpace>"
             "<reconSpace><matrixSize><x>%ld</x><y>%ld</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>%.6g</x><y>%.6g</y><z>1</z></fieldOfView_mm></reconSpace>"
             "<encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>%ld</maximum>"
             "<center>%ld</center></kspace_encoding_step_1></encodingLimits>"
             "<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>",
             W, H, fw, fh, rw, rh, fw * (double)rw / (double)W, fh * (double)rh / (double)H, hi - lo - 1,
             H / 2 - lo);
}
