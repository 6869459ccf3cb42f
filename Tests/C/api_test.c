/* Calls every function of denoise.h through the installed-style header and the built .so:
 * the success paths with real images, and every error path. Prints "N passed, M failed". */
#define _POSIX_C_SOURCE 200809L
#include "denoise.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) { passed++; } \
    else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

#define EXPECT_STATUS(call, want) do { \
    dn_status got_ = (call); \
    CHECK(got_ == (want), "%s returned %s (%s), expected %s", #call, dn_status_name(got_), dn_last_error(), \
          dn_status_name(want)); \
    if (got_ != DN_OK) CHECK(strlen(dn_last_error()) > 0, "%s left no error message", #call); \
} while (0)

/* A smooth test pattern plus Gaussian noise of level sigma (Box-Muller, fixed seed). */
static uint32_t rng_state = 12345;
static double uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return ((rng_state >> 8) + 0.5) / 16777216.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static double clean_value(int x, int y, int c) {
    return 128 + 60 * sin(x / 9.0 + c) * cos(y / 13.0) + (x > 40 && x < 80 ? 40 : 0);
}

static double psnr_u8(const uint8_t *a, int w, int h, int ch, int only_channel) {
    double se = 0; long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                if (only_channel >= 0 && c != only_channel) continue;
                double d = a[(y * w + x) * ch + c] - fmin(255, fmax(0, round(clean_value(x, y, c))));
                se += d * d; n++;
            }
    return 10 * log10(255.0 * 255.0 / (se / n));
}

static int count_calls(float fraction, void *user) {
    int *calls = user;
    (void)fraction;
    (*calls)++;
    return 0;
}
static int cancel_at_once(float fraction, void *user) { (void)fraction; (void)user; return 1; }

int main(void) {
    /* version */
    CHECK(dn_version_number() == DN_VERSION_NUMBER, "library %d vs header %d", dn_version_number(), DN_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", DN_VERSION_MAJOR, DN_VERSION_MINOR, DN_VERSION_PATCH);
    CHECK(strcmp(dn_version(), want) == 0, "dn_version %s", dn_version());
    CHECK(strcmp(dn_status_name(DN_ERROR_CANCELLED), "DN_ERROR_CANCELLED") == 0, "status name");
    CHECK(strcmp(dn_status_name((dn_status)999), "DN_UNKNOWN_STATUS") == 0, "unknown status name");

    /* defaults */
    dn_dct_params p;
    memset(&p, 0xAB, sizeof p);
    dn_dct_params_init(&p);
    CHECK(p.struct_size == sizeof p && p.sigma == 25 && p.patch_size == 8 && p.scales == 4 && p.wiener == 1 &&
          p.threads == 0 && p.progress == NULL, "defaults");
    dn_dct_params_init(NULL); /* harmless */

    /* RGBA u8, in place: PSNR gain, alpha untouched */
    const int W = 130, H = 97, CH = 4;
    uint8_t *img = malloc(W * H * CH), *orig = malloc(W * H * CH);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < CH; c++) {
                double v = c == 3 ? (x * 2 + y) % 256 : clean_value(x, y, c) + 20 * gauss();
                img[(y * W + x) * CH + c] = (uint8_t)fmin(255, fmax(0, round(v)));
            }
    memcpy(orig, img, W * H * CH);
    double before = psnr_u8(img, W, H, CH, 0);
    dn_image im = { img, W, H, CH, DN_U8, (size_t)W * CH };
    int calls = 0;
    p.sigma = 20; p.progress = count_calls; p.progress_user = &calls;
    EXPECT_STATUS(dn_dct_denoise(&im, &im, &p), DN_OK);
    double after = psnr_u8(img, W, H, CH, 0);
    CHECK(after > before + 5, "PSNR %.2f -> %.2f", before, after);
    CHECK(calls >= 1, "progress called %d times", calls);
    int alpha_same = 1;
    for (int i = 0; i < W * H; i++) alpha_same &= img[i * CH + 3] == orig[i * CH + 3];
    CHECK(alpha_same, "alpha changed");
    CHECK(strcmp(dn_last_error(), "") == 0, "error message after success: %s", dn_last_error());

    /* u16 gray with a padded stride into a separate buffer; f32 RGB */
    const size_t stride16 = W * 2 + 6;
    uint8_t *g16 = calloc(H, stride16), *o16 = calloc(H, stride16);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            ((uint16_t *)(g16 + y * stride16))[x] = (uint16_t)fmin(65535, fmax(0, (clean_value(x, y, 0) + 20 * gauss()) * 257));
    dn_image gin = { g16, W, H, 1, DN_U16, stride16 }, gout = { o16, W, H, 1, DN_U16, stride16 };
    p.progress = NULL;
    EXPECT_STATUS(dn_dct_denoise(&gin, &gout, &p), DN_OK);
    double se0 = 0, se1 = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double c = clean_value(x, y, 0) * 257;
            double a = ((uint16_t *)(g16 + y * stride16))[x] - c, b = ((uint16_t *)(o16 + y * stride16))[x] - c;
            se0 += a * a; se1 += b * b;
        }
    CHECK(se1 < se0 / 4, "u16 error %.0f -> %.0f", se0, se1);

    float *f = malloc(sizeof(float) * W * H * 3);
    for (int i = 0; i < W * H * 3; i++) f[i] = (float)((clean_value(i / 3 % W, i / 3 / W, i % 3) + 20 * gauss()) / 255);
    dn_image fim = { f, W, H, 3, DN_F32, (size_t)W * 3 * 4 };
    p.patch_size = 16; p.scales = 2; p.wiener = 0; p.threads = 1;
    EXPECT_STATUS(dn_dct_denoise(&fim, &fim, &p), DN_OK);
    dn_dct_params_init(&p);

    /* cancel: output untouched */
    memcpy(img, orig, W * H * CH);
    p.progress = cancel_at_once;
    EXPECT_STATUS(dn_dct_denoise(&im, &im, &p), DN_ERROR_CANCELLED);
    CHECK(memcmp(img, orig, W * H * CH) == 0, "cancel changed the output");
    p.progress = NULL;

    /* error paths */
    dn_image bad = im;
    EXPECT_STATUS(dn_dct_denoise(NULL, &im, &p), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_dct_denoise(&im, NULL, &p), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_dct_denoise(&im, &im, NULL), DN_ERROR_NULL_POINTER);
    bad.data = NULL;
    EXPECT_STATUS(dn_dct_denoise(&bad, &im, &p), DN_ERROR_NULL_POINTER);
    bad = im; bad.width = 0;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.height = -5;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.width = 2000000000; bad.height = 2000000000;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.stride = W * CH - 1;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.stride = (size_t)-1;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.channels = 5;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_CHANNELS);
    bad = im; bad.channels = 0;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_CHANNELS);
    bad = im; bad.type = (dn_sample_type)7;
    EXPECT_STATUS(dn_dct_denoise(&bad, &bad, &p), DN_ERROR_INVALID_FORMAT);
    bad = im; bad.width = W - 1;
    EXPECT_STATUS(dn_dct_denoise(&im, &bad, &p), DN_ERROR_INVALID_SIZE);
    bad = im; bad.type = DN_U16; bad.stride = W * CH * 2;
    EXPECT_STATUS(dn_dct_denoise(&im, &bad, &p), DN_ERROR_INVALID_FORMAT);

    dn_dct_params q = p;
    q.sigma = -1;    EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q.sigma = NAN;   EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q.sigma = 300;   EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q = p; q.patch_size = 7;  EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q = p; q.scales = 0;      EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q = p; q.scales = 99;     EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q = p; q.threads = -2;    EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    q = p; q.struct_size = 4; EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_ERROR_INVALID_ARGUMENT);
    CHECK(memcmp(img, orig, W * H * CH) == 0, "a failed call changed the image");

    /* NaN and infinity in float input: an error, output untouched */
    float *nanimg = malloc(sizeof(float) * 64 * 64);
    for (int i = 0; i < 64 * 64; i++) nanimg[i] = 0.5f;
    nanimg[100] = NAN; nanimg[200] = INFINITY;
    dn_image nim = { nanimg, 64, 64, 1, DN_F32, 64 * 4 };
    EXPECT_STATUS(dn_dct_denoise(&nim, &nim, &p), DN_ERROR_NONFINITE);
    CHECK(nanimg[0] == 0.5f && isnan(nanimg[100]), "NaN input was modified");

    /* tiny images, sigma 0 */
    uint8_t one[3] = { 10, 20, 30 };
    dn_image tiny = { one, 1, 1, 3, DN_U8, 3 };
    EXPECT_STATUS(dn_dct_denoise(&tiny, &tiny, &p), DN_OK);
    q = p; q.sigma = 0;
    memcpy(img, orig, W * H * CH);
    EXPECT_STATUS(dn_dct_denoise(&im, &im, &q), DN_OK);
    CHECK(memcmp(img, orig, W * H * CH) == 0, "sigma 0 changed the image");

    /* MPRNet: the parity fixture's weights (random, so only shapes and plumbing are judged here;
     * the Swift parity tests check the numbers). */
    const char *weights = getenv("DENOISE_TEST_WEIGHTS");
    CHECK(weights != NULL, "DENOISE_TEST_WEIGHTS is not set");
    if (weights) {
        dn_mprnet *net = NULL;
        EXPECT_STATUS(dn_mprnet_load(weights, &net), DN_OK);
        CHECK(net != NULL, "no model returned");
        dn_mprnet_params mp;
        memset(&mp, 0xCD, sizeof mp);
        dn_mprnet_params_init(&mp);
        CHECK(mp.struct_size == sizeof mp && mp.tile == 512 && mp.threads == 0 && mp.residual == NULL &&
              mp.attention == NULL, "mprnet defaults");
        memcpy(img, orig, W * H * CH);
        uint8_t *res = malloc(W * H * 3), *att = malloc(W * H);
        dn_image rim = { res, W, H, 3, DN_U8, (size_t)W * 3 }, aim = { att, W, H, 1, DN_U8, (size_t)W };
        mp.residual = &rim; mp.attention = &aim; mp.tile = 64;
        calls = 0; mp.progress = count_calls; mp.progress_user = &calls;
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_OK);
        alpha_same = 1;
        for (int i = 0; i < W * H; i++) alpha_same &= img[i * CH + 3] == orig[i * CH + 3];
        CHECK(alpha_same && calls >= 1, "mprnet: alpha kept, progress called");
        /* residual = input - output + 128 (clipped to 0..255), to within rounding */
        int worst = 0;
        for (int i = 0; i < W * H * 3; i++) {
            int want = (int)orig[i / 3 * CH + i % 3] - (int)img[i / 3 * CH + i % 3] + 128;
            want = want < 0 ? 0 : want > 255 ? 255 : want;
            int d = abs(want - (int)res[i]);
            if (d > worst) worst = d;
        }
        CHECK(worst <= 1, "residual off by %d", worst);

        memcpy(img, orig, W * H * CH);
        rim.channels = 1;
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_ERROR_INVALID_CHANNELS);
        CHECK(memcmp(img, orig, W * H * CH) == 0, "failed mprnet call changed the image");
        mp.residual = NULL; mp.attention = NULL;
        mp.progress = cancel_at_once;
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_ERROR_CANCELLED);
        CHECK(memcmp(img, orig, W * H * CH) == 0, "cancelled mprnet call changed the image");
        mp.progress = NULL;
        mp.tile = 10;
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(dn_mprnet_denoise(NULL, &im, &im, &mp), DN_ERROR_NULL_POINTER);
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, NULL), DN_ERROR_NULL_POINTER);
        dn_mprnet_free(net);
        dn_mprnet_free(NULL);
        free(res); free(att);

        dn_mprnet *none = (dn_mprnet *)1;
        EXPECT_STATUS(dn_mprnet_load("/nonexistent/weights.safetensors", &none), DN_ERROR_INVALID_ARGUMENT);
        CHECK(none == NULL, "failed load left a model pointer");
        EXPECT_STATUS(dn_mprnet_load(weights, NULL), DN_ERROR_NULL_POINTER);
        /* a truncated copy */
        char cut[] = "/tmp/dn_api_test_cut_XXXXXX";
        int fd = mkstemp(cut);
        FILE *in = fopen(weights, "rb"), *out = fdopen(fd, "wb");
        char buf[3000];
        size_t got = fread(buf, 1, sizeof buf, in);
        fwrite(buf, 1, got, out);
        fclose(in); fclose(out);
        EXPECT_STATUS(dn_mprnet_load(cut, &none), DN_ERROR_INVALID_ARGUMENT);
        CHECK(strstr(dn_last_error(), "truncated") != NULL, "truncation not named: %s", dn_last_error());
        remove(cut);
    }

    free(img); free(orig); free(g16); free(o16); free(f); free(nanimg);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
