/*
 * denoise.h — the C interface of libdenoise.
 *
 * Link with -ldenoise. Every function is thread-safe and never aborts the host: failures return a
 * dn_status and leave a message for dn_last_error() on the calling thread. Output buffers are
 * written only on success; on error or cancel they are untouched.
 */
#ifndef DENOISE_H
#define DENOISE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DN_VERSION_MAJOR 0
#define DN_VERSION_MINOR 4
#define DN_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, as dn_version_number() returns for the library. */
#define DN_VERSION_NUMBER (DN_VERSION_MAJOR * 10000 + DN_VERSION_MINOR * 100 + DN_VERSION_PATCH)

typedef enum {
    DN_OK = 0,
    DN_ERROR_NULL_POINTER = 1,     /* a required pointer was NULL */
    DN_ERROR_INVALID_SIZE = 2,     /* width/height zero, negative or too large; stride too small */
    DN_ERROR_INVALID_CHANNELS = 3, /* channels not in 1...4 */
    DN_ERROR_INVALID_FORMAT = 4,   /* unknown sample type, or input and output formats differ */
    DN_ERROR_INVALID_ARGUMENT = 5, /* a parameter out of range (sigma, patch size, scales, ...) */
    DN_ERROR_NONFINITE = 6,        /* float input holds NaN or infinite samples */
    DN_ERROR_CANCELLED = 7,        /* the progress callback returned non-zero */
    DN_ERROR_OUT_OF_MEMORY = 8,    /* the working memory the image needs cannot be had (checked before the run) */
    DN_ERROR_INTERNAL = 9
} dn_status;

typedef enum {
    DN_U8 = 1,   /* 0..255 */
    DN_U16 = 2,  /* 0..65535, native byte order */
    DN_F32 = 3   /* nominally 0..1; values outside are kept, not clipped */
} dn_sample_type;

/* An interleaved image buffer: `channels` samples per pixel (1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA), rows `stride` bytes apart (stride >= width * channels * sample size). */
typedef struct {
    void *data;
    int32_t width;
    int32_t height;
    int32_t channels;
    dn_sample_type type;
    size_t stride;
} dn_image;

/* Progress: called on the calling thread with the fraction done (0..1). Return non-zero to
 * cancel; the call then returns DN_ERROR_CANCELLED and writes nothing. */
typedef int (*dn_progress_fn)(float fraction, void *user);

/* The noise a dn_dct_denoise call removes. */
typedef enum {
    DN_NOISE_GAUSSIAN = 0,         /* additive white Gaussian noise of level sigma */
    DN_NOISE_POISSON = 1,          /* photon noise: poisson_peak counts at white */
    DN_NOISE_POISSON_GAUSSIAN = 2, /* photon noise plus Gaussian read noise of level sigma */
    DN_NOISE_IMPULSE = 3,          /* salt and pepper: only the impulses are restored */
    DN_NOISE_AUTO = 4,             /* whichever the image shows, levels measured (the default);
                                      with sigma > 0: Gaussian of that level */
    DN_NOISE_CAMERA = 5            /* since 0.3: a camera photo's noise (demosaiced, colour-processed,
                                      JPEG-compressed), measured per scale and colour channel */
} dn_noise_model;

#define DN_MAX_SCALES 6

/* A noise model with its levels, as dn_measure_noise finds it and dn_dct_denoise can take it
 * (since 0.3). Fill with dn_noise_levels_init first. */
typedef struct {
    size_t struct_size;            /* set by dn_noise_levels_init */
    dn_noise_model model;          /* GAUSSIAN, POISSON_GAUSSIAN, IMPULSE or CAMERA */
    float sigma;                   /* GAUSSIAN: the level; POISSON_GAUSSIAN: its Gaussian part */
    float poisson_gain;            /* POISSON_GAUSSIAN: variance = poisson_gain * x + sigma^2 */
    int32_t channels;              /* CAMERA: 1 (gray) or 3 (Y, U, V: the decorrelated colour space) */
    int32_t scales;                /* CAMERA: scales filled below, finest first, 1..DN_MAX_SCALES */
    float camera[DN_MAX_SCALES][3]; /* CAMERA: the noise level of each scale and channel */
} dn_noise_levels;

void dn_noise_levels_init(dn_noise_levels *levels);

/* Measures the noise of `image` and picks its model as DN_NOISE_AUTO does: camera noise (its level
 * at each scale of the DCT pyramid, in each colour channel), white Gaussian, Poisson-Gaussian or
 * salt and pepper. All levels on the 0..255 scale. A flat or tiny image reports Gaussian sigma 0. */
dn_status dn_measure_noise(const dn_image *image, dn_noise_levels *levels);

/* Parameters of the multi-scale DCT denoiser. Fill with dn_dct_params_init() first, then change
 * what you need: fields may be added at the end in later minor versions, and struct_size tells
 * the library which ones the caller knows. */
typedef struct {
    size_t struct_size;      /* set by dn_dct_params_init */
    float sigma;             /* Gaussian noise standard deviation on the 0..255 scale, 0..255;
                                0 = estimate it from the image */
    int32_t patch_size;      /* 8 (default) or 16 */
    int32_t scales;          /* pyramid scales 1..6 (default 4); fewer are used on small images */
    int32_t wiener;          /* non-zero (default): run the second, Wiener step */
    int32_t threads;         /* worker threads, 0 (default) = one per core */
    dn_progress_fn progress; /* may be NULL */
    void *progress_user;
    /* Since 0.2: */
    dn_noise_model noise;    /* default DN_NOISE_AUTO (0.2: DN_NOISE_GAUSSIAN) */
    float poisson_peak;      /* photon counts at white for the Poisson models; 0 (default) = estimate */
    /* Since 0.3: */
    float strength;          /* factor on the noise levels, 0.1..4 (default 1): more or less removal */
    const dn_noise_levels *levels; /* NULL (default) or a model from dn_measure_noise, used instead of
                                      noise/sigma/poisson_peak: e.g. the whole image's, for a preview
                                      or a tile of it */
} dn_dct_params;

/* Library version as "MAJOR.MINOR.PATCH", and as DN_VERSION_NUMBER computes it. */
const char *dn_version(void);
int dn_version_number(void);

/* A message describing the last failure on this thread ("" if none). Valid until the next
 * dn_* call on the same thread. */
const char *dn_last_error(void);

/* A short name for a status code, e.g. "DN_ERROR_CANCELLED". */
const char *dn_status_name(dn_status status);

/* Defaults: sigma 0 and DN_NOISE_AUTO (the noise is measured from the image), patch 8, 4 scales,
 * Wiener on, all cores, no progress, strength 1. Set sigma alone for white Gaussian noise of that
 * level. (0.2 defaulted to sigma 25, Gaussian.) */
void dn_dct_params_init(dn_dct_params *params);

/* Multi-scale DCT denoising (Pierazzo, Morel & Facciolo, IPOL 2017) of `input` into `output`.
 * Both images must have the same width, height, channels and sample type; output may be the same
 * buffer as input (in place). Alpha (the 2nd of 2 or the 4th of 4 channels) is copied unchanged.
 * Poisson models go through the generalised Anscombe transform and its exact unbiased inverse
 * (Makitalo & Foi); DN_NOISE_IMPULSE changes only the samples it detects as impulses. */
dn_status dn_dct_denoise(const dn_image *input, const dn_image *output, const dn_dct_params *params);

/* ---- Noise estimation and image quality ---- */

#define DN_CURVE_POINTS 8

/* What dn_estimate_noise finds, all on the 0..255 scale. */
typedef struct {
    float sigma;                 /* Gaussian noise standard deviation; 0 on a clean image */
    float gain, offset;          /* Poisson-Gaussian fit of the curve: variance = gain * x + offset */
    int32_t signal_dependent;    /* non-zero when the curve clearly grows with intensity */
    int32_t curve_points;        /* points filled below, 0..DN_CURVE_POINTS, dark to bright */
    float curve_intensity[DN_CURVE_POINTS];
    float curve_sigma[DN_CURVE_POINTS];
} dn_noise_estimate;

/* Estimates the noise of `image` from the image alone (flattest-block DCT statistics, aware of
 * the clipping of 8-bit files). Images under 8x8 pixels report sigma 0. */
dn_status dn_estimate_noise(const dn_image *image, dn_noise_estimate *estimate);

/* PSNR in dB (peak 255 on the 0..255 scale; +inf for identical images) and SSIM (Wang et al.
 * 2004: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03; mean over colour channels) of `test`
 * against `reference`: same width, height, channels and sample type; alpha is ignored. SSIM needs
 * at least 11x11 pixels. */
dn_status dn_psnr(const dn_image *reference, const dn_image *test, double *psnr);
dn_status dn_ssim(const dn_image *reference, const dn_image *test, double *ssim);

/* ---- MPRNet (Zamir et al., CVPR 2021): blind denoising with a trained network ---- */

/* A loaded network. Thread-safe to share: dn_mprnet_denoise only reads it. */
typedef struct dn_mprnet dn_mprnet;

/* Loads weights (safetensors, official MPRNet state_dict names, config in the metadata), checking
 * every tensor's name and shape. path NULL: $DENOISE_MPRNET_MODEL, else the model installed with
 * the library (PREFIX/share/denoise/mprnet.safetensors). On success *model must be freed. */
dn_status dn_mprnet_load(const char *path, dn_mprnet **model);
/* Loads a model installed with the library, by name: "default" (what dn_mprnet_load(NULL) loads)
 * or "camera" (PREFIX/share/denoise/mprnet-camera.safetensors, or $DENOISE_MPRNET_CAMERA_MODEL:
 * fine-tuned on camera-pipeline noise, for photos straight from a camera or phone). An unknown
 * name, or a model not installed: DN_ERROR_INVALID_ARGUMENT. (Since 0.4.) */
dn_status dn_mprnet_load_installed(const char *name, dn_mprnet **model);
void dn_mprnet_free(dn_mprnet *model);

typedef enum {
    /* The fastest path within 0.05 dB (PSNR) of float32 on the CPU at hand: bfloat16 convolutions
     * (float sums) on Intel AMX; else, where the CPU has AVX-512 VNNI or AVX-VNNI, the 3x3
     * convolutions of 8 channels or more in int8 (int32 sums); else float32. About 1.3-2x faster
     * than float32. */
    DN_PRECISION_FAST = 0,
    /* float32 throughout: the same numbers as PyTorch to float rounding. */
    DN_PRECISION_FLOAT32 = 1,
} dn_precision;

typedef struct {
    size_t struct_size;      /* set by dn_mprnet_params_init */
    int32_t tile;            /* tile side in pixels (default 512; 0 = whole image at once) */
    int32_t threads;         /* 0 (default) = one per core */
    dn_progress_fn progress; /* may be NULL */
    void *progress_user;
    /* Optional outputs, NULL by default. residual: the removed noise + 128 (in 0..255 terms),
     * 1 or 3 channels as the input's colour; attention: the stage-2 supervised attention map,
     * 1 channel. Both the input's size and sample type. */
    const dn_image *residual;
    const dn_image *attention;
    int32_t precision;       /* DN_PRECISION_FAST (default) or DN_PRECISION_FLOAT32 */
    /* 0..1 (default 1): how much of the luminance noise is removed; below 1, 1 - strength of the
     * luminance of what the network removed is put back (grain, and the fine texture that went
     * with it); colour noise is always removed. (Since 0.3.) */
    float strength;
} dn_mprnet_params;

void dn_mprnet_params_init(dn_mprnet_params *params);

/* Denoises `input` into `output` (same conventions as dn_dct_denoise; gray runs as three equal
 * channels; alpha is copied unchanged). */
dn_status dn_mprnet_denoise(const dn_mprnet *model, const dn_image *input, const dn_image *output,
                            const dn_mprnet_params *params);

/* ---- parameters: what dialogs, bindings and hosts show ----
 * Each filter declares its parameters once, in the library; these calls hand out the
 * declaration, so that a dialog's ranges and defaults are the library's own. */

typedef struct {
    const char *name;         /* the field in the params struct: "sigma", "patch_size", ... */
    const char *description;  /* one sentence, for a tooltip or a help text */
    double default_value;     /* what dn_*_params_init sets */
    double minimum, maximum;  /* the range of allowed values (see choices and extra) */
    int32_t is_integer;
    int32_t choice_count;     /* > 0: within the range only choices[0 .. choice_count) are allowed */
    const double *choices;
    int32_t extra_count;      /* values allowed outside the range, each with its own meaning (tile 0) */
    const double *extra;
} dn_parameter;

/* The declaration of parameter `name` ("sigma", "patch_size", "scales", "threads", "poisson_peak",
 * "strength"; for MPRNet "tile", "threads"), or NULL if there is none of that name. The result
 * lives as long as the library; never free it. */
const dn_parameter *dn_dct_parameter(const char *name);
const dn_parameter *dn_mprnet_parameter(const char *name);

/* Pixels of context around a region that a filter with these parameters reads to treat the
 * region's edge as it treats the inside of the whole image: a host that filters a selection or
 * a preview passes that much more of the image (NULL params: the defaults). Invalid params:
 * DN_ERROR_INVALID_ARGUMENT and *margin untouched. */
dn_status dn_dct_context_margin(const dn_dct_params *params, int32_t *margin);
dn_status dn_mprnet_context_margin(const dn_mprnet_params *params, int32_t *margin);

#ifdef __cplusplus
}
#endif

#endif /* DENOISE_H */
