/* ctags.h - Universal Ctags as the parser of the languages ctxd has no grammar for.
 *
 * One `ctags` process per batch (tools.md §1.6), never one per file: the file list is fed on
 * stdin (`-L -`) and the tags come back as JSON lines on stdout. The command line starts with
 * `--options=NONE`, so no option file is read (a tree's `.ctags.d/` is content, not
 * configuration, and an option file could name an output file); the process runs with its cwd
 * at the workspace root (fchdir to the root descriptor in the child), a minimal environment, no
 * stdin/stdout other than the two pipes and stderr on /dev/null. Every relative path is written
 * as "./path" so that a file named like an option stays a file name, and a path holding a
 * newline is skipped (it cannot be written in the list).
 *
 * Output lines are bounded (CTAGS_LINE_MAX; longer ones are skipped and counted); lines that
 * are not a JSON tag object are ignored (counted as junk). The callback sees each tag once, in
 * ctags' order (file by file, lines unsorted: `--sort=no`). Cancellation (the flag, or the
 * callback returning false) kills the child and reaps it. */
#ifndef CTXD_LANG_CTAGS_H
#define CTXD_LANG_CTAGS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CTAGS_LINE_MAX (64 * 1024) /* one JSON tag line */
#define CTAGS_FIELD_MAX 1024       /* name, kind, scope, signature, language: longer are cut */

typedef struct ctags_tag {
    const char *relpath; /* as passed in (without the "./" written for ctags) */
    const char *name;
    const char *kind;       /* long kind name: "function", "target", "subroutine", ... */
    const char *scope;      /* the container's name, or NULL */
    const char *scope_kind; /* its kind, or NULL */
    uint32_t line;          /* 1-based */
    uint32_t end_line;      /* 0 when ctags does not know it */
    const char *language;   /* ctags' language name: "Make", "Perl", ... */
    const char *signature;  /* "(a, b)" or NULL */
} ctags_tag;

/* return false to stop the run (the child is killed; ctags_run answers ERR_CANCELLED) */
typedef bool (*ctags_tag_fn)(void *ctx, const ctags_tag *t);

typedef struct ctags_stats {
    size_t files;      /* paths written to ctags */
    size_t skipped;    /* paths not written (newline in the name) */
    size_t tags;       /* tags delivered to the callback */
    size_t junk_lines; /* output lines that were not a tag */
    size_t long_lines; /* output lines over CTAGS_LINE_MAX */
} ctags_stats;

/* whether a usable Universal Ctags with JSON output is on PATH (checked once per process) */
bool ctags_available(void);

/* the ctags language that would parse relpath (by its base name, from `ctags --list-maps`),
 * or NULL; a static string */
const char *ctags_language_of(const char *relpath);

/* Run ctags over relpaths (n of them, relative to the directory root_fd names) and call fn per
 * tag. ERR_OK when ctags ran to the end; ERR_CANCELLED when *cancel became true or fn returned
 * false; ERR_IO when ctags is unavailable, could not be started, or failed; ERR_NOMEM. */
err ctags_run(int root_fd, const char *const *relpaths, size_t n, ctags_tag_fn fn, void *ctx,
              const atomic_bool *cancel, ctags_stats *st) WARN_UNUSED;

#endif
