#pragma once
/* Helpers on the int8 layouts (conv_vnni.h) shared by the AVX-512 and 256-bit code: the quantisers'
 * zero-point frame, the kernels' prefetch of the next input row, and their output flags. */
#include <stdint.h>

#include "conv_vnni.h"

/* What a kernel's output asks for, as the blocks' compile-time flags. */
enum { OUTPUT_HALVES = 1, OUTPUT_RANGES = 2, OUTPUT_PRELU = 4, OUTPUT_RESIDUAL = 8 };

static inline int output_flags(const struct denoise_vnni_output *out) {
    return (out->halves ? OUTPUT_HALVES : 0) | (out->rowLo ? OUTPUT_RANGES : 0) | (out->preluSlope != 1 ? OUTPUT_PRELU : 0)
        | (out->residual ? OUTPUT_RESIDUAL : 0);
}

/* The zero-point frame of one group plane: rows 0 and height + 1, and each image row's columns 0
 * and past width. */
static inline void denoise_vnni_frame_plane(uint32_t *p, const int32_t *zero, int cin, int g, int height, int width,
                                            int paddedWidth) {
    uint32_t frame = 0;
    for (int k = 0; k < 4 && 4 * g + k < cin; k++) frame |= (uint32_t)zero[4 * g + k] << (8 * k);
    for (long i = 0; i < paddedWidth; i++) p[i] = p[(long)(height + 1) * paddedWidth + i] = frame;
    for (int y = 0; y < height; y++) {
        uint32_t *row = p + (long)(y + 1) * paddedWidth;
        row[0] = frame;
        for (int i = width + 1; i < paddedWidth; i++) row[i] = frame;
    }
}

/* Asks for the bytes [x0, x0 + bytes / 4) of input row y + 3 of every group plane, the row that
 * output row y + 1 adds to those of row y: a layer reads too many planes side by side for the
 * hardware prefetchers to follow them all. */
static inline void prefetch_next_row(const uint8_t *input, int groups, int paddedWidth, long planeStride, int y,
                                     int x0, int bytes) {
    for (int g = 0; g < groups; g++) {
        const char *next = (const char *)((const int32_t *)input + g * planeStride + (long)(y + 3) * paddedWidth + x0);
        for (int b = 0; b < bytes; b += 64) __builtin_prefetch(next + b, 0, 3);
    }
}
