/* What the Denoise plug-ins share: reading the selected part of a drawable (with a margin of
 * context) into a buffer libdenoise takes, and writing the result back as one undo step. */
#pragma once
#include <libgimp/gimp.h>

#include "denoise.h"

typedef struct {
    const Babl *format; /* perceptual, the drawable's channels, at the image's precision */
    dn_image image;     /* the target rectangle plus its margin */
    gint x0, y0;        /* the buffer's position in the drawable */
    gint x, y, w, h;    /* the target rectangle, in drawable coordinates */
} Region;

/* The sample type matching the image's precision (8-bit, 16-bit, else float). */
dn_sample_type region_sample_type(gint32 image);

/* The babl format for a drawable's channels at `type`, in the perceptual (gamma) encoding. */
const Babl *region_format(gint32 drawable, dn_sample_type type);

/* Reads (x, y, w, h) and `margin` pixels around it (clipped to the drawable). FALSE if out of memory. */
gboolean region_read(gint32 drawable, dn_sample_type type, gint x, gint y, gint w, gint h, gint margin, Region *r);

/* Copies the target rectangle of `r->image` into a packed buffer of w*h pixels (caller frees). */
guchar *region_target(const Region *r);

/* Writes the target rectangle into the drawable's shadow and merges it (one undo step, the
 * selection mask respected). */
void region_commit(gint32 drawable, const Region *r);

void region_free(Region *r);

/* Runs `apply` on the drawable as one undo step and fills the PDB return values: the status, and
 * the library's message on failure. */
GimpPDBStatusType region_run(gint32 image, gint32 drawable, dn_status (*apply)(gint32, gint32),
                             gint *nreturn, GimpParam *rv);

/* A library parameter's declaration (dn_dct_parameter or dn_mprnet_parameter); a zeroed one, never
 * NULL, if the library lacks it. */
const dn_parameter *region_parameter(const dn_parameter *found);

/* "Pyramid scales ... (1-6)": a parameter's description and its allowed values (caller frees). */
gchar *region_parameter_help(const dn_parameter *p);

/* A dn_progress_fn that drives GIMP's progress bar. */
int region_progress(float fraction, void *user);
