/* EXIF between TIFF files and EXIF blocks, through libtiff (internal to CImageCodecs). */
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

/* Reading a TIFF: its EXIF as an EXIF block (IFD0 with the photo's descriptive tags of `in`'s
 * current directory, and the EXIF and GPS directories it points to), for the formats that store
 * EXIF as a block. 0 with *data NULL when there is none; -1 when libtiff failed. *data is malloc'ed.
 * Leaves `in` on a custom directory: call after the image is read. */
int exif_from_tiff(TIFF *in, unsigned char **data, size_t *size);
