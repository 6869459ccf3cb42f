#include "conv_amx.h"

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };

int denoise_amx_available(void) {
    static int state = -1;  /* a benign race: every thread computes the same answer */
    if (state < 0) {
        int ok = 0;
#if defined(__x86_64__)
        unsigned a, b, c, d;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            int amx = (d >> 22 & 1) && (d >> 24 & 1);             /* AMX-BF16, AMX-TILE */
            int avx512 = (b >> 16 & 1) && (b >> 30 & 1) && (b >> 31 & 1);  /* F, BW, VL */
            unsigned a1, b1, c1, d1;
            int bf16 = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && (a1 >> 5 & 1);
            ok = amx && avx512 && bf16 && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
        }
#endif
        state = ok;
    }
    return state;
}

/* The first n (>= 1) of 16 lanes. */
static inline __mmask16 first_lanes(int n) { return n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* 16 floats to bfloat16 (round to nearest even), each in the low half of a 32-bit lane. */
AVX512 static inline __m512i bf16_lanes(__m512 v) {
    return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(v));
}

AVX512 void denoise_amx_pack_input(const float *x, int cin, int height, int width, int paddedWidth, long planeStride,
                                   uint32_t *out, int pairBegin, int pairEnd) {
    long plane = (long)height * width;
    for (int k = pairBegin; k < pairEnd; k++) {
        uint32_t *p = out + k * planeStride;
        if (2 * k >= cin) {
            memset(p, 0, sizeof *p * (size_t)planeStride);
            continue;
        }
        const float *a = x + 2L * k * plane, *b = 2 * k + 1 < cin ? a + plane : NULL;
        memset(p, 0, sizeof *p * (size_t)(paddedWidth + 1));
        for (int y = 0; y < height; y++) {
            uint32_t *row = p + (long)(y + 1) * paddedWidth + 1;
            const float *ra = a + (long)y * width, *rb = b ? b + (long)y * width : NULL;
            for (int i = 0; i < width; i += 16) {
                __mmask16 m = first_lanes(width - i);
                __m512i lo = bf16_lanes(_mm512_maskz_loadu_ps(m, ra + i));
                __m512i hi = rb ? _mm512_slli_epi32(bf16_lanes(_mm512_maskz_loadu_ps(m, rb + i)), 16) : _mm512_setzero_si512();
                _mm512_mask_storeu_epi32(row + i, m, _mm512_or_si512(lo, hi));
            }
            memset(row + width, 0, sizeof *row * (size_t)(paddedWidth - width));  /* and column 0 below */
        }
        memset(p + (long)(height + 1) * paddedWidth + 1, 0, sizeof *p * (size_t)(planeStride - (long)(height + 1) * paddedWidth - 1));
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

/* PReLU, residual and the store of `count` (1...16) pixels of one row. */
AVX512 static inline void finish(const float *c, float slope, const float *residual, float *o, int count) {
    __mmask16 m = first_lanes(count);
    __m512 v = _mm512_loadu_ps(c);
    if (slope != 1) v = _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v, _mm512_set1_ps(slope));
    if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual));
    _mm512_mask_storeu_ps(o, m, v);
}

/* Tiles 0-3 accumulate 2 x 2 blocks of 16 output channels x 16 pixels; 4-5 hold weights, 6-7 input. */
AMX void denoise_amx_conv_rows(const uint32_t *input, int cin, int width, int paddedWidth, long planeStride,
                               const uint16_t *weights, int kernel, int cout, float *output, const float *residual,
                               int height, int rowBegin, int rowEnd, float preluSlope) {
    struct tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    int kblocks = kblocks_of(cin), kp = block_pairs(cin), ocBlocks = blocks16(cout), taps = kernel * kernel;
    for (int i = 0; i < 8; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; }
    cfg.colsb[4] = cfg.colsb[5] = (uint16_t)(4 * kp);  /* weights: 16 channels x kp pairs */
    cfg.rows[6] = cfg.rows[7] = (uint8_t)kp;           /* input: kp pairs x 16 pixels */
    _tile_loadconfig(&cfg);
    long plane = (long)height * width, bstride = planeStride * 4;
    float acc[4][16][16];
    for (int y = rowBegin; y < rowEnd; y++) {
        for (int x0 = 0; x0 < width; x0 += 32) {
            int two_x = width - x0 > 16;
            for (int ocb = 0; ocb < ocBlocks; ocb += 2) {
                int two_o = ocBlocks - ocb > 1;
                _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                for (int t = 0; t < taps; t++) {
                    /* A 1x1 kernel's one tap reads the centre of the zero frame. */
                    int ky = taps == 1 ? 1 : t / 3, kx = taps == 1 ? 1 : t % 3;
                    const uint32_t *src = input + (long)(y + ky) * paddedWidth + x0 + kx;
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
                _tile_stored(0, acc[0], 64); _tile_stored(1, acc[1], 64);
                _tile_stored(2, acc[2], 64); _tile_stored(3, acc[3], 64);
                for (int i = 0; i <= two_o; i++)
                    for (int j = 0; j <= two_x; j++)
                        for (int r = 0; r < 16; r++) {
                            int oc = (ocb + i) * 16 + r;
                            if (oc >= cout) break;
                            long at = oc * plane + (long)y * width + x0 + 16 * j;
                            finish(acc[2 * i + j][r], preluSlope, residual ? residual + at : NULL, output + at,
                                   width - x0 - 16 * j);
                        }
            }
        }
    }
    _tile_release();
}
