/* The 256-bit int8 3x3 convolution, included twice by conv_vnni256.c: once with AVX-VNNI's VEX
 * encoding of VPDPBUSD, once with AVX512-VNNI's EVEX one. VNNI256_TARGET, VNNI256_DPBUSD and
 * VNNI256_NAME(x) name the variant. */

/* Output row y, pixels [x0, x0 + 8 vectors), output channels [first, first + 4): 4 x `vectors`
 * int32 sums in registers (12 of the 16 at 3 vectors), one weight broadcast feeding `vectors`
 * VPDPBUSDs and one input load feeding 4. `w` is the channels' 4 bytes in the packed block. The
 * sums start at -corr_o. `flags` (OUTPUT_*) says what `out` asks for and `whole` that every vector
 * lies inside the row; both are constants in each inlined copy, so that its epilogue has no branches
 * (which took about a tenth of the kernel's time). */
VNNI256_TARGET INLINE void VNNI256_NAME(block)(const uint8_t *input, int groups, int paddedWidth, long planeStride,
                                               const int32_t *w, int y, int x0, int vectors, int whole, int flags,
                                               int first, int cout, int width, int height,
                                               const struct denoise_vnni_output *out) {
    __m256i acc[3][4];
    for (int o = 0; o < 4; o++) {
        __m256i start = _mm256_set1_epi32(first + o < cout ? -out->correction[first + o] : 0);
        for (int p = 0; p < vectors; p++) acc[p][o] = start;
    }
    for (int g = 0; g < groups; g++) {
        const int32_t *plane = (const int32_t *)input + g * planeStride;
        for (int dy = 0; dy < 3; dy++) {
            const int32_t *row = plane + (long)(y + dy) * paddedWidth + x0;
            for (int dx = 0; dx < 3; dx++, w += 8) {
                __m256i v[3];
                for (int p = 0; p < vectors; p++) v[p] = _mm256_loadu_si256((const __m256i *)(row + dx + 8 * p));
                for (int o = 0; o < 4; o++) {
                    __m256i b = _mm256_set1_epi32(w[o]);
                    for (int p = 0; p < vectors; p++) acc[p][o] = VNNI256_DPBUSD(acc[p][o], v[p], b);
                }
            }
        }
    }
    long plane = (long)height * width, at = (long)first * plane + (long)y * width + x0;
    float *planes = out->planes;
    uint16_t *halves = out->halves;
    const float *residual = out->residual;
    const __m256 slope = _mm256_set1_ps(out->preluSlope);
    __m256 lo[4], hi[4];   /* the block's range per channel, 0 included */
#pragma clang loop unroll(full)
    for (int o = 0; o < 4; o++, at += plane) {
        lo[o] = hi[o] = _mm256_setzero_ps();
        if (first + o >= cout) continue;
        __m256 t = _mm256_set1_ps(out->scale[first + o]);
#pragma clang loop unroll(full)
        for (int p = 0; p < vectors; p++) {
            int n = whole ? 8 : width - x0 - 8 * p;   /* >= 1: the callers' vector counts end inside the row */
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[p][o]), t);
            /* t_o > 0, so v is negative exactly where the sum is: its sign bit picks the lanes. */
            if (flags & OUTPUT_PRELU) v = _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), _mm256_castsi256_ps(acc[p][o]));
            if (flags & OUTPUT_RESIDUAL) v = _mm256_add_ps(v, load_lanes(residual, 0, at + 8 * p, n));
            /* Half floats: v is clamped but stays unrounded, and its range is rounded below. */
            if (flags & OUTPUT_HALVES) store_halves(halves + at + 8 * p, v = clamp_halves(v), n);
            else if (n >= 8) _mm256_storeu_ps(planes + at + 8 * p, v);
            else _mm256_maskstore_ps(planes + at + 8 * p, first_lanes8(n), v);   /* AMD runs masked stores slowly */
            if (flags & OUTPUT_RANGES) {
                if (n < 8) v = _mm256_and_ps(v, _mm256_castsi256_ps(first_lanes8(n)));
                lo[o] = _mm256_min_ps(lo[o], v);
                hi[o] = _mm256_max_ps(hi[o], v);
            }
        }
    }
    if (flags & OUTPUT_RANGES) {
        /* Rounding is monotonic: the range of the halves stored is the range of v rounded. */
        if (flags & OUTPUT_HALVES)
            for (int o = 0; o < 4; o++) lo[o] = rounded_to_halves(lo[o]), hi[o] = rounded_to_halves(hi[o]);
        merge_row_range(out->rowLo + (long)y * cout, out->rowHi + (long)y * cout, first, cout, lo, hi);
    }
}

/* A block of 3 whole vectors: one inlined copy for each combination of flags the network asks for
 * (float outputs, with PReLU and residual or not; half floats, with PReLU and ranges or not), the
 * generic block for the others. */
VNNI256_TARGET INLINE void VNNI256_NAME(whole_block)(const uint8_t *input, int groups, int paddedWidth,
                                                     long planeStride, const int32_t *w, int y, int x0, int flags,
                                                     int first, int cout, int width, int height,
                                                     const struct denoise_vnni_output *out) {
#define WHOLE_BLOCK(f) \
    case f: \
        VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 3, 1, f, first, cout, width, height, out); \
        break;
    enum { H = OUTPUT_HALVES, G = OUTPUT_RANGES, P = OUTPUT_PRELU, R = OUTPUT_RESIDUAL };
    switch (flags) {
        WHOLE_BLOCK(0) WHOLE_BLOCK(P) WHOLE_BLOCK(R) WHOLE_BLOCK(P | R) WHOLE_BLOCK(H) WHOLE_BLOCK(H | P)
        WHOLE_BLOCK(H | G | P)
    default:
        VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 3, 0, flags, first, cout, width, height, out);
    }
#undef WHOLE_BLOCK
}

static VNNI256_TARGET void VNNI256_NAME(conv3x3_rows)(const uint8_t *input, int cin, int width, int height,
                                                      int paddedWidth, long planeStride, const int8_t *weights,
                                                      int cout, int rowBegin, int rowEnd,
                                                      const struct denoise_vnni_output *out) {
    int groups = denoise_vnni_groups(cin), flags = output_flags(out);
    for (int y = rowBegin; y < rowEnd; y++) {
        if (out->rowLo)
            for (int o = 0; o < cout; o++) out->rowLo[(long)y * cout + o] = out->rowHi[(long)y * cout + o] = 0;
        for (int x0 = 0; x0 < width; x0 += 24) {
            int vectors = (width - x0 + 7) / 8;
            if (y + 1 < rowEnd) prefetch_next_row(input, groups, paddedWidth, planeStride, y, x0, 96);
            for (int first = 0; first < cout; first += 4) {
                /* Packed blocks hold 8 output channels of 4 bytes per tap; this block reads 4 of them. */
                const int32_t *w = (const int32_t *)weights + (long)(first / 8) * groups * 9 * 8 + first % 8;
                /* The vector count is a constant in each call, so each inlined copy keeps its sums in
                 * registers; a row's last, partial piece takes the flags as variables. */
                if (x0 + 24 <= width)
                    VNNI256_NAME(whole_block)(input, groups, paddedWidth, planeStride, w, y, x0, flags, first, cout,
                                              width, height, out);
                else if (vectors >= 3)
                    VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 3, 0, flags, first, cout,
                                        width, height, out);
                else if (vectors == 2)
                    VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 2, 0, flags, first, cout,
                                        width, height, out);
                else
                    VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 1, 0, flags, first, cout,
                                        width, height, out);
            }
        }
    }
}

static VNNI256_TARGET int VNNI256_NAME(peak_loop)(long rounds) {
    __m256i acc[12], a = _mm256_set1_epi32(0x01020304), b = _mm256_set1_epi32(0x01ff02fe);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_epi32(i);
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < 12; i++) acc[i] = VNNI256_DPBUSD(acc[i], a, b);
    __m256i all = acc[0];
    for (int i = 1; i < 12; i++) all = _mm256_xor_si256(all, acc[i]);
    int lanes[8], sum = 0;
    _mm256_storeu_si256((__m256i *)lanes, all);
    for (int i = 0; i < 8; i++) sum += lanes[i];
    return sum;
}
