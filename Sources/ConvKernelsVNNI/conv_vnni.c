#include "conv_vnni.h"
#include "vnni_frame.h"

#include <immintrin.h>
#include <string.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))

/* The first n (>= 1) of 16 lanes. */
static inline __mmask16 first_lanes(int n) { return n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* Whole vectors of 16 pixels cover the image; the 2 columns of the frame follow. */
int denoise_vnni_padded_width(int width) { return (width + 15) / 16 * 16 + 2; }

int denoise_vnni_groups(int cin) { return (cin + 3) / 4; }

VNNI void denoise_vnni_channel_ranges(const float *x, long plane, int begin, int end, float *lo, float *hi) {
    for (int c = begin; c < end; c++) {
        const float *p = x + c * plane;
        __m512 mn = _mm512_setzero_ps(), mx = _mm512_setzero_ps();   /* 0 is always in the range */
        for (long i = 0; i < plane; i += 16) {
            __m512 v = _mm512_maskz_loadu_ps(first_lanes((int)(plane - i < 16 ? plane - i : 16)), p + i);
            mn = _mm512_min_ps(mn, v);
            mx = _mm512_max_ps(mx, v);
        }
        lo[c] = _mm512_reduce_min_ps(mn);
        hi[c] = _mm512_reduce_max_ps(mx);
    }
}

/* Groups [groupBegin, groupEnd) of the input layout from float planes, or half float ones. */
VNNI INLINE void quantize_groups(const void *x, int halves, int cin, int height, int width, const float *inverseScale,
                                 const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                 int groupBegin, int groupEnd) {
    long plane = (long)height * width;
    const __m512i top = _mm512_set1_epi32(255);
    for (int g = groupBegin; g < groupEnd; g++) {
        uint32_t *p = (uint32_t *)out + g * planeStride;
        denoise_vnni_frame_plane(p, zero, cin, g, height, width, paddedWidth);
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + (long)(y + 1) * paddedWidth;
            for (int i = 0; i < width; i += 16) {
                __mmask16 m = first_lanes(width - i);
                __m512i packed = _mm512_setzero_si512();
                for (int k = 0; k < 4 && 4 * g + k < cin; k++) {
                    int c = 4 * g + k;
                    long at = c * plane + (long)y * width + i;
                    __m512 v = halves ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)x + at))
                                      : _mm512_maskz_loadu_ps(m, (const float *)x + at);
                    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, _mm512_set1_ps(inverseScale[c]))),
                                                 _mm512_set1_epi32(zero[c]));
                    q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_setzero_si512()), top);
                    packed = _mm512_or_si512(packed, _mm512_slli_epi32(q, 8 * k));
                }
                _mm512_mask_storeu_epi32(row + 1 + i, m, packed);
            }
        }
    }
}

VNNI void denoise_vnni_quantize_input(const float *x, int cin, int height, int width, const float *inverseScale,
                                      const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                      int groupBegin, int groupEnd) {
    quantize_groups(x, 0, cin, height, width, inverseScale, zero, out, paddedWidth, planeStride, groupBegin, groupEnd);
}

VNNI void denoise_vnni_quantize_halves(const uint16_t *x, int cin, int height, int width, const float *inverseScale,
                                       const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                       int groupBegin, int groupEnd) {
    quantize_groups(x, 1, cin, height, width, inverseScale, zero, out, paddedWidth, planeStride, groupBegin, groupEnd);
}

size_t denoise_vnni_weights_bytes(int cout, int cin) {
    return (size_t)((cout + 7) / 8) * (size_t)denoise_vnni_groups(cin) * 9 * 32;
}

void denoise_vnni_pack_weights(const int8_t *w, int cout, int cin, int8_t *out) {
    int groups = denoise_vnni_groups(cin);
    memset(out, 0, denoise_vnni_weights_bytes(cout, cin));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < 9; t++)
                out[(((long)(o / 8) * groups + c / 4) * 9 + t) * 32 + (o % 8) * 4 + c % 4] = w[((long)o * cin + c) * 9 + t];
}

/* Each lane of v rounded to the nearest half float, as a float. */
VNNI INLINE __m512 rounded_to_halves(__m512 v) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* Output row y, pixels [x0, x0 + 16 vectors), channels [8 block, 8 block + 8): 8 x `vectors` int32
 * sums in registers (24 of the 32 at 3 vectors), one weight broadcast feeding `vectors` VPDPBUSDs.
 * The sums start at -corr_o. `flags` (OUTPUT_*) says what `out` asks for; it is a constant in each
 * inlined copy, so that the copy's epilogue has no branches. */
VNNI INLINE void conv_block(const uint8_t *input, int groups, int paddedWidth, long planeStride, const int8_t *weights,
                            int y, int x0, int vectors, int flags, int block, int cout, int width, int height,
                            const struct denoise_vnni_output *out) {
    __m512i acc[3][8];
    for (int o = 0; o < 8; o++) {
        __m512i start = _mm512_set1_epi32(8 * block + o < cout ? -out->correction[8 * block + o] : 0);
        for (int p = 0; p < vectors; p++) acc[p][o] = start;
    }
    const int32_t *w = (const int32_t *)weights + (long)block * groups * 9 * 8;
    for (int g = 0; g < groups; g++) {
        const int32_t *plane = (const int32_t *)input + g * planeStride;
        for (int dy = 0; dy < 3; dy++) {
            const int32_t *row = plane + (long)(y + dy) * paddedWidth + x0;
            for (int dx = 0; dx < 3; dx++, w += 8) {
                __m512i v[3];
                for (int p = 0; p < vectors; p++) v[p] = _mm512_loadu_si512(row + dx + 16 * p);
                for (int o = 0; o < 8; o++) {
                    __m512i b = _mm512_set1_epi32(w[o]);
                    for (int p = 0; p < vectors; p++) acc[p][o] = _mm512_dpbusd_epi32(acc[p][o], v[p], b);
                }
            }
        }
    }
    long plane = (long)height * width, at = 8L * block * plane + (long)y * width + x0;
    float *planes = out->planes;
    uint16_t *halves = out->halves;
    const float *residual = out->residual;
    const __m512 largest = _mm512_set1_ps(65504.0f), slope = _mm512_set1_ps(out->preluSlope);
    __mmask16 m[3];
    for (int p = 0; p < vectors; p++) m[p] = first_lanes(width - x0 - 16 * p);
    __m512 lo[8], hi[8];   /* the block's range per channel, 0 included */
    /* Unrolled, so that the sums stay in registers (indexed at run time, they would live in memory). */
#pragma clang loop unroll(full)
    for (int o = 0; o < 8; o++, at += plane) {
        lo[o] = hi[o] = _mm512_setzero_ps();
        if (8 * block + o >= cout) continue;
        __m512 t = _mm512_set1_ps(out->scale[8 * block + o]);
#pragma clang loop unroll(full)
        for (int p = 0; p < vectors; p++) {
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[p][o]), t);
            if (flags & OUTPUT_PRELU)
                v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, slope);
            if (flags & OUTPUT_RESIDUAL) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[p], residual + at + 16 * p));
            if (flags & OUTPUT_HALVES) {
                /* Saturated at the largest finite half rather than infinity; v stays unrounded, and
                 * its range is rounded below. */
                v = _mm512_max_ps(_mm512_min_ps(v, largest), _mm512_sub_ps(_mm512_setzero_ps(), largest));
                _mm256_mask_storeu_epi16(halves + at + 16 * p, m[p], _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            } else {
                _mm512_mask_storeu_ps(planes + at + 16 * p, m[p], v);
            }
            if (flags & OUTPUT_RANGES) {
                v = _mm512_maskz_mov_ps(m[p], v);
                lo[o] = _mm512_min_ps(lo[o], v);
                hi[o] = _mm512_max_ps(hi[o], v);
            }
        }
    }
    if (flags & OUTPUT_RANGES)
        for (int o = 0; o < 8 && 8 * block + o < cout; o++) {
            float *l = out->rowLo + (long)y * cout + 8 * block + o, *h = out->rowHi + (long)y * cout + 8 * block + o;
            /* Rounding is monotonic: the range of the halves stored is the range of v rounded. */
            if (flags & OUTPUT_HALVES) lo[o] = rounded_to_halves(lo[o]), hi[o] = rounded_to_halves(hi[o]);
            float bl = _mm512_reduce_min_ps(lo[o]), bh = _mm512_reduce_max_ps(hi[o]);
            *l = bl < *l ? bl : *l;
            *h = bh > *h ? bh : *h;
        }
}

/* conv_block on 3 vectors: one inlined copy for each combination of flags the network asks for (float
 * outputs, with PReLU and residual or not; half floats, with PReLU and ranges or not), the generic
 * block for the others. */
VNNI INLINE void conv_block3(const uint8_t *input, int groups, int paddedWidth, long planeStride, const int8_t *weights,
                             int y, int x0, int flags, int block, int cout, int width, int height,
                             const struct denoise_vnni_output *out) {
#define BLOCK(f) \
    case f: \
        conv_block(input, groups, paddedWidth, planeStride, weights, y, x0, 3, f, block, cout, width, height, out); \
        break;
    enum { H = OUTPUT_HALVES, G = OUTPUT_RANGES, P = OUTPUT_PRELU, R = OUTPUT_RESIDUAL };
    switch (flags) {
        BLOCK(0) BLOCK(P) BLOCK(R) BLOCK(P | R) BLOCK(H) BLOCK(H | P) BLOCK(H | G | P)
    default:
        conv_block(input, groups, paddedWidth, planeStride, weights, y, x0, 3, flags, block, cout, width, height, out);
    }
#undef BLOCK
}

VNNI void denoise_vnni_conv3x3_rows(const uint8_t *input, int cin, int width, int height, int paddedWidth,
                                    long planeStride, const int8_t *weights, int cout, int rowBegin, int rowEnd,
                                    const struct denoise_vnni_output *out) {
    int groups = denoise_vnni_groups(cin), blocks = (cout + 7) / 8, flags = output_flags(out);
    for (int y = rowBegin; y < rowEnd; y++) {
        if (out->rowLo)
            for (int o = 0; o < cout; o++) out->rowLo[(long)y * cout + o] = out->rowHi[(long)y * cout + o] = 0;
        for (int x0 = 0; x0 < width; x0 += 48) {
            int vectors = (width - x0 + 15) / 16;
            if (y + 1 < rowEnd) prefetch_next_row(input, groups, paddedWidth, planeStride, y, x0, 192);
            /* The vector count is a constant in each call, so each inlined copy keeps its sums in registers;
             * a row's last one or two vectors take the flags as variables. */
            for (int b = 0; b < blocks; b++) {
                if (vectors >= 3) conv_block3(input, groups, paddedWidth, planeStride, weights, y, x0, flags, b, cout, width, height, out);
                else if (vectors == 2) conv_block(input, groups, paddedWidth, planeStride, weights, y, x0, 2, flags, b, cout, width, height, out);
                else conv_block(input, groups, paddedWidth, planeStride, weights, y, x0, 1, flags, b, cout, width, height, out);
            }
        }
    }
}

VNNI int denoise_vnni_peak_loop(long rounds) {
    __m512i acc[12], a = _mm512_set1_epi32(0x01020304), b = _mm512_set1_epi32(0x01ff02fe);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_epi32(i);
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    __m512i all = acc[0];
    for (int i = 1; i < 12; i++) all = _mm512_xor_si512(all, acc[i]);
    return _mm512_reduce_add_epi32(all);
}
