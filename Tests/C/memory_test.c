/* Run under an address-space limit (ulimit -v) too small for the filters' working memory on an
 * 8192 x 8192 RGB image (which passes validation): each call must return DN_ERROR_OUT_OF_MEMORY
 * with a message and leave the output as it was, and a small image must still work afterwards.
 * Prints "N passed, M failed".   memory_test WEIGHTS.safetensors                               */
#define _POSIX_C_SOURCE 200809L
#include "denoise.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void expect(dn_status got, dn_status want, const char *what) {
    if (got == want && (want == DN_OK || strlen(dn_last_error()) > 0)) { passed++; return; }
    failed++;
    printf("FAIL %s: %s (%s), expected %s\n", what, dn_status_name(got), dn_last_error(), dn_status_name(want));
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: memory_test WEIGHTS\n"); return 2; }
    enum { SIDE = 8192, C = 3 };
    size_t bytes = (size_t)SIDE * SIDE * C;
    uint8_t *in = malloc(bytes), *out = malloc(bytes);
    if (!in || !out) { fprintf(stderr, "the test's own buffers do not fit: raise the limit\n"); return 2; }
    for (size_t i = 0; i < bytes; i++) in[i] = (uint8_t)(i * 2654435761u >> 24);
    memset(out, 0x5A, bytes);
    dn_image a = {in, SIDE, SIDE, C, DN_U8, SIDE * C}, b = {out, SIDE, SIDE, C, DN_U8, SIDE * C};

    dn_dct_params dct;
    dn_dct_params_init(&dct);
    dct.sigma = 10;
    expect(dn_dct_denoise(&a, &b, &dct), DN_ERROR_OUT_OF_MEMORY, "dn_dct_denoise");
    dn_noise_estimate e;
    expect(dn_estimate_noise(&a, &e), DN_ERROR_OUT_OF_MEMORY, "dn_estimate_noise");
    dn_noise_levels levels;
    dn_noise_levels_init(&levels);
    expect(dn_measure_noise(&a, &levels), DN_ERROR_OUT_OF_MEMORY, "dn_measure_noise");
    double v;
    expect(dn_psnr(&a, &b, &v), DN_ERROR_OUT_OF_MEMORY, "dn_psnr");
    dn_mprnet *model;
    expect(dn_mprnet_load(argv[1], &model), DN_OK, "dn_mprnet_load");
    dn_mprnet_params net;
    dn_mprnet_params_init(&net);
    net.tile = 0;  /* the whole image at once: gigabytes of activations */
    expect(dn_mprnet_denoise(model, &a, &b, &net), DN_ERROR_OUT_OF_MEMORY, "dn_mprnet_denoise, untiled");
    int untouched = 1;
    for (size_t i = 0; i < bytes; i++) untouched &= out[i] == 0x5A;
    if (untouched) passed++; else { failed++; printf("FAIL: a failed call wrote to the output\n"); }

    /* The library still works in what memory is left. */
    dn_image small_in = {in, 64, 64, C, DN_U8, SIDE * C}, small_out = {out, 64, 64, C, DN_U8, SIDE * C};
    expect(dn_dct_denoise(&small_in, &small_out, &dct), DN_OK, "dn_dct_denoise, 64x64");
    net.tile = 512;
    expect(dn_mprnet_denoise(model, &small_in, &small_out, &net), DN_OK, "dn_mprnet_denoise, 64x64");
    dn_mprnet_free(model);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
