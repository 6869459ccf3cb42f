/* Image file reading and writing for the command-line tool, through libpng, libjpeg-turbo and
 * libtiff. Pixels are interleaved, rows packed, 8-bit or 16-bit (native endian) samples. */
#pragma once
#include <stddef.h>

typedef struct {
    int width, height;
    int channels;      /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    int bits;          /* 8 or 16 */
    void *data;        /* width * height * channels samples; owned, free with ic_free */
} ic_image;

/* Reads PNG, JPEG or TIFF (chosen by the file's first bytes). Returns 0, or -1 with a message. */
int ic_read(const char *path, ic_image *out, char *err, size_t errlen);

/* Writes by the path's extension: .png, .jpg/.jpeg (8-bit, no alpha), .tif/.tiff.
 * Returns 0, or -1 with a message. */
int ic_write(const char *path, const ic_image *img, int jpeg_quality, char *err, size_t errlen);

void ic_free(ic_image *img);
