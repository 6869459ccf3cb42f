/* GIMP 2.10 plug-in: Filters > Enhance > Denoise (MPRNet)...
 *
 * Blind denoising with libdenoise's MPRNet network: no noise level to set, a strength to keep some
 * luminance grain. The dialog previews the result on the visible part of the image, rendered on a
 * worker thread (the dialog stays responsive; a change restarts it), and can also add the removed
 * noise and the network's stage-2 attention map as new layers, to see what it did.
 * The model is the one installed beside the plug-in, or $DENOISE_MPRNET_MODEL; the "camera photos"
 * entry runs the fine-tune for camera noise (mprnet-camera.safetensors, or $DENOISE_MPRNET_CAMERA_MODEL).
 *
 * PDB: plug-in-denoise-mprnet (run-mode, image, drawable)
 *      plug-in-denoise-mprnet-strength (run-mode, image, drawable, strength FLOAT)
 *      plug-in-denoise-mprnet-camera (run-mode, image, drawable, strength FLOAT)
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <limits.h>
#include <malloc.h>
#include <string.h>

#include "denoise.h"
#include "region.h"

#define PROC "plug-in-denoise-mprnet"
#define PROC_STRENGTH "plug-in-denoise-mprnet-strength"
#define PROC_CAMERA "plug-in-denoise-mprnet-camera"
#define BINARY "denoise-mprnet"

typedef struct {
    gboolean residual_layer;
    gboolean attention_layer;
    gdouble strength; /* 0..1, the library's default 1 */
} MprnetValues;

static MprnetValues values = { FALSE, FALSE, 1.0 };
/* The installed model this run uses (dn_mprnet_load_installed), and where its last values are kept. */
static const char *model_name = "default";
static const char *values_key = PROC;

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN()

static const dn_parameter *parameter(const char *name) { return region_parameter(dn_mprnet_parameter(name)); }

static void query(void) {
    gchar *strength_help = region_parameter_help(parameter("strength"));
    const GimpParamDef args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
        { GIMP_PDB_FLOAT, "strength", strength_help },
    };
    gimp_install_procedure(PROC,
                           "Remove noise with the MPRNet network (blind: no noise level needed)",
                           "Multi-Stage Progressive Image Restoration (Zamir et al., CVPR 2021) trained for "
                           "Gaussian and Poisson-Gaussian noise of unknown level. The dialog can add the removed "
                           "noise and the attention map as new layers.",
                           "Denoise developers", "Denoise developers", "2026",
                           "Denoise (_MPRNet)...", "RGB*, GRAY*", GIMP_PLUGIN,
                           3, 0, args, NULL);
    gimp_plugin_menu_register(PROC, "<Image>/Filters/Enhance");
    gimp_install_procedure(PROC_CAMERA,
                           "Remove the noise of camera photos with the MPRNet network",
                           "MPRNet fine-tuned on camera-pipeline noise (demosaiced, colour-processed, "
                           "JPEG-compressed): for photos straight from a camera or phone. Strength as in "
                           PROC_STRENGTH ".",
                           "Denoise developers", "Denoise developers", "2026",
                           "Denoise (MPRNet, _camera photos)...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(args), 0, args, NULL);
    gimp_plugin_menu_register(PROC_CAMERA, "<Image>/Filters/Enhance");
    gimp_install_procedure(PROC_STRENGTH,
                           "Remove noise with the MPRNet network, keeping some luminance grain",
                           "MPRNet denoising at a strength: 1 is the network's result; below 1, 1 - strength of "
                           "the luminance of the removed noise is put back (grain, and the fine texture that "
                           "went with it); colour noise is always removed.",
                           "Denoise developers", "Denoise developers", "2026",
                           NULL, "RGB*, GRAY*", GIMP_PLUGIN, G_N_ELEMENTS(args), 0, args, NULL);
    g_free(strength_help);
}

/* A new layer over the drawable's target rectangle, filled from `img` (channels 1 or 3). */
static void add_layer(gint32 image, gint32 drawable, const Region *r, const dn_image *img, const char *name) {
    gint ox, oy;
    gimp_drawable_offsets(drawable, &ox, &oy);
    GimpImageType type = gimp_image_base_type(image) == GIMP_GRAY ? GIMP_GRAY_IMAGE : GIMP_RGB_IMAGE;
    gint32 layer = gimp_layer_new(image, name, r->w, r->h, type, 100, GIMP_LAYER_MODE_NORMAL);
    gimp_image_insert_layer(image, layer, 0, -1);
    gimp_layer_set_offsets(layer, ox + r->x, oy + r->y);
    const char *kind = img->type == DN_U8 ? "u8" : img->type == DN_U16 ? "u16" : "float";
    char fmt[32];
    g_snprintf(fmt, sizeof fmt, "%s %s", img->channels == 3 ? "R'G'B'" : "Y'", kind);
    GeglBuffer *buf = gimp_drawable_get_buffer(layer);
    gint bpp = babl_format_get_bytes_per_pixel(babl_format(fmt));
    const guchar *src = (const guchar *)img->data + (gsize)(r->y - r->y0) * img->stride + (gsize)(r->x - r->x0) * bpp;
    gegl_buffer_set(buf, GEGL_RECTANGLE(0, 0, r->w, r->h), 0, babl_format(fmt), src, (gint)img->stride);
    g_object_unref(buf);
}

static dn_status apply(gint32 image, gint32 drawable) {
    gint x, y, w, h;
    Region r;
    dn_mprnet *net = NULL;
    dn_status st = dn_mprnet_load_installed(model_name, &net);
    if (st != DN_OK) return st;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) { dn_mprnet_free(net); return DN_OK; }
    /* Context around the selection, as much as the network reports it needs. */
    int32_t margin = 0;
    dn_mprnet_context_margin(NULL, &margin);
    if (!region_read(drawable, region_sample_type(image), x, y, w, h, margin, &r)) {
        dn_mprnet_free(net);
        return DN_ERROR_OUT_OF_MEMORY;
    }
    dn_image res = r.image, att = r.image;
    gint size = r.image.type == DN_U8 ? 1 : r.image.type == DN_U16 ? 2 : 4;
    res.channels = r.image.channels >= 3 ? 3 : 1;
    res.stride = (size_t)r.image.width * res.channels * size;
    att.channels = 1;
    att.stride = (size_t)r.image.width * size;
    res.data = values.residual_layer ? g_malloc(res.stride * r.image.height) : NULL;
    att.data = values.attention_layer ? g_malloc(att.stride * r.image.height) : NULL;

    dn_mprnet_params p;
    dn_mprnet_params_init(&p);
    p.strength = (float)values.strength;
    p.progress = region_progress;
    if (res.data) p.residual = &res;
    if (att.data) p.attention = &att;
    gimp_progress_init(strcmp(model_name, "camera") == 0 ? "Denoise (MPRNet, camera photos)" : "Denoise (MPRNet)");
    st = dn_mprnet_denoise(net, &r.image, &r.image, &p);
    if (st == DN_OK) {
        region_commit(drawable, &r);
        if (res.data) add_layer(image, drawable, &r, &res, "Removed noise (MPRNet, +128)");
        if (att.data) add_layer(image, drawable, &r, &att, "Attention (MPRNet stage 2)");
    }
    g_free(res.data);
    g_free(att.data);
    region_free(&r);
    dn_mprnet_free(net);
    gimp_progress_update(1.0);
    return st;
}

/* ---- dialog: the preview, rendered on a worker thread ---- */

/* One dialog at a time; static so that a worker's late reply finds it (and sees it closed). */
static struct {
    gboolean open;
    dn_mprnet *net;         /* loaded once for the previews */
    GimpPreview *preview;
    GtkWidget *bar;         /* the render's progress */
    gint32 drawable;
    GThread *worker;        /* the render in flight, or NULL */
    gboolean pending;       /* a request came while it ran */
    gint generation;        /* atomic: bumped by each request; an older render stops */
    gint permille;          /* atomic: the render's progress */
} dialog_state;

typedef struct {
    gint generation;
    Region region;
    gfloat strength;
    dn_status status;
    gchar *error;
} Render;

static int render_progress(float fraction, void *user) {
    Render *r = user;
    g_atomic_int_set(&dialog_state.permille, (gint)(fraction * 1000));
    return g_atomic_int_get(&dialog_state.generation) != r->generation; /* non-zero cancels: a newer request came */
}

static gboolean render_done(gpointer data);

static gpointer render_thread(gpointer data) {
    Render *r = data;
    dn_mprnet_params p;
    dn_mprnet_params_init(&p);
    p.strength = r->strength;
    p.progress = render_progress;
    p.progress_user = r;
    r->status = dn_mprnet_denoise(dialog_state.net, &r->region.image, &r->region.image, &p);
    r->error = g_strdup(dn_last_error()); /* the message is this thread's */
    g_idle_add(render_done, r);
    return NULL;
}

/* Reads the visible area (8-bit, with the network's context) and starts its render. */
static void start_render(void) {
    gint x, y, w, h;

    int32_t margin = 0;
    Render *r = g_new0(Render, 1);
    gimp_preview_get_position(dialog_state.preview, &x, &y);
    gimp_preview_get_size(dialog_state.preview, &w, &h);
    dn_mprnet_context_margin(NULL, &margin);
    if (!region_read(dialog_state.drawable, DN_U8, x, y, w, h, margin, &r->region)) { g_free(r); return; }
    r->generation = g_atomic_int_get(&dialog_state.generation);
    r->strength = (gfloat)values.strength;
    g_atomic_int_set(&dialog_state.permille, 0);
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(dialog_state.bar), "Rendering the preview...");
    dialog_state.worker = g_thread_new("denoise-preview", render_thread, r);
}

/* Back on the main loop: draws the render if it is still the latest, then starts a pending one. */
static gboolean render_done(gpointer data) {
    Render *r = data;
    if (dialog_state.worker) g_thread_join(dialog_state.worker);
    dialog_state.worker = NULL;
    gboolean current = r->generation == g_atomic_int_get(&dialog_state.generation);
    if (dialog_state.open) {
        if (current && r->status == DN_OK) {
            guchar *out = region_target(&r->region);
            gimp_preview_draw_buffer(dialog_state.preview, out, r->region.w * r->region.image.channels);
            g_free(out);
        }
        if (current) gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(dialog_state.bar), 1.0);
        if (current) gtk_progress_bar_set_text(GTK_PROGRESS_BAR(dialog_state.bar), r->status == DN_OK ? "Preview ready" : r->error);
        if (dialog_state.pending) {
            dialog_state.pending = FALSE;
            start_render();
        }
    }
    region_free(&r->region);
    g_free(r->error);
    g_free(r);
    return G_SOURCE_REMOVE;
}

static gboolean update_bar(gpointer unused) {
    (void)unused;
    if (!dialog_state.open) return G_SOURCE_REMOVE;
    if (dialog_state.worker)
        gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(dialog_state.bar), g_atomic_int_get(&dialog_state.permille) / 1000.0);
    return G_SOURCE_CONTINUE;
}

/* The preview's "invalidated": the render in flight (if any) stops at its next tile; this one follows. */
static void request_render(GimpPreview *preview, gpointer unused) {
    (void)preview;
    (void)unused;
    g_atomic_int_inc(&dialog_state.generation);
    if (dialog_state.worker) dialog_state.pending = TRUE;
    else start_render();
}

static gboolean show_dialog(gint32 drawable) {
    gimp_ui_init(BINARY, FALSE);
    gboolean camera = strcmp(model_name, "camera") == 0;
    GtkWidget *dialog = gimp_dialog_new(camera ? "Denoise (MPRNet, camera photos)" : "Denoise (MPRNet)", BINARY, NULL, 0,
                                        gimp_standard_help_func, values_key,
                                        "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));
    GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), vbox, TRUE, TRUE, 0);

    /* Without a model there is no preview; the message says why, and OK reports it again. */
    dialog_state.open = TRUE;
    dialog_state.drawable = drawable;
    dialog_state.net = NULL;
    GtkWidget *preview = NULL;
    if (dn_mprnet_load_installed(model_name, &dialog_state.net) == DN_OK) {
        preview = gimp_drawable_preview_new_from_drawable_id(drawable);
        dialog_state.preview = GIMP_PREVIEW(preview);
        gtk_box_pack_start(GTK_BOX(vbox), preview, TRUE, TRUE, 0);
        dialog_state.bar = gtk_progress_bar_new();
        /* Never empty: a bar whose text comes and goes changes height, which resizes (and so
         * invalidates) the preview, which would render again, without end. */
        gtk_progress_bar_set_text(GTK_PROGRESS_BAR(dialog_state.bar), "Rendering the preview...");
        gtk_box_pack_start(GTK_BOX(vbox), dialog_state.bar, FALSE, FALSE, 0);
        g_signal_connect(preview, "invalidated", G_CALLBACK(request_render), NULL);
        g_timeout_add(100, update_bar, NULL);
    } else {
        gtk_box_pack_start(GTK_BOX(vbox), gtk_label_new(dn_last_error()), FALSE, FALSE, 0);
    }
    gtk_box_pack_start(GTK_BOX(vbox), gtk_label_new("Blind denoising: the network estimates the noise itself."),
                       FALSE, FALSE, 0);

    GtkWidget *table = gtk_table_new(1, 3, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 6);
    gtk_box_pack_start(GTK_BOX(vbox), table, FALSE, FALSE, 0);
    const dn_parameter *ps = parameter("strength");
    gchar *help = region_parameter_help(ps);
    GtkObject *strength = gimp_scale_entry_new(GTK_TABLE(table), 0, 0, "S_trength:", 200, 6, values.strength,
                                               ps->minimum, ps->maximum, 0.05, 0.25, 2, TRUE, 0, 0, help, NULL);
    g_free(help);
    g_signal_connect(strength, "value-changed", G_CALLBACK(gimp_double_adjustment_update), &values.strength);
    if (preview) g_signal_connect_swapped(strength, "value-changed", G_CALLBACK(gimp_preview_invalidate), preview);

    GtkWidget *res = gtk_check_button_new_with_mnemonic("Add the _removed noise as a layer");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(res), values.residual_layer);
    g_signal_connect(res, "toggled", G_CALLBACK(gimp_toggle_button_update), &values.residual_layer);
    gtk_box_pack_start(GTK_BOX(vbox), res, FALSE, FALSE, 0);
    GtkWidget *att = gtk_check_button_new_with_mnemonic("Add the _attention map as a layer");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(att), values.attention_layer);
    g_signal_connect(att, "toggled", G_CALLBACK(gimp_toggle_button_update), &values.attention_layer);
    gtk_box_pack_start(GTK_BOX(vbox), att, FALSE, FALSE, 0);
    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;

    /* Stop the render in flight (at its next tile) and wait for it before the dialog goes; its
     * reply, still queued, then finds the dialog closed. */
    dialog_state.open = FALSE;
    g_atomic_int_inc(&dialog_state.generation);
    if (dialog_state.worker) {
        g_thread_join(dialog_state.worker);
        dialog_state.worker = NULL;
    }
    gtk_widget_destroy(dialog);
    dn_mprnet_free(dialog_state.net);
    dialog_state.net = NULL;
    return ok;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret) {
    static GimpParam rv[2];
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    GimpRunMode mode = param[0].data.d_int32;
    gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    /* This process is ours: keep the network's freed layer buffers instead of returning them to
     * the kernel and faulting them back in (about 13% of the run time). */
    mallopt(M_MMAP_THRESHOLD, INT_MAX);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    gegl_init(NULL, NULL);
    *nreturn = 1;
    *ret = rv;

    gboolean camera = strcmp(name, PROC_CAMERA) == 0, with_strength = camera || strcmp(name, PROC_STRENGTH) == 0;
    model_name = camera ? "camera" : "default";
    values_key = camera ? PROC_CAMERA : PROC;
    values.strength = 1.0; /* values saved by a version without it leave it here */
    if (mode == GIMP_RUN_INTERACTIVE) {
        gimp_get_data(values_key, &values);
        if (with_strength && nparams == 4) values.strength = param[3].data.d_float;
        if (!show_dialog(drawable)) status = GIMP_PDB_CANCEL;
    } else if (mode == GIMP_RUN_WITH_LAST_VALS) {
        gimp_get_data(values_key, &values);
    } else if (with_strength && nparams == 4) {
        values.strength = param[3].data.d_float; /* out of range: the library says so */
        values.residual_layer = values.attention_layer = FALSE;
    } else if (strcmp(name, PROC) == 0 && nparams == 3) {
        values.residual_layer = values.attention_layer = FALSE;
    } else {
        status = GIMP_PDB_CALLING_ERROR;
    }

    if (status == GIMP_PDB_SUCCESS) {
        status = region_run(image, drawable, apply, nreturn, rv);
        if (status == GIMP_PDB_SUCCESS) {
            if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
            gimp_set_data(values_key, &values, sizeof values); /* "last values" are the last used */
        }
    }
    rv[0].type = GIMP_PDB_STATUS;
    rv[0].data.d_status = status;
}
