/* GIMP 2.10 plug-in: Filters > Enhance > Denoise (DCT)...
 *
 * A thin host for libdenoise's multi-scale DCT denoiser. It reads the selected part of the drawable
 * (plus a margin of context) in the perceptual (gamma) encoding at the drawable's precision, calls
 * dn_dct_denoise, and writes the selection back through the shadow buffer, so the change is one
 * undo step, respects the selection mask, and leaves the image untouched on cancel or failure.
 *
 * PDB: plug-in-denoise-dct (run-mode, image, drawable, sigma FLOAT, patch-size INT32, scales INT32)
 *      plug-in-denoise-dct-noise (run-mode, image, drawable, noise INT32, sigma FLOAT, poisson-peak FLOAT,
 *                                 patch-size INT32, scales INT32)
 *      plug-in-denoise-dct-auto (run-mode, image, drawable, strength FLOAT)
 *      plug-in-denoise-estimate (run-mode, image, drawable) -> sigma FLOAT
 * A sigma (or peak) of 0 means "measure it from the image"; sigma 0 in plug-in-denoise-dct measures
 * the whole noise model (camera noise per scale and channel, or white, Poisson, salt and pepper).
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <math.h>
#include <string.h>

#include "denoise.h"
#include "region.h"

#define PROC "plug-in-denoise-dct"
#define PROC_NOISE "plug-in-denoise-dct-noise"
#define PROC_AUTO "plug-in-denoise-dct-auto"
#define PROC_ESTIMATE "plug-in-denoise-estimate"
#define BINARY "denoise-dct"

typedef struct {
    gdouble sigma;
    gint32 patch_size;
    gint32 scales;
    gint32 noise;        /* dn_noise_model */
    gboolean auto_sigma; /* measure the noise (dialog) */
    gdouble peak;        /* Poisson counts at white, 0 = estimate */
    gdouble strength;    /* factor on the noise levels */
} DctValues;

/* Set from the library's defaults (dn_dct_params_init) in run(): blind, strength 1. */
static DctValues values;
/* The dialog's measurement of the selection, used by the preview when automatic (the preview
 * sees only a corner of it). */
static dn_noise_levels measured;
static gboolean have_measured = FALSE;

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN()

static const dn_parameter *parameter(const char *name) { return region_parameter(dn_dct_parameter(name)); }

static void query(void) {
    /* The parameters' texts are the library's declarations (freed when the plug-in exits). */
    gchar *sigma_help = region_parameter_help(parameter("sigma"));
    gchar *patch_help = region_parameter_help(parameter("patch_size"));
    gchar *scales_help = region_parameter_help(parameter("scales"));
    gchar *peak_help = region_parameter_help(parameter("poisson_peak"));
    gchar *strength_help = region_parameter_help(parameter("strength"));
    const GimpParamDef args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
        { GIMP_PDB_FLOAT, "sigma", sigma_help },
        { GIMP_PDB_INT32, "patch-size", patch_help },
        { GIMP_PDB_INT32, "scales", scales_help },
    };
    gimp_install_procedure(PROC,
                           "Remove Gaussian noise with multi-scale DCT denoising",
                           "Multi-scale DCT denoising (Pierazzo, Morel & Facciolo, IPOL 2017): sliding-window "
                           "DCT hard thresholding and Wiener filtering on a DCT pyramid. Sigma is the white "
                           "noise level on the 0-255 scale whatever the image precision; 0 measures the noise "
                           "from the image (a camera photo's at each scale and colour channel).",
                           "Denoise developers", "Denoise developers", "2026",
                           "Denoise (_DCT)...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(args), 0, args, NULL);
    gimp_plugin_menu_register(PROC, "<Image>/Filters/Enhance");

    const GimpParamDef noise_args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
        { GIMP_PDB_INT32, "noise", "Noise model { GAUSSIAN (0), POISSON (1), POISSON-GAUSSIAN (2), IMPULSE (3), AUTO (4), CAMERA (5) }" },
        { GIMP_PDB_FLOAT, "sigma", sigma_help },
        { GIMP_PDB_FLOAT, "poisson-peak", peak_help },
        { GIMP_PDB_INT32, "patch-size", patch_help },
        { GIMP_PDB_INT32, "scales", scales_help },
    };
    gimp_install_procedure(PROC_NOISE,
                           "Remove Gaussian, Poisson or salt-and-pepper noise with the DCT denoiser",
                           "The multi-scale DCT denoiser under a noise model: Gaussian, Poisson and "
                           "Poisson-Gaussian through the generalised Anscombe transform with the exact unbiased "
                           "inverse, salt and pepper by restoring only the impulses, or automatic.",
                           "Denoise developers", "Denoise developers", "2026",
                           NULL, "RGB*, GRAY*", GIMP_PLUGIN, G_N_ELEMENTS(noise_args), 0, noise_args, NULL);

    const GimpParamDef auto_args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
        { GIMP_PDB_FLOAT, "strength", strength_help },
    };
    gimp_install_procedure(PROC_AUTO,
                           "Remove the noise the image holds, measured from it, with the DCT denoiser",
                           "Blind multi-scale DCT denoising: the noise model is measured from the selection "
                           "(a camera photo's noise at each scale and colour channel, or white, Poisson or "
                           "salt-and-pepper noise) and its levels multiplied by strength.",
                           "Denoise developers", "Denoise developers", "2026",
                           NULL, "RGB*, GRAY*", GIMP_PLUGIN, G_N_ELEMENTS(auto_args), 0, auto_args, NULL);

    static const GimpParamDef estimate_return[] = {
        { GIMP_PDB_FLOAT, "sigma", "Estimated Gaussian noise level on the 0-255 scale" },
    };
    gimp_install_procedure(PROC_ESTIMATE,
                           "Estimate the noise level of a drawable",
                           "The Gaussian noise standard deviation (0-255 scale) of the selected part of the "
                           "drawable, estimated from the image alone.",
                           "Denoise developers", "Denoise developers", "2026",
                           NULL, "RGB*, GRAY*", GIMP_PLUGIN, 3, G_N_ELEMENTS(estimate_return), args,
                           estimate_return);
    g_free(sigma_help);
    g_free(patch_help);
    g_free(scales_help);
    g_free(peak_help);
    g_free(strength_help);
}

/* Reads the selected part of the drawable, at most `max_pixels` pixels at its centre (0: all of
 * it). FALSE if the selection is empty or cannot be read (then *status says why, or DN_OK). */
static gboolean read_selection(gint32 image, gint32 drawable, gint64 max_pixels, Region *r, dn_status *status) {
    gint x, y, w, h;
    *status = DN_OK;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) return FALSE;
    if (max_pixels > 0 && (gint64)w * h > max_pixels) {
        gdouble k = sqrt((gdouble)max_pixels / ((gdouble)w * h));
        gint cw = MAX(8, (gint)(w * k)), ch = MAX(8, (gint)(h * k));
        x += (w - cw) / 2;
        y += (h - ch) / 2;
        w = cw;
        h = ch;
    }
    if (!region_read(drawable, region_sample_type(image), x, y, w, h, 0, r)) {
        *status = DN_ERROR_OUT_OF_MEMORY;
        return FALSE;
    }
    return TRUE;
}

/* The white-noise level of the selection (0 if empty, -1 on failure). */
static gdouble estimate(gint32 image, gint32 drawable, dn_status *status) {
    Region r;
    dn_noise_estimate e;
    if (!read_selection(image, drawable, 0, &r, status)) return *status == DN_OK ? 0 : -1;
    *status = dn_estimate_noise(&r.image, &e);
    region_free(&r);
    return *status == DN_OK ? e.sigma : -1;
}

/* The dialog's measurement: the noise model of (a 2-megapixel centre of) the selection. */
static gboolean measure(gint32 image, gint32 drawable) {
    Region r;
    dn_status st;
    dn_noise_levels_init(&measured);
    if (!read_selection(image, drawable, 2 << 20, &r, &st)) return FALSE;
    st = dn_measure_noise(&r.image, &measured);
    region_free(&r);
    return st == DN_OK;
}

/* What the measurement found, for the dialog: "camera noise, Y 3.2 2.0 1.6 0.9" and the like. */
static gchar *describe_measured(void) {
    switch (measured.model) {
    case DN_NOISE_CAMERA: {
        GString *s = g_string_new("camera noise by scale:");
        for (int i = 0; i < MIN(measured.scales, 4); i++) g_string_append_printf(s, " %.1f", measured.camera[i][0]);
        return g_string_free(s, FALSE);
    }
    case DN_NOISE_POISSON_GAUSSIAN:
        return g_strdup_printf("photon noise, peak %.0f", measured.poisson_gain > 0 ? 255 / measured.poisson_gain : 0);
    case DN_NOISE_IMPULSE: return g_strdup("salt and pepper");
    default: return g_strdup_printf("white noise, sigma %.1f", measured.sigma);
    }
}

/* The library's parameters for the current values. */
static dn_dct_params current_params(gboolean progress) {
    dn_dct_params p;
    dn_dct_params_init(&p);
    /* Automatic: sigma 0 lets the library measure what it is given; the preview, which sees only a
     * corner, uses the measurement of the whole selection. */
    p.sigma = values.auto_sigma ? 0.0f : (float)values.sigma;
    p.patch_size = values.patch_size;
    p.scales = values.scales;
    p.noise = (dn_noise_model)values.noise;
    p.poisson_peak = (float)values.peak;
    p.strength = (float)values.strength;
    if (values.auto_sigma && values.noise == DN_NOISE_AUTO && !progress && have_measured) p.levels = &measured;
    if (progress) p.progress = region_progress;
    return p;
}

/* The context the filter needs around a region under the current values (0 if they are invalid:
 * dn_dct_denoise then says why). */
static gint margin(void) {
    dn_dct_params p = current_params(FALSE);
    int32_t m = 0;
    return dn_dct_context_margin(&p, &m) == DN_OK ? m : 0;
}

/* Denoises the region in place with the current values. */
static dn_status denoise(Region *r, gboolean progress) {
    dn_dct_params p = current_params(progress);
    return dn_dct_denoise(&r->image, &r->image, &p);
}

static dn_status apply(gint32 image, gint32 drawable) {
    gint x, y, w, h;
    Region r;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) return DN_OK; /* empty selection */
    if (!region_read(drawable, region_sample_type(image), x, y, w, h, margin(), &r)) return DN_ERROR_OUT_OF_MEMORY;
    gimp_progress_init("Denoise (DCT)");
    dn_status st = denoise(&r, TRUE);
    if (st == DN_OK) region_commit(drawable, &r);
    region_free(&r);
    gimp_progress_update(1.0);
    return st;
}

/* ---- dialog ---- */

static void update_preview(GimpPreview *preview, gpointer drawable_ptr) {
    gint32 drawable = GPOINTER_TO_INT(drawable_ptr);
    gint x, y, w, h;
    Region r;
    gimp_preview_get_position(preview, &x, &y);
    gimp_preview_get_size(preview, &w, &h);
    /* The preview area draws 8-bit data. */
    if (!region_read(drawable, DN_U8, x, y, w, h, margin(), &r)) return;
    if (denoise(&r, FALSE) == DN_OK) {
        guchar *out = region_target(&r);
        gimp_preview_draw_buffer(preview, out, w * r.image.channels);
        g_free(out);
    }
    region_free(&r);
}

static void patch_changed(GtkWidget *combo, gpointer preview) {
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &values.patch_size);
    gimp_preview_invalidate(GIMP_PREVIEW(preview));
}

static void noise_changed(GtkWidget *combo, gpointer preview) {
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &values.noise);
    gimp_preview_invalidate(GIMP_PREVIEW(preview));
}

static GtkWidget *sigma_widgets[3]; /* label, scale, spin button: insensitive when automatic */

static void auto_toggled(GtkToggleButton *button, gpointer preview) {
    values.auto_sigma = gtk_toggle_button_get_active(button);
    for (int i = 0; i < 3; i++) gtk_widget_set_sensitive(sigma_widgets[i], !values.auto_sigma);
    gimp_preview_invalidate(GIMP_PREVIEW(preview));
}

/* The measurement as one white-noise level, where the manual sigma starts. */
static gdouble measured_sigma(void) {
    if (measured.model == DN_NOISE_CAMERA && measured.scales > 0) return measured.camera[0][0];
    return measured.sigma;
}

static gboolean show_dialog(gint32 image, gint32 drawable) {
    /* A 2-megapixel sample is plenty for the statistics and keeps the dialog quick on big photos. */
    have_measured = measure(image, drawable);
    gimp_ui_init(BINARY, FALSE);
    GtkWidget *dialog = gimp_dialog_new("Denoise (DCT)", BINARY, NULL, 0, gimp_standard_help_func, PROC,
                                        "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));

    GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), vbox, TRUE, TRUE, 0);

    GtkWidget *preview = gimp_drawable_preview_new_from_drawable_id(drawable);
    gtk_box_pack_start(GTK_BOX(vbox), preview, TRUE, TRUE, 0);
    g_signal_connect(preview, "invalidated", G_CALLBACK(update_preview), GINT_TO_POINTER(drawable));

    GtkWidget *table = gtk_table_new(6, 3, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 6);
    gtk_table_set_row_spacings(GTK_TABLE(table), 6);
    gtk_box_pack_start(GTK_BOX(vbox), table, FALSE, FALSE, 0);

    /* Manual sigma starts at the level measured, the widgets' ranges are the library's. */
    if (!(values.sigma > 0) && have_measured) values.sigma = measured_sigma();
    const dn_parameter *ps = parameter("sigma"), *pc = parameter("scales"), *pt = parameter("strength");
    gchar *help = region_parameter_help(ps);
    GtkObject *sigma = gimp_scale_entry_new(GTK_TABLE(table), 0, 0, "_Sigma:", 200, 6, values.sigma,
                                            ps->minimum, MIN(ps->maximum, 100.0), 0.5, 5.0, 1, FALSE,
                                            ps->minimum, ps->maximum, help, NULL);
    g_free(help);
    g_signal_connect(sigma, "value-changed", G_CALLBACK(gimp_double_adjustment_update), &values.sigma);
    g_signal_connect_swapped(sigma, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);
    sigma_widgets[0] = GIMP_SCALE_ENTRY_LABEL(sigma);
    sigma_widgets[1] = GIMP_SCALE_ENTRY_SCALE(sigma);
    sigma_widgets[2] = GIMP_SCALE_ENTRY_SPINBUTTON(sigma);

    gchar *found = have_measured ? describe_measured() : g_strdup("not measured");
    gchar *text = g_strdup_printf("_Automatic (%s)", found);
    GtkWidget *automatic = gtk_check_button_new_with_mnemonic(text);
    g_free(text);
    g_free(found);
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(automatic), values.auto_sigma);
    gtk_table_attach(GTK_TABLE(table), automatic, 1, 3, 3, 4, GTK_FILL, GTK_FILL, 0, 0);
    g_signal_connect(automatic, "toggled", G_CALLBACK(auto_toggled), preview);
    auto_toggled(GTK_TOGGLE_BUTTON(automatic), preview);

    GtkWidget *noise = gimp_int_combo_box_new("Automatic", DN_NOISE_AUTO, "Camera", DN_NOISE_CAMERA,
                                              "Gaussian", DN_NOISE_GAUSSIAN, "Poisson (photon)", DN_NOISE_POISSON,
                                              "Salt and pepper", DN_NOISE_IMPULSE, NULL);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(noise), values.noise);
    g_signal_connect(noise, "changed", G_CALLBACK(noise_changed), preview);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, 4, "_Noise:", 0.0, 0.5, noise, 2, FALSE);

    help = region_parameter_help(pc);
    GtkObject *scales = gimp_scale_entry_new(GTK_TABLE(table), 0, 1, "S_cales:", 200, 6, values.scales,
                                             pc->minimum, pc->maximum, 1, 1, 0, TRUE, 0, 0, help, NULL);
    g_free(help);
    g_signal_connect(scales, "value-changed", G_CALLBACK(gimp_int_adjustment_update), &values.scales);
    g_signal_connect_swapped(scales, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);

    help = region_parameter_help(pt);
    GtkObject *strength = gimp_scale_entry_new(GTK_TABLE(table), 0, 5, "S_trength:", 200, 6, values.strength,
                                               pt->minimum, pt->maximum, 0.05, 0.25, 2, TRUE, 0, 0, help, NULL);
    g_free(help);
    g_signal_connect(strength, "value-changed", G_CALLBACK(gimp_double_adjustment_update), &values.strength);
    g_signal_connect_swapped(strength, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);

    GtkWidget *combo = gimp_int_combo_box_new("8 x 8", 8, "16 x 16", 16, NULL);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(combo), values.patch_size);
    g_signal_connect(combo, "changed", G_CALLBACK(patch_changed), preview);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "_Patch size:", 0.0, 0.5, combo, 2, FALSE);

    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;
    gtk_widget_destroy(dialog);
    return ok;
}

/* ---- entry point ---- */

/* The library's defaults, before the last values (if any) replace them. */
static void defaults(void) {
    dn_dct_params p;
    dn_dct_params_init(&p);
    values = (DctValues){ p.sigma, p.patch_size, p.scales, p.noise, p.sigma == 0, p.poisson_peak, p.strength };
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret) {
    static GimpParam rv[2];
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    GimpRunMode mode = param[0].data.d_int32;
    gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    gegl_init(NULL, NULL);
    defaults();
    *nreturn = 1;
    *ret = rv;

    if (strcmp(name, PROC_ESTIMATE) == 0) {
        static GimpParam est[2];
        dn_status st;
        gdouble sigma = estimate(image, drawable, &st);
        *ret = est;
        est[0].type = GIMP_PDB_STATUS;
        est[0].data.d_status = st == DN_OK ? GIMP_PDB_SUCCESS : GIMP_PDB_EXECUTION_ERROR;
        est[1].type = st == DN_OK ? GIMP_PDB_FLOAT : GIMP_PDB_STRING;
        if (st == DN_OK) est[1].data.d_float = sigma;
        else est[1].data.d_string = (gchar *)dn_last_error();
        *nreturn = 2;
        return;
    }

    switch (mode) {
    case GIMP_RUN_INTERACTIVE:
        gimp_get_data(PROC, &values);
        if (!(values.strength > 0)) values.strength = 1.0;
        if (!show_dialog(image, drawable)) status = GIMP_PDB_CANCEL;
        break;
    case GIMP_RUN_NONINTERACTIVE:
        if (strcmp(name, PROC_NOISE) == 0 && nparams == 8) {
            values.noise = param[3].data.d_int32;
            values.sigma = param[4].data.d_float;
            values.peak = param[5].data.d_float;
            values.patch_size = param[6].data.d_int32;
            values.scales = param[7].data.d_int32;
        } else if (strcmp(name, PROC) == 0 && nparams == 6) {
            values.noise = DN_NOISE_AUTO; /* with a sigma: Gaussian of that level */
            values.sigma = param[3].data.d_float;
            values.peak = 0;
            values.patch_size = param[4].data.d_int32;
            values.scales = param[5].data.d_int32;
        } else if (strcmp(name, PROC_AUTO) == 0 && nparams == 4) {
            values.noise = DN_NOISE_AUTO;
            values.sigma = 0;
            values.peak = 0;
            values.strength = param[3].data.d_float;
        } else {
            status = GIMP_PDB_CALLING_ERROR;
        }
        values.auto_sigma = FALSE; /* sigma 0 asks the library to estimate */
        break;
    case GIMP_RUN_WITH_LAST_VALS:
        gimp_get_data(PROC, &values);
        if (!(values.strength > 0)) values.strength = 1.0;
        break;
    }

    if (status == GIMP_PDB_SUCCESS) {
        status = region_run(image, drawable, apply, nreturn, rv);
        if (status == GIMP_PDB_SUCCESS) {
            if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
            gimp_set_data(PROC, &values, sizeof values); /* "last values" are the last used */
        }
    }
    rv[0].type = GIMP_PDB_STATUS;
    rv[0].data.d_status = status;
}
