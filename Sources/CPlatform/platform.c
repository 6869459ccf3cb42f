#define _GNU_SOURCE
#include "platform.h"

#include <dlfcn.h>
#include <limits.h>
#include <malloc.h>

int denoise_cpu_has_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3");
#else
    return 0;
#endif
}

int denoise_cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4");
#else
    return 0;
#endif
}

const char *denoise_library_path(void) {
    Dl_info info;
    return dladdr((void *)denoise_library_path, &info) ? info.dli_fname : 0;
}

void denoise_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, INT_MAX);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
