#include "team.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* How long an idle worker spins for the next region before it sleeps. */
#define SPIN_NANOSECONDS 200000L

struct denoise_team {
    int workers;
    pthread_t *threads;
    /* The region: bumping `generation` publishes part, context and parts (release). */
    void (*part)(void *, int);
    void *context;
    int parts;
    atomic_int next;          /* the next part to take */
    atomic_int running;       /* workers still in the region */
    atomic_uint generation;
    atomic_int busy;          /* a caller holds the team */
    atomic_int stop;
    /* Sleeping workers wait here; `sleepers` tells the caller whether to wake them. */
    atomic_int sleepers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static long nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void take_parts(denoise_team *t) {
    for (;;) {
        int i = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
        if (i >= t->parts) return;
        t->part(t->context, i);
    }
}

/* Waits until `generation` moves past `seen`: spins, then sleeps. */
static unsigned next_generation(denoise_team *t, unsigned seen) {
    long start = nanoseconds();
    for (int spins = 0;; spins++) {
        unsigned g = atomic_load_explicit(&t->generation, memory_order_acquire);
        if (g != seen) return g;
        if ((spins & 63) == 63 && nanoseconds() - start > SPIN_NANOSECONDS) break;
        relax();
    }
    pthread_mutex_lock(&t->lock);
    atomic_fetch_add(&t->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&t->generation)) == seen) pthread_cond_wait(&t->wake, &t->lock);
    atomic_fetch_sub(&t->sleepers, 1);
    pthread_mutex_unlock(&t->lock);
    return g;
}

static void *worker(void *arg) {
    denoise_team *t = arg;
    unsigned seen = 0;
    for (;;) {
        seen = next_generation(t, seen);
        if (atomic_load(&t->stop)) return NULL;
        take_parts(t);
        atomic_fetch_sub_explicit(&t->running, 1, memory_order_release);
    }
}

/* Publishes a new generation and wakes the workers that sleep. */
static void advance(denoise_team *t) {
    atomic_fetch_add(&t->generation, 1);
    if (atomic_load(&t->sleepers) > 0) {
        pthread_mutex_lock(&t->lock);
        pthread_cond_broadcast(&t->wake);
        pthread_mutex_unlock(&t->lock);
    }
}

denoise_team *denoise_team_create(int threads) {
    denoise_team *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->workers = threads > 1 ? threads - 1 : 0;
    t->threads = calloc((size_t)(t->workers > 0 ? t->workers : 1), sizeof(pthread_t));
    if (!t->threads || pthread_mutex_init(&t->lock, NULL) || pthread_cond_init(&t->wake, NULL)) {
        free(t->threads);
        free(t);
        return NULL;
    }
    for (int i = 0; i < t->workers; i++) {
        if (pthread_create(&t->threads[i], NULL, worker, t)) {
            t->workers = i;
            denoise_team_destroy(t);
            return NULL;
        }
    }
    return t;
}

void denoise_team_destroy(denoise_team *t) {
    if (!t) return;
    atomic_store(&t->stop, 1);
    advance(t);
    for (int i = 0; i < t->workers; i++) pthread_join(t->threads[i], NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t->threads);
    free(t);
}

int denoise_team_run(denoise_team *t, int parts, void (*part)(void *, int), void *context) {
    int idle = 0;
    if (!atomic_compare_exchange_strong(&t->busy, &idle, 1)) return 0;
    t->part = part;
    t->context = context;
    t->parts = parts;
    atomic_store_explicit(&t->next, 0, memory_order_relaxed);
    atomic_store_explicit(&t->running, t->workers, memory_order_relaxed);
    advance(t);
    take_parts(t);
    while (atomic_load_explicit(&t->running, memory_order_acquire) > 0) relax();
    atomic_store(&t->busy, 0);
    return 1;
}
