/* EXIF into TIFF files, through libtiff (internal to CImageCodecs). */
#pragma once
#include <stddef.h>
#include <tiffio.h>

/* An EXIF block (TIFF-structured, as JPEG APP1 holds it after "Exif\0\0") opened for reading from
 * memory, or NULL if libtiff cannot parse it. Close with exif_close. */
typedef struct ExifSource ExifSource;
ExifSource *exif_open(const unsigned char *data, size_t size);
void exif_close(ExifSource *exif);

/* Before the image is written: the block's IFD0 tags that describe the photo (camera, date,
 * orientation, author, resolution) into `out`'s current directory, and placeholders for the EXIF
 * and GPS directory pointers. */
void exif_copy_main_tags(ExifSource *exif, TIFF *out);

/* After TIFFWriteDirectory(out) wrote the image's directory: the EXIF and GPS directories as
 * custom directories of `out`, and their offsets into its first directory. Returns 0, or -1 when
 * libtiff failed (its message went to the error handler). */
int exif_write_directories(ExifSource *exif, TIFF *out);
