/* swift_scanner.c - the Swift grammar's external scanner state, allocated correctly.
 *
 * tree-sitter-swift 0.7.1 (third_party/package.json) creates its scanner state with
 * calloc(0, sizeof(struct ScannerState)) and then reads and writes the state's one uint32_t, a
 * heap overflow on every Swift parse (glibc's minimum chunk hides it; ASan does not). meson.build
 * renames the grammar's create function away; this one allocates room for the state (its struct
 * is a single uint32_t; 64 bytes leave margin should a later version add fields before the pin
 * moves). The grammar's destroy function frees it with free(). */
#include <stdlib.h>

void *tree_sitter_swift_external_scanner_create(void);

void *tree_sitter_swift_external_scanner_create(void)
{
    return calloc(1, 64);
}
