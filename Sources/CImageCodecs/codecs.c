#include "codecs.h"

#include <stdio.h> /* before jpeglib.h, which needs FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tiffio.h>

#include "exif_tiff.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The library's limits (ImageBuffer.swift): a file may claim any size, we allocate no more. */
enum { IC_MAX_SIDE = 524288, IC_MAX_PIXELS = 1 << 28 };

/* Allocates the pixels of a w x h image as the file describes it, or fails with a message. */
static int alloc_image(ic_image *img, unsigned long w, unsigned long h, int ch, int bits, char *err, size_t errlen) {
    img->data = NULL;
    if (w < 1 || h < 1 || w > IC_MAX_SIDE || h > IC_MAX_SIDE || w * h > IC_MAX_PIXELS)
        return fail(err, errlen, "image size %lux%lu is over the limit (%d per side, %d pixels)", w, h,
                    IC_MAX_SIDE, IC_MAX_PIXELS);
    size_t n = (size_t)w * h * (size_t)ch * (size_t)(bits / 8);
    img->width = (int)w; img->height = (int)h; img->channels = ch; img->bits = bits;
    img->data = malloc(n);
    return img->data ? 0 : fail(err, errlen, "out of memory (%zu bytes for a %lux%lu image)", n, w, h);
}

static void blob_free(ic_blob *b) {
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

/* Copies n bytes into a blob (the first copy of a block wins: files rarely repeat one). */
static void blob_set(ic_blob *b, const void *data, size_t n) {
    if (b->data || n == 0) return;
    b->data = malloc(n);
    if (!b->data) return;  /* metadata is kept when it can be; the pixels matter more */
    memcpy(b->data, data, n);
    b->size = n;
}

void ic_free(ic_image *img) {
    free(img->data);
    img->data = NULL;
    blob_free(&img->meta.icc);
    blob_free(&img->meta.exif);
    blob_free(&img->meta.xmp);
    blob_free(&img->meta.iptc);
}

static const char exif_id[6] = "Exif\0";                        /* with the 6th byte, also 0 */
static const char xmp_id[] = "http://ns.adobe.com/xap/1.0/";    /* and its terminating 0 */
static const char iptc_id[] = "Photoshop 3.0";                  /* and its terminating 0 */
static const char xmp_png_key[] = "XML:com.adobe.xmp";

static int is_little_endian(void) {
    uint16_t one = 1;
    return *(uint8_t *)&one == 1;
}

/* ---- PNG ---- */

typedef struct { jmp_buf jmp; char *err; size_t errlen; } png_ctx;

static void png_error_fn(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->err, ctx->errlen, "PNG: %s", msg);
    longjmp(ctx->jmp, 1);
}
static void png_warning_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static int read_png(FILE *f, ic_image *out, char *err, size_t errlen) {
    png_ctx ctx = { .err = err, .errlen = errlen };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    out->data = NULL;
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); return fail(err, errlen, "out of memory"); }
    if (setjmp(ctx.jmp)) {
        free(rows); ic_free(out);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16 && is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int ch = png_get_channels(png, info), bits = png_get_bit_depth(png, info);
    char message[160];
    if (alloc_image(out, w, h, ch, bits, message, sizeof message)) png_error(png, message);
    rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!rows) png_error(png, "out of memory");
    size_t stride = (size_t)w * ch * (bits / 8);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = (png_bytep)out->data + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, info);  /* into info: eXIf and text may follow the pixels */
    free(rows);
    rows = NULL;
    png_charp name;
    png_bytep profile, exif;
    png_uint_32 profile_size;
    png_uint_32 exif_size;
    int compression;
    if (png_get_iCCP(png, info, &name, &compression, &profile, &profile_size)) blob_set(&out->meta.icc, profile, profile_size);
    if (png_get_eXIf_1(png, info, &exif_size, &exif)) blob_set(&out->meta.exif, exif, exif_size);
    png_textp text;
    int texts = png_get_text(png, info, &text, NULL);
    for (int i = 0; i < texts; i++)
        if (!strcmp(text[i].key, xmp_png_key))
            blob_set(&out->meta.xmp, text[i].text, text[i].compression >= PNG_ITXT_COMPRESSION_NONE ? text[i].itxt_length : text[i].text_length);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

static int write_png(FILE *f, const ic_image *img, char *err, size_t errlen) {
    png_ctx ctx = { .err = err, .errlen = errlen };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) { png_destroy_write_struct(&png, NULL); return fail(err, errlen, "out of memory"); }
    if (setjmp(ctx.jmp)) { png_destroy_write_struct(&png, &info); return -1; }
    static const int types[] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA };
    png_init_io(png, f);
    png_set_benign_errors(png, 1);  /* an ICC profile libpng finds malformed is left out, not fatal */
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, img->bits, types[img->channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    const ic_metadata *m = &img->meta;
    if (m->icc.data) png_set_iCCP(png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, m->icc.data, (png_uint_32)m->icc.size);
    if (m->exif.data) png_set_eXIf_1(png, info, (png_uint_32)m->exif.size, m->exif.data);
    char *xmp = m->xmp.data ? calloc(m->xmp.size + 1, 1) : NULL;  /* libpng takes text by strlen */
    if (xmp) {
        memcpy(xmp, m->xmp.data, m->xmp.size);
        png_text t = { .compression = PNG_ITXT_COMPRESSION_NONE, .key = (png_charp)xmp_png_key, .text = xmp,
                       .lang = "", .lang_key = "" };
        png_set_text(png, info, &t, 1);  /* copies it */
        free(xmp);
    }
    png_write_info(png, info);
    if (img->bits == 16 && is_little_endian()) png_set_swap(png);
    size_t stride = (size_t)img->width * img->channels * (img->bits / 8);
    for (int y = 0; y < img->height; y++) png_write_row(png, (png_const_bytep)img->data + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* ---- JPEG ---- */

typedef struct { struct jpeg_error_mgr base; jmp_buf jmp; } jpeg_ctx;

static void jpeg_error_fn(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    longjmp(ctx->jmp, 1);
}

static int read_jpeg(FILE *f, ic_image *out, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx;
    out->data = NULL;
    cinfo.err = jpeg_std_error(&ctx.base);
    ctx.base.error_exit = jpeg_error_fn;
    if (setjmp(ctx.jmp)) {
        char msg[JMSG_LENGTH_MAX];
        ctx.base.format_message((j_common_ptr)&cinfo, msg);
        jpeg_destroy_decompress(&cinfo);
        ic_free(out);
        return fail(err, errlen, "JPEG: %s", msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);   /* EXIF, XMP */
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);   /* ICC, possibly over several markers */
    jpeg_save_markers(&cinfo, JPEG_APP0 + 13, 0xFFFF);  /* IPTC */
    jpeg_read_header(&cinfo, TRUE);
    JOCTET *icc = NULL;
    unsigned int icc_size = 0;
    if (jpeg_read_icc_profile(&cinfo, &icc, &icc_size)) { blob_set(&out->meta.icc, icc, icc_size); free(icc); }
    for (jpeg_saved_marker_ptr mk = cinfo.marker_list; mk; mk = mk->next) {
        if (mk->marker == JPEG_APP0 + 1 && mk->data_length > 6 && !memcmp(mk->data, exif_id, 6))
            blob_set(&out->meta.exif, mk->data + 6, mk->data_length - 6);
        else if (mk->marker == JPEG_APP0 + 1 && mk->data_length > sizeof xmp_id && !memcmp(mk->data, xmp_id, sizeof xmp_id))
            blob_set(&out->meta.xmp, mk->data + sizeof xmp_id, mk->data_length - sizeof xmp_id);
        else if (mk->marker == JPEG_APP0 + 13 && mk->data_length > sizeof iptc_id && !memcmp(mk->data, iptc_id, sizeof iptc_id))
            blob_set(&out->meta.iptc, mk->data + sizeof iptc_id, mk->data_length - sizeof iptc_id);
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (alloc_image(out, cinfo.output_width, cinfo.output_height, cinfo.output_components, 8, err, errlen)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    size_t stride = (size_t)out->width * out->channels;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)out->data + cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/* One APP marker: an identifier and the block, when they fit in a marker's 65533 bytes (an
 * EXIF block never exceeds that in a camera's file; a larger XMP would need Extended XMP). */
static void write_marker(j_compress_ptr cinfo, int marker, const void *id, size_t id_size, const ic_blob *b) {
    if (!b->data || id_size + b->size > 65533) return;
    jpeg_write_m_header(cinfo, marker, (unsigned int)(id_size + b->size));
    for (size_t i = 0; i < id_size; i++) jpeg_write_m_byte(cinfo, ((const unsigned char *)id)[i]);
    for (size_t i = 0; i < b->size; i++) jpeg_write_m_byte(cinfo, b->data[i]);
}

static void write_jpeg_metadata(j_compress_ptr cinfo, const ic_metadata *m) {
    write_marker(cinfo, JPEG_APP0 + 1, exif_id, 6, &m->exif);
    if (m->icc.data && m->icc.size <= 0xFFFFFFFFu) jpeg_write_icc_profile(cinfo, m->icc.data, (unsigned int)m->icc.size);
    write_marker(cinfo, JPEG_APP0 + 1, xmp_id, sizeof xmp_id, &m->xmp);
    write_marker(cinfo, JPEG_APP0 + 13, iptc_id, sizeof iptc_id, &m->iptc);
}

static int write_jpeg(FILE *f, const ic_image *img, int quality, char *err, size_t errlen) {
    if (img->bits != 8 || img->channels == 2 || img->channels == 4)
        return fail(err, errlen, "JPEG holds 8-bit gray or RGB only (no alpha, no 16-bit): use PNG or TIFF");
    struct jpeg_compress_struct cinfo;
    jpeg_ctx ctx;
    cinfo.err = jpeg_std_error(&ctx.base);
    ctx.base.error_exit = jpeg_error_fn;
    if (setjmp(ctx.jmp)) {
        char msg[JMSG_LENGTH_MAX];
        ctx.base.format_message((j_common_ptr)&cinfo, msg);
        jpeg_destroy_compress(&cinfo);
        return fail(err, errlen, "JPEG: %s", msg);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = img->channels;
    cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    /* Full-resolution chroma at high quality: 4:2:0 would halve the colour detail denoising kept. */
    if (quality >= 90)
        for (int i = 0; i < cinfo.num_components; i++) cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&cinfo, TRUE);
    write_jpeg_metadata(&cinfo, &img->meta);
    size_t stride = (size_t)img->width * img->channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)img->data + cinfo.next_scanline * stride;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

/* ---- TIFF ---- */

static char tiff_message[256];
static void tiff_error_fn(const char *module, const char *fmt, va_list ap) {
    (void)module;
    vsnprintf(tiff_message, sizeof tiff_message, fmt, ap);
}

static int read_tiff(const char *path, ic_image *out, char *err, size_t errlen) {
    TIFFSetErrorHandler(tiff_error_fn);
    TIFFSetWarningHandler(NULL);
    out->data = NULL;
    TIFF *tif = TIFFOpen(path, "r");
    if (!tif) return fail(err, errlen, "TIFF: %s", tiff_message);
    uint32_t w = 0, h = 0;
    uint16_t spp = 1, bps = 8, planar = PLANARCONFIG_CONTIG, format = SAMPLEFORMAT_UINT;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    int ok = (bps == 8 || bps == 16) && spp >= 1 && spp <= 4 && planar == PLANARCONFIG_CONTIG &&
             format == SAMPLEFORMAT_UINT;
    if (!ok) {
        TIFFClose(tif);
        return fail(err, errlen, "TIFF: only 8/16-bit unsigned, 1-4 interleaved channels are supported "
                    "(file has %u bits, %u channels)", bps, spp);
    }
    if (alloc_image(out, w, h, spp, bps, err, errlen)) { TIFFClose(tif); return -1; }
    uint32_t n;
    void *block;
    if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &n, &block)) blob_set(&out->meta.icc, block, n);
    if (TIFFGetField(tif, TIFFTAG_XMLPACKET, &n, &block)) blob_set(&out->meta.xmp, block, n);
    if (TIFFGetField(tif, TIFFTAG_PHOTOSHOP, &n, &block)) blob_set(&out->meta.iptc, block, n);
    size_t stride = (size_t)w * spp * (bps / 8);
    for (uint32_t y = 0; y < h; y++) {
        if (TIFFReadScanline(tif, (uint8_t *)out->data + y * stride, y, 0) < 0) {
            TIFFClose(tif); ic_free(out);
            return fail(err, errlen, "TIFF: %s", tiff_message);
        }
    }
    /* Last: it leaves the file on its EXIF directory. A directory libtiff cannot read is left out. */
    exif_from_tiff(tif, &out->meta.exif.data, &out->meta.exif.size);
    TIFFClose(tif);
    return 0;
}

static int write_tiff(const char *path, const ic_image *img, char *err, size_t errlen) {
    TIFFSetErrorHandler(tiff_error_fn);
    TIFFSetWarningHandler(NULL); /* e.g. reading an EXIF block's IFD0 as a custom directory */
    TIFF *tif = TIFFOpen(path, "w");
    if (!tif) return fail(err, errlen, "TIFF: %s", tiff_message);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)img->channels);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)img->bits);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, img->channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    if (img->channels == 2 || img->channels == 4) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
    const ic_metadata *m = &img->meta;
    if (m->icc.data) TIFFSetField(tif, TIFFTAG_ICCPROFILE, (uint32_t)m->icc.size, m->icc.data);
    if (m->xmp.data) TIFFSetField(tif, TIFFTAG_XMLPACKET, (uint32_t)m->xmp.size, m->xmp.data);
    if (m->iptc.data) TIFFSetField(tif, TIFFTAG_PHOTOSHOP, (uint32_t)m->iptc.size, m->iptc.data);
    /* A block libtiff cannot parse is left out rather than failing the photo. */
    ExifSource *exif = m->exif.data ? exif_open(m->exif.data, m->exif.size) : NULL;
    if (exif) exif_copy_main_tags(exif, tif);
    size_t stride = (size_t)img->width * img->channels * (img->bits / 8);
    int ok = 1;
    for (int y = 0; y < img->height && ok; y++)
        ok = TIFFWriteScanline(tif, (uint8_t *)img->data + (size_t)y * stride, (uint32_t)y, 0) >= 0;
    if (ok && exif) ok = TIFFWriteDirectory(tif) && exif_write_directories(exif, tif) == 0;
    exif_close(exif);
    TIFFClose(tif);
    return ok ? 0 : fail(err, errlen, "TIFF: %s", tiff_message);
}

/* ---- dispatch ---- */

int ic_read(const char *path, ic_image *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, errlen, "cannot open %s", path);
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    rewind(f);
    int rc;
    if (got >= 8 && !png_sig_cmp(magic, 0, 8)) {
        rc = read_png(f, out, err, errlen);
    } else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        rc = read_jpeg(f, out, err, errlen);
    } else if (got >= 4 && (!memcmp(magic, "II*\0", 4) || !memcmp(magic, "MM\0*", 4))) {
        fclose(f);
        return read_tiff(path, out, err, errlen);
    } else {
        rc = fail(err, errlen, "%s is not a PNG, JPEG or TIFF file", path);
    }
    fclose(f);
    return rc;
}

static int has_ext(const char *path, const char *ext) {
    size_t n = strlen(path), e = strlen(ext);
    return n >= e && !strcasecmp(path + n - e, ext);
}

int ic_write(const char *path, const ic_image *img, int jpeg_quality, char *err, size_t errlen) {
    if (img->channels < 1 || img->channels > 4 || (img->bits != 8 && img->bits != 16))
        return fail(err, errlen, "unsupported image layout");
    if (has_ext(path, ".tif") || has_ext(path, ".tiff")) return write_tiff(path, img, err, errlen);
    int jpeg = has_ext(path, ".jpg") || has_ext(path, ".jpeg");
    if (!jpeg && !has_ext(path, ".png"))
        return fail(err, errlen, "unknown output format for %s (use .png, .jpg or .tif)", path);
    FILE *f = fopen(path, "wb");
    if (!f) return fail(err, errlen, "cannot create %s", path);
    int rc = jpeg ? write_jpeg(f, img, jpeg_quality, err, errlen) : write_png(f, img, err, errlen);
    if (fclose(f) != 0 && rc == 0) rc = fail(err, errlen, "cannot write %s", path);
    if (rc) remove(path);
    return rc;
}
