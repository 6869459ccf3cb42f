#pragma once
/* 3x3 convolutions in 8 bits on AVX-512 VNNI: VPDPBUSD adds 64 unsigned x signed byte products into
 * 16 int32 sums per instruction, four times the multiply-adds of a float FMA. The scheme (Ops'
 * `Precision.int8`): activations unsigned per input channel c, q = clamp(round(x / s_c) + z_c, 0, 255),
 * so that real 0 (the padding) is exactly z_c; weights with s_c folded in, symmetric int8 per output
 * channel o with scale t_o; out[o] = t_o (sum w_q q - corr_o), corr_o = sum w_q z, exact in int32.
 * Call only where denoise_cpu_has_avx512_vnni() (CPlatform) is non-zero; the 256-bit variant at the
 * end runs the same scheme on CPUs with AVX-VNNI and AVX2 only. */
#include <stddef.h>
#include <stdint.h>

/* Input layout: one plane per group of four channels (4g .. 4g+3, the ones past cin 0), (height + 2)
 * rows of `paddedWidth` pixels of 4 bytes (channel 4g in the low byte), the image at row 1, column 1
 * and each channel's zero point around it; planes `planeStride` pixels apart. paddedWidth must be
 * at least denoise_vnni_padded_width(width). */
int denoise_vnni_padded_width(int width);
int denoise_vnni_groups(int cin);

/* Per channel c < cin of planes `plane` floats long, channels [begin, end): lo[c] = min(0, min x),
 * hi[c] = max(0, max x). */
void denoise_vnni_channel_ranges(const float *x, long plane, int begin, int end, float *lo, float *hi);

/* Groups [groupBegin, groupEnd) of the input layout from float planes x (cin of height x width):
 * q = clamp(round(x * inverseScale[c]) + zero[c], 0, 255), rounding to nearest even. */
void denoise_vnni_quantize_input(const float *x, int cin, int height, int width, const float *inverseScale,
                                 const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                 int groupBegin, int groupEnd);

/* Packed weights: bytes for `cout` x `cin` 3x3 kernels. */
size_t denoise_vnni_weights_bytes(int cout, int cin);

/* Packs int8 weights [cout][cin][3][3] into blocks of 8 output channels: block b, group g, tap t at
 * ((b * groups + g) * 9 + t) * 32 bytes, 4 bytes (channels 4g .. 4g+3) per output channel; zero past
 * the ends. */
void denoise_vnni_pack_weights(const int8_t *w, int cout, int cin, int8_t *out);

struct denoise_vnni_output {
    float *planes;            /* cout planes of height x width, or NULL when `halves` takes the outputs */
    uint16_t *halves;         /* or NULL: the outputs as IEEE half floats, same layout (rounded to nearest
                               * even, saturated at +-65504) */
    const float *residual;    /* added after PReLU, same layout, or NULL */
    const float *scale;       /* t_o > 0, cout of them */
    const int32_t *correction;/* corr_o, cout of them */
    float preluSlope;         /* 1: no PReLU */
    /* Or NULL: per row y and output channel o, at y * cout + o, min(0, the row's least output) and
     * max(0, its greatest), of the values as stored; what a quantiser of the output needs. */
    float *rowLo, *rowHi;
};

/* Rows [rowBegin, rowEnd) of out = PReLU(t_o (sum w_q q - corr_o)) (+ residual). */
void denoise_vnni_conv3x3_rows(const uint8_t *input, int cin, int width, int height, int paddedWidth,
                               long planeStride, const int8_t *weights, int cout, int rowBegin, int rowEnd,
                               const struct denoise_vnni_output *out);

/* The same convolution in 256-bit registers (8 pixels x 4 output channels a register block), with
 * the same input, weights and results, bit for bit. DENOISE_VNNI256_VEX is AVX-VNNI's encoding of
 * VPDPBUSD (Intel Core since Alder Lake, AVX2 and no AVX-512: denoise_cpu_has_avx_vnni());
 * DENOISE_VNNI256_EVEX is AVX512-VNNI's encoding of the same instruction on ymm registers, for
 * AVX-512 CPUs told to run their AVX2 path, which is how the 256-bit code is tested and measured on
 * them. Input quantised by either function pair. */
enum { DENOISE_VNNI256_VEX = 0, DENOISE_VNNI256_EVEX = 1 };
void denoise_vnni256_conv3x3_rows(int encoding, const uint8_t *input, int cin, int width, int height, int paddedWidth,
                                  long planeStride, const int8_t *weights, int cout, int rowBegin, int rowEnd,
                                  const struct denoise_vnni_output *out);

/* For benchmarks, the rate the kernels are measured against: `rounds` rounds of 12 independent
 * VPDPBUSDs on zmm registers (64 multiply-adds each), or on ymm registers in `encoding` (32 each).
 * Returns a value made of every sum, so that the loop is kept. */
int denoise_vnni_peak_loop(long rounds);
int denoise_vnni256_peak_loop(int encoding, long rounds);
/* denoise_vnni_quantize_input from half floats (a convolution's `halves`). */
void denoise_vnni_quantize_halves(const uint16_t *x, int cin, int height, int width, const float *inverseScale,
                                  const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                  int groupBegin, int groupEnd);

/* denoise_vnni_channel_ranges and denoise_vnni_quantize_input(_halves) on AVX2 (and F16C): the same results. */
void denoise_avx2_channel_ranges(const float *x, long plane, int begin, int end, float *lo, float *hi);
void denoise_avx2_quantize_input(const float *x, int cin, int height, int width, const float *inverseScale,
                                 const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                 int groupBegin, int groupEnd);
void denoise_avx2_quantize_halves(const uint16_t *x, int cin, int height, int width, const float *inverseScale,
                                  const int32_t *zero, uint8_t *out, int paddedWidth, long planeStride,
                                  int groupBegin, int groupEnd);

/* Per channel c in [begin, end) of planes `plane` half floats long: sum[c] (sixteen interleaved
 * partial float sums), lo[c] = min(0, min x) and hi[c] = max(0, max x), in one pass. */
void denoise_avx2_channel_statistics(const uint16_t *x, long plane, int begin, int end, float *sum, float *lo,
                                     float *hi);

/* A channel attention's output feeding an int8 convolution, in one pass over the channels of groups
 * [groupBegin, groupEnd): out = r * scale[c] + x (planes of height x width, r in half floats; out not
 * stored if NULL), lo[c] = min(0, min out), hi[c] = max(0, max out), and unless q is NULL out
 * quantised into the input layout as denoise_avx2_quantize_input does with inverseScale and zero
 * (which the caller draws from a bound on out's range). */
void denoise_avx2_scale_add_quantize(const uint16_t *r, const float *scale, const float *x, float *out, float *lo,
                                     float *hi, int cin, int height, int width, const float *inverseScale,
                                     const int32_t *zero, uint8_t *q, int paddedWidth, long planeStride,
                                     int groupBegin, int groupEnd);
