#include "region.h"

#include <string.h>

dn_sample_type region_sample_type(gint32 image) {
    switch (gimp_image_get_precision(image)) {
    case GIMP_PRECISION_U8_LINEAR:
    case GIMP_PRECISION_U8_GAMMA: return DN_U8;
    case GIMP_PRECISION_U16_LINEAR:
    case GIMP_PRECISION_U16_GAMMA: return DN_U16;
    default: return DN_F32;
    }
}

const Babl *region_format(gint32 drawable, dn_sample_type type) {
    gboolean rgb = gimp_drawable_is_rgb(drawable), alpha = gimp_drawable_has_alpha(drawable);
    const char *model = rgb ? (alpha ? "R'G'B'A" : "R'G'B'") : (alpha ? "Y'A" : "Y'");
    const char *kind = type == DN_U8 ? "u8" : type == DN_U16 ? "u16" : "float";
    char name[32];
    g_snprintf(name, sizeof name, "%s %s", model, kind);
    return babl_format(name);
}

gboolean region_read(gint32 drawable, dn_sample_type type, gint x, gint y, gint w, gint h, gint margin, Region *r) {
    gint dw = gimp_drawable_width(drawable), dh = gimp_drawable_height(drawable);
    r->format = region_format(drawable, type);
    r->x = x; r->y = y; r->w = w; r->h = h;
    r->x0 = MAX(0, x - margin);
    r->y0 = MAX(0, y - margin);
    gint cw = MIN(dw, x + w + margin) - r->x0, ch = MIN(dh, y + h + margin) - r->y0;
    gint bpp = babl_format_get_bytes_per_pixel(r->format);
    void *data = g_try_malloc((gsize)cw * ch * bpp);
    if (!data) return FALSE;
    GeglBuffer *src = gimp_drawable_get_buffer(drawable);
    gegl_buffer_get(src, GEGL_RECTANGLE(r->x0, r->y0, cw, ch), 1.0, r->format, data, GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
    g_object_unref(src);
    r->image = (dn_image){ data, cw, ch, babl_format_get_n_components(r->format), type, (size_t)cw * bpp };
    return TRUE;
}

guchar *region_target(const Region *r) {
    gint bpp = babl_format_get_bytes_per_pixel(r->format);
    guchar *out = g_malloc((gsize)r->w * r->h * bpp);
    for (gint row = 0; row < r->h; row++)
        memcpy(out + (gsize)row * r->w * bpp,
               (guchar *)r->image.data + (gsize)(r->y - r->y0 + row) * r->image.stride + (gsize)(r->x - r->x0) * bpp,
               (gsize)r->w * bpp);
    return out;
}

void region_commit(gint32 drawable, const Region *r) {
    guchar *out = region_target(r);
    GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
    gegl_buffer_set(shadow, GEGL_RECTANGLE(r->x, r->y, r->w, r->h), 0, r->format, out, GEGL_AUTO_ROWSTRIDE);
    g_object_unref(shadow);
    g_free(out);
    gimp_drawable_merge_shadow(drawable, TRUE);
    gimp_drawable_update(drawable, r->x, r->y, r->w, r->h);
}

void region_free(Region *r) {
    g_free(r->image.data);
    r->image.data = NULL;
}

int region_progress(float fraction, void *user) {
    (void)user;
    gimp_progress_update(fraction);
    return 0;
}

GimpPDBStatusType region_run(gint32 image, gint32 drawable, dn_status (*apply)(gint32, gint32),
                             gint *nreturn, GimpParam *rv) {
    gimp_image_undo_group_start(image);
    dn_status st = apply(image, drawable);
    gimp_image_undo_group_end(image);
    if (st == DN_OK) return GIMP_PDB_SUCCESS;
    *nreturn = 2;
    rv[1].type = GIMP_PDB_STRING;
    rv[1].data.d_string = (gchar *)dn_last_error();
    return GIMP_PDB_EXECUTION_ERROR;
}

const dn_parameter *region_parameter(const dn_parameter *found) {
    static const dn_parameter missing = { "", "", 0, 0, 0, 0, 0, NULL, 0, NULL };
    return found ? found : &missing;
}

gchar *region_parameter_help(const dn_parameter *p) {
    GString *s = g_string_new(p->description);
    g_string_append(s, " (");
    for (int i = 0; i < p->extra_count; i++) g_string_append_printf(s, "%g or ", p->extra[i]);
    if (p->choice_count > 0) {
        for (int i = 0; i < p->choice_count; i++) g_string_append_printf(s, i ? " or %g" : "%g", p->choices[i]);
    } else {
        g_string_append_printf(s, "%g-%g", p->minimum, p->maximum);
    }
    g_string_append(s, ")");
    return g_string_free(s, FALSE);
}
