#include "conv_vnni.h"
#include "vnni_frame.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define AVX2 __attribute__((target("avx2,fma")))

/* Lane masks for the first n (>= 1) of 8 lanes: all bits set in each lane taken. */
AVX2 INLINE __m256i first_lanes8(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? n : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* round(v * inverseScale) + zero, clamped to a byte, in each int32 lane (rounding to nearest even). */
AVX2 INLINE __m256i quantized(__m256 v, float inverseScale, int32_t zero) {
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v, _mm256_set1_ps(inverseScale))), _mm256_set1_epi32(zero));
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_setzero_si256()), _mm256_set1_epi32(255));
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

#define VNNI256_TARGET __attribute__((target("avx2,fma,avxvnni")))
#define VNNI256_DPBUSD _mm256_dpbusd_avx_epi32
#define VNNI256_NAME(x) vex_##x
#include "conv_vnni256_body.h"
#undef VNNI256_TARGET
#undef VNNI256_DPBUSD
#undef VNNI256_NAME

#define VNNI256_TARGET __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
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

AVX2 void denoise_avx2_quantize_input(const float *x, int cin, int height, int width, const float *inverseScale,
                                      const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                      int groupBegin, int groupEnd) {
    long plane = (long)height * width;
    for (int g = groupBegin; g < groupEnd; g++) {
        uint32_t *p = (uint32_t *)out + g * planeStride;
        denoise_vnni_frame_plane(p, zero, cin, g, height, width, paddedWidth);
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + (long)(y + 1) * paddedWidth;
            for (int i = 0; i < width; i += 8) {
                /* Masked moves only for the row's last, partial vector: AMD runs masked stores slowly. */
                int whole = width - i >= 8;
                __m256i m = first_lanes8(width - i), packed = _mm256_setzero_si256();
                for (int k = 0; k < 4 && 4 * g + k < cin; k++) {
                    int c = 4 * g + k;
                    const float *from = x + c * plane + (long)y * width + i;
                    __m256 v = whole ? _mm256_loadu_ps(from) : _mm256_maskload_ps(from, m);
                    packed = _mm256_or_si256(packed, _mm256_slli_epi32(quantized(v, inverseScale[c], zero[c]), 8 * k));
                }
                if (whole) _mm256_storeu_si256((__m256i *)(row + 1 + i), packed);
                else _mm256_maskstore_epi32((int *)(row + 1 + i), m, packed);
            }
        }
    }
}

AVX2 void denoise_avx2_channel_statistics(const float *x, long plane, int begin, int end, float *sum, float *lo,
                                          float *hi) {
    for (int c = begin; c < end; c++) {
        const float *p = x + c * plane;
        /* Sixteen interleaved partial sums, as NeuralCore's `sum`. */
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 mn = _mm256_setzero_ps(), mx = _mm256_setzero_ps();   /* 0 is always in the range */
        long i = 0;
        for (; i + 16 <= plane; i += 16) {
            __m256 a = _mm256_loadu_ps(p + i), b = _mm256_loadu_ps(p + i + 8);
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
            s[0] += p[i];
            l = p[i] < l ? p[i] : l;
            h = p[i] > h ? p[i] : h;
        }
        sum[c] = s[0];
        lo[c] = l;
        hi[c] = h;
    }
}

AVX2 void denoise_avx2_scale_add_quantize(const float *r, const float *scale, const float *x, float *out, float *lo,
                                          float *hi, int cin, int height, int width, const float *inverseScale,
                                          const int32_t *zero, uint8_t *q, int paddedWidth, long planeStride,
                                          int groupBegin, int groupEnd) {
    long plane = (long)height * width;
    for (int g = groupBegin; g < groupEnd; g++) {
        uint32_t *p = (uint32_t *)q + g * planeStride;
        denoise_vnni_frame_plane(p, zero, cin, g, height, width, paddedWidth);
        int channels = cin - 4 * g < 4 ? cin - 4 * g : 4;
        __m256 mn[4], mx[4];
        for (int k = 0; k < 4; k++) mn[k] = mx[k] = _mm256_setzero_ps();
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + (long)(y + 1) * paddedWidth;
            for (int i = 0; i < width; i += 8) {
                /* Masked moves only for the row's last, partial vector: AMD runs masked stores slowly;
                 * the lanes past it read as 0, which every range holds. */
                int whole = width - i >= 8;
                __m256i m = first_lanes8(width - i), packed = _mm256_setzero_si256();
                for (int k = 0; k < channels; k++) {
                    int c = 4 * g + k;
                    long at = c * plane + (long)y * width + i;
                    __m256 a = whole ? _mm256_loadu_ps(r + at) : _mm256_maskload_ps(r + at, m);
                    __m256 b = whole ? _mm256_loadu_ps(x + at) : _mm256_maskload_ps(x + at, m);
                    __m256 v = _mm256_add_ps(_mm256_mul_ps(a, _mm256_set1_ps(scale[c])), b);   /* as scaleAdd rounds */
                    if (out && whole) _mm256_storeu_ps(out + at, v);
                    else if (out) _mm256_maskstore_ps(out + at, m, v);
                    mn[k] = _mm256_min_ps(mn[k], v);
                    mx[k] = _mm256_max_ps(mx[k], v);
                    packed = _mm256_or_si256(packed, _mm256_slli_epi32(quantized(v, inverseScale[c], zero[c]), 8 * k));
                }
                if (whole) _mm256_storeu_si256((__m256i *)(row + 1 + i), packed);
                else _mm256_maskstore_epi32((int *)(row + 1 + i), m, packed);
            }
        }
        for (int k = 0; k < channels; k++) lane_range(mn[k], mx[k], &lo[4 * g + k], &hi[4 * g + k]);
    }
}
