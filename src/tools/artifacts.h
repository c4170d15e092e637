/* artifacts.h - the artifact registry shared by ctx_artifacts (artifacts.c) and ctx_proof
 * (proof.c): chunking, storing and the freshness of a workspace's file artifacts (issue 6,
 * ARTIFACTS; tools.md §4.6-4.7). */
#ifndef CTXD_TOOLS_ARTIFACTS_H
#define CTXD_TOOLS_ARTIFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tool.h"

#define ART_FILE_MAX ((size_t)1 << 20) /* a file artifact larger than this is skipped */
#define ART_MD_SECTION_LINES 200       /* a longer Markdown section is cut into windows */
#define ART_WINDOW_LINES 50            /* other text: windows of 50 lines ... */
#define ART_WINDOW_OVERLAP 10          /* ... overlapping by 10 (tools.md §2.2) */
#define ART_STALE_SEC 60               /* reads refresh a registry older than this */

/* the artifact kind of a workspace-relative path: adr, doc, openapi, sql, proto, spec, other */
const char *art_kind(const char *rel);

/* Chunk text (Markdown by heading, else line windows) and register it as artifact name (kind;
 * stored: the document lives in the store, text is then also its body; else a workspace file
 * of version sha / mtime_ns) in one store transaction. The store's error (ERR_QUOTA_EXCEEDED,
 * ERR_CONFLICT, ERR_LIMIT, ...) is returned as is. */
err art_put_text(tool_call *call, const char *name, const char *kind, bool stored, const char *text,
                 size_t len, const char *sha, int64_t mtime_ns);

/* the isError / 507 result for a store error of an artifact write (ERR_OK when e was handled
   as a tool error; ERR_QUOTA_EXCEEDED for dispatch to answer 507) */
err art_store_fail(tool_call *call, tool_out *out, err e, int64_t requested);

#endif
