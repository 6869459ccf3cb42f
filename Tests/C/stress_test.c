/* Eight threads call dn_dct_denoise, dn_mprnet_denoise (one shared model) and dn_estimate_noise
 * at once, each with its own settings (threads, precision, noise model, tile), for several
 * rounds; every result must equal the same call made alone, byte for byte. Threads that make
 * failing calls check that dn_last_error stays their own. Prints "N passed, M failed".
 *
 *   stress_test WEIGHTS.safetensors [ROUNDS]                                                  */
#define _POSIX_C_SOURCE 200809L
#include "denoise.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 96, H = 80, C = 3, THREADS = 8 };

static uint8_t noisy[W * H * C];
static dn_mprnet *model;
static int rounds = 3;

typedef enum { DCT, MPRNET, ESTIMATE, FAILING } kind;

typedef struct {
    kind kind;
    int threads;         /* the call's worker threads */
    float sigma;         /* DCT: 0 = blind */
    dn_noise_model noise;
    int precision, tile; /* MPRNet */
    uint8_t alone[W * H * C], got[W * H * C];
    dn_noise_estimate estimate_alone, estimate_got;
    int mismatches, errors;
    char message[256];
} task;

static dn_image image_of(uint8_t *data) {
    dn_image im = {data, W, H, C, DN_U8, W * C};
    return im;
}

/* One call as the task describes it; the result in `out` (or *estimate). */
static dn_status call(task *t, uint8_t *out, dn_noise_estimate *estimate) {
    dn_image in = image_of(noisy), o = image_of(out);
    switch (t->kind) {
    case DCT: {
        dn_dct_params p;
        dn_dct_params_init(&p);
        p.sigma = t->sigma;
        p.noise = t->noise;
        p.threads = t->threads;
        return dn_dct_denoise(&in, &o, &p);
    }
    case MPRNET: {
        dn_mprnet_params p;
        dn_mprnet_params_init(&p);
        p.threads = t->threads;
        p.precision = t->precision;
        p.tile = t->tile;
        return dn_mprnet_denoise(model, &in, &o, &p);
    }
    case ESTIMATE:
        return dn_estimate_noise(&in, estimate);
    case FAILING: {
        /* A distinct failure per thread: its own message must survive the others' calls. */
        dn_dct_params p;
        dn_dct_params_init(&p);
        p.scales = 100 + t->threads;
        return dn_dct_denoise(&in, &o, &p);
    }
    }
    return DN_ERROR_INTERNAL;
}

static void *worker(void *arg) {
    task *t = arg;
    for (int r = 0; r < rounds; r++) {
        memset(t->got, 0, sizeof t->got);
        dn_status s = call(t, t->got, &t->estimate_got);
        if (t->kind == FAILING) {
            if (s != DN_ERROR_INVALID_ARGUMENT || strcmp(dn_last_error(), t->message) != 0) t->errors++;
            continue;
        }
        if (s != DN_OK) { t->errors++; continue; }
        if (strcmp(dn_last_error(), "") != 0) t->errors++;
        if (t->kind == ESTIMATE ? memcmp(&t->estimate_got, &t->estimate_alone, sizeof t->estimate_got) != 0
                                : memcmp(t->got, t->alone, sizeof t->got) != 0) t->mismatches++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: stress_test WEIGHTS [ROUNDS]\n"); return 2; }
    if (argc > 2) rounds = atoi(argv[2]);
    if (dn_mprnet_load(argv[1], &model) != DN_OK) { fprintf(stderr, "load: %s\n", dn_last_error()); return 2; }
    uint32_t state = 7;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                state = state * 1664525u + 1013904223u;
                double v = 128 + 70 * sin(x / 7.0 + c) * cos(y / 11.0) + ((state >> 8) % 41) - 20;
                noisy[(y * W + x) * C + c] = (uint8_t)fmin(255, fmax(0, v));
            }

    static task tasks[THREADS];
    tasks[0] = (task){.kind = DCT, .threads = 1, .sigma = 15, .noise = DN_NOISE_GAUSSIAN};
    tasks[1] = (task){.kind = DCT, .threads = 2, .sigma = 0, .noise = DN_NOISE_AUTO};
    tasks[2] = (task){.kind = DCT, .threads = 3, .sigma = 0, .noise = DN_NOISE_CAMERA};
    tasks[3] = (task){.kind = MPRNET, .threads = 1, .precision = DN_PRECISION_FLOAT32, .tile = 0};
    tasks[4] = (task){.kind = MPRNET, .threads = 2, .precision = DN_PRECISION_FAST, .tile = 64};
    tasks[5] = (task){.kind = MPRNET, .threads = 3, .precision = DN_PRECISION_FLOAT32, .tile = 64};
    tasks[6] = (task){.kind = ESTIMATE, .threads = 1};
    tasks[7] = (task){.kind = FAILING, .threads = 7};

    int passed = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        task *t = &tasks[i];
        dn_status s = call(t, t->alone, &t->estimate_alone);
        if (t->kind == FAILING) {
            snprintf(t->message, sizeof t->message, "%s", dn_last_error());
            if (s == DN_ERROR_INVALID_ARGUMENT && t->message[0]) passed++;
            else { failed++; printf("FAIL: task %d alone: %s\n", i, dn_status_name(s)); }
        } else if (s == DN_OK) {
            passed++;
        } else {
            failed++;
            printf("FAIL: task %d alone: %s (%s)\n", i, dn_status_name(s), dn_last_error());
        }
    }
    /* The float32 and fast MPRNet calls differ where the CPU has AMX (bfloat16): a call that ran
     * with another's precision would then show. */
    pthread_t ids[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&ids[i], NULL, worker, &tasks[i]);
    for (int i = 0; i < THREADS; i++) pthread_join(ids[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        task *t = &tasks[i];
        if (t->mismatches || t->errors) {
            failed++;
            printf("FAIL: task %d: %d of %d rounds differ from the call alone, %d failed or lost their message\n",
                   i, t->mismatches, rounds, t->errors);
        } else {
            passed++;
        }
    }
    dn_mprnet_free(model);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
