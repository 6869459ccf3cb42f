/* Image file reading and writing for the command-line tool, through libpng, libjpeg-turbo and
 * libtiff. Pixels are interleaved, rows packed, 8-bit or 16-bit (native endian) samples. */
#pragma once
#include <stddef.h>

typedef struct {
    unsigned char *data;  /* owned (malloc), NULL when absent */
    size_t size;
} ic_blob;

/* The metadata a photo carries, as the blocks the formats store, copied byte for byte (the EXIF
 * orientation included: pixels are never rotated). */
typedef struct {
    ic_blob icc;   /* ICC colour profile (JPEG APP2, reassembled; PNG iCCP; TIFF tag 34675) */
    ic_blob exif;  /* EXIF, TIFF-structured (JPEG APP1 after "Exif\0\0"; PNG eXIf; from TIFF's EXIF and GPS directories) */
    ic_blob xmp;   /* XMP packet (JPEG APP1 "http://ns.adobe.com/xap/1.0/"; PNG iTXt XML:com.adobe.xmp; TIFF 700) */
    ic_blob iptc;  /* Photoshop resources holding IPTC (JPEG APP13 after "Photoshop 3.0\0"; TIFF 34377) */
} ic_metadata;

typedef struct {
    int width, height;
    int channels;      /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    int bits;          /* 8 or 16 */
    void *data;        /* width * height * channels samples; owned, free with ic_free */
    ic_metadata meta;  /* owned; written back where the output format can hold each block */
} ic_image;

/* Reads PNG, JPEG or TIFF (chosen by the file's first bytes). Returns 0, or -1 with a message. */
int ic_read(const char *path, ic_image *out, char *err, size_t errlen);

/* Writes by the path's extension: .png, .jpg/.jpeg (8-bit, no alpha; 4:4:4 chroma at quality >= 90),
 * .tif/.tiff, with the metadata blocks each format holds (TIFF: ICC, XMP, IPTC, and EXIF as TIFF
 * keeps it: the camera's tags in the image's directory, EXIF and GPS directories of their own).
 * Returns 0, or -1 with a message. */
int ic_write(const char *path, const ic_image *img, int jpeg_quality, char *err, size_t errlen);

/* Frees the pixels and the metadata. */
void ic_free(ic_image *img);
