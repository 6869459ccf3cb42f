/* GIMP 2.10 plug-in: Filters > Enhance > Denoise (MPRNet)...
 *
 * Blind denoising with libdenoise's MPRNet network: no noise level to set. The dialog can also add
 * the removed noise and the network's stage-2 attention map as new layers, to see what it did.
 * The model is the one installed beside the plug-in, or $DENOISE_MPRNET_MODEL.
 *
 * PDB: plug-in-denoise-mprnet (run-mode, image, drawable)
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <limits.h>
#include <malloc.h>

#include "denoise.h"
#include "region.h"

#define PROC "plug-in-denoise-mprnet"
#define BINARY "denoise-mprnet"

typedef struct {
    gboolean residual_layer;
    gboolean attention_layer;
} MprnetValues;

static MprnetValues values = { FALSE, FALSE };

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN()

static void query(void) {
    static const GimpParamDef args[] = {
        { GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
        { GIMP_PDB_IMAGE, "image", "Input image" },
        { GIMP_PDB_DRAWABLE, "drawable", "Input drawable" },
    };
    gimp_install_procedure(PROC,
                           "Remove noise with the MPRNet network (blind: no noise level needed)",
                           "Multi-Stage Progressive Image Restoration (Zamir et al., CVPR 2021) trained for "
                           "Gaussian and Poisson-Gaussian noise of unknown level. The dialog can add the removed "
                           "noise and the attention map as new layers.",
                           "Denoise developers", "Denoise developers", "2026",
                           "Denoise (_MPRNet)...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(args), 0, args, NULL);
    gimp_plugin_menu_register(PROC, "<Image>/Filters/Enhance");
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
    dn_status st = dn_mprnet_load(NULL, &net);
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
    p.progress = region_progress;
    if (res.data) p.residual = &res;
    if (att.data) p.attention = &att;
    gimp_progress_init("Denoise (MPRNet)");
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

static gboolean show_dialog(void) {
    gimp_ui_init(BINARY, FALSE);
    GtkWidget *dialog = gimp_dialog_new("Denoise (MPRNet)", BINARY, NULL, 0, gimp_standard_help_func, PROC,
                                        "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));
    GtkWidget *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), vbox, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(vbox), gtk_label_new("Blind denoising: the network estimates the noise itself."),
                       FALSE, FALSE, 0);
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
    gtk_widget_destroy(dialog);
    return ok;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn, GimpParam **ret) {
    static GimpParam rv[2];
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    GimpRunMode mode = param[0].data.d_int32;
    gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    (void)name;
    /* This process is ours: keep the network's freed layer buffers instead of returning them to
     * the kernel and faulting them back in (about 13% of the run time). */
    mallopt(M_MMAP_THRESHOLD, INT_MAX);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    gegl_init(NULL, NULL);
    *nreturn = 1;
    *ret = rv;

    if (mode == GIMP_RUN_INTERACTIVE) {
        gimp_get_data(PROC, &values);
        if (!show_dialog()) status = GIMP_PDB_CANCEL;
    } else if (mode == GIMP_RUN_WITH_LAST_VALS) {
        gimp_get_data(PROC, &values);
    } else if (nparams != 3) {
        status = GIMP_PDB_CALLING_ERROR;
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
