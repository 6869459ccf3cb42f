/* What an int8 convolution kernel could gain over float on this CPU, before writing one: the peak
 * multiply-accumulate rate of loops of independent instructions, one thread.
 *   float  vfmadd231ps: 8 MACs per ymm instruction
 *   u8s8   vpmaddubsw + vpmaddwd(ones) + vpaddd: 32 MACs in 3 instructions (plain AVX2)
 *   u7s7x4 two vpmaddubsw summed in int16 before one vpmaddwd: 64 MACs in 5; four products in one
 *          int16 lane stay below 32767 only with 7-bit activations and weights in [-63, 63] (4 x 127 x 63)
 *   vnni   vpdpbusd: 32 MACs per instruction, where the CPU has AVX-VNNI or AVX512-VNNI (ymm)
 *
 *   gcc -O3 -o /tmp/int8_peak bench/int8_peak.c && /tmp/int8_peak   (-O3 keeps the accumulators in registers)
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { N = 12, LOOPS = 20000000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((target("avx2,fma"))) static double float_peak(float seed) {
    __m256 acc[N], a = _mm256_set1_ps(seed), b = _mm256_set1_ps(0.999f);
    for (int i = 0; i < N; i++) acc[i] = _mm256_set1_ps((float)i);
    double t = now();
    for (long k = 0; k < LOOPS; k++)
        for (int i = 0; i < N; i++) acc[i] = _mm256_fmadd_ps(a, acc[i], b);
    t = now() - t;
    float sink = 0;
    for (int i = 0; i < N; i++) sink += acc[i][0];
    if (sink == 1.2345f) puts("");
    return 8.0 * N * LOOPS / t / 1e9;
}

__attribute__((target("avx2"))) static double u8s8_peak(int pairs_in_int16) {
    /* The accumulators are also the activations, so no product can be hoisted out of the loop. */
    __m256i acc[N], w = _mm256_set1_epi8(-2), w2 = _mm256_set1_epi8(5), ones = _mm256_set1_epi16(1);
    for (int i = 0; i < N; i++) acc[i] = _mm256_set1_epi32(i);
    double t = now();
    for (long k = 0; k < LOOPS; k++) {
        for (int i = 0; i < N; i++) {
            __m256i p = _mm256_maddubs_epi16(acc[i], w);
            if (pairs_in_int16) p = _mm256_add_epi16(p, _mm256_maddubs_epi16(acc[i], w2));
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(p, ones));
        }
    }
    t = now() - t;
    int sink = 0;
    for (int i = 0; i < N; i++) sink += _mm256_extract_epi32(acc[i], 0);
    if (sink == 12345) puts("");
    return 32.0 * (pairs_in_int16 ? 2 : 1) * N * LOOPS / t / 1e9;
}

/* vpdpbusd on ymm registers: VEX-encoded with AVX-VNNI (Intel Core since Alder Lake), EVEX-encoded
 * with AVX512-VNNI + VL (Zen 4/5, Xeon); a CPU may have either one alone. */
#define VNNI_PEAK(name, target_isa, dpbusd)                                     \
    __attribute__((target(target_isa))) static double name(void) {               \
        __m256i acc[N], a = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-2);      \
        for (int i = 0; i < N; i++) acc[i] = _mm256_set1_epi32(i);               \
        double t = now();                                                        \
        for (long k = 0; k < LOOPS; k++) {                                       \
            for (int i = 0; i < N; i++) acc[i] = dpbusd(acc[i], a, w);           \
            __asm__ volatile("" : "+x"(a));                                      \
        }                                                                        \
        t = now() - t;                                                           \
        int sink = 0;                                                            \
        for (int i = 0; i < N; i++) sink += _mm256_extract_epi32(acc[i], 0);     \
        if (sink == 12345) puts("");                                             \
        return 32.0 * N * LOOPS / t / 1e9;                                       \
    }
VNNI_PEAK(avx_vnni_peak, "avxvnni", _mm256_dpbusd_avx_epi32)
VNNI_PEAK(avx512_vnni_peak, "avx512vnni,avx512vl", _mm256_dpbusd_epi32)

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        puts("this CPU lacks AVX2 + FMA");
        return 1;
    }
    double f = float_peak(0.5f), u = u8s8_peak(0), u2 = u8s8_peak(1);
    printf("one thread, GMAC/s: float FMA %.1f | u8 x s8 (maddubs, madd, add) %.1f (%.2fx) | "
           "u7 x s7, pairs summed in int16 %.1f (%.2fx)", f, u, u / f, u2, u2 / f);
    int avx_vnni = __builtin_cpu_supports("avxvnni");
    if (avx_vnni || (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl"))) {
        double v = avx_vnni ? avx_vnni_peak() : avx512_vnni_peak();
        printf(" | vpdpbusd ymm %.1f (%.2fx)", v, v / f);
    } else {
        printf(" | no VNNI");
    }
    puts("");
    return 0;
}
