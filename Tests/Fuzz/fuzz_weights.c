/* libFuzzer target: dn_mprnet_load on fuzzed bytes (a safetensors file through a memfd: no disk).
 * Checked: a status that is DN_OK or DN_ERROR_INVALID_ARGUMENT, a message on failure, a model on
 * success and none on failure. Seed it with real weights files (corpus/weights). */
#define _GNU_SOURCE
#include "denoise.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("weights", 0);
        if (fd < 0) { perror("memfd_create"); abort(); }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) { perror("memfd"); abort(); }
    dn_mprnet *model = (dn_mprnet *)1;
    dn_status s = dn_mprnet_load(path, &model);
    if (s == DN_OK) {
        if (!model) { fprintf(stderr, "DN_OK without a model\n"); abort(); }
        dn_mprnet_free(model);
    } else if (s != DN_ERROR_INVALID_ARGUMENT || model != NULL || strlen(dn_last_error()) == 0) {
        fprintf(stderr, "%s, model %p, message \"%s\"\n", dn_status_name(s), (void *)model, dn_last_error());
        abort();
    }
    return 0;
}
