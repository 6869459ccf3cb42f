/* libFuzzer target: the command line's image readers (ic_read: libpng, libjpeg, libtiff) on fuzzed
 * files through a memfd. Checked: success gives a consistent image (sizes and depth in range, the
 * whole pixel buffer readable), failure a message; a small image read is also written as TIFF,
 * which parses its (fuzzed) EXIF block with libtiff. Seed it with small PNG, JPEG and TIFF files. */
#define _GNU_SOURCE
#include "codecs.h"

#include "fuzz_file.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    ic_image img;
    char err[256] = "";
    if (ic_read(path, &img, err, sizeof err) == 0) {
        if (img.width <= 0 || img.height <= 0 || img.channels < 1 || img.channels > 4 ||
            (img.bits != 8 && img.bits != 16) || !img.data) {
            fprintf(stderr, "inconsistent image %dx%dx%d, %d bits\n", img.width, img.height, img.channels, img.bits);
            abort();
        }
        size_t n = (size_t)img.width * img.height * img.channels * (img.bits / 8);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) sum += ((uint8_t *)img.data)[i];  /* ASan: all of it is there */
        if ((size_t)img.width * img.height <= 4096) {
            static char out[64];
            if (!out[0]) snprintf(out, sizeof out, "/dev/shm/fuzz_codecs_%d.tif", (int)getpid());
            if (ic_write(out, &img, 90, err, sizeof err) != 0 && !err[0]) {
                fprintf(stderr, "ic_write failed without a message\n");
                abort();
            }
        }
        ic_free(&img);
    } else if (!err[0]) {
        fprintf(stderr, "ic_read failed without a message\n");
        abort();
    }
    return 0;
}
