#include "conv_vnni.h"
#include "vnni_frame.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* Lane masks for the first n (>= 1) of 8 lanes: all bits set in each lane taken. */
AVX2 INLINE __m256i first_lanes8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? n : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* round(v * inverseScale) + zero, clamped to a byte, in each int32 lane (rounding to nearest even). */
AVX2 INLINE __m256i quantized(__m256 v, float inverseScale, int32_t zero) {
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v, _mm256_set1_ps(inverseScale))), _mm256_set1_epi32(zero));
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_setzero_si256()), _mm256_set1_epi32(255));
}

/* Lanes [0, n) of the 8 at `at` of float planes, or of half float ones; the rest 0. Masked moves
 * only for a row's last, partial vector: AMD runs masked stores slowly. */
AVX2 INLINE __m256 load_lanes(const void *x, int halves, long at, int n) {
    if (!halves) return n >= 8 ? _mm256_loadu_ps((const float *)x + at) : _mm256_maskload_ps((const float *)x + at, first_lanes8(n));
    __m128i h = _mm_setzero_si128();
    if (n >= 8) h = _mm_loadu_si128((const __m128i *)((const uint16_t *)x + at));
    else memcpy(&h, (const uint16_t *)x + at, 2 * (size_t)n);
    return _mm256_cvtph_ps(h);
}

/* v clamped to the finite half floats, [-65504, 65504]: saturated there rather than infinite. */
AVX2 INLINE __m256 clamp_halves(__m256 v) {
    return _mm256_max_ps(_mm256_min_ps(v, _mm256_set1_ps(65504.0f)), _mm256_set1_ps(-65504.0f));
}

/* Stores lanes [0, n) of v, within the finite half floats, as half floats rounded to nearest even. */
AVX2 INLINE void store_halves(uint16_t *to, __m256 v, int n) {
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    if (n >= 8) _mm_storeu_si128((__m128i *)to, h);
    else memcpy(to, &h, 2 * (size_t)n);
}

/* Each lane of v rounded to the nearest half float, as a float. */
AVX2 INLINE __m256 rounded_to_halves(__m256 v) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* Per vector a, b, c, d: the least of its lanes (greatest with `max`), as the four lanes of one. */
AVX2 INLINE __m128 reduce4(__m256 a, __m256 b, __m256 c, __m256 d, int max) {
#define PICK(u, v) (max ? _mm256_max_ps(u, v) : _mm256_min_ps(u, v))
    __m256 ab = PICK(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));   /* a02 b02 a13 b13 | a46 b46 a57 b57 */
    __m256 cd = PICK(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
    __m256 abcd = PICK(_mm256_shuffle_ps(ab, cd, 0x44), _mm256_shuffle_ps(ab, cd, 0xee));   /* a0-3 b0-3 c0-3 d0-3 | a4-7 .. */
#undef PICK
    __m128 l = _mm256_castps256_ps128(abcd), h = _mm256_extractf128_ps(abcd, 1);
    return max ? _mm_max_ps(l, h) : _mm_min_ps(l, h);
}

/* Widens a row's range, lo and hi at output channel 0, by a block's for channels [first, first + 4). */
AVX2 INLINE void merge_row_range(float *lo, float *hi, int first, int cout, const __m256 *blockLo, const __m256 *blockHi) {
    float l[4], h[4];
    _mm_storeu_ps(l, reduce4(blockLo[0], blockLo[1], blockLo[2], blockLo[3], 0));
    _mm_storeu_ps(h, reduce4(blockHi[0], blockHi[1], blockHi[2], blockHi[3], 1));
    for (int o = 0; o < 4 && first + o < cout; o++) {
        lo[first + o] = l[o] < lo[first + o] ? l[o] : lo[first + o];
        hi[first + o] = h[o] > hi[first + o] ? h[o] : hi[first + o];
    }
}

/* The least of mn's lanes and the greatest of mx's. */
AVX2 INLINE void lane_range(__m256 mn, __m256 mx, float *lo, float *hi) {
    float l[8], h[8];
    _mm256_storeu_ps(l, mn);
    _mm256_storeu_ps(h, mx);
    for (int k = 1; k < 8; k++) {
        l[0] = l[k] < l[0] ? l[k] : l[0];
        h[0] = h[k] > h[0] ? h[k] : h[0];
    }
    *lo = l[0];
    *hi = h[0];
}

#define VNNI256_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define VNNI256_DPBUSD _mm256_dpbusd_avx_epi32
#define VNNI256_NAME(x) vex_##x
#include "conv_vnni256_body.h"
#undef VNNI256_TARGET
#undef VNNI256_DPBUSD
#undef VNNI256_NAME

#define VNNI256_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define VNNI256_DPBUSD _mm256_dpbusd_epi32
#define VNNI256_NAME(x) evex_##x
#include "conv_vnni256_body.h"

void denoise_vnni256_conv3x3_rows(int encoding, const uint8_t *input, int cin, int width, int height, int paddedWidth,
                                  long planeStride, const int8_t *weights, int cout, int rowBegin, int rowEnd,
                                  const struct denoise_vnni_output *out) {
    if (encoding == DENOISE_VNNI256_EVEX)
        evex_conv3x3_rows(input, cin, width, height, paddedWidth, planeStride, weights, cout, rowBegin, rowEnd, out);
    else
        vex_conv3x3_rows(input, cin, width, height, paddedWidth, planeStride, weights, cout, rowBegin, rowEnd, out);
}

int denoise_vnni256_peak_loop(int encoding, long rounds) {
    return encoding == DENOISE_VNNI256_EVEX ? evex_peak_loop(rounds) : vex_peak_loop(rounds);
}

AVX2 void denoise_avx2_channel_ranges(const float *x, long plane, int begin, int end, float *lo, float *hi) {
    for (int c = begin; c < end; c++) {
        const float *p = x + c * plane;
        __m256 mn = _mm256_setzero_ps(), mx = _mm256_setzero_ps();   /* 0 is always in the range */
        long i = 0;
        for (; i + 8 <= plane; i += 8) {
            __m256 v = _mm256_loadu_ps(p + i);
            mn = _mm256_min_ps(mn, v);
            mx = _mm256_max_ps(mx, v);
        }
        float l, h;
        lane_range(mn, mx, &l, &h);
        for (; i < plane; i++) {
            l = p[i] < l ? p[i] : l;
            h = p[i] > h ? p[i] : h;
        }
        lo[c] = l;
        hi[c] = h;
    }
}

/* Groups [groupBegin, groupEnd) of the input layout from float planes, or half float ones. */
AVX2 INLINE void quantize_groups(const void *x, int halves, int cin, int height, int width, const float *inverseScale,
                                 const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                 int groupBegin, int groupEnd) {
    long plane = (long)height * width;
    for (int g = groupBegin; g < groupEnd; g++) {
        uint32_t *p = (uint32_t *)out + g * planeStride;
        denoise_vnni_frame_plane(p, zero, cin, g, height, width, paddedWidth);
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + (long)(y + 1) * paddedWidth;
            for (int i = 0; i < width; i += 8) {
                __m256i packed = _mm256_setzero_si256();
                for (int k = 0; k < 4 && 4 * g + k < cin; k++) {
                    int c = 4 * g + k;
                    __m256 v = load_lanes(x, halves, c * plane + (long)y * width + i, width - i);
                    packed = _mm256_or_si256(packed, _mm256_slli_epi32(quantized(v, inverseScale[c], zero[c]), 8 * k));
                }
                if (width - i >= 8) _mm256_storeu_si256((__m256i *)(row + 1 + i), packed);
                else _mm256_maskstore_epi32((int *)(row + 1 + i), first_lanes8(width - i), packed);
            }
        }
    }
}

AVX2 void denoise_avx2_quantize_input(const float *x, int cin, int height, int width, const float *inverseScale,
                                      const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                      int groupBegin, int groupEnd) {
    quantize_groups(x, 0, cin, height, width, inverseScale, zero, out, paddedWidth, planeStride, groupBegin, groupEnd);
}

AVX2 void denoise_avx2_quantize_halves(const uint16_t *x, int cin, int height, int width, const float *inverseScale,
                                       const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                       int groupBegin, int groupEnd) {
    quantize_groups(x, 1, cin, height, width, inverseScale, zero, out, paddedWidth, planeStride, groupBegin, groupEnd);
}

AVX2 void denoise_avx2_channel_statistics(const uint16_t *x, long plane, int begin, int end, float *sum, float *lo,
                                          float *hi) {
    for (int c = begin; c < end; c++) {
        const uint16_t *p = x + c * plane;
        /* Sixteen interleaved partial sums, as NeuralCore's `sum`. */
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 mn = _mm256_setzero_ps(), mx = _mm256_setzero_ps();   /* 0 is always in the range */
        long i = 0;
        for (; i + 16 <= plane; i += 16) {
            __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + i)));
            __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + i + 8)));
            s0 = _mm256_add_ps(s0, a);
            s1 = _mm256_add_ps(s1, b);
            mn = _mm256_min_ps(mn, _mm256_min_ps(a, b));
            mx = _mm256_max_ps(mx, _mm256_max_ps(a, b));
        }
        float l, h, s[16];
        lane_range(mn, mx, &l, &h);
        _mm256_storeu_ps(s, s0);
        _mm256_storeu_ps(s + 8, s1);
        for (int k = 8; k >= 1; k /= 2)
            for (int j = 0; j < k; j++) s[j] += s[j + k];
        for (; i < plane; i++) {
            float v = _cvtsh_ss(p[i]);
            s[0] += v;
            l = v < l ? v : l;
            h = v > h ? v : h;
        }
        sum[c] = s[0];
        lo[c] = l;
        hi[c] = h;
    }
}

AVX2 void denoise_avx2_scale_add_quantize(const uint16_t *r, const float *scale, const float *x, float *out, float *lo,
                                          float *hi, int cin, int height, int width, const float *inverseScale,
                                          const int32_t *zero, uint8_t *q, int paddedWidth, long planeStride,
                                          int groupBegin, int groupEnd) {
    long plane = (long)height * width;
    for (int g = groupBegin; g < groupEnd; g++) {
        uint32_t *p = q ? (uint32_t *)q + g * planeStride : NULL;
        if (q) denoise_vnni_frame_plane(p, zero, cin, g, height, width, paddedWidth);
        int channels = cin - 4 * g < 4 ? cin - 4 * g : 4;
        __m256 mn[4], mx[4];
        for (int k = 0; k < 4; k++) mn[k] = mx[k] = _mm256_setzero_ps();
        for (int y = 0; y < height; y++) {
            uint32_t *row = q ? p + (long)(y + 1) * paddedWidth : NULL;
            for (int i = 0; i < width; i += 8) {
                /* The lanes past a row's last, partial vector read as 0, which every range holds. */
                int whole = width - i >= 8;
                __m256i m = first_lanes8(width - i), packed = _mm256_setzero_si256();
                for (int k = 0; k < channels; k++) {
                    int c = 4 * g + k;
                    long at = c * plane + (long)y * width + i;
                    __m256 a = load_lanes(r, 1, at, width - i), b = load_lanes(x, 0, at, width - i);
                    __m256 v = _mm256_add_ps(_mm256_mul_ps(a, _mm256_set1_ps(scale[c])), b);   /* as scaleAdd rounds */
                    if (out && whole) _mm256_storeu_ps(out + at, v);
                    else if (out) _mm256_maskstore_ps(out + at, m, v);
                    mn[k] = _mm256_min_ps(mn[k], v);
                    mx[k] = _mm256_max_ps(mx[k], v);
                    if (q) packed = _mm256_or_si256(packed, _mm256_slli_epi32(quantized(v, inverseScale[c], zero[c]), 8 * k));
                }
                if (q && whole) _mm256_storeu_si256((__m256i *)(row + 1 + i), packed);
                else if (q) _mm256_maskstore_epi32((int *)(row + 1 + i), m, packed);
            }
        }
        for (int k = 0; k < channels; k++) lane_range(mn[k], mx[k], &lo[4 * g + k], &hi[4 * g + k]);
    }
}
