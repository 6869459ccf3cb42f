#include "conv_amx.h"

#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

/* The first n (>= 1) of 16 lanes. */
static inline __mmask16 first_lanes(int n) { return n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* 16 floats to bfloat16 (round to nearest even), each in the low half of a 32-bit lane. */
AVX512 static inline __m512i bf16_lanes(__m512 v) {
    return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(v));
}

/* 16 pixels of channels 2k (lo) and 2k + 1 (hi) as bfloat16 pairs. */
AVX512 static inline __m512i bf16_pairs(__m512 lo, __m512 hi) {
    return _mm512_or_si512(bf16_lanes(lo), _mm512_slli_epi32(bf16_lanes(hi), 16));
}

/* Where pixel (x, y) of pair plane k lies in the input layout (conv_amx.h): the image starts at
 * row 1, column 1 of its plane. */
static inline long pair_at(int k, int y, int x, int paddedWidth, long planeStride) {
    return k * planeStride + (long)(y + 1) * paddedWidth + 1 + x;
}

/* Zeroes pair plane p but for its image, or all of it when it holds no channels. */
static void clear_plane(uint32_t *p, int hasImage, int height, int width, int paddedWidth, long planeStride) {
    if (!hasImage) {
        memset(p, 0, sizeof *p * (size_t)planeStride);
        return;
    }
    memset(p, 0, sizeof *p * (size_t)pair_at(0, 0, 0, paddedWidth, planeStride));
    for (int y = 0; y < height; y++)  /* right of row y and column 0 of row y + 1 */
        memset(p + pair_at(0, y, width, paddedWidth, planeStride), 0, sizeof *p * (size_t)(paddedWidth - width));
    long below = pair_at(0, height, 0, paddedWidth, planeStride);
    memset(p + below, 0, sizeof *p * (size_t)(planeStride - below));
}

void denoise_amx_clear_frame(uint32_t *planes, int channels, int height, int width, int paddedWidth,
                             long planeStride) {
    for (int k = 0; k < denoise_amx_input_planes(channels); k++)
        clear_plane(planes + k * planeStride, 2 * k < channels, height, width, paddedWidth, planeStride);
}

AVX512 void denoise_amx_pack_input(const float *x, int cin, int height, int width, int paddedWidth, long planeStride,
                                   uint32_t *out, int pairBegin, int pairEnd) {
    long plane = (long)height * width;
    for (int k = pairBegin; k < pairEnd; k++) {
        uint32_t *p = out + k * planeStride;
        clear_plane(p, 2 * k < cin, height, width, paddedWidth, planeStride);
        if (2 * k >= cin) continue;
        const float *a = x + 2L * k * plane, *b = 2 * k + 1 < cin ? a + plane : NULL;
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + pair_at(0, y, 0, paddedWidth, planeStride);
            const float *ra = a + (long)y * width, *rb = b ? b + (long)y * width : NULL;
            for (int i = 0; i < width; i += 16) {
                __mmask16 m = first_lanes(width - i);
                __m512 hi = rb ? _mm512_maskz_loadu_ps(m, rb + i) : _mm512_setzero_ps();
                _mm512_mask_storeu_epi32(row + i, m, bf16_pairs(_mm512_maskz_loadu_ps(m, ra + i), hi));
            }
        }
    }
}

AVX512 void denoise_amx_scale_add(const uint32_t *x, const float *scale, const float *residual, int channels,
                                  int height, int width, float *out, uint32_t *pairs, int paddedWidth,
                                  long planeStride, int pairBegin, int pairEnd) {
    long plane = (long)height * width;
    const __m512i high = _mm512_set1_epi32((int)0xffff0000);
    for (int k = pairBegin; k < pairEnd; k++) {
        int odd = 2 * k + 1 < channels;
        long at = 2L * k * plane;
        __m512 sa = _mm512_set1_ps(scale[2 * k]), sb = _mm512_set1_ps(odd ? scale[2 * k + 1] : 0);
        for (int y = 0; y < height; y++) {
            long row = pair_at(k, y, 0, paddedWidth, planeStride);
            for (int i = 0; i < width; i += 16) {
                __mmask16 m = first_lanes(width - i);
                __m512i v = _mm512_maskz_loadu_epi32(m, x + row + i);
                long a = at + (long)y * width + i, b = a + plane;
                __m512 va = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), sa,
                                            _mm512_maskz_loadu_ps(m, residual + a));
                __m512 vb = _mm512_setzero_ps();
                if (out) _mm512_mask_storeu_ps(out + a, m, va);
                if (odd) {
                    vb = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), sb,
                                         _mm512_maskz_loadu_ps(m, residual + b));
                    if (out) _mm512_mask_storeu_ps(out + b, m, vb);
                }
                if (pairs) _mm512_mask_storeu_epi32(pairs + row + i, m, bf16_pairs(va, vb));
            }
        }
    }
}

static int blocks16(int n) { return (n + 15) / 16; }

/* The input-channel pairs split into as few blocks as hold at most 16 each, all of one size: one
 * tile multiply per block, with little of the tile spent on zero planes. */
static int kblocks_of(int cin) { return blocks16((cin + 1) / 2); }
static int block_pairs(int cin) { int k = kblocks_of(cin); return ((cin + 1) / 2 + k - 1) / k; }

int denoise_amx_input_planes(int cin) { return kblocks_of(cin) * block_pairs(cin); }

size_t denoise_amx_weights_count(int cout, int cin, int kernel) {
    return (size_t)blocks16(cout) * (size_t)(kernel * kernel) * (size_t)kblocks_of(cin) * 512;
}

static uint16_t bf16(float v) {
    union { float f; uint32_t u; } x = { v };
    return (uint16_t)((x.u + 0x7fff + ((x.u >> 16) & 1)) >> 16);
}

/* Tile (ocb, t, kb) at ((ocb * taps + t) * kblocks + kb) * 512: row r (64 bytes) = output channel
 * ocb*16 + r, columns 2j, 2j+1 (j < block_pairs) = input channels 2(kb*block_pairs + j) and the next
 * at tap t; zero past the ends. */
void denoise_amx_pack_weights(const float *w, int cout, int cin, int kernel, uint16_t *out) {
    int kblocks = kblocks_of(cin), kp = block_pairs(cin), taps = kernel * kernel;
    memset(out, 0, sizeof *out * denoise_amx_weights_count(cout, cin, kernel));
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < taps; t++) {
                int pair = c / 2, kb = pair / kp, j = pair % kp;
                long tile = ((long)(o / 16) * taps + t) * kblocks + kb;
                out[tile * 512 + (o % 16) * 32 + 2 * j + c % 2] = bf16(w[((long)o * cin + c) * taps + t]);
            }
}

struct tile_config { uint8_t palette, start_row, reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; };

/* PReLU and residual of 16 sums of output channel oc at pixel `at` (count of them in the image). */
AVX512 static inline __m512 finish(const float *c, const struct denoise_amx_output *out, long at, __mmask16 m) {
    __m512 v = _mm512_loadu_ps(c);
    if (out->preluSlope != 1)
        v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, _mm512_set1_ps(out->preluSlope));
    if (out->residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, out->residual + at));
    return _mm512_maskz_mov_ps(m, v);
}

/* Stores a 16-channel x 16-pixel block of sums (rows of acc: channels ocBase..; `count` pixels
 * from column x0 of row y). */
AVX512 static void store_block(float acc[16][16], int ocBase, int cout, int y, int x0, int count, int height,
                               int width, int paddedWidth, long planeStride, const struct denoise_amx_output *out) {
    __mmask16 m = first_lanes(count);
    long plane = (long)height * width, pixel = (long)y * width + x0;
    for (int r = 0; r < 16 && ocBase + r < cout; r += 2) {
        int oc = ocBase + r, odd = oc + 1 < cout;
        __m512 a = finish(acc[r], out, oc * plane + pixel, m);
        __m512 b = odd ? finish(acc[r + 1], out, (oc + 1) * plane + pixel, m) : _mm512_setzero_ps();
        if (out->planes) {
            _mm512_mask_storeu_ps(out->planes + oc * plane + pixel, m, a);
            if (odd) _mm512_mask_storeu_ps(out->planes + (oc + 1) * plane + pixel, m, b);
        }
        if (out->pairs) {
            uint32_t *p = out->pairs + pair_at(oc / 2, y, x0, paddedWidth, planeStride);
            _mm512_mask_storeu_epi32(p, m, bf16_pairs(a, b));
        }
        if (out->rowSums) {
            out->rowSums[(long)y * cout + oc] += _mm512_reduce_add_ps(a);
            if (odd) out->rowSums[(long)y * cout + oc + 1] += _mm512_reduce_add_ps(b);
        }
    }
}

/* Where tap t of a kernel (taps 1 or 9) reads for output row y, column x0: a 1x1 kernel's one tap
 * reads the centre of the zero frame. */
static inline const uint32_t *tap_source(const uint32_t *input, int t, int taps, int y, int x0, int paddedWidth) {
    int ky = taps == 1 ? 1 : t / 3, kx = taps == 1 ? 1 : t % 3;
    return input + (long)(y + ky) * paddedWidth + x0 + kx;
}

AMX static inline void store_accumulators(float acc[4][16][16]) {
    _tile_stored(0, acc[0], 64); _tile_stored(1, acc[1], 64);
    _tile_stored(2, acc[2], 64); _tile_stored(3, acc[3], 64);
}

/* One output row, 32 pixels x 32 output channels at a time: tiles 0-3 accumulate 2 x 2 blocks of
 * 16 channels x 16 pixels, 4-5 hold weights, 6-7 input. */
AMX static void row_2x2(const uint32_t *input, int kblocks, int kp, int width, int paddedWidth, long planeStride,
                        const uint16_t *weights, int taps, int cout, int height, int y,
                        const struct denoise_amx_output *out) {
    float acc[4][16][16];
    long bstride = planeStride * 4;
    for (int x0 = 0; x0 < width; x0 += 32) {
        int two_x = width - x0 > 16;
        for (int ocb = 0; ocb < blocks16(cout); ocb += 2) {
            int two_o = blocks16(cout) - ocb > 1;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int t = 0; t < taps; t++) {
                const uint32_t *src = tap_source(input, t, taps, y, x0, paddedWidth);
                for (int kb = 0; kb < kblocks; kb++) {
                    const uint32_t *b = src + (long)kb * kp * planeStride;
                    const uint16_t *a = weights + (((long)ocb * taps + t) * kblocks + kb) * 512;
                    _tile_loadd(6, b, bstride);
                    _tile_loadd(4, a, 64);
                    _tile_dpbf16ps(0, 4, 6);
                    if (two_x) { _tile_loadd(7, b + 16, bstride); _tile_dpbf16ps(1, 4, 7); }
                    if (two_o) {
                        _tile_loadd(5, a + (long)taps * kblocks * 512, 64);
                        _tile_dpbf16ps(2, 5, 6);
                        if (two_x) _tile_dpbf16ps(3, 5, 7);
                    }
                }
            }
            store_accumulators(acc);
            for (int i = 0; i <= two_o; i++)
                for (int j = 0; j <= two_x; j++)
                    store_block(acc[2 * i + j], (ocb + i) * 16, cout, y, x0 + 16 * j, width - x0 - 16 * j,
                                height, width, paddedWidth, planeStride, out);
        }
    }
}

/* One output row of at most 16 channels, 64 pixels at a time: four accumulators (tiles 0-3) keep
 * the tile unit busy where 2 x 2 blocks would leave half of them empty; 4 holds the weights,
 * 5-7 input (5 twice). */
AMX static void row_1x4(const uint32_t *input, int kblocks, int kp, int width, int paddedWidth, long planeStride,
                        const uint16_t *weights, int taps, int cout, int height, int y,
                        const struct denoise_amx_output *out) {
    float acc[4][16][16];
    long bstride = planeStride * 4;
    for (int x0 = 0; x0 < width; x0 += 64) {
        int n = blocks16(width - x0 < 64 ? width - x0 : 64);
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
        for (int t = 0; t < taps; t++) {
            const uint32_t *src = tap_source(input, t, taps, y, x0, paddedWidth);
            for (int kb = 0; kb < kblocks; kb++) {
                const uint32_t *b = src + (long)kb * kp * planeStride;
                _tile_loadd(4, weights + ((long)t * kblocks + kb) * 512, 64);
                _tile_loadd(5, b, bstride);
                _tile_dpbf16ps(0, 4, 5);
                if (n > 1) { _tile_loadd(6, b + 16, bstride); _tile_dpbf16ps(1, 4, 6); }
                if (n > 2) { _tile_loadd(7, b + 32, bstride); _tile_dpbf16ps(2, 4, 7); }
                if (n > 3) { _tile_loadd(5, b + 48, bstride); _tile_dpbf16ps(3, 4, 5); }
            }
        }
        store_accumulators(acc);
        for (int j = 0; j < n; j++)
            store_block(acc[j], 0, cout, y, x0 + 16 * j, width - x0 - 16 * j, height, width, paddedWidth,
                        planeStride, out);
    }
}

AMX void denoise_amx_conv_rows(const uint32_t *input, int cin, int width, int paddedWidth, long planeStride,
                               const uint16_t *weights, int kernel, int cout, int height, int rowBegin, int rowEnd,
                               const struct denoise_amx_output *out) {
    int kblocks = kblocks_of(cin), kp = block_pairs(cin), narrow = cout <= 16;
    struct tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; }
    /* weights: 16 channels x kp pairs; input: kp pairs x 16 pixels */
    for (int i = 4; i < 8; i++) {
        int weight = narrow ? i == 4 : i < 6;
        if (weight) cfg.colsb[i] = (uint16_t)(4 * kp); else cfg.rows[i] = (uint8_t)kp;
    }
    _tile_loadconfig(&cfg);
    for (int y = rowBegin; y < rowEnd; y++) {
        if (out->rowSums) memset(out->rowSums + (long)y * cout, 0, sizeof(float) * (size_t)cout);
        (narrow ? row_1x4 : row_2x2)(input, kblocks, kp, width, paddedWidth, planeStride, weights, kernel * kernel,
                                     cout, height, y, out);
    }
    _tile_release();
}
