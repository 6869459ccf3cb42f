/* The 256-bit int8 3x3 convolution, included twice by conv_vnni256.c: once with AVX-VNNI's VEX
 * encoding of VPDPBUSD, once with AVX512-VNNI's EVEX one. VNNI256_TARGET, VNNI256_DPBUSD and
 * VNNI256_NAME(x) name the variant. */

/* Output row y, pixels [x0, x0 + 8 vectors), output channels [first, first + 4): 4 x `vectors`
 * int32 sums in registers (12 of the 16 at 3 vectors), one weight broadcast feeding `vectors`
 * VPDPBUSDs and one input load feeding 4. `w` is the channels' 4 bytes in the packed block. */
VNNI256_TARGET INLINE void VNNI256_NAME(block)(const uint8_t *input, int groups, int paddedWidth, long planeStride,
                                               const int32_t *w, int y, int x0, int vectors, int first, int cout,
                                               int width, int height, const struct denoise_vnni_output *out) {
    __m256i acc[3][4];
    for (int p = 0; p < vectors; p++)
        for (int o = 0; o < 4; o++) acc[p][o] = _mm256_setzero_si256();
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
    long plane = (long)height * width;
    __m256 lo[4], hi[4];   /* the block's range per channel, 0 included */
#pragma clang loop unroll(full)
    for (int o = 0; o < 4; o++) {
        lo[o] = hi[o] = _mm256_setzero_ps();
        int oc = first + o;
        if (oc >= cout) continue;
        __m256 t = _mm256_set1_ps(out->scale[oc]);
        __m256i corr = _mm256_set1_epi32(out->correction[oc]);
#pragma clang loop unroll(full)
        for (int p = 0; p < vectors; p++) {
            if (x0 + 8 * p >= width) continue;
            long at = oc * plane + (long)y * width + x0 + 8 * p;
            int n = width - x0 - 8 * p;
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[p][o], corr)), t);
            if (out->preluSlope != 1)
                v = _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(out->preluSlope)),
                                     _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
            if (out->residual) v = _mm256_add_ps(v, load_lanes(out->residual, 0, at, n));
            if (out->halves) v = store_halves(out->halves + at, v, n);
            else if (n >= 8) _mm256_storeu_ps(out->planes + at, v);
            else _mm256_maskstore_ps(out->planes + at, first_lanes8(n), v);   /* AMD runs masked stores slowly */
            if (out->rowLo) {
                if (n < 8) v = _mm256_and_ps(v, _mm256_castsi256_ps(first_lanes8(n)));
                lo[o] = _mm256_min_ps(lo[o], v);
                hi[o] = _mm256_max_ps(hi[o], v);
            }
        }
    }
    if (out->rowLo) merge_row_range(out->rowLo + (long)y * cout, out->rowHi + (long)y * cout, first, cout, lo, hi);
}

static VNNI256_TARGET void VNNI256_NAME(conv3x3_rows)(const uint8_t *input, int cin, int width, int height,
                                                      int paddedWidth, long planeStride, const int8_t *weights,
                                                      int cout, int rowBegin, int rowEnd,
                                                      const struct denoise_vnni_output *out) {
    int groups = denoise_vnni_groups(cin), blocks = (cout + 7) / 8;
    for (int y = rowBegin; y < rowEnd; y++) {
        if (out->rowLo)
            for (int o = 0; o < cout; o++) out->rowLo[(long)y * cout + o] = out->rowHi[(long)y * cout + o] = 0;
        for (int x0 = 0; x0 < width; x0 += 24) {
            int vectors = (width - x0 + 7) / 8;
            if (y + 1 < rowEnd) prefetch_next_row(input, groups, paddedWidth, planeStride, y, x0, 96);
            for (int b = 0; b < blocks; b++)
                for (int half = 0; half < 2 && 8 * b + 4 * half < cout; half++) {
                    /* Packed blocks hold 8 output channels of 4 bytes per tap; this half reads 4 of them. */
                    const int32_t *w = (const int32_t *)weights + (long)b * groups * 9 * 8 + 4 * half;
                    int first = 8 * b + 4 * half;
                    /* The vector count is a constant in each call, so each inlined copy keeps its sums in registers. */
                    if (vectors >= 3)
                        VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 3, first, cout, width,
                                            height, out);
                    else if (vectors == 2)
                        VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 2, first, cout, width,
                                            height, out);
                    else
                        VNNI256_NAME(block)(input, groups, paddedWidth, planeStride, w, y, x0, 1, first, cout, width,
                                            height, out);
                }
        }
    }
}
