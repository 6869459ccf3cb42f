#pragma once
/* A team of threads for a network's layers: hundreds of short parallel regions a second, each split
 * into parts that the threads take in turn. Between regions the workers spin for a while before they
 * sleep, so that a region starts without waking anyone: a sleeping thread takes tens of microseconds
 * to wake on a virtual machine, hundreds of times a forward pass. */

typedef struct denoise_team denoise_team;

/* A team of `threads` (the caller and threads - 1 workers), or NULL if threads cannot be made. */
denoise_team *denoise_team_create(int threads);

/* Stops and joins the workers. Not while a region runs. */
void denoise_team_destroy(denoise_team *team);

/* Runs part(context, i) for i in [0, parts) on the caller and the workers, and returns when all are
 * done. Returns 0 without running anything when the team is already running a region (a caller on
 * another thread, or a part asking for a region of its own): the caller then runs the parts some
 * other way. Returns 1 when it ran them. */
int denoise_team_run(denoise_team *team, int parts, void (*part)(void *context, int index), void *context);
