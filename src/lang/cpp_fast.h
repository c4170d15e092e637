/* cpp_fast.h - preprocessor-only C/C++ files without tree-sitter (cpp_fast.c says when).
 *
 * x_cpp_fast() fills out->syms and out->imports (in the arena) exactly as the tree-sitter path
 * would and returns true, or returns false without a result when the file is not made only of
 * directives it knows (the caller then parses it). out->lang, lines and routes are the caller's. */
#ifndef CTXD_LANG_CPP_FAST_H
#define CTXD_LANG_CPP_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "lang/extract.h"

bool x_cpp_fast(const char *src, size_t n, arena *a, x_file *out);

#endif
