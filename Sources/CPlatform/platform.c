#define _GNU_SOURCE
#include "platform.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

int denoise_cpu_has_avx512_vnni(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v4") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int denoise_cpu_has_avx_vnni(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    return denoise_cpu_has_avx2() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);   /* AVX-VNNI */
#else
    return 0;
#endif
}

static int has_amx;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void check_amx(void) {
#if defined(__x86_64__)
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    unsigned a, b, c, d, a1, b1, c1, d1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int amx = (d >> 22 & 1) && (d >> 24 & 1);                        /* AMX-BF16, AMX-TILE */
    int avx512 = (b >> 16 & 1) && (b >> 30 & 1) && (b >> 31 & 1);   /* F, BW, VL */
    int bf16 = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && (a1 >> 5 & 1);
    has_amx = amx && avx512 && bf16 && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#endif
}

int denoise_cpu_has_amx(void) {
    pthread_once(&amx_once, check_amx);
    return has_amx;
}

static char library_path[PATH_MAX];
static pthread_once_t library_path_once = PTHREAD_ONCE_INIT;

/* dladdr names a shared object by the path it was loaded from, but the main executable only by
 * argv[0] ("denoise" when run from PATH): the kernel's /proc/self/exe says where that one is. */
static void find_library_path(void) {
    Dl_info info;
    if (!dladdr((void *)denoise_library_path, &info) || !info.dli_fname) return;
    const char *name = info.dli_fname;
    if (!strchr(name, '/') || strcmp(name, program_invocation_name) == 0) name = "/proc/self/exe";
    if (!realpath(name, library_path)) library_path[0] = 0;
}

const char *denoise_library_path(void) {
    pthread_once(&library_path_once, find_library_path);
    return library_path[0] ? library_path : 0;
}

void denoise_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, INT_MAX);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
