/* Fuzz the fastMRI-layout HDF5 reader (mg_kdata_read on .h5), structure-
 * aware: the bytes describe the data sets of a file (which of kspace,
 * sens_maps, reconstruction_rss, mask and slice_info exist, their element
 * type, rank, dimensions and contents), the harness writes that file with
 * libhdf5 and reads it back. Raw-byte fuzzing of the HDF5 container would
 * test libhdf5's own parser, not ours (docs/reliability.md). */
#include "fuzz.h"
#include "../src/io/io.h"

#include <hdf5.h>

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes;

static unsigned take(bytes *b)
{
    if (!b->n) return 0;
    b->n--;
    return *b->p++;
}

/* element types a data set may be stored as */
enum { T_CPLX, T_CPLX_DOUBLE, T_CPLX3, T_CPLX_INT, T_FLOAT, T_DOUBLE, T_INT, T_STRING, NTYPES };

static hid_t file_type(int t)
{
    hid_t c;
    switch (t) {
    case T_CPLX:
    case T_CPLX_DOUBLE:
    case T_CPLX_INT: {
        hid_t m = t == T_CPLX ? H5T_IEEE_F32LE : t == T_CPLX_DOUBLE ? H5T_IEEE_F64LE : H5T_STD_I32LE;
        size_t s = H5Tget_size(m);
        c = H5Tcreate(H5T_COMPOUND, 2 * s);
        H5Tinsert(c, "r", 0, m);
        H5Tinsert(c, "i", s, m);
        return c;
    }
    case T_CPLX3:
        c = H5Tcreate(H5T_COMPOUND, 12);
        H5Tinsert(c, "r", 0, H5T_IEEE_F32LE);
        H5Tinsert(c, "i", 4, H5T_IEEE_F32LE);
        H5Tinsert(c, "j", 8, H5T_IEEE_F32LE);
        return c;
    case T_FLOAT: return H5Tcopy(H5T_IEEE_F32LE);
    case T_DOUBLE: return H5Tcopy(H5T_IEEE_F64LE);
    case T_INT: return H5Tcopy(H5T_STD_I32LE);
    default:
        c = H5Tcopy(H5T_C_S1);
        H5Tset_size(c, 4);
        return c;
    }
}

static void add_dataset(hid_t f, const char *name, bytes *b)
{
    int t = (int)(take(b) % NTYPES);
    int rank = (int)(take(b) % 5) + 1;
    hsize_t dims[5];
    size_t tot = 1;
    for (int i = 0; i < rank; i++) {
        unsigned v = take(b);
        /* mostly small; 255 declares a huge extent that is never stored */
        dims[i] = v == 255 ? (hsize_t)1 << 40 : v % 9;
        tot = dims[i] > 64 ? tot : tot * dims[i];
    }
    hid_t ft = file_type(t);
    size_t es = H5Tget_size(ft);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int huge = 0;
    for (int i = 0; i < rank; i++) huge |= dims[i] > 64;
    if (huge) { /* chunked, nothing written: storage stays unallocated */
        hsize_t ch[5];
        for (int i = 0; i < rank; i++) ch[i] = 1;
        H5Pset_chunk(dcpl, rank, ch);
    }
    hid_t ds = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0 && !huge && tot > 0) {
        uint8_t *buf = calloc(tot, es);
        size_t m = tot * es < b->n ? tot * es : b->n;
        memcpy(buf, b->p, m);
        b->p += m;
        b->n -= m;
        H5Dwrite(ds, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        free(buf);
    }
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(ft);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        mg_io_max_elements = 1L << 22;
        init = 1;
    }
    bytes b = {data, size};
    unsigned which = take(&b);
    char path[600];
    snprintf(path, sizeof path, "%s", fuzz_path("x.h5"));
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) abort();
    static const char *names[] = {"kspace", "sens_maps", "reconstruction_rss", "mask", "slice_info"};
    for (int i = 0; i < 5; i++)
        if (i == 0 ? !(which & 0x80) : (which >> (i - 1)) & 1) add_dataset(f, names[i], &b);
    H5Fclose(f);
    mg_kdata d;
    if (mg_kdata_read(path, &d) == 0) mg_kdata_free(&d);
    return 0;
}
