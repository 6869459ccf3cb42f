#pragma once
/* The few platform facts Swift cannot reach on its own. */

/* Non-zero when the CPU runs x86-64-v3 code (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE). */
int denoise_cpu_has_avx2(void);

/* Non-zero when the CPU runs x86-64-v4 code (AVX-512 F, BW, CD, DQ, VL). */
int denoise_cpu_has_avx512(void);

/* Non-zero when the CPU runs x86-64-v4 code and AVX512-VNNI (VPDPBUSD). */
int denoise_cpu_has_avx512_vnni(void);

/* Non-zero when the CPU runs x86-64-v3 code and AVX-VNNI (the VEX-encoded, 256-bit VPDPBUSD). */
int denoise_cpu_has_avx_vnni(void);

/* Non-zero when the CPU has AMX-TILE, AMX-BF16 and AVX512-BF16 (F, BW, VL) and Linux grants this
 * process the tile state (asked once). */
int denoise_cpu_has_amx(void);

/* The real path of the shared object or executable holding this code (symlinks resolved), or NULL. */
const char *denoise_library_path(void);

/* For processes of our own (the CLI): keep freed memory in the process (glibc mallopt) instead of
 * returning big blocks to the kernel and faulting them back in, as a network's layer buffers would. */
void denoise_keep_freed_memory(void);

/* Asks for the cache line holding p ahead of its use: a hint that never faults, inline so that the
 * Swift kernels importing it emit the one instruction. */
static inline void denoise_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
