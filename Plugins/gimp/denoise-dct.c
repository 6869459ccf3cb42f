/* GIMP 2.10 plug-in: Filters > Enhance > Denoise (DCT)...
 *
 * A thin host for libdenoise's multi-scale DCT denoiser. It reads the selected part of the drawable
 * (plus a margin of context) in the perceptual (gamma) encoding at the drawable's precision, calls
 * dn_dct_denoise, and writes the selection back through the shadow buffer, so the change is one
 * undo step, respects the selection mask, and leaves the image untouched on cancel or failure.
 *
 * PDB: plug-in-denoise-dct (run-mode, image, drawable, sigma FLOAT, patch-size INT32, scales INT32)
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <string.h>

#include "denoise.h"

#define PROC "plug-in-denoise-dct"
#define BINARY "denoise-dct"
/* Context read around the selection, so the patches near its edge see real image. */
#define MARGIN 32

typedef struct {
    gdouble sigma;
    gint32 patch_size;
    gint32 scales;
} DctValues;

static DctValues values = { 15.0, 8, 4 };

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN()

static void query(void) {
    static const GimpParamDef args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
        { GIMP_PDB_FLOAT, "sigma", "Noise standard deviation on the 0-255 scale (0-255)" },
        { GIMP_PDB_INT32, "patch-size", "DCT patch size: 8 or 16" },
        { GIMP_PDB_INT32, "scales", "Pyramid scales (1-6; 1 = single scale)" },
    };
    gimp_install_procedure(PROC,
                           "Remove Gaussian noise with multi-scale DCT denoising",
                           "Multi-scale DCT denoising (Pierazzo, Morel & Facciolo, IPOL 2017): sliding-window "
                           "DCT hard thresholding and Wiener filtering on a DCT pyramid. Sigma is the noise "
                           "level on the 0-255 scale whatever the image precision.",
                           "Denoise developers", "Denoise developers", "2026",
                           "Denoise (_DCT)...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(args), 0, args, NULL);
    gimp_plugin_menu_register(PROC, "<Image>/Filters/Enhance");
}

/* The babl format we exchange with GIMP: perceptual, the drawable's channels, at `type`. */
static const Babl *exchange_format(gint32 drawable, dn_sample_type type) {
    gboolean rgb = gimp_drawable_is_rgb(drawable), alpha = gimp_drawable_has_alpha(drawable);
    const char *model = rgb ? (alpha ? "R'G'B'A" : "R'G'B'") : (alpha ? "Y'A" : "Y'");
    const char *kind = type == DN_U8 ? "u8" : type == DN_U16 ? "u16" : "float";
    char name[32];
    g_snprintf(name, sizeof name, "%s %s", model, kind);
    return babl_format(name);
}

static dn_sample_type sample_type_for(gint32 image) {
    switch (gimp_image_get_precision(image)) {
    case GIMP_PRECISION_U8_LINEAR:
    case GIMP_PRECISION_U8_GAMMA: return DN_U8;
    case GIMP_PRECISION_U16_LINEAR:
    case GIMP_PRECISION_U16_GAMMA: return DN_U16;
    default: return DN_F32;
    }
}

static int report_progress(float fraction, void *user) {
    (void)user;
    gimp_progress_update(fraction);
    return 0;
}

/* Denoises the drawable's region (x, y, w, h) read with MARGIN of context. On success writes the
 * region into `out` (a buffer of w*h pixels in `format`) and returns DN_OK. */
static dn_status denoise_region(GeglBuffer *src, const Babl *format, dn_sample_type type, gint dw, gint dh,
                                gint x, gint y, gint w, gint h, guchar *out, gboolean progress) {
    gint x0 = MAX(0, x - MARGIN), y0 = MAX(0, y - MARGIN);
    gint x1 = MIN(dw, x + w + MARGIN), y1 = MIN(dh, y + h + MARGIN);
    gint cw = x1 - x0, ch = y1 - y0;
    gint bpp = babl_format_get_bytes_per_pixel(format);
    guchar *buf = g_try_malloc((gsize)cw * ch * bpp);
    if (!buf) return DN_ERROR_OUT_OF_MEMORY;
    gegl_buffer_get(src, GEGL_RECTANGLE(x0, y0, cw, ch), 1.0, format, buf, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);

    dn_image img = { buf, cw, ch, babl_format_get_n_components(format), type, (size_t)cw * bpp };
    dn_dct_params p;
    dn_dct_params_init(&p);
    p.sigma = (float)values.sigma;
    p.patch_size = values.patch_size;
    p.scales = values.scales;
    if (progress) p.progress = report_progress;
    dn_status st = dn_dct_denoise(&img, &img, &p);
    if (st == DN_OK) {
        for (gint row = 0; row < h; row++)
            memcpy(out + (gsize)row * w * bpp, buf + ((gsize)(y - y0 + row) * cw + (x - x0)) * bpp, (gsize)w * bpp);
    }
    g_free(buf);
    return st;
}

static dn_status apply(gint32 image, gint32 drawable) {
    gint x, y, w, h;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) return DN_OK; /* empty selection */
    dn_sample_type type = sample_type_for(image);
    const Babl *format = exchange_format(drawable, type);
    gint bpp = babl_format_get_bytes_per_pixel(format);
    guchar *out = g_try_malloc((gsize)w * h * bpp);
    if (!out) return DN_ERROR_OUT_OF_MEMORY;

    gimp_progress_init("Denoise (DCT)");
    GeglBuffer *src = gimp_drawable_get_buffer(drawable);
    dn_status st = denoise_region(src, format, type, gimp_drawable_width(drawable), gimp_drawable_height(drawable),
                                  x, y, w, h, out, TRUE);
    if (st == DN_OK) {
        GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
        gegl_buffer_set(shadow, GEGL_RECTANGLE(x, y, w, h), 0, format, out, GEGL_AUTO_ROWSTRIDE);
        g_object_unref(shadow);
        gimp_drawable_merge_shadow(drawable, TRUE);
        gimp_drawable_update(drawable, x, y, w, h);
    }
    g_object_unref(src);
    g_free(out);
    gimp_progress_update(1.0);
    return st;
}

/* ---- dialog ---- */

static void update_preview(GimpPreview *preview, gpointer drawable_ptr) {
    gint32 drawable = GPOINTER_TO_INT(drawable_ptr);
    gint x, y, w, h;
    gimp_preview_get_position(preview, &x, &y);
    gimp_preview_get_size(preview, &w, &h);
    const Babl *format = exchange_format(drawable, DN_U8); /* the preview area draws 8-bit */
    guchar *out = g_malloc((gsize)w * h * babl_format_get_bytes_per_pixel(format));
    GeglBuffer *src = gimp_drawable_get_buffer(drawable);
    if (denoise_region(src, format, DN_U8, gimp_drawable_width(drawable), gimp_drawable_height(drawable),
                       x, y, w, h, out, FALSE) == DN_OK)
        gimp_preview_draw_buffer(preview, out, w * babl_format_get_bytes_per_pixel(format));
    g_object_unref(src);
    g_free(out);
}

static void patch_changed(GtkWidget *combo, gpointer preview) {
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &values.patch_size);
    gimp_preview_invalidate(GIMP_PREVIEW(preview));
}

static gboolean show_dialog(gint32 drawable) {
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

    GtkWidget *table = gtk_table_new(3, 3, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 6);
    gtk_table_set_row_spacings(GTK_TABLE(table), 6);
    gtk_box_pack_start(GTK_BOX(vbox), table, FALSE, FALSE, 0);

    GtkObject *sigma = gimp_scale_entry_new(GTK_TABLE(table), 0, 0, "_Sigma:", 200, 6, values.sigma,
                                            0.0, 100.0, 0.5, 5.0, 1, TRUE, 0.0, 255.0,
                                            "Noise level on the 0-255 scale", NULL);
    g_signal_connect(sigma, "value-changed", G_CALLBACK(gimp_double_adjustment_update), &values.sigma);
    g_signal_connect_swapped(sigma, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);

    GtkObject *scales = gimp_scale_entry_new(GTK_TABLE(table), 0, 1, "S_cales:", 200, 6, values.scales,
                                             1, 6, 1, 1, 0, TRUE, 0, 0, "Pyramid scales (1 = single scale)", NULL);
    g_signal_connect(scales, "value-changed", G_CALLBACK(gimp_int_adjustment_update), &values.scales);
    g_signal_connect_swapped(scales, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);

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

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret) {
    static GimpParam rv[2];
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    GimpRunMode mode = param[0].data.d_int32;
    gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    (void)name;
    gegl_init(NULL, NULL);
    *nreturn = 1;
    *ret = rv;

    switch (mode) {
    case GIMP_RUN_INTERACTIVE:
        gimp_get_data(PROC, &values);
        if (!show_dialog(drawable)) status = GIMP_PDB_CANCEL;
        break;
    case GIMP_RUN_NONINTERACTIVE:
        if (nparams != 6) {
            status = GIMP_PDB_CALLING_ERROR;
        } else {
            values.sigma = param[3].data.d_float;
            values.patch_size = param[4].data.d_int32;
            values.scales = param[5].data.d_int32;
        }
        break;
    case GIMP_RUN_WITH_LAST_VALS:
        gimp_get_data(PROC, &values);
        break;
    }

    if (status == GIMP_PDB_SUCCESS) {
        gimp_image_undo_group_start(image);
        dn_status st = apply(image, drawable);
        gimp_image_undo_group_end(image);
        if (st != DN_OK) {
            status = GIMP_PDB_EXECUTION_ERROR;
            *nreturn = 2;
            rv[1].type = GIMP_PDB_STRING;
            rv[1].data.d_string = (gchar *)dn_last_error();
        } else {
            if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
            gimp_set_data(PROC, &values, sizeof values); /* "last values" are the last used */
        }
    }
    rv[0].type = GIMP_PDB_STATUS;
    rv[0].data.d_status = status;
}
