#pragma once
/* Non-zero when the CPU runs x86-64-v3 code (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE). */
int denoise_cpu_has_avx2(void);
