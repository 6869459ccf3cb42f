/* Reads a libFuzzer input as a stream of small fields; past the end, every field is 0. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size, at;
} fuzz_reader;

static inline uint32_t fuzz_u32(fuzz_reader *r, int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint32_t)(r->at < r->size ? r->data[r->at++] : 0) << (8 * i);
    return v;
}

/* A value in lo..hi. */
static inline int fuzz_int(fuzz_reader *r, int lo, int hi) {
    return lo + (int)(fuzz_u32(r, 2) % (uint32_t)(hi - lo + 1));
}

/* Any float bit pattern (NaN, infinities, denormals) one time in four, else a value in lo..hi. */
static inline float fuzz_float(fuzz_reader *r, float lo, float hi) {
    uint32_t kind = fuzz_u32(r, 1);
    if (kind % 4 == 0) {
        uint32_t bits = fuzz_u32(r, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    return lo + (hi - lo) * (float)fuzz_u32(r, 2) / 65535.0f;
}

/* Copies the rest of the input into `dst` (n bytes), repeating it; zeros when nothing is left. */
static inline void fuzz_fill(fuzz_reader *r, uint8_t *dst, size_t n) {
    size_t left = r->size - (r->at < r->size ? r->at : r->size);
    for (size_t i = 0; i < n; i++) dst[i] = left ? r->data[r->at + i % left] : 0;
}
