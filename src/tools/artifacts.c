/* artifacts.c - ctx_artifacts: a searchable registry of non-code context documents (design
 * docs, ADRs, API specs, schemas) and of the proofs ctx_proof stores (tools.md §4.6).
 *
 * File artifacts are the workspace files matching the config's artifactGlobs (gitignore-aware
 * walk, hidden files and the deny-list skipped, at most ART_FILE_MAX bytes, text only). The
 * registry lives in the store (store.h "artifacts"): per artifact its version (SHA-256, size,
 * mtime) and its search chunks (a Markdown section per heading, else 50-line windows) under an
 * FTS5 index of code-aware tokens, ranked with bm25() like ctx_search action=bm25.
 *
 * Freshness: `index` brings the registry up to date (a stat of every matching file; only new or
 * changed ones are read and re-chunked, vanished ones dropped); `reindex` rebuilds it from
 * scratch. `list` and `search` refresh it the same way first when it was never built or is older
 * than ART_STALE_SEC (and so does `remove`), so answers follow the files without a manual
 * step. `remove` takes an entry
 * out of the registry and the search (a file is never touched): a removed file stays out until
 * `reindex`; a stored artifact is deleted. Writes are charged to the tenant's storage quota. */
#include "tools/artifacts.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/utf8.h"
#include "events/events.h"
#include "index/index.h"
#include "tools/common.h"
#include "tools/graphdb.h"
#include "tools/handlers.h"
#include "tools/session.h"
#include "ws/glob.h"

const char ctx_artifacts_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"list\",\"status\",\"index\",\"reindex\","
    "\"search\",\"remove\"]},"
    "\"query\":{\"type\":\"string\",\"maxLength\":2048,\"description\":\"search: free text\"},"
    "\"name\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"remove: an artifact's "
    "path or stored name\"},"
    "\"top_k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,\"default\":10},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"markdown\",\"json\"],\"default\":\"markdown\"},"
    "\"project_root\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"accepted, "
    "ignored\"}},"
    "\"required\":[\"action\"]}";

void ctx_artifacts_needs(const json_t *args, scope_set *scopes, int *cost)
{
    const char *a = json_string_value(json_object_get(args, "action"));
    if (a && (strcmp(a, "index") == 0 || strcmp(a, "reindex") == 0)) {
        *scopes |= SCOPE_INDEX;
        *cost = 10;
    }
}

/* ---- kinds and chunks ---- */

static bool ext_is(const char *ext, const char *const *list)
{
    for (; *list; list++) {
        if (strcasecmp(ext, *list) == 0) {
            return true;
        }
    }
    return false;
}

const char *art_kind(const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    const char *dot = strrchr(base, '.');
    const char *ext = dot ? dot + 1 : "";
    static const char *const md[] = {"md", "mdx", "markdown", NULL};
    static const char *const prose[] = {"rst", "txt", "adoc", NULL};
    static const char *const spec[] = {"json", "yaml", "yml", NULL};
    if (ext_is(ext, md)) {
        bool adr = strncmp(rel, "adr/", 4) == 0 || strstr(rel, "/adr/") ||
                   strncmp(rel, "adrs/", 5) == 0 || strstr(rel, "/adrs/");
        return adr ? "adr" : "doc";
    }
    if (ext_is(ext, spec)) {
        return strncasecmp(base, "openapi.", 8) == 0 || strcasestr(base, ".openapi.") ||
                       strncasecmp(base, "swagger.", 8) == 0
                   ? "openapi"
                   : "spec";
    }
    if (strcasecmp(ext, "sql") == 0) {
        return "sql";
    }
    if (strcasecmp(ext, "proto") == 0) {
        return "proto";
    }
    return ext_is(ext, prose) ? "doc" : "other";
}

static bool is_markdown(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const md[] = {"md", "mdx", "markdown", NULL};
    return dot && ext_is(dot + 1, md);
}

/* room for one more element in the arena array *v of n elements (capacity *cap, doubled when
   full; the old copy stays in the arena until the call ends); false when the arena is full */
static bool grow(arena *a, void **v, size_t n, size_t *cap, size_t elsize)
{
    if (n < *cap) {
        return true;
    }
    size_t nc = *cap ? *cap * 2 : 32;
    void *nv = arena_alloc(a, nc * elsize);
    if (!nv) {
        return false;
    }
    if (n) {
        memcpy(nv, *v, n * elsize);
    }
    *v = nv;
    *cap = nc;
    return true;
}

typedef struct chunker {
    arena *a; /* one artifact's chunks: released once they are stored */
    const char *name;
    store_art_chunk *v;
    size_t n, cap;
    bool oom;
} chunker;

/* add lines [from, to) (0-based line starts in ls[]) as a chunk under heading */
static void add_chunk(chunker *k, const char *text, const size_t *ls, size_t nl, size_t from,
                      size_t to, const char *heading)
{
    if (k->oom || from >= to || k->n >= STORE_ART_CHUNKS_MAX) {
        return;
    }
    size_t b = ls[from], e = to < nl ? ls[to] : ls[nl];
    bool blank = true;
    for (size_t i = b; i < e && blank; i++) {
        blank = text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r';
    }
    if (blank) {
        return;
    }
    if (!grow(k->a, (void **)&k->v, k->n, &k->cap, sizeof *k->v)) {
        k->oom = true;
        return;
    }
    const char *body = arena_strndup(k->a, text + b, e - b);
    buf tok;
    buf_init(&tok, (e - b) * 3 + 4096);
    index_tokenize(k->name, strlen(k->name), &tok);
    if (tok.len) {
        buf_putc(&tok, ' ');
    }
    index_tokenize(heading, strlen(heading), &tok);
    if (tok.len) {
        buf_putc(&tok, ' ');
    }
    index_tokenize(text + b, e - b, &tok);
    const char *tokens = tok.failed ? NULL : arena_strdup(k->a, tok.ptr ? tok.ptr : "");
    buf_release(&tok);
    if (!body || !tokens) {
        k->oom = true;
        return;
    }
    k->v[k->n++] = (store_art_chunk){.start_line = (int64_t)from + 1,
                                     .end_line = (int64_t)(to < nl ? to : nl),
                                     .heading = heading,
                                     .text = body,
                                     .tokens = tokens};
}

/* a Markdown ATX heading (outside fences): its text (in the arena), else NULL */
static const char *md_heading(arena *a, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 3 && s[i] == ' ') {
        i++;
    }
    size_t h = 0;
    while (i + h < n && s[i + h] == '#') {
        h++;
    }
    if (h < 1 || h > 6 ||
        (i + h < n && s[i + h] != ' ' && s[i + h] != '\t' && s[i + h] != '\n' &&
         s[i + h] != '\r')) {
        return NULL;
    }
    size_t b = i + h, e = n;
    while (b < e && (s[b] == ' ' || s[b] == '\t')) {
        b++;
    }
    while (e > b && (s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == ' ' || s[e - 1] == '#')) {
        e--;
    }
    if (e - b > 200) {
        e = b + 200;
        while (e > b && ((unsigned char)s[e] & 0xC0) == 0x80) {
            e--; /* never cut a UTF-8 sequence */
        }
    }
    return arena_strndup(a, s + b, e - b);
}

static bool md_fence(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 3 && s[i] == ' ') {
        i++;
    }
    return n - i >= 3 && (memcmp(s + i, "```", 3) == 0 || memcmp(s + i, "~~~", 3) == 0);
}

static bool chunk_text(chunker *k, const char *text, size_t len)
{
    /* line starts; ls[nl] = len */
    size_t nl = 0;
    for (size_t i = 0; i < len; i++) {
        nl += text[i] == '\n';
    }
    nl += len > 0 && text[len - 1] != '\n';
    size_t *ls = arena_alloc(k->a, (nl + 1) * sizeof *ls);
    if (!ls) {
        return false;
    }
    size_t li = 0;
    ls[li++] = 0;
    for (size_t i = 0; i < len && li <= nl; i++) {
        if (text[i] == '\n' && li < nl) {
            ls[li++] = i + 1;
        }
    }
    ls[nl] = len;
    if (is_markdown(k->name)) {
        const char *heading = "";
        size_t start = 0;
        bool fence = false;
        for (size_t l = 0; l < nl; l++) {
            const char *s = text + ls[l];
            size_t n = ls[l + 1] - ls[l];
            if (md_fence(s, n)) {
                fence = !fence;
            }
            const char *h = fence ? NULL : md_heading(k->a, s, n);
            if (h) {
                add_chunk(k, text, ls, nl, start, l, heading);
                heading = h;
                start = l;
            } else if (l - start >= ART_MD_SECTION_LINES) {
                add_chunk(k, text, ls, nl, start, l, heading);
                start = l;
            }
        }
        add_chunk(k, text, ls, nl, start, nl, heading);
    } else {
        size_t step = ART_WINDOW_LINES - ART_WINDOW_OVERLAP;
        for (size_t from = 0; from < nl; from += step) {
            size_t to = from + ART_WINDOW_LINES < nl ? from + ART_WINDOW_LINES : nl;
            add_chunk(k, text, ls, nl, from, to, "");
            if (to == nl) {
                break;
            }
        }
    }
    return !k->oom;
}

err art_put_text(tool_call *call, const char *name, const char *kind, bool stored, const char *text,
                 size_t len, const char *sha, int64_t mtime_ns)
{
    arena mem;
    arena_init(&mem, 0);
    chunker k = {.a = &mem, .name = name};
    if (!chunk_text(&k, text, len)) {
        arena_release(&mem);
        return ERR_NOMEM;
    }
    store_art a = {.stored = stored, .bytes = (int64_t)len, .mtime_ns = mtime_ns};
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.sha, sizeof a.sha, "%s", sha);
    snprintf(a.updated_by, sizeof a.updated_by, "%s", sess_actor(call));
    err e =
        store_art_put(call->st, call->tenant_id, call->ws->id, &a, stored ? text : NULL, k.v, k.n);
    arena_release(&mem);
    return e;
}

err art_store_fail(tool_call *call, tool_out *out, err e, int64_t requested)
{
    switch (e) {
    case ERR_QUOTA_EXCEEDED: return tool_quota_refusal(call, out, requested);
    case ERR_CONFLICT:
        return tool_fail(out, "conflict",
                         "that name belongs to an artifact of the other sort (a workspace file "
                         "or a stored document); nothing was changed");
    case ERR_LIMIT:
        return tool_fail(out, "conflict",
                         "this workspace holds the most artifacts it may (%d); remove some or "
                         "narrow artifactGlobs",
                         STORE_ART_PER_WS);
    default: return sess_store_fail(call, out, e);
    }
}

/* ---- refresh: the registry brought up to date with the files ---- */

typedef struct known {
    const char *name;
    char sha[65];
    int64_t bytes, mtime_ns;
    bool removed, stored, seen;
} known;

typedef struct todo {
    const char *rel;
    int64_t bytes, mtime_ns;
    known *prev;
} todo;

typedef struct refresh {
    tool_call *call;
    bool rebuild;
    glob_pat **globs;
    size_t n_globs;
    known *k;
    size_t nk, capk;
    todo *t;
    size_t nt, capt;
    /* results */
    int64_t matched, changed, unchanged, gone, too_large, not_text, chunks;
    bool oom, stopped, quota;
    int64_t quota_requested;
    err store_err;
} refresh;

static bool known_add(const store_art *a, void *v)
{
    refresh *r = v;
    if (a->stored) {
        return true;
    }
    if (!grow(r->call->a, (void **)&r->k, r->nk, &r->capk, sizeof *r->k)) {
        r->oom = true;
        return false;
    }
    known *k = &r->k[r->nk++];
    k->name = arena_strdup(r->call->a, a->name);
    memcpy(k->sha, a->sha, sizeof k->sha);
    k->bytes = a->bytes;
    k->mtime_ns = a->mtime_ns;
    k->removed = a->removed;
    k->stored = false;
    k->seen = false;
    r->oom |= !k->name;
    return !r->oom;
}

static int known_cmp(const void *key, const void *el)
{
    return strcmp(key, ((const known *)el)->name);
}

static walk_action on_file(const walk_entry *e, void *v)
{
    refresh *r = v;
    if (e->type != WALK_FILE) {
        return WALK_CONTINUE;
    }
    bool hit = false;
    for (size_t i = 0; i < r->n_globs && !hit; i++) {
        hit = glob_match(r->globs[i], e->rel, e->rel_len);
    }
    if (!hit) {
        return WALK_CONTINUE;
    }
    r->matched++;
    struct stat sb;
    if (fstatat(e->dir_fd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode)) {
        return WALK_CONTINUE;
    }
    int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    known *prev = r->nk ? bsearch(e->rel, r->k, r->nk, sizeof *r->k, known_cmp) : NULL;
    if (prev) {
        prev->seen = true;
        if (prev->removed || (!r->rebuild && prev->mtime_ns == mt && prev->bytes == sb.st_size)) {
            r->unchanged += !prev->removed;
            return WALK_CONTINUE;
        }
    }
    if ((size_t)sb.st_size > ART_FILE_MAX) {
        r->too_large++;
        return WALK_CONTINUE;
    }
    if (r->nt + 1 >= STORE_ART_PER_WS) {
        return WALK_CONTINUE; /* the store refuses more anyway */
    }
    if (!grow(r->call->a, (void **)&r->t, r->nt, &r->capt, sizeof *r->t)) {
        r->oom = true;
        return WALK_STOP;
    }
    const char *rel = arena_strndup(r->call->a, e->rel, e->rel_len);
    if (!rel) {
        r->oom = true;
        return WALK_STOP;
    }
    r->t[r->nt++] = (todo){.rel = rel, .bytes = sb.st_size, .mtime_ns = mt, .prev = prev};
    return WALK_CONTINUE;
}

/* read one file artifact (at most ART_FILE_MAX bytes) into buf b; false when it cannot be read
   or is not text */
static bool read_text(tool_call *call, const char *rel, buf *b, bool *not_text)
{
    *not_text = false;
    int fd = path_open_walked(call->ws->root_fd, rel);
    if (fd < 0) {
        return false;
    }
    buf_truncate(b, 0);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b->len <= ART_FILE_MAX) {
        buf_append(b, chunk, (size_t)n);
    }
    close(fd);
    if (n < 0 || b->failed || b->len > ART_FILE_MAX) {
        return false;
    }
    if ((b->len && memchr(b->ptr, '\0', b->len)) || !utf8_valid(b->ptr ? b->ptr : "", b->len)) {
        *not_text = true;
        return false;
    }
    return true;
}

static void refresh_files(refresh *r)
{
    tool_call *call = r->call;
    buf text;
    buf_init(&text, ART_FILE_MAX + 65536);
    for (size_t i = 0; i < r->nt && !r->stopped; i++) {
        if (tool_expired(call)) {
            r->stopped = true;
            break;
        }
        if (r->nt > 20 && i % 20 == 0) {
            tool_progress(call, (double)i, (double)r->nt, "indexing artifacts");
        }
        todo *t = &r->t[i];
        bool not_text;
        if (!read_text(call, t->rel, &text, &not_text)) {
            r->not_text += not_text;
            continue;
        }
        char sha[65];
        crypto_sha256_hex(text.ptr ? text.ptr : "", text.len, sha);
        err e;
        if (t->prev && !r->rebuild && strcmp(t->prev->sha, sha) == 0) {
            e = store_art_touch(call->st, call->tenant_id, call->ws->id, t->rel, t->mtime_ns);
            r->unchanged++;
        } else {
            e = art_put_text(call, t->rel, art_kind(t->rel), false, text.ptr ? text.ptr : "",
                             text.len, sha, t->mtime_ns);
            r->changed += e == ERR_OK;
        }
        if (e == ERR_QUOTA_EXCEEDED) {
            r->quota = true;
            r->quota_requested = (int64_t)text.len * 2;
            r->stopped = true;
        } else if (e == ERR_LIMIT || e == ERR_CONFLICT) {
            continue; /* the workspace is full, or a stored artifact has that name */
        } else if (e != ERR_OK) {
            r->store_err = e;
            r->stopped = true;
        }
    }
    buf_release(&text);
}

/* Bring the workspace's file artifacts up to date (rebuild: from scratch). false with the
   error result in out (and *rc the handler's return) when it could not run at all. */
static bool refresh_run(refresh *r, tool_out *out, err *rc)
{
    tool_call *call = r->call;
    const config *c = call->cfg;
    *rc = ERR_OK;
    r->globs = arena_alloc(call->a, (c->n_artifact_globs + 1) * sizeof(glob_pat *));
    if (!r->globs) {
        *rc = ERR_NOMEM;
        return false;
    }
    for (size_t i = 0; i < c->n_artifact_globs; i++) {
        char why[128];
        glob_pat *g =
            glob_compile(c->artifact_globs[i], strlen(c->artifact_globs[i]), why, sizeof why);
        if (g) {
            r->globs[r->n_globs++] = g; /* checked when the config loaded */
        }
    }
    err e = r->rebuild ? store_art_reset_files(call->st, call->tenant_id, call->ws->id) : ERR_OK;
    if (e == ERR_OK) {
        e = store_art_list(call->st, call->tenant_id, call->ws->id, true, known_add, r);
    }
    walk_stats ws = {0};
    if (e == ERR_OK && !r->oom && r->n_globs > 0) {
        walk_opts o;
        tool_walk_opts(call, &o);
        o.respect_ignore = true;
        o.skip_hidden = true;
        path_status ps = walk_tree(call->ws->root_fd, call->ws->root_real, "", &o, on_file, r, &ws);
        if (ps != PATH_OK) {
            *rc = tool_path_error(out, ps, ".");
            goto done;
        }
        r->stopped |= ws.timed_out || ws.cancelled;
    }
    if (e == ERR_OK && !r->oom) {
        refresh_files(r);
    }
    /* files gone (or no longer matched): only after a whole walk */
    for (size_t i = 0; e == ERR_OK && !r->oom && !r->stopped && i < r->nk; i++) {
        if (!r->k[i].seen) {
            err fe = store_art_forget(call->st, call->tenant_id, call->ws->id, r->k[i].name);
            r->gone += fe == ERR_OK;
        }
    }
    if (e == ERR_OK && !r->oom && !r->stopped) {
        e = store_art_mark_indexed(call->st, call->tenant_id, call->ws->id, sess_actor(call));
    }
    if (r->oom) {
        *rc = ERR_NOMEM;
    } else if (e != ERR_OK) {
        *rc = sess_store_fail(call, out, e);
    } else if (r->store_err != ERR_OK) {
        *rc = sess_store_fail(call, out, r->store_err);
    } else if (ws.cancelled) {
        *rc = ERR_CANCELLED;
    }
done:
    for (size_t i = 0; i < r->n_globs; i++) {
        glob_free(r->globs[i]);
    }
    return *rc == ERR_OK && !out->is_error;
}

static void emit_stored(tool_call *call, const char *action, const char *name, int64_t count)
{
    json_t *refs = json_pack("{s:s, s:s}", "tool", "ctx_artifacts", "action", action);
    if (name) {
        json_object_set_new(refs, "name", json_string(name));
    }
    if (count >= 0) {
        json_object_set_new(refs, "count", json_integer(count));
    }
    char summary[STORE_EV_SUMMARY_MAX + 1];
    if (name) {
        snprintf(summary, sizeof summary, "ctx_artifacts %s %.400s", action, name);
    } else {
        snprintf(summary, sizeof summary, "ctx_artifacts %s (%" PRId64 " changed)", action, count);
    }
    ev_spec sp = {.tenant = call->tenant_id,
                  .workspace = call->ws->id,
                  .channel = call->channel_id,
                  .agent = call->token_id,
                  .kind = "artifact_stored",
                  .summary = summary,
                  .refs = refs,
                  .full = NULL};
    (void)events_emit(&sp);
    json_decref(refs);
}

static void refresh_summary(const refresh *r, buf *out, double secs)
{
    buf_printf(out,
               "artifacts indexed: %" PRId64 " files matched (%" PRId64 " new or changed, %" PRId64
               " unchanged, %" PRId64 " gone",
               r->matched, r->changed, r->unchanged, r->gone);
    if (r->too_large) {
        buf_printf(out, ", %" PRId64 " over %zu KiB skipped", r->too_large, ART_FILE_MAX / 1024);
    }
    if (r->not_text) {
        buf_printf(out, ", %" PRId64 " not UTF-8 text skipped", r->not_text);
    }
    buf_printf(out, ") in %.1f s", secs);
    if (r->stopped && !r->quota) {
        buf_puts(out, "\n(stopped at the time budget: run action=index again to finish)");
    }
}

/* a read's refresh: when the registry was never built or is older than ART_STALE_SEC; a line
   for the output's end when something changed ("" otherwise) */
static const char *refresh_if_stale(tool_call *call, tool_out *out, err *rc)
{
    *rc = ERR_OK;
    store_art_state stt;
    if (store_art_state_get(call->st, call->tenant_id, call->ws->id, &stt) != ERR_OK) {
        return "";
    }
    if (stt.indexed_at[0]) {
        char now[32];
        clock_rfc3339(clock_wall_ms() - (int64_t)ART_STALE_SEC * 1000, now);
        if (strcmp(stt.indexed_at, now) > 0) {
            return "";
        }
    }
    refresh r = {.call = call};
    int64_t t0 = clock_mono_ns();
    if (!refresh_run(&r, out, rc)) {
        return NULL;
    }
    if (r.changed + r.gone > 0) {
        emit_stored(call, "refresh", NULL, r.changed + r.gone);
    }
    if (r.quota) {
        return "\n(the artifact index could not take new files: the tenant's storage quota is "
               "full)";
    }
    if (r.changed + r.gone == 0 && !r.stopped) {
        return "";
    }
    buf line;
    buf_init(&line, 1024);
    buf_putc(&line, '\n');
    buf_putc(&line, '(');
    refresh_summary(&r, &line, (double)(clock_mono_ns() - t0) / 1e9);
    buf_putc(&line, ')');
    const char *s = arena_strdup(call->a, line.ptr ? line.ptr : "");
    buf_release(&line);
    return s ? s : "";
}

/* ---- actions ---- */

static err act_index(tool_call *call, tool_out *out, bool rebuild)
{
    refresh r = {.call = call, .rebuild = rebuild};
    int64_t t0 = clock_mono_ns();
    err rc;
    if (!refresh_run(&r, out, &rc)) {
        return rc;
    }
    if (r.quota) {
        return tool_quota_refusal(call, out, r.quota_requested);
    }
    emit_stored(call, rebuild ? "reindex" : "index", NULL, r.changed + r.gone);
    refresh_summary(&r, &out->text, (double)(clock_mono_ns() - t0) / 1e9);
    if (call->cfg->n_artifact_globs == 0) {
        buf_puts(&out->text, "\n(artifactGlobs is empty: only stored artifacts are registered)");
    }
    out->structured =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "matched", (json_int_t)r.matched,
                  "changed", (json_int_t)r.changed, "unchanged", (json_int_t)r.unchanged, "gone",
                  (json_int_t)r.gone, "too_large", (json_int_t)r.too_large, "not_text",
                  (json_int_t)r.not_text, "complete", !r.stopped);
    return ERR_OK;
}

typedef struct lister {
    tool_call *call;
    json_t *arr;
    buf rows;
    int64_t n;
    size_t width;
} lister;

static bool list_row(const store_art *a, void *v)
{
    lister *l = v;
    char age[16];
    sess_age(a->updated_at, age);
    json_array_append_new(l->arr, json_pack("{s:s, s:s, s:I, s:s, s:b, s:I, s:s}", "name", a->name,
                                            "kind", a->kind, "bytes", (json_int_t)a->bytes,
                                            "updated", a->updated_at, "stored", a->stored, "chunks",
                                            (json_int_t)a->chunks, "sha", a->sha));
    size_t nl = strlen(a->name);
    if (nl > l->width && nl <= 60) {
        l->width = nl;
    }
    buf_printf(&l->rows, "%s\t%s\t%" PRId64 "\t%s ago%s\n", a->name, a->kind, a->bytes, age,
               a->stored ? " (stored)" : "");
    l->n++;
    return l->n < STORE_ART_PER_WS;
}

/* the tab-separated rows aligned on the widest name (at most 60 wide) */
static void put_aligned(buf *out, const char *rows, size_t width)
{
    for (const char *p = rows; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *tab = memchr(p, '\t', len);
        size_t nlen = tab ? (size_t)(tab - p) : len;
        buf_append(out, p, nlen);
        for (size_t i = nlen; i < width + 2; i++) {
            buf_putc(out, ' ');
        }
        for (const char *q = tab ? tab + 1 : p + len; q < p + len; q++) {
            if (*q == '\t') {
                buf_putc(out, ' ');
            }
            buf_putc(out, *q == '\t' ? ' ' : *q);
        }
        buf_putc(out, '\n');
        p = nl ? nl + 1 : p + len;
    }
}

static err act_list(tool_call *call, tool_out *out, bool json)
{
    err rc;
    const char *note = refresh_if_stale(call, out, &rc);
    if (!note) {
        return rc;
    }
    lister l = {.call = call, .arr = json_array()};
    buf_init(&l.rows, (size_t)4 << 20);
    err e = store_art_list(call->st, call->tenant_id, call->ws->id, false, list_row, &l);
    if (e != ERR_OK) {
        json_decref(l.arr);
        buf_release(&l.rows);
        return sess_store_fail(call, out, e);
    }
    out->structured = json_pack("{s:o, s:I}", "artifacts", l.arr, "count", (json_int_t)l.n);
    if (json) {
        jsonx_dump(&out->text, out->structured);
    } else if (l.n == 0) {
        buf_printf(&out->text, "No artifacts in %s (artifactGlobs: %zu globs)", call->ws->id,
                   call->cfg->n_artifact_globs);
    } else {
        buf_printf(&out->text, "%" PRId64 " artifacts in %s (name  kind  bytes  updated):\n", l.n,
                   call->ws->id);
        put_aligned(&out->text, l.rows.ptr, l.width);
        buf_truncate(&out->text, out->text.len - 1);
    }
    buf_puts(&out->text, note);
    buf_release(&l.rows);
    return ERR_OK;
}

static err act_status(tool_call *call, tool_out *out, bool json)
{
    store_art_state s;
    err e = store_art_state_get(call->st, call->tenant_id, call->ws->id, &s);
    if (e != ERR_OK) {
        return sess_store_fail(call, out, e);
    }
    json_t *globs = json_array();
    for (size_t i = 0; i < call->cfg->n_artifact_globs; i++) {
        json_array_append_new(globs, json_string(call->cfg->artifact_globs[i]));
    }
    out->structured = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:s?, s:s?, s:o}", "files", (json_int_t)s.files, "stored",
        (json_int_t)s.stored, "removed", (json_int_t)s.removed, "chunks", (json_int_t)s.chunks,
        "bytes", (json_int_t)s.bytes, "indexed_at", s.indexed_at[0] ? s.indexed_at : NULL,
        "indexed_by", s.indexed_by[0] ? s.indexed_by : NULL, "globs", globs);
    if (json) {
        jsonx_dump(&out->text, out->structured);
        return ERR_OK;
    }
    buf_printf(&out->text,
               "artifacts of %s: %" PRId64 " files, %" PRId64 " stored, %" PRId64
               " removed; %" PRId64 " chunks, %" PRId64 " bytes\n",
               call->ws->id, s.files, s.stored, s.removed, s.chunks, s.bytes);
    if (s.indexed_at[0]) {
        char age[16];
        sess_age(s.indexed_at, age);
        buf_printf(&out->text, "indexed %s ago by %s (reads refresh it after %d s)\n", age,
                   s.indexed_by, ART_STALE_SEC);
    } else {
        buf_puts(&out->text, "never indexed (action=index builds it; list and search do too)\n");
    }
    buf_puts(&out->text, "artifactGlobs:");
    for (size_t i = 0; i < call->cfg->n_artifact_globs; i++) {
        buf_printf(&out->text, " %s", call->cfg->artifact_globs[i]);
    }
    if (call->cfg->n_artifact_globs == 0) {
        buf_puts(&out->text, " (none)");
    }
    return ERR_OK;
}

typedef struct searcher {
    tool_call *call;
    const char *keywords; /* comma-separated query tokens */
    buf hits;
    json_t *arr;
    int n;
} searcher;

/* whether the line holds one of the query's tokens (ASCII case-insensitive) */
static bool line_hits(const char *line, size_t len, const char *kw)
{
    for (const char *k = kw; k && *k;) {
        const char *e = strstr(k, ", ");
        size_t kl = e ? (size_t)(e - k) : strlen(k);
        for (size_t i = 0; kl && i + kl <= len; i++) {
            if (strncasecmp(line + i, k, kl) == 0) {
                return true;
            }
        }
        k = e ? e + 2 : k + kl;
    }
    return false;
}

/* up to 5 lines of the chunk: those holding a query token, else its first lines */
static void put_snippet(buf *out, const store_art_hit *h, const char *kw)
{
    for (int pass = 0; pass < 2; pass++) {
        int shown = 0;
        int64_t ln = h->start_line;
        for (const char *p = h->text; *p && shown < 5; ln++) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            if (pass == 1 || line_hits(p, len, kw)) {
                size_t cut = len > 160 ? 160 : len;
                while (cut < len && cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80) {
                    cut--;
                }
                buf_printf(out, "  %4" PRId64 "| %.*s%s\n", ln, (int)cut, p, cut < len ? " …" : "");
                shown++;
            }
            p = nl ? nl + 1 : p + len;
        }
        if (shown) {
            return;
        }
    }
}

static bool search_hit(const store_art_hit *h, void *v)
{
    searcher *s = v;
    buf_printf(&s->hits, "%s:%" PRId64 "-%" PRId64 "%s%s (%s) score=%.2f\n", h->name, h->start_line,
               h->end_line, h->heading[0] ? " " : "", h->heading, h->kind, h->score);
    put_snippet(&s->hits, h, s->keywords);
    json_array_append_new(s->arr, json_pack("{s:s, s:I, s:I, s:s, s:s, s:f}", "path", h->name,
                                            "start", (json_int_t)h->start_line, "end",
                                            (json_int_t)h->end_line, "symbol", h->heading, "kind",
                                            h->kind, "score", round(h->score * 100) / 100));
    s->n++;
    return true;
}

static err act_search(tool_call *call, tool_out *out, bool json)
{
    const char *query = arg_str(call, "query", NULL);
    if (!query || !*query) {
        buf_puts(&out->text, "action=search needs query");
        return ERR_INVALID_ARGUMENTS;
    }
    err rc;
    const char *note = refresh_if_stale(call, out, &rc);
    if (!note) {
        return rc;
    }
    store_art_state st;
    err e = store_art_state_get(call->st, call->tenant_id, call->ws->id, &st);
    const char *kw = NULL;
    const char *match = gx_fts_query(call->a, query, &kw);
    searcher s = {.call = call, .keywords = kw, .arr = json_array()};
    buf_init(&s.hits, (size_t)1 << 20);
    if (e == ERR_OK && *match) {
        e = store_art_search(call->st, call->tenant_id, call->ws->id, match,
                             (int)arg_int(call, "top_k", 10), search_hit, &s);
    }
    if (e != ERR_OK) {
        json_decref(s.arr);
        buf_release(&s.hits);
        return sess_store_fail(call, out, e);
    }
    out->structured = json_pack("{s:o}", "results", s.arr);
    int64_t docs = st.files + st.stored;
    if (json) {
        jsonx_dump(&out->text, out->structured);
    } else if (s.n == 0) {
        buf_printf(&out->text, "0 results for '%s' (bm25 over %" PRId64 " chunks)", query,
                   st.chunks);
    } else {
        buf_printf(&out->text,
                   "%d results for '%s' (bm25 over %" PRId64 " chunks in %" PRId64 " artifacts):\n",
                   s.n, query, st.chunks, docs);
        buf_append(&out->text, s.hits.ptr, s.hits.len - 1);
    }
    buf_puts(&out->text, note);
    buf_release(&s.hits);
    return ERR_OK;
}

static err act_remove(tool_call *call, tool_out *out)
{
    const char *name = arg_str(call, "name", NULL);
    if (!name || !*name) {
        buf_puts(&out->text, "action=remove needs name (an artifact's path or stored name)");
        return ERR_INVALID_ARGUMENTS;
    }
    err rc;
    if (!refresh_if_stale(call, out, &rc)) {
        return rc;
    }
    bool stored = false;
    err e = store_art_remove(call->st, call->tenant_id, call->ws->id, name, &stored);
    if (e == ERR_NOT_FOUND) {
        return tool_fail(out, "not_found", "no artifact named '%s' in %s (action=list shows them)",
                         name, call->ws->id);
    }
    if (e != ERR_OK) {
        return sess_store_fail(call, out, e);
    }
    emit_stored(call, "remove", name, -1);
    if (stored) {
        buf_printf(&out->text, "removed %s (the stored artifact is deleted)", name);
    } else {
        buf_printf(&out->text,
                   "removed %s from the registry and the search (the file is untouched; "
                   "action=reindex brings it back)",
                   name);
    }
    out->structured = json_pack("{s:s, s:b}", "removed", name, "stored", stored);
    return ERR_OK;
}

err tool_ctx_artifacts(tool_call *call, tool_out *out)
{
    if (!sess_ready(call, out)) {
        return ERR_OK;
    }
    const char *action = arg_str(call, "action", "list");
    bool json = strcmp(arg_str(call, "format", "markdown"), "json") == 0;
    if (strcmp(action, "index") == 0 || strcmp(action, "reindex") == 0) {
        return act_index(call, out, action[0] == 'r');
    }
    if (strcmp(action, "status") == 0) {
        return act_status(call, out, json);
    }
    if (strcmp(action, "search") == 0) {
        return act_search(call, out, json);
    }
    if (strcmp(action, "remove") == 0) {
        return act_remove(call, out);
    }
    return act_list(call, out, json);
}
