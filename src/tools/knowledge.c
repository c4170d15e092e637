/* knowledge.c - ctx_knowledge: facts, conventions, gotchas and decisions that outlive sessions
 * (tools.md §4.5), kept in the store per (tenant, workspace) with an FTS5 index for ranked
 * recall (store.h, "knowledge").
 *
 * A fact is `category/key = value` with a confidence, its writer (`team:<tokenId>`) and times.
 * Writing a key that has a current version supersedes it: the old version stays (valid_until,
 * superseded_by) so `as_of`, `timeline` and `restore` can reach it. Text queries become FTS5
 * expressions built here from the query's word tokens, each quoted, so no caller text is ever
 * parsed as FTS5 syntax. Reads need `search`, writes `knowledge` (ctx_knowledge_needs); every
 * write is committed before the result and emits one `knowledge_remembered` event whose refs hold
 * the action, category and key, never the value (the full payload, for `audit`, adds it).
 *
 * Bounds: value ≤ 16 KiB (import's JSON ≤ KN_IMPORT_BYTES with at most KN_IMPORT_MAX facts),
 * category ≤ 64 bytes of [A-Za-z0-9_.-], key ≤ 128 bytes without control characters, limit
 * 1-100, export ≤ KN_EXPORT_MAX facts, consolidate looks at ≤ KN_CONSOLIDATE_SCAN facts with
 * ≤ KN_CONSOLIDATE_CANDIDATES text-index candidates each (never all pairs). */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "store/store.h"
#include "tools/common.h"
#include "tools/handlers.h"

const char ctx_knowledge_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"remember\",\"recall\",\"search\",\"relate\","
    "\"unrelate\",\"relations\",\"remove\",\"consolidate\",\"timeline\",\"export\",\"import\","
    "\"status\",\"rooms\",\"wakeup\",\"pattern\",\"gotcha\",\"feedback\",\"restore\"]},"
    "\"category\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"default convention "
    "(gotcha: gotcha, pattern: pattern)\"},"
    "\"key\":{\"type\":\"string\",\"maxLength\":128,\"description\":\"default: derived from "
    "value (first words, slugged)\"},"
    "\"value\":{\"type\":\"string\",\"maxLength\":1048576,\"description\":\"the fact (at most "
    "16 KiB); import: the JSON to import; relate: the other key; feedback: up or down\"},"
    "\"content\":{\"type\":\"string\",\"maxLength\":1048576,\"description\":\"alias of value\"},"
    "\"query\":{\"type\":\"string\",\"maxLength\":2048},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"auto\",\"exact\",\"semantic\",\"hybrid\"],"
    "\"default\":\"auto\"},"
    "\"trigger\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"resolution\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"severity\":{\"type\":\"string\",\"enum\":[\"low\",\"medium\",\"high\"]},"
    "\"pattern_type\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"examples\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\","
    "\"maxLength\":4096}},"
    "\"confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"default\":0.8},"
    "\"as_of\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"RFC 3339: read facts as "
    "they were then\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":10},"
    "\"dry_run\":{\"type\":\"boolean\",\"default\":false},"
    "\"format\":{\"type\":\"string\",\"enum\":[\"json\",\"okf\"],\"default\":\"json\"},"
    "\"merge\":{\"type\":\"string\",\"enum\":[\"skip\",\"overwrite\",\"newer\"],"
    "\"default\":\"skip\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"accepted, ignored\"},"
    "\"store\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"accepted, ignored\"}},"
    "\"required\":[\"action\"]}";

#define KN_VALUE_MAX STORE_KN_VALUE_MAX
#define KN_IMPORT_BYTES (1024 * 1024)
#define KN_IMPORT_MAX 1000
#define KN_EXPORT_MAX 5000
#define KN_CONSOLIDATE_SCAN 500
#define KN_CONSOLIDATE_CANDIDATES 10
#define KN_MATCH_TOKENS 32    /* tokens of a query that reach the text index */
#define KN_TOKEN_MAX 64       /* bytes of one token */
#define KN_LINE_VALUE 400     /* bytes of a value shown on one line */
#define KN_CONFLICT_WINDOW 20 /* the last N knowledge writes checked for another writer */
#define KN_RELATIONS_MAX 200
#define KN_SLUG_WORDS 5
#define KN_SLUG_BYTES 64

static const char *const kn_writes[] = {"remember", "pattern",  "gotcha",      "relate",
                                        "unrelate", "feedback", "consolidate", "restore",
                                        "remove",   "import",   NULL};

static bool is_write(const char *action)
{
    for (size_t i = 0; action && kn_writes[i]; i++) {
        if (strcmp(action, kn_writes[i]) == 0) {
            return true;
        }
    }
    return false;
}

void ctx_knowledge_needs(const json_t *args, scope_set *scopes, int *cost)
{
    (void)cost;
    if (is_write(json_string_value(json_object_get(args, "action")))) {
        *scopes = SCOPE_KNOWLEDGE;
    }
}

/* ---- small helpers ---- */

typedef struct kn_ctx {
    tool_call *call;
    tool_out *out;
    store *st;
    const char *tenant, *ws, *actor;
    int64_t now_ms;
} kn_ctx;

/* invalid_arguments (400) with a sentence naming the argument */
static err bad_arg(tool_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static err bad_arg(tool_out *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_truncate(&out->text, 0);
    buf_puts(&out->text, msg);
    return ERR_INVALID_ARGUMENTS;
}

static err store_failed(const kn_ctx *k, err e)
{
    if (e == ERR_NOMEM) {
        return e;
    }
    if (e == ERR_QUOTA_EXCEEDED) {
        /* what the write would have added: about its text and a row (migration 0007) */
        json_t *v = arg_get(k->call, "value");
        v = v ? v : arg_get(k->call, "content");
        return tool_quota_refusal(k->call, k->out, 64 + (int64_t)json_string_length(v));
    }
    return tool_fail(k->out, "conflict", "the knowledge store could not complete the request (%s)",
                     err_code(e));
}

/* milliseconds since the epoch of an RFC 3339 time (`2026-11-21T07:41:09.512Z`, an offset
   `+02:00`, a space for T, fractions of any length); false when it is not one */
static bool rfc3339_ms(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
        return false;
    }
    const char *p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ') {
        return false;
    }
    p++;
    if (sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8) {
        return false;
    }
    p += 8;
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3) {
                ms = ms * 10 + (*p - '0');
            }
            digits++;
            p++;
        }
        if (digits == 0) {
            return false;
        }
        for (; digits < 3; digits++) {
            ms *= 10;
        }
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59) {
            return false;
        }
        off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 ||
        y > 9999) {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) {
        return false;
    }
    *out = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
    return true;
}

/* `3m` for a stored time, "?" when it does not parse */
static void age_of(const kn_ctx *k, const char *when, char out[16])
{
    int64_t ms;
    if (!rfc3339_ms(when, &ms)) {
        snprintf(out, 16, "?");
        return;
    }
    clock_short_duration((k->now_ms - ms) / 1000, out);
}

/* 0.8, 0.85, 1.0 */
static void fmt_conf(double c, char out[16])
{
    snprintf(out, 16, "%.2f", c);
    size_t n = strlen(out);
    while (n > 3 && out[n - 1] == '0') {
        out[--n] = '\0';
    }
}

/* append v on one line: control characters as spaces, at most max bytes (a whole UTF-8
   sequence), `…` when cut */
static void put_oneline(buf *b, const char *v, size_t max)
{
    size_t n = strlen(v);
    size_t cut = n;
    if (n > max) {
        cut = max;
        while (cut > 0 && ((unsigned char)v[cut] & 0xC0) == 0x80) {
            cut--;
        }
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)v[i];
        buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    if (cut < n) {
        buf_puts(b, "…");
    }
}

/* copy src into dst (cap bytes with the NUL), cut at a whole UTF-8 sequence */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* the bytes of s as a JSON string: escapes take up to 6 bytes */
static size_t json_len(const char *s)
{
    size_t n = 2;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        n += c < 0x20 ? 6 : (c == '"' || c == '\\') ? 2 : 1;
    }
    return n;
}

/* category: [A-Za-z0-9_.-]{1,64} */
static bool category_ok(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || n > STORE_KN_CATEGORY_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c[i];
        if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.') {
            return false;
        }
    }
    return true;
}

/* key: 1-128 bytes, no control characters, not only spaces */
static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > STORE_KN_KEY_MAX) {
        return false;
    }
    bool visible = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (ch < 0x20 || ch == 0x7f) {
            return false;
        }
        visible |= ch != ' ';
    }
    return visible;
}

/* the key derived from a value: its first words, lower case, joined by '-'; a value without
   ASCII letters or digits gets `fact-<8 hex of its SHA-256>` */
static void derive_key(const char *value, char out[STORE_KN_KEY_MAX + 1])
{
    size_t o = 0;
    int words = 0;
    const char *p = value;
    while (*p && words < KN_SLUG_WORDS) {
        while (*p && !isalnum((unsigned char)*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        size_t start = o;
        if (o > 0 && o + 1 < KN_SLUG_BYTES) {
            out[o++] = '-';
        }
        while (*p && isalnum((unsigned char)*p)) {
            if (o + 1 < KN_SLUG_BYTES) {
                out[o++] = (char)tolower((unsigned char)*p);
            }
            p++;
        }
        if (o == start) {
            break;
        }
        words++;
    }
    out[o] = '\0';
    if (o == 0) {
        char hex[65];
        crypto_sha256_hex(value, strlen(value), hex);
        snprintf(out, STORE_KN_KEY_MAX + 1, "fact-%.8s", hex);
    }
}

/* word tokens of text as FTS5's unicode61 sees ASCII (letters and digits, lower case; bytes
   of non-ASCII characters count as word characters), each at most KN_TOKEN_MAX bytes */
typedef struct toks {
    char **v;
    size_t n, cap;
} toks;

static void toks_add(toks *t, arena *a, const char *s, size_t n)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        char **nv = arena_alloc(a, cap * sizeof *nv);
        if (!nv) {
            return;
        }
        if (t->n) {
            memcpy(nv, t->v, t->n * sizeof *nv);
        }
        t->v = nv;
        t->cap = cap;
    }
    char *w = arena_strndup(a, s, n < KN_TOKEN_MAX ? n : KN_TOKEN_MAX);
    if (!w) {
        return;
    }
    for (char *q = w; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
    }
    t->v[t->n++] = w;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the sorted set of tokens of text (at most max) */
static void tokenize(const char *text, arena *a, size_t max, toks *t)
{
    memset(t, 0, sizeof *t);
    const unsigned char *p = (const unsigned char *)text;
    while (*p && t->n < max) {
        while (*p && !(isalnum(*p) || *p >= 0x80)) {
            p++;
        }
        const unsigned char *s = p;
        while (*p && (isalnum(*p) || *p >= 0x80)) {
            p++;
        }
        if (p > s) {
            toks_add(t, a, (const char *)s, (size_t)(p - s));
        }
    }
    if (t->n > 1) {
        qsort(t->v, t->n, sizeof *t->v, cmp_str);
        size_t o = 1;
        for (size_t i = 1; i < t->n; i++) {
            if (strcmp(t->v[i], t->v[o - 1]) != 0) {
                t->v[o++] = t->v[i];
            }
        }
        t->n = o;
    }
}

/* an FTS5 expression over tokens: each quoted (tokens hold no quote), joined by OR, or one
   phrase (exact); NULL when there is no token */
static const char *match_expr(arena *a, const char *query, bool exact)
{
    toks t;
    if (exact) {
        /* the phrase keeps the query's order: tokenize without sorting */
        buf b;
        buf_init(&b, 8192);
        buf_putc(&b, '"');
        const unsigned char *p = (const unsigned char *)query;
        size_t n = 0;
        while (*p && n < KN_MATCH_TOKENS) {
            while (*p && !(isalnum(*p) || *p >= 0x80)) {
                p++;
            }
            const unsigned char *s = p;
            while (*p && (isalnum(*p) || *p >= 0x80)) {
                p++;
            }
            if (p > s) {
                if (n++) {
                    buf_putc(&b, ' ');
                }
                buf_append(&b, (const char *)s, (size_t)(p - s));
            }
        }
        buf_putc(&b, '"');
        const char *r = n && !b.failed ? arena_strndup(a, b.ptr, b.len) : NULL;
        buf_release(&b);
        return r;
    }
    tokenize(query, a, KN_MATCH_TOKENS, &t);
    if (t.n == 0) {
        return NULL;
    }
    buf b;
    buf_init(&b, 8192);
    for (size_t i = 0; i < t.n; i++) {
        buf_printf(&b, "%s\"%s\"", i ? " OR " : "", t.v[i]);
    }
    const char *r = b.failed ? NULL : arena_strndup(a, b.ptr, b.len);
    buf_release(&b);
    return r;
}

static json_t *fact_json(const store_fact *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "category", json_string(f->category));
    json_object_set_new(o, "key", json_string(f->key));
    json_object_set_new(o, "value", json_string(f->value ? f->value : ""));
    json_object_set_new(o, "confidence", json_real(f->confidence));
    json_object_set_new(o, "source", json_string(f->source));
    if (f->imported_from[0]) {
        json_object_set_new(o, "importedFrom", json_string(f->imported_from));
    }
    json_object_set_new(o, "created_at", json_string(f->created_at));
    json_object_set_new(o, "last_confirmed", json_string(f->last_confirmed));
    json_object_set_new(o, "retrieval_count", json_integer(f->retrieval_count));
    json_object_set_new(o, "last_retrieved",
                        f->last_retrieved[0] ? json_string(f->last_retrieved) : json_null());
    json_object_set_new(o, "valid_from", json_string(f->valid_from));
    json_object_set_new(o, "valid_until",
                        f->valid_until[0] ? json_string(f->valid_until) : json_null());
    json_object_set_new(o, "supersedes", f->supersedes ? json_integer(f->supersedes) : json_null());
    json_object_set_new(o, "feedback_up", json_integer(f->feedback_up));
    json_object_set_new(o, "feedback_down", json_integer(f->feedback_down));
    json_object_set_new(o, "id", json_integer(f->id));
    return o;
}

/* `[<category>/<key>] <value> (confidence 0.9, <age> ago, by <actor>)` */
static void recall_line(const kn_ctx *k, buf *b, const store_fact *f)
{
    char conf[16], age[16];
    fmt_conf(f->confidence, conf);
    age_of(k, f->last_confirmed, age);
    buf_printf(b, "[%s/%s] ", f->category, f->key);
    put_oneline(b, f->value ? f->value : "", KN_LINE_VALUE);
    buf_printf(b, " (confidence %s, %s ago, by %s)\n", conf, age, f->source);
}

/* collects facts into text lines and a JSON array */
typedef struct kn_list {
    kn_ctx *k;
    json_t *arr;
    size_t n;
    bool timeline;
} kn_list;

static bool list_fact(const store_fact *f, void *v)
{
    kn_list *l = v;
    if (l->timeline) {
        buf_printf(&l->k->out->text, "%s  %s [%s/%s] ", f->valid_from,
                   f->supersedes ? "updated" : "remembered", f->category, f->key);
        put_oneline(&l->k->out->text, f->value, 120);
        buf_printf(&l->k->out->text, " by %s%s\n", f->source,
                   f->valid_until[0] ? " (superseded)" : "");
    } else {
        recall_line(l->k, &l->k->out->text, f);
    }
    json_array_append_new(l->arr, fact_json(f));
    l->n++;
    return true;
}

static void emit(const kn_ctx *k, const char *action, const char *category, const char *key,
                 const char *value, int64_t count)
{
    json_t *refs = json_pack("{s:s}", "action", action);
    if (category) {
        json_object_set_new(refs, "category", json_string(category));
    }
    if (key) {
        json_object_set_new(refs, "key", json_string(key));
    }
    if (count >= 0) {
        json_object_set_new(refs, "count", json_integer(count));
    }
    json_t *full = json_deep_copy(refs);
    if (value) {
        json_object_set_new(full, "value", json_string(value));
    }
    char summary[512];
    if (category && key) {
        snprintf(summary, sizeof summary, "ctx_knowledge %s %s/%s", action, category, key);
    } else if (key) {
        snprintf(summary, sizeof summary, "ctx_knowledge %s %s", action, key);
    } else {
        snprintf(summary, sizeof summary, "ctx_knowledge %s (%" PRId64 ")", action, count);
    }
    ev_spec e = {.tenant = k->tenant,
                 .workspace = k->ws,
                 .channel = k->call->channel_id,
                 .agent = k->call->token_id,
                 .kind = "knowledge_remembered",
                 .summary = summary,
                 .refs = refs,
                 .full = full};
    (void)events_emit(&e);
    json_decref(refs);
    json_decref(full);
}

/* the value argument (value, else content) */
static const char *value_arg(const tool_call *call)
{
    const char *v = arg_str(call, "value", NULL);
    return v ? v : arg_str(call, "content", NULL);
}

/* the category argument or def; false (and the 400) when it breaks the rule */
static bool category_arg(kn_ctx *k, const char *def, const char **out, err *e)
{
    const char *c = arg_str(k->call, "category", def);
    if (!category_ok(c)) {
        *e = bad_arg(k->out, "category must be 1-64 characters of A-Z a-z 0-9 _ . - (got '%.64s')",
                     c);
        return false;
    }
    *out = c;
    return true;
}

static bool key_arg(kn_ctx *k, const char **out, err *e)
{
    const char *key = arg_str(k->call, "key", NULL);
    if (!key) {
        *e = bad_arg(k->out, "key is required for action=%s", arg_str(k->call, "action", ""));
        return false;
    }
    if (!key_ok(key)) {
        *e = bad_arg(k->out, "key must be 1-128 bytes without control characters");
        return false;
    }
    *out = key;
    return true;
}

/* ---- writes ---- */

typedef struct conflict_scan {
    const char *category, *key, *actor;
    char other[STORE_KN_SOURCE_MAX + 1];
} conflict_scan;

static bool conflict_row(const store_fact *f, void *v)
{
    conflict_scan *c = v;
    if (strcmp(f->category, c->category) == 0 && strcmp(f->key, c->key) == 0 &&
        strcmp(f->source, c->actor) != 0) {
        snprintf(c->other, sizeof c->other, "%s", f->source);
        return false;
    }
    return true;
}

static err do_remember(kn_ctx *k, const char *action)
{
    err e = ERR_OK;
    const char *def_cat = strcmp(action, "gotcha") == 0    ? "gotcha"
                          : strcmp(action, "pattern") == 0 ? "pattern"
                                                           : "convention";
    const char *category;
    if (!category_arg(k, def_cat, &category, &e)) {
        return e;
    }
    const char *v = value_arg(k->call);
    const char *head = v; /* what a derived key is made of: the fact's own words */
    buf val;
    buf_init(&val, KN_VALUE_MAX);
    if (strcmp(action, "gotcha") == 0) {
        const char *trigger = arg_str(k->call, "trigger", NULL);
        const char *resolution = arg_str(k->call, "resolution", NULL);
        const char *severity = arg_str(k->call, "severity", NULL);
        if (!v && !trigger) {
            buf_release(&val);
            return bad_arg(k->out, "gotcha needs value or trigger");
        }
        head = v ? v : trigger;
        buf_puts(&val, head);
        if (v && trigger) {
            buf_printf(&val, " | trigger: %s", trigger);
        }
        if (resolution) {
            buf_printf(&val, " | resolution: %s", resolution);
        }
        if (severity) {
            buf_printf(&val, " | severity: %s", severity);
        }
    } else if (strcmp(action, "pattern") == 0) {
        const char *ptype = arg_str(k->call, "pattern_type", NULL);
        json_t *ex = arg_get(k->call, "examples");
        if (!v && !ptype) {
            buf_release(&val);
            return bad_arg(k->out, "pattern needs value or pattern_type");
        }
        head = v ? v : ptype;
        buf_puts(&val, head);
        if (v && ptype) {
            buf_printf(&val, " | pattern_type: %s", ptype);
        }
        size_t i;
        json_t *it;
        json_array_foreach (ex, i, it) {
            buf_printf(&val, "%s%s", i ? "; " : " | examples: ", json_string_value(it));
        }
    } else {
        if (!v || !*v) {
            buf_release(&val);
            return bad_arg(k->out, "value is required for action=%s", action);
        }
        buf_puts(&val, v);
    }
    if (val.failed || val.len > KN_VALUE_MAX) {
        buf_release(&val);
        return bad_arg(k->out, "value must be at most %d bytes", KN_VALUE_MAX);
    }
    const char *value = arena_strndup(k->call->a, val.ptr, val.len);
    buf_release(&val);
    if (!value) {
        return ERR_NOMEM;
    }
    char derived[STORE_KN_KEY_MAX + 1];
    const char *key = arg_str(k->call, "key", NULL);
    if (!key) {
        derive_key(head, derived);
        key = derived;
    } else if (!key_ok(key)) {
        return bad_arg(k->out, "key must be 1-128 bytes without control characters");
    }

    /* another writer of this key among the last knowledge writes of the workspace */
    conflict_scan cs = {.category = category, .key = key, .actor = k->actor};
    store_kn_query cq = {.history = true, .order = STORE_KN_BY_NEWEST, .limit = KN_CONFLICT_WINDOW};
    if (store_kn_query_run(k->st, k->tenant, k->ws, &cq, conflict_row, &cs) != ERR_OK) {
        cs.other[0] = '\0'; /* the warning is advisory: a failed scan only omits it */
    }

    store_fact f = {.value = value, .confidence = arg_num(k->call, "confidence", 0.8)};
    snprintf(f.category, sizeof f.category, "%s", category);
    snprintf(f.key, sizeof f.key, "%s", key);
    snprintf(f.source, sizeof f.source, "%s", k->actor);
    store_kn_write w;
    e = store_kn_remember(k->st, k->tenant, k->ws, &f, STORE_KN_SUPERSEDE, &w);
    if (e == ERR_INVALID_ARGUMENTS) {
        return bad_arg(k->out, "the fact breaks a size rule");
    }
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    char conf[16];
    fmt_conf(f.confidence, conf);
    switch (w.outcome) {
    case STORE_KN_CONFIRMED:
        buf_printf(&k->out->text, "confirmed [%s/%s] (same value, confidence %s)", category, key,
                   conf);
        break;
    case STORE_KN_SUPERSEDED: {
        char age[16];
        age_of(k, w.prev_confirmed, age);
        buf_printf(&k->out->text,
                   "remembered [%s/%s] (confidence %s); superseded the version by %s from %s ago",
                   category, key, conf, w.prev_source, age);
        break;
    }
    default:
        buf_printf(&k->out->text, "remembered [%s/%s] (confidence %s)", category, key, conf);
        break;
    }
    if (cs.other[0]) {
        buf_printf(&k->out->text,
                   "\n[CONFLICT] Agent '%s' recently wrote to the same knowledge key '%s/%s'. "
                   "Review before proceeding.",
                   cs.other, category, key);
    }
    k->out->structured =
        json_pack("{s:s, s:s, s:s, s:I, s:o, s:b}", "action", action, "category", category, "key",
                  key, "id", (json_int_t)w.id, "supersedes",
                  w.prev_id ? json_integer(w.prev_id) : json_null(), "conflict", cs.other[0] != 0);
    emit(k, action, category, key, value, -1);
    return ERR_OK;
}

static err do_relate(kn_ctx *k, bool add)
{
    err e = ERR_OK;
    const char *key;
    if (!key_arg(k, &key, &e)) {
        return e;
    }
    const char *other = value_arg(k->call);
    if (!other || !key_ok(other)) {
        return bad_arg(k->out, "value must name the other key (1-128 bytes)");
    }
    e = store_kn_relate(k->st, k->tenant, k->ws, key, other, k->actor, add);
    if (e == ERR_CONFLICT) {
        return tool_fail(k->out, "conflict", "'%s' is already related to '%s'", key, other);
    }
    if (e == ERR_NOT_FOUND) {
        return tool_fail(k->out, "not_found", "no relation '%s' → '%s'", key, other);
    }
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    buf_printf(&k->out->text, "%s '%s' → '%s'", add ? "related" : "unrelated", key, other);
    emit(k, add ? "relate" : "unrelate", NULL, key, other, -1);
    return ERR_OK;
}

static err do_remove(kn_ctx *k)
{
    err e = ERR_OK;
    const char *category, *key;
    if (!category_arg(k, "convention", &category, &e) || !key_arg(k, &key, &e)) {
        return e;
    }
    int64_t n = 0;
    e = store_kn_remove(k->st, k->tenant, k->ws, category, key, &n);
    if (e == ERR_NOT_FOUND) {
        return tool_fail(k->out, "not_found", "no knowledge fact '%s/%s'", category, key);
    }
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    buf_printf(&k->out->text, "removed [%s/%s] (%" PRId64 " version%s)", category, key, n,
               n == 1 ? "" : "s");
    emit(k, "remove", category, key, NULL, -1);
    return ERR_OK;
}

static err do_restore(kn_ctx *k)
{
    err e = ERR_OK;
    const char *category, *key;
    if (!category_arg(k, "convention", &category, &e) || !key_arg(k, &key, &e)) {
        return e;
    }
    store_kn_write w;
    e = store_kn_restore(k->st, k->tenant, k->ws, category, key, k->actor, &w);
    if (e == ERR_NOT_FOUND) {
        return tool_fail(k->out, "not_found", "no superseded version of '%s/%s'", category, key);
    }
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    buf_printf(&k->out->text, "restored [%s/%s] to its previous version", category, key);
    emit(k, "restore", category, key, NULL, -1);
    return ERR_OK;
}

static err do_feedback(kn_ctx *k)
{
    err e = ERR_OK;
    const char *category, *key;
    if (!category_arg(k, "convention", &category, &e) || !key_arg(k, &key, &e)) {
        return e;
    }
    const char *v = value_arg(k->call);
    if (!v || (strcmp(v, "up") != 0 && strcmp(v, "down") != 0)) {
        return bad_arg(k->out, "value must be up or down for action=feedback");
    }
    e = store_kn_feedback(k->st, k->tenant, k->ws, category, key, strcmp(v, "up") == 0);
    if (e == ERR_NOT_FOUND) {
        return tool_fail(k->out, "not_found", "no knowledge fact '%s/%s'", category, key);
    }
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    buf_printf(&k->out->text, "feedback %s on [%s/%s]", v, category, key);
    emit(k, "feedback", category, key, NULL, -1);
    return ERR_OK;
}

/* ---- consolidate: near-duplicates through the text index ---- */

typedef struct cons_fact {
    int64_t id;
    double confidence;
    char category[STORE_KN_CATEGORY_MAX + 1];
    char key[STORE_KN_KEY_MAX + 1];
    toks t;
    bool merged;
} cons_fact;

typedef struct cons_scan {
    kn_ctx *k;
    cons_fact *v;
    size_t n, cap;
    bool more; /* there were more facts than cap */
} cons_scan;

static bool cons_collect(const store_fact *f, void *v)
{
    cons_scan *c = v;
    if (c->n == c->cap) {
        c->more = true;
        return false;
    }
    cons_fact *cf = &c->v[c->n++];
    cf->id = f->id;
    cf->confidence = f->confidence;
    snprintf(cf->category, sizeof cf->category, "%s", f->category);
    snprintf(cf->key, sizeof cf->key, "%s", f->key);
    tokenize(f->value, c->k->call->a, 4096, &cf->t);
    return true;
}

static double jaccard(const toks *a, const toks *b)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < a->n && j < b->n) {
        int c = strcmp(a->v[i], b->v[j]);
        inter += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    size_t uni = a->n + b->n - inter;
    return uni ? (double)inter / (double)uni : 0.0;
}

typedef struct cons_cand {
    int64_t ids[KN_CONSOLIDATE_CANDIDATES];
    size_t n;
} cons_cand;

static bool cons_cand_row(const store_fact *f, void *v)
{
    cons_cand *c = v;
    if (c->n < KN_CONSOLIDATE_CANDIDATES) {
        c->ids[c->n++] = f->id;
    }
    return c->n < KN_CONSOLIDATE_CANDIDATES;
}

static cons_fact *cons_find(cons_scan *c, int64_t id)
{
    size_t lo = 0, hi = c->n; /* v is in id order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->v[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < c->n && c->v[lo].id == id ? &c->v[lo] : NULL;
}

static int cmp_cons(const void *a, const void *b)
{
    const cons_fact *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static err do_consolidate(kn_ctx *k)
{
    bool dry = arg_bool(k->call, "dry_run", false);
    cons_scan c = {.k = k, .cap = KN_CONSOLIDATE_SCAN};
    c.v = arena_alloc(k->call->a, c.cap * sizeof *c.v);
    if (!c.v) {
        return ERR_NOMEM;
    }
    memset(c.v, 0, c.cap * sizeof *c.v);
    store_kn_query q = {.order = STORE_KN_BY_NEWEST, .limit = KN_CONSOLIDATE_SCAN + 1};
    err e = store_kn_query_run(k->st, k->tenant, k->ws, &q, cons_collect, &c);
    if (e != ERR_OK) {
        return store_failed(k, e);
    }
    qsort(c.v, c.n, sizeof *c.v, cmp_cons);
    json_t *merges = json_array();
    size_t n_merged = 0;
    for (size_t i = 0; i < c.n; i++) {
        cons_fact *a = &c.v[i];
        if (a->merged || a->t.n == 0 || tool_expired(k->call)) {
            continue;
        }
        /* candidates: same category, a later id, sharing a token through the text index */
        buf qb;
        buf_init(&qb, 8192);
        for (size_t t = 0; t < a->t.n && t < KN_MATCH_TOKENS; t++) {
            buf_printf(&qb, "%s\"%s\"", t ? " OR " : "", a->t.v[t]);
        }
        const char *m = qb.failed ? NULL : arena_strndup(k->call->a, qb.ptr, qb.len);
        buf_release(&qb);
        if (!m) {
            continue;
        }
        cons_cand cand = {0};
        store_kn_query cq = {.match = m,
                             .category = a->category,
                             .order = STORE_KN_BY_RANK,
                             .min_id = a->id,
                             .limit = KN_CONSOLIDATE_CANDIDATES};
        if (store_kn_query_run(k->st, k->tenant, k->ws, &cq, cons_cand_row, &cand) != ERR_OK) {
            continue;
        }
        for (size_t j = 0; j < cand.n && !a->merged; j++) {
            cons_fact *b = cons_find(&c, cand.ids[j]);
            if (!b || b->merged) {
                continue;
            }
            double jac = jaccard(&a->t, &b->t);
            if (jac < 0.8) {
                continue;
            }
            /* keep the more confident one; the newer one on a tie */
            cons_fact *win = a->confidence > b->confidence ? a : b;
            cons_fact *lose = win == a ? b : a;
            if (!dry) {
                e = store_kn_merge_pair(k->st, k->tenant, k->ws, win->id, lose->id);
                if (e == ERR_NOT_FOUND) {
                    continue; /* changed meanwhile */
                }
                if (e != ERR_OK) {
                    json_decref(merges);
                    return store_failed(k, e);
                }
            }
            lose->merged = true;
            n_merged++;
            buf_printf(&k->out->text, "%s [%s/%s] into [%s/%s] (jaccard %.2f)\n",
                       dry ? "would merge" : "merged", lose->category, lose->key, win->category,
                       win->key, jac);
            json_array_append_new(merges,
                                  json_pack("{s:s, s:s, s:s, s:f}", "category", win->category,
                                            "from", lose->key, "into", win->key, "jaccard", jac));
        }
    }
    if (n_merged == 0) {
        buf_printf(&k->out->text, "No near-duplicate facts among %zu\n", c.n);
    } else {
        buf_printf(&k->out->text, "consolidate: %zu merge%s%s among %zu facts\n", n_merged,
                   n_merged == 1 ? "" : "s", dry ? " (dry run)" : "", c.n);
    }
    if (c.more) {
        buf_printf(&k->out->text, "note: only the %d newest facts were compared\n",
                   KN_CONSOLIDATE_SCAN);
    }
    buf_truncate(&k->out->text, k->out->text.len - 1);
    k->out->structured =
        json_pack("{s:o, s:b, s:I}", "merges", merges, "dry_run", dry, "scanned", (json_int_t)c.n);
    if (!dry && n_merged > 0) {
        emit(k, "consolidate", NULL, NULL, NULL, (int64_t)n_merged);
    }
    return ERR_OK;
}

/* ---- import ---- */

typedef struct imp_fact {
    store_fact f;
} imp_fact;

/* a time an import claims, in the store's format; "" when absent or unreadable */
static void imported_time(json_t *o, const char *name, char out[32])
{
    int64_t ms;
    out[0] = '\0';
    if (rfc3339_ms(jsonx_str(o, name), &ms)) {
        clock_rfc3339(ms, out);
    }
}

static err do_import(kn_ctx *k)
{
    const char *v = value_arg(k->call);
    if (!v) {
        return bad_arg(k->out, "value must hold the JSON to import");
    }
    if (strlen(v) > KN_IMPORT_BYTES) {
        return bad_arg(k->out, "value must be at most %d bytes", KN_IMPORT_BYTES);
    }
    char why[256];
    json_t *doc = jsonx_parse(v, strlen(v), why, sizeof why);
    if (!doc) {
        return bad_arg(k->out, "value is not valid JSON: %s", why);
    }
    json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "facts");
    if (!arr) {
        arr = json_object_get(doc, "entries"); /* format=okf */
    }
    if (!json_is_array(arr)) {
        json_decref(doc);
        return bad_arg(k->out, "value must be an array of facts or an object with \"facts\"");
    }
    size_t n = json_array_size(arr);
    if (n > KN_IMPORT_MAX) {
        json_decref(doc);
        return bad_arg(k->out, "value holds %zu facts; at most %d are imported at once", n,
                       KN_IMPORT_MAX);
    }
    imp_fact *facts = n ? arena_alloc(k->call->a, n * sizeof *facts) : NULL;
    if (n && !facts) {
        json_decref(doc);
        return ERR_NOMEM;
    }
    /* validate everything before writing anything */
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        store_fact *f = &facts[i].f;
        memset(f, 0, sizeof *f);
        if (!json_is_object(o)) {
            json_decref(doc);
            return bad_arg(k->out, "facts[%zu] must be an object", i);
        }
        const char *cat = json_object_get(o, "category") ? jsonx_str(o, "category") : "convention";
        const char *val = jsonx_str(o, "value");
        if (!val) {
            val = jsonx_str(o, "content");
        }
        const char *key = jsonx_str(o, "key");
        json_t *conf = json_object_get(o, "confidence");
        if (!cat || !category_ok(cat)) {
            json_decref(doc);
            return bad_arg(k->out,
                           "facts[%zu].category must be 1-64 characters of A-Z a-z 0-9 "
                           "_ . -",
                           i);
        }
        if (!val || !*val || strlen(val) > KN_VALUE_MAX) {
            json_decref(doc);
            return bad_arg(k->out, "facts[%zu].value must be a string of 1-%d bytes", i,
                           KN_VALUE_MAX);
        }
        if (json_object_get(o, "key") && (!key || !key_ok(key))) {
            json_decref(doc);
            return bad_arg(k->out,
                           "facts[%zu].key must be 1-128 bytes without control "
                           "characters",
                           i);
        }
        if (conf &&
            (!json_is_number(conf) || json_number_value(conf) < 0 || json_number_value(conf) > 1)) {
            json_decref(doc);
            return bad_arg(k->out, "facts[%zu].confidence must be a number from 0 to 1", i);
        }
        snprintf(f->category, sizeof f->category, "%s", cat);
        if (key) {
            snprintf(f->key, sizeof f->key, "%s", key);
        } else {
            derive_key(val, f->key);
        }
        f->value = arena_strdup(k->call->a, val);
        if (!f->value) {
            json_decref(doc);
            return ERR_NOMEM;
        }
        f->confidence = conf ? json_number_value(conf) : 0.8;
        snprintf(f->source, sizeof f->source, "%s", k->actor);
        const char *claimed = jsonx_str(o, "source");
        if (claimed && *claimed && strcmp(claimed, k->actor) != 0) {
            copy_utf8(f->imported_from, sizeof f->imported_from, claimed);
        }
        imported_time(o, "created_at", f->created_at);
        imported_time(o, "last_confirmed", f->last_confirmed);
    }
    json_decref(doc);

    const char *merge_s = arg_str(k->call, "merge", "skip");
    store_kn_merge merge = strcmp(merge_s, "overwrite") == 0 ? STORE_KN_SUPERSEDE
                           : strcmp(merge_s, "newer") == 0   ? STORE_KN_NEWER
                                                             : STORE_KN_SKIP;
    bool dry = arg_bool(k->call, "dry_run", false);
    size_t counts[4] = {0};
    if (dry) {
        buf_printf(&k->out->text, "import (dry run): %zu valid facts, merge=%s; nothing written", n,
                   merge_s);
        k->out->structured = json_pack("{s:I, s:b}", "facts", (json_int_t)n, "dry_run", true);
        return ERR_OK;
    }
    for (size_t i = 0; i < n; i++) {
        store_fact *f = &facts[i].f;
        if (merge != STORE_KN_NEWER) {
            f->last_confirmed[0] = '\0'; /* confirmed now, by the importer */
        }
        store_kn_write w;
        err e = store_kn_remember(k->st, k->tenant, k->ws, f, merge, &w);
        if (e == ERR_QUOTA_EXCEEDED) {
            size_t done = counts[0] + counts[1] + counts[2] + counts[3];
            emit(k, "import", NULL, NULL, NULL, (int64_t)(counts[0] + counts[1] + counts[2]));
            e = tool_quota_refusal(k->call, k->out, 64 + (int64_t)strlen(f->value));
            buf_printf(&k->out->text, " (import stopped at facts[%zu]; %zu imported before)", i,
                       done);
            return e;
        }
        if (e != ERR_OK) {
            buf_printf(&k->out->text, "stopped at facts[%zu]: %s\n", i, err_code(e));
            break;
        }
        counts[w.outcome]++;
    }
    buf_printf(&k->out->text,
               "imported %zu facts: %zu created, %zu superseded, %zu confirmed, %zu skipped "
               "(merge=%s)",
               counts[0] + counts[1] + counts[2] + counts[3], counts[STORE_KN_CREATED],
               counts[STORE_KN_SUPERSEDED], counts[STORE_KN_CONFIRMED], counts[STORE_KN_SKIPPED],
               merge_s);
    k->out->structured = json_pack(
        "{s:I, s:I, s:I, s:I}", "created", (json_int_t)counts[STORE_KN_CREATED], "superseded",
        (json_int_t)counts[STORE_KN_SUPERSEDED], "confirmed",
        (json_int_t)counts[STORE_KN_CONFIRMED], "skipped", (json_int_t)counts[STORE_KN_SKIPPED]);
    emit(k, "import", NULL, NULL, NULL, (int64_t)(counts[0] + counts[1] + counts[2]));
    return ERR_OK;
}

/* ---- reads ---- */

/* as_of into the store's format; false (and the 400) when it is not RFC 3339 */
static bool as_of_arg(kn_ctx *k, char out[32], const char **as_of, err *e)
{
    const char *a = arg_str(k->call, "as_of", NULL);
    *as_of = NULL;
    if (!a) {
        return true;
    }
    int64_t ms;
    if (!rfc3339_ms(a, &ms)) {
        *e = bad_arg(k->out, "as_of must be an RFC 3339 time such as 2026-11-21T07:41:09Z");
        return false;
    }
    clock_rfc3339(ms, out);
    *as_of = out;
    return true;
}

static err do_recall(kn_ctx *k, const char *action)
{
    err e = ERR_OK;
    const char *query = arg_str(k->call, "query", NULL);
    const char *mode = arg_str(k->call, "mode", "auto");
    const char *category = arg_str(k->call, "category", NULL);
    const char *key = arg_str(k->call, "key", NULL);
    bool search = strcmp(action, "search") == 0;
    if (search && !query) {
        return bad_arg(k->out, "query is required for action=search");
    }
    if (!query && !category && !key) {
        return bad_arg(k->out, "recall needs query, category or key");
    }
    char as_of_buf[32];
    const char *as_of;
    if (!as_of_arg(k, as_of_buf, &as_of, &e)) {
        return e;
    }
    const char *m = NULL;
    if (query) {
        m = match_expr(k->call->a, query, strcmp(mode, "exact") == 0);
        if (!m) {
            buf_printf(&k->out->text, "No facts match '%.200s' (no words to search for)", query);
            k->out->structured = json_pack("{s:[], s:i}", "facts", "count", 0);
            return ERR_OK;
        }
    }
    store_kn_query q = {.match = m,
                        .category = category,
                        .key = key,
                        .as_of = as_of,
                        .order = STORE_KN_BY_RANK,
                        .limit = (int)arg_int(k->call, "limit", 10),
                        .touch = !search && !as_of};
    kn_list l = {.k = k, .arr = json_array()};
    e = store_kn_query_run(k->st, k->tenant, k->ws, &q, list_fact, &l);
    if (e != ERR_OK) {
        json_decref(l.arr);
        return store_failed(k, e);
    }
    if (l.n == 0) {
        if (query) {
            buf_printf(&k->out->text, "No facts match '%.200s'\n", query);
        } else {
            buf_printf(&k->out->text, "No facts in %s%s%s\n", category ? category : "*",
                       key ? "/" : "", key ? key : "");
        }
    }
    if (strcmp(mode, "semantic") == 0 || strcmp(mode, "hybrid") == 0) {
        buf_printf(&k->out->text, "note: mode=%s is served by BM25 (no embeddings)\n", mode);
    }
    if (k->out->text.len && k->out->text.ptr[k->out->text.len - 1] == '\n') {
        buf_truncate(&k->out->text, k->out->text.len - 1);
    }
    k->out->structured = json_pack("{s:o, s:I}", "facts", l.arr, "count", (json_int_t)l.n);
    return ERR_OK;
}

static err do_timeline(kn_ctx *k)
{
    const char *query = arg_str(k->call, "query", NULL);
    const char *m = query ? match_expr(k->call->a, query, false) : NULL;
    if (query && !m) {
        buf_printf(&k->out->text, "No knowledge changes match '%.200s'", query);
        return ERR_OK;
    }
    store_kn_query q = {.match = m,
                        .category = arg_str(k->call, "category", NULL),
                        .key = arg_str(k->call, "key", NULL),
                        .history = true,
                        .order = STORE_KN_BY_NEWEST,
                        .limit = (int)arg_int(k->call, "limit", 10)};
    kn_list l = {.k = k, .arr = json_array(), .timeline = true};
    err e = store_kn_query_run(k->st, k->tenant, k->ws, &q, list_fact, &l);
    if (e != ERR_OK) {
        json_decref(l.arr);
        return store_failed(k, e);
    }
    if (l.n == 0) {
        buf_puts(&k->out->text, "No knowledge changes");
    } else {
        buf_truncate(&k->out->text, k->out->text.len - 1);
    }
    k->out->structured = json_pack("{s:o}", "changes", l.arr);
    return ERR_OK;
}

typedef struct rel_list {
    kn_ctx *k;
    json_t *arr;
} rel_list;

static bool rel_row(const char *from, const char *to, const char *source, const char *created,
                    void *v)
{
    rel_list *r = v;
    char age[16];
    age_of(r->k, created, age);
    buf_printf(&r->k->out->text, "%s → %s (by %s, %s ago)\n", from, to, source, age);
    json_array_append_new(r->arr, json_pack("{s:s, s:s, s:s, s:s}", "from", from, "to", to,
                                            "source", source, "created_at", created));
    return true;
}

static err do_relations(kn_ctx *k)
{
    err e = ERR_OK;
    const char *key;
    if (!key_arg(k, &key, &e)) {
        return e;
    }
    rel_list r = {.k = k, .arr = json_array()};
    e = store_kn_relations(k->st, k->tenant, k->ws, key, KN_RELATIONS_MAX, rel_row, &r);
    if (e != ERR_OK) {
        json_decref(r.arr);
        return store_failed(k, e);
    }
    if (json_array_size(r.arr) == 0) {
        buf_printf(&k->out->text, "No relations of '%s'", key);
    } else {
        buf_truncate(&k->out->text, k->out->text.len - 1);
    }
    k->out->structured = json_pack("{s:s, s:o}", "key", key, "relations", r.arr);
    return ERR_OK;
}

typedef struct cat_list {
    buf *b;
    json_t *obj;
    int64_t total;
} cat_list;

static bool cat_row(const char *category, int64_t count, void *v)
{
    cat_list *c = v;
    buf_printf(c->b, "%s  %" PRId64 "\n", category, count);
    json_object_set_new(c->obj, category, json_integer(count));
    c->total += count;
    return true;
}

static err do_status(kn_ctx *k, bool rooms_only)
{
    buf cats;
    buf_init(&cats, 1 << 20);
    cat_list c = {.b = &cats, .obj = json_object()};
    int64_t superseded = 0;
    err e = store_kn_categories(k->st, k->tenant, k->ws, cat_row, &c, &superseded);
    if (e != ERR_OK) {
        buf_release(&cats);
        json_decref(c.obj);
        return store_failed(k, e);
    }
    if (rooms_only) {
        if (c.total == 0) {
            buf_puts(&k->out->text, "No facts");
        } else {
            buf_append(&k->out->text, cats.ptr, cats.len - 1);
        }
        buf_release(&cats);
        k->out->structured = json_pack("{s:o}", "categories", c.obj);
        return ERR_OK;
    }
    buf_printf(&k->out->text,
               "knowledge %s: %" PRId64 " facts in %zu categories, %" PRId64
               " superseded versions\n",
               k->ws, c.total, json_object_size(c.obj), superseded);
    buf_append(&k->out->text, cats.ptr, cats.len);
    buf_release(&cats);
    kn_list l = {.k = k, .arr = json_array()};
    if (c.total > 0) {
        buf_puts(&k->out->text, "newest:\n");
        store_kn_query q = {.order = STORE_KN_BY_NEWEST, .limit = 5};
        e = store_kn_query_run(k->st, k->tenant, k->ws, &q, list_fact, &l);
        if (e != ERR_OK) {
            json_decref(c.obj);
            json_decref(l.arr);
            return store_failed(k, e);
        }
    }
    buf_truncate(&k->out->text, k->out->text.len - 1);
    k->out->structured =
        json_pack("{s:I, s:I, s:o, s:o}", "facts", (json_int_t)c.total, "superseded",
                  (json_int_t)superseded, "categories", c.obj, "newest", l.arr);
    return ERR_OK;
}

static err do_wakeup(kn_ctx *k)
{
    store_kn_query q = {.order = STORE_KN_BY_USEFUL, .limit = 10};
    kn_list l = {.k = k, .arr = json_array()};
    err e = store_kn_query_run(k->st, k->tenant, k->ws, &q, list_fact, &l);
    if (e != ERR_OK) {
        json_decref(l.arr);
        return store_failed(k, e);
    }
    if (l.n == 0) {
        buf_puts(&k->out->text, "No facts yet: remember conventions, gotchas and decisions with "
                                "ctx_knowledge action=remember");
    } else {
        buf_truncate(&k->out->text, k->out->text.len - 1);
    }
    k->out->structured = json_pack("{s:o}", "facts", l.arr);
    return ERR_OK;
}

typedef struct exp_list {
    json_t *arr;
    bool okf;
    size_t bytes, max_bytes;
    bool truncated;
} exp_list;

static bool export_row(const store_fact *f, void *v)
{
    exp_list *x = v;
    size_t need = json_len(f->value) + json_len(f->key) + json_len(f->source) +
                  json_len(f->imported_from) + 512;
    if (x->bytes + need > x->max_bytes) {
        x->truncated = true;
        return false;
    }
    x->bytes += need;
    json_t *o = fact_json(f);
    if (x->okf) {
        /* OKF entries: the same fact with `content` and an `id` of category/key */
        json_object_set(o, "content", json_object_get(o, "value"));
        json_object_del(o, "value");
        json_object_set_new(o, "id", json_sprintf("%s/%s", f->category, f->key));
        json_object_set_new(o, "type", json_string("fact"));
    }
    json_array_append_new(x->arr, o);
    return true;
}

static err do_export(kn_ctx *k)
{
    bool okf = strcmp(arg_str(k->call, "format", "json"), "okf") == 0;
    size_t max =
        k->call->cfg && k->call->cfg->max_output_bytes ? k->call->cfg->max_output_bytes : 131072;
    exp_list x = {.arr = json_array(), .okf = okf, .max_bytes = max > 1024 ? max - 1024 : max};
    store_kn_query q = {.order = STORE_KN_BY_KEY, .limit = KN_EXPORT_MAX};
    err e = store_kn_query_run(k->st, k->tenant, k->ws, &q, export_row, &x);
    if (e != ERR_OK) {
        json_decref(x.arr);
        return store_failed(k, e);
    }
    char now[32];
    clock_rfc3339(k->now_ms, now);
    json_t *doc = okf ? json_pack("{s:s, s:s, s:s, s:O}", "okf", "1", "workspace", k->ws,
                                  "exportedAt", now, "entries", x.arr)
                      : json_pack("{s:s, s:s, s:s, s:O}", "schema", "ctxd.knowledge/1", "workspace",
                                  k->ws, "exportedAt", now, "facts", x.arr);
    if (x.truncated) {
        json_object_set_new(doc, "truncated", json_true());
    }
    jsonx_dump(&k->out->text, doc);
    json_object_set_new(doc, "count", json_integer((json_int_t)json_array_size(x.arr)));
    k->out->structured = doc;
    json_decref(x.arr);
    return ERR_OK;
}

err tool_ctx_knowledge(tool_call *call, tool_out *out)
{
    if (!call->st) {
        return tool_fail(out, "conflict",
                         "knowledge needs the server's store, and this server runs without one");
    }
    kn_ctx k = {.call = call,
                .out = out,
                .st = call->st,
                .tenant = call->tenant_id,
                .ws = call->ws->id,
                .now_ms = clock_wall_ms()};
    k.actor = arena_printf(call->a, "team:%s", call->token_id ? call->token_id : "anonymous");
    if (!k.actor) {
        return ERR_NOMEM;
    }
    const char *action = arg_str(call, "action", "");
    /* a string holding NUL would be cut short silently: refuse it */
    static const char *const texts[] = {"category",   "key",          "value",
                                        "content",    "query",        "trigger",
                                        "resolution", "pattern_type", NULL};
    for (size_t i = 0; texts[i]; i++) {
        json_t *t = arg_get(call, texts[i]);
        if (json_is_string(t) && strlen(json_string_value(t)) != json_string_length(t)) {
            return bad_arg(out, "%s must not contain NUL characters", texts[i]);
        }
    }
    const char *v = value_arg(call);
    if (v && strcmp(action, "import") != 0 && strlen(v) > KN_VALUE_MAX) {
        return bad_arg(out, "value must be at most %d bytes (16 KiB)", KN_VALUE_MAX);
    }
    if (strcmp(action, "remember") == 0 || strcmp(action, "pattern") == 0 ||
        strcmp(action, "gotcha") == 0) {
        return do_remember(&k, action);
    }
    if (strcmp(action, "recall") == 0 || strcmp(action, "search") == 0) {
        return do_recall(&k, action);
    }
    if (strcmp(action, "relate") == 0 || strcmp(action, "unrelate") == 0) {
        return do_relate(&k, strcmp(action, "relate") == 0);
    }
    if (strcmp(action, "relations") == 0) {
        return do_relations(&k);
    }
    if (strcmp(action, "remove") == 0) {
        return do_remove(&k);
    }
    if (strcmp(action, "restore") == 0) {
        return do_restore(&k);
    }
    if (strcmp(action, "feedback") == 0) {
        return do_feedback(&k);
    }
    if (strcmp(action, "consolidate") == 0) {
        return do_consolidate(&k);
    }
    if (strcmp(action, "timeline") == 0) {
        return do_timeline(&k);
    }
    if (strcmp(action, "export") == 0) {
        return do_export(&k);
    }
    if (strcmp(action, "import") == 0) {
        return do_import(&k);
    }
    if (strcmp(action, "status") == 0 || strcmp(action, "rooms") == 0) {
        return do_status(&k, strcmp(action, "rooms") == 0);
    }
    if (strcmp(action, "wakeup") == 0) {
        return do_wakeup(&k);
    }
    return bad_arg(out, "unknown action '%.64s'", action);
}
