/* An EXIF block is itself a little TIFF file: a header, IFD0 with the photo's descriptive tags,
 * and pointers to the EXIF and GPS directories. libtiff reads it from memory here and its tags are
 * copied field by field into the TIFF being written, so no EXIF parser of our own is needed.
 * Tags libtiff does not know (vendors' private ones outside the maker note) are left out. */
#include "exif_tiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes libtiff reads (and, for a block being written, writes): a growable buffer. */
typedef struct {
    unsigned char *data;
    toff_t size, capacity, pos;
} Buffer;

struct ExifSource {
    Buffer bytes; /* the block, read only */
    TIFF *tif;
    toff_t exif_dir, gps_dir; /* 0: absent */
};

static tmsize_t buf_read(thandle_t h, void *p, tmsize_t n) {
    Buffer *b = h;
    if (n < 0 || b->pos >= b->size) return 0;
    if ((toff_t)n > b->size - b->pos) n = (tmsize_t)(b->size - b->pos);
    memcpy(p, b->data + b->pos, (size_t)n);
    b->pos += (toff_t)n;
    return n;
}

/* Grows the buffer as libtiff writes; the gaps a seek past the end leaves read as zeros. */
static tmsize_t buf_write(thandle_t h, void *p, tmsize_t n) {
    Buffer *b = h;
    if (n < 0 || b->pos > ((toff_t)1 << 30) || (toff_t)n > ((toff_t)1 << 30)) return -1; /* EXIF is small */
    toff_t end = b->pos + (toff_t)n;
    if (end > b->capacity) {
        toff_t cap = b->capacity ? b->capacity : 4096;
        while (cap < end) cap *= 2;
        unsigned char *grown = realloc(b->data, (size_t)cap);
        if (!grown) return -1;
        memset(grown + b->capacity, 0, (size_t)(cap - b->capacity));
        b->data = grown;
        b->capacity = cap;
    }
    memcpy(b->data + b->pos, p, (size_t)n);
    b->pos = end;
    if (end > b->size) b->size = end;
    return n;
}

static tmsize_t no_write(thandle_t h, void *p, tmsize_t n) {
    (void)h; (void)p; (void)n;
    return -1;
}

static toff_t buf_seek(thandle_t h, toff_t off, int whence) {
    Buffer *b = h;
    toff_t base = whence == SEEK_CUR ? b->pos : whence == SEEK_END ? b->size : 0;
    b->pos = base + off; /* unsigned wrap-around gives negative offsets their meaning */
    return b->pos;
}

static toff_t buf_size(thandle_t h) { return ((Buffer *)h)->size; }

static int mem_close(thandle_t h) { (void)h; return 0; }
static int mem_map(thandle_t h, void **base, toff_t *size) { (void)h; (void)base; (void)size; return 0; }
static void mem_unmap(thandle_t h, void *base, toff_t size) { (void)h; (void)base; (void)size; }

/* A tag's value as libtiff hands it out: `count` elements of `size` bytes at `p` (floats or
 * doubles when `real`). */
typedef struct {
    uint32_t count;
    const void *p;
    int size, real;
    union { uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; float f; double d; } one;
} Value;

static int is_real(TIFFDataType t) {
    return t == TIFF_RATIONAL || t == TIFF_SRATIONAL || t == TIFF_FLOAT || t == TIFF_DOUBLE;
}

static int get_value(TIFF *in, uint32_t tag, Value *v) {
    const TIFFField *f = TIFFFieldWithTag(in, tag);
    if (!f) return 0;
    void *p = NULL;
    v->size = TIFFFieldSetGetSize(f);
    v->real = is_real(TIFFFieldDataType(f));
    if (TIFFFieldPassCount(f)) {
        if (TIFFFieldReadCount(f) == TIFF_VARIABLE2) {
            if (!TIFFGetField(in, tag, &v->count, &p)) return 0;
        } else {
            uint16_t n = 0;
            if (!TIFFGetField(in, tag, &n, &p)) return 0;
            v->count = n;
        }
    } else if (TIFFFieldDataType(f) == TIFF_ASCII || TIFFFieldReadCount(f) != 1) {
        if (!TIFFGetField(in, tag, &p) || !p) return 0;
        v->count = TIFFFieldDataType(f) == TIFF_ASCII ? (uint32_t)strlen(p) + 1 : (uint32_t)TIFFFieldReadCount(f);
    } else {
        if (!TIFFGetField(in, tag, &v->one)) return 0;
        p = &v->one;
        v->count = 1;
    }
    v->p = p;
    return p != NULL && v->count > 0;
}

/* Element 0 of `v` as a double (a count, an offset, a rational). */
static double first(const Value *v) {
    switch (v->size) {
    case 1: return *(const uint8_t *)v->p;
    case 2: return *(const uint16_t *)v->p;
    case 4: return v->real ? *(const float *)v->p : *(const uint32_t *)v->p;
    case 8: return v->real ? *(const double *)v->p : (double)*(const uint64_t *)v->p;
    default: return 0;
    }
}

/* Sets `tag` on `out` from `v` as `out`'s own definition of the tag wants it. */
static void set_value(TIFF *out, uint32_t tag, const Value *v) {
    const TIFFField *f = TIFFFieldWithTag(out, tag);
    if (!f || TIFFFieldIsAnonymous(f)) return;
    int size = TIFFFieldSetGetSize(f), real = is_real(TIFFFieldDataType(f));
    if (TIFFFieldDataType(f) == TIFF_ASCII) {
        if (v->size == 1 && memchr(v->p, 0, v->count)) TIFFSetField(out, tag, (const char *)v->p);
    } else if (TIFFFieldPassCount(f)) {
        if (size != v->size || real != v->real) return;
        if (TIFFFieldReadCount(f) == TIFF_VARIABLE2) TIFFSetField(out, tag, v->count, v->p);
        else if (v->count <= 65535) TIFFSetField(out, tag, (int)v->count, v->p);
    } else if (TIFFFieldReadCount(f) != 1) {
        if (size == v->size && real == v->real && v->count >= (uint32_t)TIFFFieldReadCount(f)) TIFFSetField(out, tag, v->p);
    } else if (size == v->size && !real && !v->real && size >= 4) {
        if (size == 4) TIFFSetField(out, tag, *(const uint32_t *)v->p); /* bits as they are (signed too) */
        else TIFFSetField(out, tag, *(const uint64_t *)v->p);
    } else if (real) {
        TIFFSetField(out, tag, first(v));
    } else if (size == 8) {
        TIFFSetField(out, tag, (uint64_t)first(v));
    } else if (size == 4) {
        TIFFSetField(out, tag, (uint32_t)first(v));
    } else {
        TIFFSetField(out, tag, (int)first(v));
    }
}

static void copy_tag(TIFF *in, TIFF *out, uint32_t tag) {
    Value v;
    if (get_value(in, tag, &v)) set_value(out, tag, &v);
}

ExifSource *exif_open(const unsigned char *data, size_t size) {
    /* The header: byte order, 42, the offset of IFD0 (libtiff validates the rest). */
    if (size < 8 || !(memcmp(data, "II*\0", 4) == 0 || memcmp(data, "MM\0*", 4) == 0)) return NULL;
    uint32_t ifd0 = data[0] == 'I' ? (uint32_t)data[4] | data[5] << 8 | data[6] << 16 | (uint32_t)data[7] << 24
                                   : (uint32_t)data[4] << 24 | data[5] << 16 | data[6] << 8 | data[7];
    ExifSource *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->bytes.data = (unsigned char *)data; /* read only: its write procedure refuses */
    m->bytes.size = size;
    /* "h": the header only. IFD0 of an EXIF block lacks the image tags libtiff's image reader
     * requires, so it is read as a custom directory: its tags come out by number. */
    m->tif = TIFFClientOpen("EXIF", "rmh", &m->bytes, buf_read, no_write, buf_seek, mem_close, buf_size, mem_map,
                            mem_unmap);
    /* TIFFCreateDirectory sets up the tag methods that reading the first directory would have. */
    if (!m->tif || TIFFCreateDirectory(m->tif) || !TIFFReadEXIFDirectory(m->tif, ifd0)) {
        exif_close(m);
        return NULL;
    }
    Value v;
    if (get_value(m->tif, TIFFTAG_EXIFIFD, &v)) m->exif_dir = (toff_t)first(&v);
    if (get_value(m->tif, TIFFTAG_GPSIFD, &v)) m->gps_dir = (toff_t)first(&v);
    return m;
}

void exif_close(ExifSource *m) {
    if (!m) return;
    if (m->tif) TIFFClose(m->tif);
    free(m);
}

void exif_copy_main_tags(ExifSource *m, TIFF *out) {
    static const uint32_t tags[] = {
        TIFFTAG_IMAGEDESCRIPTION, TIFFTAG_MAKE, TIFFTAG_MODEL, TIFFTAG_ORIENTATION, TIFFTAG_SOFTWARE,
        TIFFTAG_DATETIME, TIFFTAG_ARTIST, TIFFTAG_COPYRIGHT,
    };
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) copy_tag(m->tif, out, tags[i]);
    /* libtiff writes the two resolutions together (one field bit): both, or neither. */
    Value x, y;
    if (get_value(m->tif, TIFFTAG_XRESOLUTION, &x) && get_value(m->tif, TIFFTAG_YRESOLUTION, &y)) {
        set_value(out, TIFFTAG_XRESOLUTION, &x);
        set_value(out, TIFFTAG_YRESOLUTION, &y);
        copy_tag(m->tif, out, TIFFTAG_RESOLUTIONUNIT);
    }
    if (m->exif_dir) TIFFSetField(out, TIFFTAG_EXIFIFD, (uint64_t)0);
    if (m->gps_dir) TIFFSetField(out, TIFFTAG_GPSIFD, (uint64_t)0);
}

/* The directory at `offset` of the block (read by `read`) as a new custom directory of `out`
 * (made by `create`); its offset in *written. */
static int copy_directory(ExifSource *m, TIFF *out, toff_t offset, int (*read)(TIFF *, toff_t),
                          int (*create)(TIFF *), uint64_t *written) {
    if (!read(m->tif, offset) || create(out)) return -1;
    int n = TIFFGetTagListCount(m->tif);
    for (int i = 0; i < n; i++) copy_tag(m->tif, out, TIFFGetTagListEntry(m->tif, i));
    return TIFFWriteCustomDirectory(out, written) ? 0 : -1;
}

int exif_write_directories(ExifSource *m, TIFF *out) {
    uint64_t exif = 0, gps = 0;
    if (m->exif_dir && copy_directory(m, out, m->exif_dir, TIFFReadEXIFDirectory, TIFFCreateEXIFDirectory, &exif))
        return -1;
    if (m->gps_dir && copy_directory(m, out, m->gps_dir, TIFFReadGPSDirectory, TIFFCreateGPSDirectory, &gps))
        return -1;
    if (!m->exif_dir && !m->gps_dir) return 0;
    if (!TIFFSetDirectory(out, 0)) return -1;
    if (exif) TIFFSetField(out, TIFFTAG_EXIFIFD, exif);
    if (gps) TIFFSetField(out, TIFFTAG_GPSIFD, gps);
    return TIFFRewriteDirectory(out) ? 0 : -1;
}

/* ---- a TIFF's EXIF as an EXIF block ---- */

/* IFD0's tags of an EXIF block that libtiff's EXIF directory does not define. */
static const TIFFFieldInfo main_fields[] = {
    { TIFFTAG_IMAGEDESCRIPTION, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "ImageDescription" },
    { TIFFTAG_MAKE, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "Make" },
    { TIFFTAG_MODEL, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "Model" },
    { TIFFTAG_ORIENTATION, 1, 1, TIFF_SHORT, FIELD_CUSTOM, 1, 0, "Orientation" },
    { TIFFTAG_XRESOLUTION, 1, 1, TIFF_RATIONAL, FIELD_CUSTOM, 1, 0, "XResolution" },
    { TIFFTAG_YRESOLUTION, 1, 1, TIFF_RATIONAL, FIELD_CUSTOM, 1, 0, "YResolution" },
    { TIFFTAG_RESOLUTIONUNIT, 1, 1, TIFF_SHORT, FIELD_CUSTOM, 1, 0, "ResolutionUnit" },
    { TIFFTAG_SOFTWARE, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "Software" },
    { TIFFTAG_DATETIME, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "DateTime" },
    { TIFFTAG_ARTIST, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "Artist" },
    { TIFFTAG_COPYRIGHT, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, "Copyright" },
    { TIFFTAG_EXIFIFD, 1, 1, TIFF_LONG, FIELD_CUSTOM, 1, 0, "ExifIFD" },
    { TIFFTAG_GPSIFD, 1, 1, TIFF_LONG, FIELD_CUSTOM, 1, 0, "GPSIFD" },
};
enum { MAIN_FIELDS = sizeof main_fields / sizeof *main_fields, MAIN_VALUES = MAIN_FIELDS - 2 };

int exif_from_tiff(TIFF *in, unsigned char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    uint64_t exif_dir = 0, gps_dir = 0;
    TIFFGetField(in, TIFFTAG_EXIFIFD, &exif_dir);
    TIFFGetField(in, TIFFTAG_GPSIFD, &gps_dir);
    if (!exif_dir && !gps_dir) return 0; /* descriptive tags alone stay the TIFF's own */
    /* IFD0's values first: reading the sub-directories replaces `in`'s current directory. */
    Value main[MAIN_VALUES];
    int have[MAIN_VALUES];
    char *strings[MAIN_VALUES] = { 0 };
    for (int i = 0; i < MAIN_VALUES; i++) {
        have[i] = get_value(in, main_fields[i].field_tag, &main[i]);
        if (have[i] && main[i].p != &main[i].one) { /* copy what points into `in`'s directory */
            strings[i] = malloc((size_t)main[i].count * (size_t)main[i].size);
            if (!strings[i]) { have[i] = 0; continue; }
            memcpy(strings[i], main[i].p, (size_t)main[i].count * (size_t)main[i].size);
            main[i].p = strings[i];
        } else if (have[i]) {
            main[i].p = &main[i].one;
        }
    }
    Buffer b = { 0 };
    int ok = 0;
    TIFF *out = TIFFClientOpen("EXIF", "wm", &b, buf_read, buf_write, buf_seek, mem_close, buf_size, mem_map, mem_unmap);
    ExifSource src = { .tif = in };
    uint64_t exif = 0, gps = 0, ifd0 = 0;
    if (out) {
        ok = (!exif_dir || copy_directory(&src, out, exif_dir, TIFFReadEXIFDirectory, TIFFCreateEXIFDirectory, &exif) == 0) &&
             (!gps_dir || copy_directory(&src, out, gps_dir, TIFFReadGPSDirectory, TIFFCreateGPSDirectory, &gps) == 0);
        /* IFD0 as a custom directory too (it has no image), its fields declared here. */
        ok = ok && TIFFCreateEXIFDirectory(out) == 0 && TIFFMergeFieldInfo(out, main_fields, MAIN_FIELDS) == 0;
        for (int i = 0; ok && i < MAIN_VALUES; i++)
            if (have[i]) set_value(out, main_fields[i].field_tag, &main[i]);
        if (ok && exif) TIFFSetField(out, TIFFTAG_EXIFIFD, (uint32_t)exif);
        if (ok && gps) TIFFSetField(out, TIFFTAG_GPSIFD, (uint32_t)gps);
        ok = ok && TIFFWriteCustomDirectory(out, &ifd0) && ifd0 <= UINT32_MAX;
        TIFFCleanup(out); /* no image directory of its own to write on close */
    }
    for (int i = 0; i < MAIN_VALUES; i++) free(strings[i]);
    if (!ok || b.size < 8) { free(b.data); return -1; }
    /* The header libtiff wrote points at no directory: IFD0 is the one just written. */
    int little = b.data[0] == 'I';
    for (int k = 0; k < 4; k++) b.data[4 + k] = (unsigned char)(ifd0 >> (little ? 8 * k : 8 * (3 - k)));
    *data = b.data;
    *size = (size_t)b.size;
    return 0;
}
