/* fuzz_config.c - team.json as written by anyone: config_load must report problems, never
 * crash, leak or accept a config that breaks its own invariants (a token without a digest, a
 * workspace without a root, a default workspace that is not configured). The input is written
 * to a scratch file, since the loader reads a path (relative paths resolve against its dir). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "tools/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz-config-%d.json", (int)getpid());
        if (!registry_init()) { /* the catalog toolCosts is checked against, as main() does */
            abort();
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    config_problems p;
    config_problems_init(&p);
    config *c = config_load(path, false, &p);
    if (c) {
        if (p.count != 0) {
            abort(); /* a config with problems must not load */
        }
        for (size_t i = 0; i < c->n_tokens; i++) {
            if (!c->tokens[i].id || !*c->tokens[i].id) {
                abort();
            }
        }
        for (size_t i = 0; i < c->n_workspaces; i++) {
            if (!c->workspaces[i].root_real || c->workspaces[i].root_real[0] != '/') {
                abort();
            }
        }
        if (c->default_workspace_id && c->n_workspaces &&
            !config_workspace(c, NULL, c->default_workspace_id)) {
            abort();
        }
        config_unref(c);
    } else if (p.count == 0) {
        abort(); /* a refusal names its problems */
    }
    config_problems_release(&p);
    return 0;
}
