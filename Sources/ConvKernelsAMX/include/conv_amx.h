#pragma once
/* 3x3 and 1x1 convolutions on Intel AMX (TDPBF16PS): bfloat16 inputs and weights, float
 * accumulation. A tile multiply is 16 output channels x 16 pixels x 32 products (16 input-channel
 * pairs at one kernel tap): 8192 multiply-adds per instruction, about eight times the float FMA
 * rate of AVX-512. */
#include <stddef.h>
#include <stdint.h>

/* Call only where denoise_cpu_has_amx() (CPlatform) is non-zero. */

/* Input layout: one plane per pair of channels (2k, 2k+1), (height + 2) rows of `paddedWidth`
 * 32-bit pairs (low half channel 2k, high half 2k+1, bfloat16), the image at row 1, column 1 and
 * zeros around, `planeStride` pairs apart; paddedWidth >= width + 18. The kernel reads blocks of
 * pairs of one size: pack denoise_amx_input_planes(cin) planes, the ones past the channels zero.
 * This packs planes [pairBegin, pairEnd). */
int denoise_amx_input_planes(int cin);

void denoise_amx_pack_input(const float *x, int cin, int height, int width, int paddedWidth, long planeStride,
                            uint32_t *out, int pairBegin, int pairEnd);

/* Packed weights: uint16 count for `cout` x `cin` kernels of side `kernel` (1 or 3). */
size_t denoise_amx_weights_count(int cout, int cin, int kernel);

/* Packs weights [cout][cin][kernel][kernel] into tiles of 16 output channels x 16 input-channel
 * pairs per tap. */
void denoise_amx_pack_weights(const float *w, int cout, int cin, int kernel, uint16_t *out);

/* Channels of pairs [pairBegin, pairEnd) of out = x * scale[c] + residual: x as bfloat16 pair planes
 * in the input layout (a convolution's `pairs` output), residual and out float planes of height x
 * width (out may be NULL); and the same values as bfloat16 pair planes in the input layout when
 * pairs is non-NULL (its frame already zero, denoise_amx_clear_frame): channel attention's last
 * step, feeding the next convolution. */
void denoise_amx_scale_add(const uint32_t *x, const float *scale, const float *residual, int channels, int height,
                           int width, float *out, uint32_t *pairs, int paddedWidth, long planeStride, int pairBegin,
                           int pairEnd);

/* Zeroes what the kernels read around the image in bfloat16 pair planes laid out as above: the frame
 * and the planes past `channels`. A convolution writing pairs (below) fills only the image. */
void denoise_amx_clear_frame(uint32_t *planes, int channels, int height, int width, int paddedWidth, long planeStride);

/* Where a convolution's values v = PReLU(conv(input)) (+ residual) go. */
struct denoise_amx_output {
    float *planes;          /* cout float planes of height x width, or NULL */
    const float *residual;  /* added to v, same layout as planes, or NULL */
    uint32_t *pairs;        /* or NULL: v as bfloat16 pair planes in the input layout (the call's paddedWidth
                               and planeStride), ready to be the next convolution's input */
    float *rowSums;         /* or NULL: rowSums[y * cout + c] = the sum of v over row y of channel c */
    float preluSlope;       /* 1: no PReLU */
};

/* Rows [rowBegin, rowEnd) of conv(input) (zero padding kernel/2) into `out`. Needs
 * denoise_cpu_has_amx() (CPlatform). */
void denoise_amx_conv_rows(const uint32_t *input, int cin, int width, int paddedWidth, long planeStride,
                           const uint16_t *weights, int kernel, int cout, int height, int rowBegin, int rowEnd,
                           const struct denoise_amx_output *out);
