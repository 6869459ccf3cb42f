/* libFuzzer target: the image functions of denoise.h with fuzzed image descriptions (sizes,
 * strides, channels, sample types, in place or not, NaN and infinite floats), fuzzed parameters
 * (every scalar field, struct_size, noise levels) and a progress callback that cancels at a
 * fuzzed call. Buffers are exactly as large as the description says, so AddressSanitizer sees
 * any read or write outside it. Checked on every call: the status is a dn_status; a failure
 * leaves a message and the output as it was; in place, a failure leaves the input as it was.
 *
 * The MPRNet model comes from $DENOISE_FUZZ_WEIGHTS (default: the parity fixture's weights). */
#define _GNU_SOURCE
#include "denoise.h"
#include "fuzz_reader.h"

#include <stdio.h>
#include <stdlib.h>

static dn_mprnet *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *path = getenv("DENOISE_FUZZ_WEIGHTS");
    if (!path) path = "Tests/Fixtures/mprnet/weights.safetensors";
    if (dn_mprnet_load(path, &model) != DN_OK) {
        fprintf(stderr, "fuzz_api: cannot load %s: %s\n", path, dn_last_error());
        abort();
    }
    return 0;
}

typedef struct {
    dn_image image;
    uint8_t *buffer;  /* malloc'ed, `bytes` long */
    size_t bytes;
} fuzz_image;

static const int sample_bytes[] = {1, 1, 2, 4, 4};  /* by type 0..4; 0 and 4 are not types */

/* A description: mostly small and valid, sometimes zero, negative or over the library's limits.
 * The buffer holds stride * height bytes where that is small; otherwise 64 bytes (the library
 * must then refuse the description without reading). */
static fuzz_image make_image(fuzz_reader *r) {
    fuzz_image f = {0};
    int size_kind = fuzz_int(r, 0, 15);
    int w = fuzz_int(r, 1, 40), h = fuzz_int(r, 1, 40);
    if (size_kind == 0) w = fuzz_int(r, -3, 0);
    if (size_kind == 1) h = fuzz_int(r, -3, 0);
    if (size_kind == 2) w = 524288 + fuzz_int(r, 1, 3);
    if (size_kind == 3) { w = 20000; h = 20000; }  /* 4e8 pixels: over the pixel limit */
    if (size_kind == 4) h = 2147483647;
    int channels = fuzz_int(r, 0, 15) < 13 ? fuzz_int(r, 1, 4) : fuzz_int(r, -1, 6);
    int type = fuzz_int(r, 0, 15) < 14 ? fuzz_int(r, 1, 3) : fuzz_int(r, 0, 4);
    int c = channels < 1 ? 1 : channels > 4 ? 4 : channels;
    size_t row = (size_t)(w > 0 ? w : 1) * (size_t)c * (size_t)sample_bytes[type];
    int slack = fuzz_int(r, 0, 3) == 0 ? fuzz_int(r, -8, 16) : 0;
    size_t stride = fuzz_int(r, 0, 31) == 0 ? 0 : (size_t)((long)row + slack);
    f.image = (dn_image){NULL, w, h, channels, (dn_sample_type)type, stride};
    int small = w > 0 && w <= 40 && h > 0 && h <= 40 && stride <= 4096;
    f.bytes = small ? stride * (size_t)h : 64;
    if (f.bytes == 0) f.bytes = 1;
    f.buffer = malloc(f.bytes);
    fuzz_fill(r, f.buffer, f.bytes);
    if (type == DN_F32 && fuzz_int(r, 0, 1)) {  /* mostly nominal 0..1 floats, some NaN/Inf */
        for (size_t i = 0; i + 4 <= f.bytes; i += 4) {
            float v = (float)f.buffer[i] / 255.0f;
            if (f.buffer[i + 1] == 0xFF) v = f.buffer[i + 2] & 1 ? __builtin_nanf("") : __builtin_inff();
            memcpy(f.buffer + i, &v, 4);
        }
    }
    f.image.data = fuzz_int(r, 0, 63) == 0 ? NULL : f.buffer;
    return f;
}

static int cancel_after(float fraction, void *user) {
    (void)fraction;
    int *left = user;
    return --*left < 0;
}

static void check(dn_status s, const uint8_t *before, const fuzz_image *out) {
    if (s < DN_OK || s > DN_ERROR_INTERNAL) { fprintf(stderr, "status %d is not a dn_status\n", s); abort(); }
    if (s == DN_OK) return;
    if (strlen(dn_last_error()) == 0) { fprintf(stderr, "%s left no message\n", dn_status_name(s)); abort(); }
    if (before && memcmp(before, out->buffer, out->bytes) != 0) {
        fprintf(stderr, "%s (%s) changed the output\n", dn_status_name(s), dn_last_error());
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_reader r = {data, size, 0};
    int function = fuzz_int(&r, 0, 5);
    int out_kind = fuzz_int(&r, 0, 7);  /* 0-4: same description, 5: in place, 6-7: its own */
    int cancel_at = fuzz_int(&r, 0, 7) == 0 ? fuzz_int(&r, 0, 20) : -1;
    int use_params = fuzz_int(&r, 0, 31) != 0;
    /* The parameters first, then the images (whose fill takes the rest of the input). */
    dn_dct_params dct;
    dn_dct_params_init(&dct);
    dn_mprnet_params net;
    dn_mprnet_params_init(&net);
    dn_noise_levels levels;
    dn_noise_levels_init(&levels);
    int use_levels = fuzz_int(&r, 0, 3) == 0;
    if (function == 0) {
        if (fuzz_int(&r, 0, 3) == 0) dct.struct_size = (size_t)fuzz_int(&r, 0, (int)sizeof dct);
        if (fuzz_int(&r, 0, 1)) dct.sigma = fuzz_float(&r, 0, 80);
        if (fuzz_int(&r, 0, 3) == 0) dct.patch_size = fuzz_int(&r, -1, 20);
        if (fuzz_int(&r, 0, 3) == 0) dct.scales = fuzz_int(&r, -1, 8);
        dct.wiener = fuzz_int(&r, 0, 1);
        dct.threads = fuzz_int(&r, 0, 15) == 0 ? fuzz_int(&r, -2, 64) : fuzz_int(&r, 0, 2);
        if (fuzz_int(&r, 0, 1)) dct.noise = (dn_noise_model)fuzz_int(&r, -1, 7);
        if (fuzz_int(&r, 0, 3) == 0) dct.poisson_peak = fuzz_float(&r, 0, 300);
        if (fuzz_int(&r, 0, 3) == 0) dct.strength = fuzz_float(&r, 0, 5);
        if (use_levels) {
            if (fuzz_int(&r, 0, 3) == 0) levels.struct_size = (size_t)fuzz_int(&r, 0, (int)sizeof levels);
            levels.model = (dn_noise_model)fuzz_int(&r, -1, 7);
            levels.sigma = fuzz_float(&r, 0, 60);
            levels.poisson_gain = fuzz_float(&r, 0, 10);
            levels.channels = fuzz_int(&r, -1, 4);
            levels.scales = fuzz_int(&r, -1, DN_MAX_SCALES + 1);
            for (int i = 0; i < DN_MAX_SCALES; i++)
                for (int c = 0; c < 3; c++) levels.camera[i][c] = fuzz_float(&r, 0, 40);
            dct.levels = &levels;
        }
    } else if (function == 1) {
        if (fuzz_int(&r, 0, 3) == 0) net.struct_size = (size_t)fuzz_int(&r, 0, (int)sizeof net);
        net.tile = fuzz_int(&r, 0, 3) == 0 ? fuzz_int(&r, -5, 130) : 0;
        net.threads = fuzz_int(&r, 0, 15) == 0 ? fuzz_int(&r, -2, 64) : fuzz_int(&r, 0, 2);
        net.precision = fuzz_int(&r, 0, 7) == 0 ? fuzz_int(&r, -1, 3) : fuzz_int(&r, 0, 1);
    }
    int progress_left = cancel_at;
    if (cancel_at >= 0) {
        dct.progress = net.progress = cancel_after;
        dct.progress_user = net.progress_user = &progress_left;
    }

    fuzz_image in = make_image(&r);
    fuzz_image out = in, extra = {0};
    int in_place = out_kind == 5;
    if (!in_place) {
        if (out_kind >= 6) {
            out = make_image(&r);
        } else {
            out.buffer = malloc(in.bytes);
            memcpy(out.buffer, in.buffer, in.bytes);
            out.image.data = in.image.data ? out.buffer : NULL;
        }
    }
    if (function == 1 && fuzz_int(&r, 0, 3) == 0) {  /* an optional output of its own description */
        extra = make_image(&r);
        if (fuzz_int(&r, 0, 1)) net.residual = &extra.image; else net.attention = &extra.image;
    }
    uint8_t *before = malloc(out.bytes);
    memcpy(before, out.buffer, out.bytes);
    const dn_image *pin = fuzz_int(&r, 0, 63) == 0 ? NULL : &in.image;

    dn_status s = DN_OK;
    dn_noise_estimate estimate;
    dn_noise_levels measured;
    dn_noise_levels_init(&measured);
    double value;
    switch (function) {
    case 0: s = dn_dct_denoise(pin, &out.image, use_params ? &dct : NULL); break;
    case 1: s = dn_mprnet_denoise(fuzz_int(&r, 0, 63) ? model : NULL, pin, &out.image, use_params ? &net : NULL); break;
    case 2: s = dn_estimate_noise(pin, use_params ? &estimate : NULL); break;
    case 3:
        if (fuzz_int(&r, 0, 3) == 0) measured.struct_size = (size_t)fuzz_int(&r, 0, (int)sizeof measured);
        s = dn_measure_noise(pin, use_params ? &measured : NULL);
        break;
    case 4: s = dn_psnr(pin, &out.image, use_params ? &value : NULL); break;
    case 5: s = dn_ssim(pin, &out.image, use_params ? &value : NULL); break;
    }
    check(s, function <= 1 ? before : NULL, &out);
    if (s == DN_OK && function == 0 && cancel_at >= 0 && progress_left < 0) {
        fprintf(stderr, "dn_dct_denoise succeeded after its progress callback cancelled\n");
        abort();
    }

    free(before);
    if (!in_place) free(out.buffer);
    free(in.buffer);
    free(extra.buffer);
    return 0;
}
