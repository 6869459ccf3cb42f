/* Calls every function of denoise.h through the installed-style header and the built .so:
 * the success paths with real images, and every error path. Prints "N passed, M failed". */
#define _POSIX_C_SOURCE 200809L
#include "denoise.h"

#include <math.h>
#include <stddef.h>
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
    CHECK(p.struct_size == sizeof p && p.sigma == 0 && p.noise == DN_NOISE_AUTO && p.patch_size == 8 && p.scales == 4 &&
          p.wiener == 1 && p.threads == 0 && p.progress == NULL && p.strength == 1 && p.levels == NULL, "defaults");
    dn_dct_params_init(NULL); /* harmless */

    /* the parameter declarations: the defaults above, the ranges the library enforces */
    const dn_parameter *scales = dn_dct_parameter("scales"), *patch = dn_dct_parameter("patch_size");
    CHECK(scales && scales->default_value == p.scales && scales->minimum == 1 && scales->maximum == 6 &&
          scales->is_integer && strlen(scales->description) > 0, "scales declaration");
    CHECK(patch && patch->default_value == 8 && patch->choice_count == 2 && patch->choices[0] == 8 &&
          patch->choices[1] == 16, "patch size declaration");
    const dn_parameter *sg = dn_dct_parameter("sigma"), *st = dn_dct_parameter("strength");
    CHECK(sg && sg->default_value == p.sigma && sg->maximum == 255 && st && st->default_value == p.strength &&
          st->minimum == 0.1 && st->maximum == 4, "sigma and strength declarations");
    CHECK(dn_dct_parameter("no_such") == NULL && dn_dct_parameter(NULL) == NULL, "unknown parameter");
    const dn_parameter *tile = dn_mprnet_parameter("tile");
    CHECK(tile && tile->default_value == 512 && tile->minimum == 64 && tile->extra_count == 1 && tile->extra[0] == 0,
          "tile declaration");
    int32_t m = -1;
    EXPECT_STATUS(dn_dct_context_margin(NULL, &m), DN_OK);
    CHECK(m == 8 << 3, "default DCT margin %d: the coarsest of 4 layers' 8-pixel patches", m);
    p.patch_size = 16; p.scales = 2;
    EXPECT_STATUS(dn_dct_context_margin(&p, &m), DN_OK);
    CHECK(m == 32, "patch 16, 2 scales: margin %d", m);
    p.scales = scales->maximum + 1;
    m = -1;
    EXPECT_STATUS(dn_dct_context_margin(&p, &m), DN_ERROR_INVALID_ARGUMENT);
    CHECK(m == -1 && strstr(dn_last_error(), "scales must be 1-6") != NULL, "bad scales: %d, %s", m, dn_last_error());
    EXPECT_STATUS(dn_dct_context_margin(NULL, NULL), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_mprnet_context_margin(NULL, &m), DN_OK);
    CHECK(m >= 32, "MPRNet margin %d", m);
    dn_dct_params_init(&p);

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

    /* noise estimation: the pattern carries sigma 20; sigma 0 means "estimate it" */
    dn_noise_estimate est;
    memcpy(img, orig, W * H * CH);
    EXPECT_STATUS(dn_estimate_noise(&im, &est), DN_OK);
    CHECK(fabsf(est.sigma - 20) < 1.5, "estimated sigma %.2f for 20", est.sigma);
    CHECK(est.curve_points >= 1 && est.curve_points <= DN_CURVE_POINTS, "%d curve points", est.curve_points);
    CHECK(!est.signal_dependent, "Gaussian noise reported as signal-dependent");
    uint8_t *explicit_out = malloc(W * H * CH), *auto_out = malloc(W * H * CH);
    dn_image eo = { explicit_out, W, H, CH, DN_U8, (size_t)W * CH }, ao = { auto_out, W, H, CH, DN_U8, (size_t)W * CH };
    q = p; q.progress = NULL; q.sigma = est.sigma;
    EXPECT_STATUS(dn_dct_denoise(&im, &eo, &q), DN_OK);
    q.sigma = 0; q.noise = DN_NOISE_GAUSSIAN;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    CHECK(memcmp(explicit_out, auto_out, W * H * CH) == 0, "sigma 0 differs from the estimated sigma");
    /* the default (automatic) model recognises white noise as white, and says so */
    dn_noise_levels lv;
    memset(&lv, 0xAB, sizeof lv);
    dn_noise_levels_init(&lv);
    CHECK(lv.struct_size == sizeof lv && lv.model == DN_NOISE_GAUSSIAN && lv.sigma == 0, "levels defaults");
    EXPECT_STATUS(dn_measure_noise(&im, &lv), DN_OK);
    CHECK(lv.model == DN_NOISE_GAUSSIAN && fabsf(lv.sigma - est.sigma) < 1e-4, "white noise measured as model %d, sigma %.2f",
          lv.model, lv.sigma);
    q = p; q.progress = NULL;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    CHECK(memcmp(explicit_out, auto_out, W * H * CH) == 0, "the default differs from Gaussian at the estimated sigma");
    /* a model passed in is used as given: camera levels, white at 20 halving per scale, equal Gaussian 20 */
    dn_noise_levels cam;
    dn_noise_levels_init(&cam);
    cam.model = DN_NOISE_CAMERA; cam.channels = 3; cam.scales = 1;
    cam.camera[0][0] = cam.camera[0][1] = cam.camera[0][2] = 20;
    q = p; q.progress = NULL; q.levels = &cam;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    q = p; q.progress = NULL; q.sigma = 20; q.noise = DN_NOISE_GAUSSIAN;
    EXPECT_STATUS(dn_dct_denoise(&im, &eo, &q), DN_OK);
    /* (white noise's levels follow the pixel counts of odd-sized layers, 0.497 here, not exactly 1/2) */
    double diff = 0;
    for (int i = 0; i < W * H * CH; i++) diff += abs(auto_out[i] - explicit_out[i]);
    CHECK(diff / (W * H * CH) < 0.1, "camera levels 20 (halving per scale) differ from Gaussian sigma 20 by %.3f",
          diff / (W * H * CH));
    /* strength multiplies the level: sigma 10 at strength 2 is sigma 20 */
    q.sigma = 10; q.strength = 2;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    CHECK(memcmp(explicit_out, auto_out, W * H * CH) == 0, "strength 2 at sigma 10 differs from sigma 20");
    q.strength = 0;    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    q.strength = NAN;  EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    q.strength = 1;
    /* bad models passed in are refused with a message, output untouched */
    memcpy(auto_out, orig, W * H * CH);
    q.levels = &cam;
    cam.camera[0][1] = NAN; EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    cam.camera[0][1] = 20; cam.scales = 0; EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    cam.scales = 1; cam.channels = 1; EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    cam.channels = 3; cam.struct_size = 8; EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    cam.struct_size = sizeof cam; cam.model = (dn_noise_model)42; EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(dn_last_error(), "levels") != NULL, "message: %s", dn_last_error());
    CHECK(memcmp(auto_out, orig, W * H * CH) == 0, "a refused call wrote its output");
    EXPECT_STATUS(dn_measure_noise(NULL, &lv), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_measure_noise(&im, NULL), DN_ERROR_NULL_POINTER);
    lv.struct_size = 0; EXPECT_STATUS(dn_measure_noise(&im, &lv), DN_ERROR_INVALID_ARGUMENT);
    dn_noise_levels_init(&lv);
    EXPECT_STATUS(dn_measure_noise(&nim, &lv), DN_ERROR_NONFINITE);
    EXPECT_STATUS(dn_measure_noise(&tiny, &lv), DN_OK);
    CHECK(lv.model == DN_NOISE_GAUSSIAN && lv.sigma == 0, "1x1 image: model %d sigma %.2f", lv.model, lv.sigma);
    q = p; q.progress = NULL;
    CHECK(memcmp(img, orig, W * H * CH) == 0, "input changed");
    uint8_t flat[32 * 32];
    memset(flat, 77, sizeof flat);
    dn_image fl = { flat, 32, 32, 1, DN_U8, 32 };
    EXPECT_STATUS(dn_estimate_noise(&fl, &est), DN_OK);
    CHECK(est.sigma == 0, "flat image: sigma %.3f", est.sigma);
    EXPECT_STATUS(dn_dct_denoise(&fl, &fl, &q), DN_OK);
    CHECK(flat[0] == 77 && flat[1023] == 77, "flat image changed");
    EXPECT_STATUS(dn_estimate_noise(NULL, &est), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_estimate_noise(&im, NULL), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_estimate_noise(&nim, &est), DN_ERROR_NONFINITE);

    /* noise models: impulses restored, nothing else touched; unknown models refused */
    memcpy(explicit_out, orig, W * H * CH);
    for (int i = 0; i < W * H; i += 7) explicit_out[i * CH] = (i / 7) % 2 ? 255 : 0;
    q = p; q.progress = NULL; q.noise = DN_NOISE_IMPULSE;
    EXPECT_STATUS(dn_dct_denoise(&eo, &ao, &q), DN_OK);
    int restored = 0, others_same = 1;
    for (int i = 0; i < W * H; i++) {
        if (i % 7 == 0) restored += auto_out[i * CH] != explicit_out[i * CH];
        for (int c = 1; c < CH; c++) {  /* only extreme samples may change (noise clipped at 255 may) */
            uint8_t v = explicit_out[i * CH + c];
            others_same &= auto_out[i * CH + c] == v || (c < 3 && (v == 0 || v == 255));
        }
    }
    CHECK(restored > W * H / 7 * 9 / 10, "%d of %d impulses restored", restored, W * H / 7);
    CHECK(others_same, "impulse removal touched samples that are not extreme, or alpha");
    q.noise = DN_NOISE_POISSON; q.poisson_peak = 40;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    q.noise = DN_NOISE_AUTO; q.sigma = 0;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    q.noise = (dn_noise_model)9;  EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    q.noise = DN_NOISE_POISSON; q.poisson_peak = -1;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_ERROR_INVALID_ARGUMENT);
    /* a 0.1 caller's smaller struct still works: the fields it lacks keep their defaults */
    q = p; q.progress = NULL; q.struct_size = offsetof(dn_dct_params, noise); q.noise = (dn_noise_model)9;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    /* a struct_size that cuts the levels pointer (found by fuzz_api: its low bytes were read as a
     * pointer) reads as the 0.2 struct, without levels */
    cam.model = DN_NOISE_GAUSSIAN; cam.sigma = 10;
    q = p; q.progress = NULL; q.levels = &cam; q.struct_size = offsetof(dn_dct_params, levels) + 3;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);

    /* metrics: against the clean pattern, denoising raises PSNR and SSIM */
    uint8_t *clean = malloc(W * H * CH);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < CH; c++)
                clean[(y * W + x) * CH + c] = c == 3 ? orig[(y * W + x) * CH + 3] : (uint8_t)fmin(255, fmax(0, round(clean_value(x, y, c))));
    dn_image cl = { clean, W, H, CH, DN_U8, (size_t)W * CH };
    double ps0, ps1, ss0, ss1, same;
    EXPECT_STATUS(dn_psnr(&cl, &im, &ps0), DN_OK);
    EXPECT_STATUS(dn_ssim(&cl, &im, &ss0), DN_OK);
    q = p; q.progress = NULL; q.sigma = 20;
    EXPECT_STATUS(dn_dct_denoise(&im, &ao, &q), DN_OK);
    EXPECT_STATUS(dn_psnr(&cl, &ao, &ps1), DN_OK);
    EXPECT_STATUS(dn_ssim(&cl, &ao, &ss1), DN_OK);
    CHECK(ps1 > ps0 + 5 && ss1 > ss0 + 0.1 && ss1 <= 1, "PSNR %.2f -> %.2f, SSIM %.3f -> %.3f", ps0, ps1, ss0, ss1);
    CHECK(fabs(ps0 - 20 * log10(255 / 20.0)) < 0.5, "noisy PSNR %.2f", ps0);
    EXPECT_STATUS(dn_psnr(&cl, &cl, &same), DN_OK);
    CHECK(isinf(same), "identical images: PSNR %f", same);
    EXPECT_STATUS(dn_ssim(&cl, &cl, &same), DN_OK);
    CHECK(fabs(same - 1) < 1e-12, "identical images: SSIM %f", same);
    EXPECT_STATUS(dn_psnr(&cl, &tiny, &same), DN_ERROR_INVALID_SIZE);
    EXPECT_STATUS(dn_ssim(&tiny, &tiny, &same), DN_ERROR_INVALID_SIZE);
    EXPECT_STATUS(dn_psnr(&cl, &im, NULL), DN_ERROR_NULL_POINTER);
    EXPECT_STATUS(dn_ssim(NULL, &im, &same), DN_ERROR_NULL_POINTER);
    free(explicit_out); free(auto_out); free(clean);

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
              mp.attention == NULL && mp.precision == DN_PRECISION_FAST, "mprnet defaults");
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
        /* float32 and the fast path compute the same image to within bfloat16's rounding; a caller
         * built before `precision` existed (a smaller struct_size) gets the default. */
        uint8_t *exact = malloc(W * H * CH);
        memcpy(exact, orig, W * H * CH);
        dn_image eim = im;
        eim.data = exact;
        mp.precision = DN_PRECISION_FLOAT32;
        EXPECT_STATUS(dn_mprnet_denoise(net, &eim, &eim, &mp), DN_OK);
        memcpy(img, orig, W * H * CH);
        mp.precision = 77;
        mp.struct_size = offsetof(dn_mprnet_params, precision);
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_OK);
        worst = 0;
        for (int i = 0; i < W * H * CH; i++) worst = abs((int)img[i] - (int)exact[i]) > worst ? abs((int)img[i] - (int)exact[i]) : worst;
        CHECK(worst <= 3, "fast and float32 MPRNet differ by %d", worst);
        mp.struct_size = sizeof mp;
        EXPECT_STATUS(dn_mprnet_denoise(net, &im, &im, &mp), DN_ERROR_INVALID_ARGUMENT);
        mp.precision = DN_PRECISION_FAST;
        /* strength: the closed form of the blend, on float32 results. out_s = out_1 + (1 - s) times
         * the mean over colours of (input - out_1); alpha untouched; a caller built before
         * `strength` (struct_size up to it) gets 1. */
        mp.precision = DN_PRECISION_FLOAT32;
        CHECK(mp.strength == 1, "strength default %.2f", mp.strength);
        uint8_t *weak = malloc(W * H * CH);
        memcpy(weak, orig, W * H * CH);
        dn_image wim = im;
        wim.data = weak;
        mp.strength = 0.25f;
        EXPECT_STATUS(dn_mprnet_denoise(net, &wim, &wim, &mp), DN_OK);
        int off = 0;
        for (int i = 0; i < W * H && !off; i++) {
            double luma = 0;
            for (int c = 0; c < 3; c++) luma += (orig[i * CH + c] - (double)exact[i * CH + c]) / 3;
            for (int c = 0; c < 3; c++) {
                double want = fmin(255, fmax(0, exact[i * CH + c] + 0.75 * luma));
                off |= fabs(want - weak[i * CH + c]) > 1.01;  /* both sides rounded to 8 bits */
            }
            off |= weak[i * CH + 3] != orig[i * CH + 3];
        }
        CHECK(!off, "strength 0.25 is not out_1 + 0.75 * mean(input - out_1)");
        memcpy(weak, orig, W * H * CH);
        mp.struct_size = offsetof(dn_mprnet_params, strength);
        EXPECT_STATUS(dn_mprnet_denoise(net, &wim, &wim, &mp), DN_OK);
        CHECK(memcmp(weak, exact, W * H * CH) == 0, "an older params struct did not get strength 1");
        mp.struct_size = sizeof mp;
        mp.strength = 1.5f;
        EXPECT_STATUS(dn_mprnet_denoise(net, &wim, &wim, &mp), DN_ERROR_INVALID_ARGUMENT);
        CHECK(strstr(dn_last_error(), "strength must be 0-1") != NULL, "message: %s", dn_last_error());
        mp.strength = NAN;
        EXPECT_STATUS(dn_mprnet_denoise(net, &wim, &wim, &mp), DN_ERROR_INVALID_ARGUMENT);
        mp.strength = 1;
        mp.precision = DN_PRECISION_FAST;
        free(weak);
        free(exact);
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

        /* Installed models by name: the environment variable names the file; an unknown name, a
         * model that is not there or a bad file is an error with a message, never a crash. */
        setenv("DENOISE_MPRNET_CAMERA_MODEL", weights, 1);
        net = NULL;
        EXPECT_STATUS(dn_mprnet_load_installed("camera", &net), DN_OK);
        CHECK(net != NULL, "no camera model returned");
        dn_mprnet_free(net);
        setenv("DENOISE_MPRNET_CAMERA_MODEL", cut, 1);
        none = (dn_mprnet *)1;
        EXPECT_STATUS(dn_mprnet_load_installed("camera", &none), DN_ERROR_INVALID_ARGUMENT);
        CHECK(none == NULL && strstr(dn_last_error(), "truncated") != NULL, "bad camera model: %s", dn_last_error());
        unsetenv("DENOISE_MPRNET_CAMERA_MODEL");
        EXPECT_STATUS(dn_mprnet_load_installed("portrait", &none), DN_ERROR_INVALID_ARGUMENT);
        CHECK(strstr(dn_last_error(), "\"camera\"") != NULL, "unknown name does not list the models: %s", dn_last_error());
        EXPECT_STATUS(dn_mprnet_load_installed(NULL, &none), DN_ERROR_NULL_POINTER);
        EXPECT_STATUS(dn_mprnet_load_installed("camera", NULL), DN_ERROR_NULL_POINTER);
        remove(cut);
    }

    free(img); free(orig); free(g16); free(o16); free(f); free(nanimg);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
