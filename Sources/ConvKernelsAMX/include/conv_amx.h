#pragma once
/* 3x3 and 1x1 convolutions on Intel AMX (TDPBF16PS): bfloat16 inputs and weights, float
 * accumulation. A tile multiply is 16 output channels x 16 pixels x 32 products (16 input-channel
 * pairs at one kernel tap): 8192 multiply-adds per instruction, about eight times the float FMA
 * rate of AVX-512. */
#include <stddef.h>
#include <stdint.h>

/* Non-zero when the CPU has AMX-TILE, AMX-BF16 and AVX512-BF16 and Linux grants this process the
 * tile state (asked once). */
int denoise_amx_available(void);

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

/* Rows [rowBegin, rowEnd) of output = PReLU(conv(input)) + residual (zero padding kernel/2; slope
 * 1: no PReLU; residual may be NULL), `cout` float planes of height x width. Needs
 * denoise_amx_available(). */
void denoise_amx_conv_rows(const uint32_t *input, int cin, int width, int paddedWidth, long planeStride,
                           const uint16_t *weights, int kernel, int cout, float *output, const float *residual,
                           int height, int rowBegin, int rowEnd, float preluSlope);
