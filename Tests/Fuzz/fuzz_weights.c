/* libFuzzer target: dn_mprnet_load on fuzzed bytes (a safetensors file through a memfd: no disk).
 * Checked: a status that is DN_OK or DN_ERROR_INVALID_ARGUMENT, a message on failure, a model on
 * success and none on failure. Seed it with real weights files (corpus/weights). */
#define _GNU_SOURCE
#include "denoise.h"

#include "fuzz_file.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
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
