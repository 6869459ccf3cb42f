#pragma once
/* The zero-point frame of one group plane of the int8 input layout (conv_vnni.h), shared by the
 * AVX-512 and AVX2 quantisers: rows 0 and height + 1, and each image row's columns 0 and past
 * width. */
#include <stdint.h>

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
