/* search.c - ctx_search action=regex (tools.md §2.2).
 *
 * Candidates come from the shared walker (gitignore-aware, hidden files skipped unless
 * hidden=true, symlinks skipped, include/exclude globs relative to the search path). Workers,
 * one per core, take files from the list in order and search each file's whole buffer with
 * PCRE2's JIT: the engine finds the next match anywhere after the current line start, the hit
 * is mapped to its line, and a match that crosses a line end is re-checked on that line alone,
 * so the result is exactly "the lines that match" (rg's semantics) at the cost of one engine
 * call per matching line plus one per file. Files are then ordered by match count (desc) and
 * path, which makes the output independent of scheduling. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <fcntl.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/utf8.h"
#include "tools/common.h"
#include "tools/handlers.h"
#include "tools/read.h"
#include "ws/glob.h"

const char ctx_search_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"action\":{\"type\":\"string\",\"enum\":[\"regex\",\"symbol\",\"bm25\",\"semantic\","
    "\"find_related\",\"reindex\"],\"default\":\"regex\"},"
    "\"name\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"symbol: name, "
    "Class.method or file::name\"},"
    "\"handle\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"symbol: "
    "path#name@Lstart or path::qualified#kind\"},"
    "\"file\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"symbol: restrict to "
    "this file\"},"
    "\"kind\":{\"type\":\"string\",\"enum\":[\"fn\",\"method\",\"struct\",\"class\",\"trait\","
    "\"interface\",\"enum\",\"type\",\"const\",\"var\",\"impl\",\"module\"]},"
    "\"query\":{\"type\":\"string\",\"maxLength\":2048,\"description\":\"bm25: words or "
    "identifiers\"},"
    "\"top_k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,\"default\":10},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"bm25\",\"dense\",\"hybrid\"],\"default\":"
    "\"bm25\"},"
    "\"file_path\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"find_related: "
    "the file\"},"
    "\"line\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"find_related: a line "
    "in the symbol of interest\"},"
    "\"pattern\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"PCRE2 regex, matched "
    "per line; (?i) for case-insensitive\"},"
    "\"path\":{\"type\":\"string\",\"maxLength\":4096,\"default\":\".\"},"
    "\"paths\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\",\"maxLength\":"
    "4096}},"
    "\"include\":{\"type\":\"string\",\"maxLength\":4096,\"description\":\"globs, comma-separated: "
    "*.{c,h},*.py\"},"
    "\"exclude\":{\"type\":\"string\",\"maxLength\":4096},"
    "\"exclude_pattern\":{\"type\":\"string\",\"maxLength\":1024,\"description\":\"drop result "
    "lines matching this regex\"},"
    "\"anchored\":{\"type\":\"boolean\",\"default\":false},"
    "\"hidden\":{\"type\":\"boolean\",\"default\":false},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500,\"default\":20},"
    "\"queries\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":\"object\"}}}}";

#define BINARY_PROBE 8192
#define SEARCH_WINDOW 4096
/* engine steps one call may take: far above what a sane pattern needs on a line of code, low
   enough that catastrophic backtracking ends in milliseconds (the line is then reported as not
   searched instead of holding a worker) */
#define SEARCH_MATCH_LIMIT 1000000
#define DISPLAY_WIDTH 150

typedef struct hit {
    int64_t line;
    char *text; /* the line, raw bytes (arena) */
    size_t len;
    size_t mstart, mend; /* first match within the line */
} hit;

typedef struct file_res {
    const char *rel;
    size_t count;
    hit *hits; /* up to max_results */
    size_t nhits;
} file_res;

/* A literal every match must contain, found by a conservative look at the pattern text, used
 * to skip files (and the part of a file before its first line that holds it) without running
 * the regex engine: most files of a tree do not contain what an agent searches for. */
typedef struct literal {
    char text[256];
    size_t len;
    bool icase;
} literal;

typedef struct search_job {
    tool_call *call;
    pcre2_code *re;
    literal lit;
    bool has_lit;
    pcre2_code *exclude_re;
    strlist files;
    file_res *res;
    size_t max_results;
    atomic_size_t next;
    atomic_size_t binary, scanned;
    int64_t stop_ns;
    atomic_bool stopped;
    atomic_bool oom;
    atomic_size_t failed_lines; /* lines the engine gave up on (match limit) */
    pcre2_match_context *mctx;
} search_job;

typedef struct collect_ctx {
    search_job *job;
    glob_list *include, *exclude;
    size_t start_len;
    bool oom;
} collect_ctx;

static walk_action collect(const walk_entry *e, void *vctx)
{
    collect_ctx *c = vctx;
    if (e->type != WALK_FILE) {
        return WALK_CONTINUE;
    }
    const char *sub = e->rel + c->start_len;
    size_t sl = e->rel_len - c->start_len;
    if (c->include && !glob_list_match(c->include, sub, sl)) {
        return WALK_CONTINUE;
    }
    if (c->exclude && glob_list_match(c->exclude, sub, sl)) {
        return WALK_CONTINUE;
    }
    if (!strlist_push(&c->job->files, c->job->call->a, e->rel, e->rel_len)) {
        c->oom = true;
        return WALK_STOP;
    }
    return WALK_CONTINUE;
}

/* The longest literal every match must contain, found by a conservative scan of the pattern
 * text: only runs of plain characters at the top level of a concatenation count (not inside a
 * group, not followed by a quantifier, which drops the run's last character); any `|` (a
 * possible top-level alternative) or inline option other than a leading `(?i)` means none. For
 * case-insensitive patterns `k` and `s` end a run: with Unicode case folding they also match
 * U+212A and U+017F, which a byte scan would miss. */
static bool extract_literal(const char *pat, size_t n, literal *lit)
{
    memset(lit, 0, sizeof *lit);
    size_t i = 0;
    if (n >= 4 && memcmp(pat, "(?i)", 4) == 0) {
        lit->icase = true;
        i = 4;
    }
    bool esc = false, in_class = false;
    for (size_t j = i; j < n; j++) {
        if (esc) {
            if (pat[j] == 'Q') {
                return false; /* \Q...\E quoting: not worth scanning */
            }
            esc = false;
        } else if (pat[j] == '\\') {
            esc = true;
        } else if (in_class) {
            in_class = pat[j] != ']';
        } else if (pat[j] == '[') {
            in_class = true;
            if (j + 1 < n && pat[j + 1] == '^') {
                j++;
            }
            if (j + 1 < n && pat[j + 1] == ']') {
                j++; /* a leading ] is a member */
            }
        } else if (pat[j] == '|' || (pat[j] == '(' && j + 1 < n && pat[j + 1] == '?')) {
            return false;
        }
    }
    char run[sizeof lit->text];
    size_t rl = 0;
    int depth = 0;
#define END_RUN()                                                                                  \
    do {                                                                                           \
        if (rl >= 2 && rl > lit->len) {                                                            \
            memcpy(lit->text, run, rl);                                                            \
            lit->len = rl;                                                                         \
        }                                                                                          \
        rl = 0;                                                                                    \
    } while (0)
    while (i < n) {
        unsigned char c = (unsigned char)pat[i];
        int lc = -1;
        if (c == '\\' && i + 1 < n) {
            unsigned char d = (unsigned char)pat[i + 1];
            if (d < 0x80 && !isalnum(d)) {
                lc = d;
                i += 2;
            } else {
                END_RUN();
                i += 2;
                if (i < n && pat[i] == '{' && strchr("xopPgkN", d)) {
                    const char *close = memchr(pat + i, '}', n - i);
                    i = close ? (size_t)(close - pat) + 1 : n;
                } else if (d == 'c' && i < n) {
                    i++;
                }
                continue;
            }
        } else if (c == '[') {
            END_RUN();
            i++;
            if (i < n && pat[i] == '^') {
                i++;
            }
            if (i < n && pat[i] == ']') {
                i++;
            }
            while (i < n && pat[i] != ']') {
                i += pat[i] == '\\' ? 2 : 1;
            }
            i++;
            continue;
        } else if (c == '(' || c == ')') {
            END_RUN();
            depth += c == '(' ? 1 : -1;
            i++;
            continue;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            size_t q = i + 1;
            if (c == '{') {
                /* {n}, {n,}, {n,m} is a quantifier; any other { is a literal in PCRE2 */
                while (q < n && (isdigit((unsigned char)pat[q]) || pat[q] == ',')) {
                    q++;
                }
                if (q == i + 1 || q >= n || pat[q] != '}') {
                    END_RUN();
                    i++;
                    continue;
                }
                q++;
            }
            if (rl > 0) {
                rl--; /* the quantified character is not required as written */
            }
            END_RUN();
            i = q;
            continue;
        } else if (c >= 0x20 && c < 0x7f && !strchr(".^$|", c)) {
            lc = c;
            i++;
        } else {
            END_RUN();
            i++;
            continue;
        }
        if (depth != 0) {
            END_RUN();
            continue;
        }
        if (lit->icase && (lc == 'k' || lc == 'K' || lc == 's' || lc == 'S')) {
            END_RUN();
            continue;
        }
        if (rl == sizeof run - 1) {
            END_RUN();
        }
        run[rl++] = (char)lc;
    }
    END_RUN();
#undef END_RUN
    return lit->len >= 2;
}

static bool literal_at(const literal *lit, const char *p)
{
    return lit->icase ? strncasecmp(p, lit->text, lit->len) == 0
                      : memcmp(p, lit->text, lit->len) == 0;
}

/* The first occurrence of the literal in hay, or NULL. The scan compares the literal's first
 * and last bytes (both cases when case-insensitive) at their distance, 16 positions at a time
 * with SSE2, and checks the whole literal only where both agree: a pair of bytes at a fixed
 * distance is far rarer in code than any single byte (W. Muła's "SIMD-friendly" substring
 * search). */
static const char *find_literal(const literal *lit, const char *hay, size_t n)
{
    size_t m = lit->len;
    if (n < m) {
        return NULL;
    }
    unsigned char f = (unsigned char)lit->text[0], g = (unsigned char)lit->text[m - 1];
    unsigned char f2 = lit->icase ? (unsigned char)(islower(f) ? toupper(f) : tolower(f)) : f;
    unsigned char g2 = lit->icase ? (unsigned char)(islower(g) ? toupper(g) : tolower(g)) : g;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i F1 = _mm_set1_epi8((char)f), F2 = _mm_set1_epi8((char)f2);
    const __m128i G1 = _mm_set1_epi8((char)g), G2 = _mm_set1_epi8((char)g2);
    for (; i + (m - 1) + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(hay + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(hay + i + m - 1));
        __m128i ea = _mm_or_si128(_mm_cmpeq_epi8(a, F1), _mm_cmpeq_epi8(a, F2));
        __m128i eb = _mm_or_si128(_mm_cmpeq_epi8(b, G1), _mm_cmpeq_epi8(b, G2));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(ea, eb));
        while (mask) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (literal_at(lit, hay + i + bit)) {
                return hay + i + bit;
            }
            mask &= mask - 1;
        }
    }
#endif
    for (; i + m <= n; i++) {
        unsigned char c = (unsigned char)hay[i];
        if ((c == f || c == f2) && literal_at(lit, hay + i)) {
            return hay + i;
        }
    }
    return NULL;
}

static bool read_file(int fd, char **data, size_t *cap, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        return false;
    }
    size_t want = (size_t)sb.st_size + 1;
    if (want > *cap) {
        char *n = xrealloc(*data, want);
        if (!n) {
            return false;
        }
        *data = n;
        *cap = want;
    }
    /* a file that grew since the fstat is read as far as it was then */
    *len = read_full(fd, *data, (size_t)sb.st_size);
    return true;
}

static bool line_excluded(search_job *job, pcre2_match_data *md, const char *p, size_t n)
{
    return job->exclude_re &&
           pcre2_match(job->exclude_re, (PCRE2_SPTR)p, n, 0, 0, md, job->mctx) >= 0;
}

/* record the matching line [lstart, lend) whose first match is at [hs, he) within it */
static void record(search_job *job, file_res *fr, const char *data, size_t lstart, size_t lend,
                   size_t hs, size_t he, int64_t line, arena *scratch)
{
    fr->count++;
    if (fr->nhits >= job->max_results) {
        return;
    }
    if (!fr->hits) {
        fr->hits = arena_alloc(scratch, job->max_results * sizeof *fr->hits);
        if (!fr->hits) {
            atomic_store(&job->oom, true);
            return;
        }
    }
    hit *h = &fr->hits[fr->nhits];
    h->line = line;
    h->len = lend - lstart;
    h->text = arena_strndup(scratch, data + lstart, h->len);
    h->mstart = hs;
    h->mend = he;
    if (!h->text) {
        atomic_store(&job->oom, true);
        return;
    }
    fr->nhits++;
}

/* the line number of offset `to`, counting onward from (*counted_to, *line) */
static int64_t line_at(const char *data, size_t to, size_t *counted_to, int64_t *line)
{
    for (size_t i = *counted_to; i < to;) {
        const char *nl = memchr(data + i, '\n', to - i);
        if (!nl) {
            break;
        }
        (*line)++;
        i = (size_t)(nl - data) + 1;
    }
    *counted_to = to;
    return *line;
}

/* the deadline (request timeout or search budget) or a cancel: stop everywhere */
static bool job_expired(search_job *job)
{
    if (atomic_load(&job->stopped)) {
        return true;
    }
    if (clock_mono_ns() > job->stop_ns || (job->call->cancel && atomic_load(job->call->cancel))) {
        atomic_store(&job->stopped, true);
        return true;
    }
    return false;
}

/* match one line alone; a result of the engine other than match / no match (its match limit:
   catastrophic backtracking) is counted, so the output can say what was not searched */
static void match_line(search_job *job, file_res *fr, const char *data, size_t lstart, size_t lend,
                       pcre2_match_data *md, pcre2_match_data *md2, size_t *counted_to,
                       int64_t *line, arena *scratch)
{
    int rc = pcre2_match(job->re, (PCRE2_SPTR)(data + lstart), lend - lstart, 0, 0, md2, job->mctx);
    if (rc >= 0) {
        if (!line_excluded(job, md, data + lstart, lend - lstart)) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md2);
            record(job, fr, data, lstart, lend, ov[0], ov[1],
                   line_at(data, lstart, counted_to, line), scratch);
        }
    } else if (rc != PCRE2_ERROR_NOMATCH) {
        atomic_fetch_add(&job->failed_lines, 1);
    }
}

static void search_file(search_job *job, file_res *fr, const char *data, size_t len,
                        pcre2_match_data *md, pcre2_match_data *md2, arena *scratch)
{
    size_t pos = 0;
    int64_t line = 1;
    size_t counted_to = 0; /* newlines counted up to here */
    unsigned tick = 0;
    if (job->has_lit) {
        /* literal-driven: only lines holding the required literal can match; the engine runs
           on those lines alone */
        while (pos < len) {
            if ((++tick & 63) == 0 && job_expired(job)) {
                return;
            }
            const char *at = find_literal(&job->lit, data + pos, len - pos);
            if (!at) {
                return;
            }
            size_t a = (size_t)(at - data);
            const char *ls = a > pos ? memrchr(data + pos, '\n', a - pos) : NULL;
            size_t lstart = ls ? (size_t)(ls - data) + 1 : pos;
            const char *le = memchr(at, '\n', len - a);
            size_t lend = le ? (size_t)(le - data) : len;
            match_line(job, fr, data, lstart, lend, md, md2, &counted_to, &line, scratch);
            pos = lend + 1;
        }
        return;
    }
    bool per_line = false;
    while (pos <= len) {
        /* every engine call here may cover a whole window: look at the clock before each */
        if ((per_line ? (++tick & 63) == 0 : true) && job_expired(job)) {
            return;
        }
        if (per_line) {
            if (pos == len && (len == 0 || data[len - 1] == '\n')) {
                return;
            }
            const char *le = memchr(data + pos, '\n', len - pos);
            size_t lend = le ? (size_t)(le - data) : len;
            match_line(job, fr, data, pos, lend, md, md2, &counted_to, &line, scratch);
            if (!le) {
                return;
            }
            pos = lend + 1;
            continue;
        }
        /* one engine call covers a window of whole lines, so the deadline is seen between
           windows even when every position of a long file is costly for the pattern */
        size_t wend = len;
        if (len - pos > SEARCH_WINDOW) {
            const char *nl = memchr(data + pos + SEARCH_WINDOW, '\n', len - pos - SEARCH_WINDOW);
            wend = nl ? (size_t)(nl - data) + 1 : len;
        }
        int rc = pcre2_match(job->re, (PCRE2_SPTR)data, wend, pos, 0, md, job->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (wend == len) {
                break;
            }
            pos = wend;
            continue;
        }
        if (rc < 0) {
            /* the engine gave up on the rest of the buffer (match limit): go on line by line,
               so one costly stretch costs only its own lines */
            per_line = true;
            continue;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (ms > len) {
            break;
        }
        /* the line holding the match start */
        const char *ls = ms > pos ? memrchr(data + pos, '\n', ms - pos) : NULL;
        size_t lstart = ls ? (size_t)(ls - data) + 1 : pos;
        const char *le = memchr(data + ms, '\n', len - ms);
        size_t lend = le ? (size_t)(le - data) : len;
        if (lstart == len && (len == 0 || data[len - 1] == '\n')) {
            break; /* the empty "line" after a final newline (or of an empty file) is no line */
        }
        if (me <= lend) {
            if (!line_excluded(job, md2, data + lstart, lend - lstart)) {
                record(job, fr, data, lstart, lend, ms - lstart, me - lstart,
                       line_at(data, lstart, &counted_to, &line), scratch);
            }
        } else {
            /* the match crossed a line end: does this line match on its own? */
            match_line(job, fr, data, lstart, lend, md, md2, &counted_to, &line, scratch);
        }
        if (!le) {
            break;
        }
        pos = lend + 1;
    }
}

typedef struct worker_arg {
    search_job *job;
    arena scratch;
    bool reporter; /* the handler's own thread: the one that may report progress */
} worker_arg;

static void *worker(void *varg)
{
    worker_arg *wa = varg;
    search_job *job = wa->job;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(job->re, NULL);
    pcre2_match_data *md2 = pcre2_match_data_create(16, NULL);
    char *data = NULL;
    size_t cap = 0;
    buf wide; /* a UTF-16 file transcoded to UTF-8 */
    buf_init(&wide, 0);
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->files.n) {
            break;
        }
        if (job_expired(job)) {
            break;
        }
        if (wa->reporter && job->call->progress) {
            char msg[64];
            snprintf(msg, sizeof msg, "searched %zu of %zu files", i, job->files.n);
            tool_progress(job->call, (double)i, (double)job->files.n, msg);
        }
        int fd = path_open_walked(job->call->ws->root_fd, job->files.v[i]);
        if (fd < 0) {
            continue;
        }
        size_t len = 0;
        bool ok = read_file(fd, &data, &cap, &len);
        close(fd);
        if (!ok) {
            continue;
        }
        atomic_fetch_add(&job->scanned, 1);
        /* a byte-order mark: UTF-16 is transcoded and a UTF-8 BOM dropped, as ripgrep does
           (tools.md §1.4), so `^x` finds x on the first line */
        const char *text = data ? data : "";
        const unsigned char *u = (const unsigned char *)text;
        if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
            buf_truncate(&wide, 0);
            utf8_append_utf16(&wide, u + 2, len - 2, u[0] == 0xFF);
            if (wide.failed) {
                buf_release(&wide);
                buf_init(&wide, 0);
                atomic_fetch_add(&job->binary, 1);
                continue;
            }
            text = wide.ptr ? wide.ptr : "";
            len = wide.len;
        } else if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
            text += 3;
            len -= 3;
        }
        if (memchr(text, '\0', len < BINARY_PROBE ? len : BINARY_PROBE)) {
            atomic_fetch_add(&job->binary, 1);
            continue;
        }
        /* a NUL further in: search up to it, as ripgrep stops at binary data */
        const char *nul = memchr(text, '\0', len);
        size_t slen = nul ? (size_t)(nul - text) : len;
        if (nul) {
            const char *ls = memrchr(text, '\n', slen);
            slen = ls ? (size_t)(ls - text) + 1 : 0;
        }
        file_res *fr = &job->res[i];
        fr->rel = job->files.v[i];
        search_file(job, fr, text, slen, md, md2, &wa->scratch);
    }
    buf_release(&wide);
    xfree(data);
    pcre2_match_data_free(md);
    pcre2_match_data_free(md2);
    return NULL;
}

static int cmp_res(const void *a, const void *b)
{
    const file_res *x = *(file_res *const *)a, *y = *(file_res *const *)b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->rel, y->rel);
}

/* the hit text, whitespace-trimmed and windowed to 150 code points around the match */
static void render_text(buf *out, const hit *h)
{
    const char *p = h->text;
    size_t n = h->len;
    size_t a = 0, b = n;
    while (a < b && (p[a] == ' ' || p[a] == '\t')) {
        a++;
    }
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r')) {
        b--;
    }
    /* count code points in [a, b) */
    size_t cps = 0;
    for (size_t i = a; i < b; i++) {
        cps += ((unsigned char)p[i] & 0xC0) != 0x80;
    }
    if (cps <= DISPLAY_WIDTH) {
        utf8_append_repaired(out, p + a, b - a);
        return;
    }
    size_t ms = h->mstart < a ? a : h->mstart > b ? b : h->mstart;
    /* start 1/3 of the width before the match, on a code point boundary */
    size_t start = ms, back = DISPLAY_WIDTH / 3;
    while (start > a && back > 0) {
        start--;
        if (((unsigned char)p[start] & 0xC0) != 0x80) {
            back--;
        }
    }
    size_t end = start, count = 0;
    while (end < b && count < DISPLAY_WIDTH) {
        end++;
        while (end < b && ((unsigned char)p[end] & 0xC0) == 0x80) {
            end++;
        }
        count++;
    }
    if (start > a) {
        buf_puts(out, "…");
    }
    utf8_append_repaired(out, p + start, end - start);
    if (end < b) {
        buf_puts(out, "…");
    }
}

static pcre2_code *compile_re(const char *pat, size_t len, tool_out *out, bool jit)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile(
        (PCRE2_SPTR)pat, len, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE,
        &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        tool_fail(out, "invalid_pattern", "invalid regex: %s at offset %zu", (char *)msg,
                  (size_t)eo);
        return NULL;
    }
    if (jit) {
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if it fails */
    }
    return re;
}

/* one regex search; renders into out->text. sub: the query object (batch) or NULL. */
static err search_one(tool_call *call, tool_out *out, const json_t *q, json_t *matches_out)
{
    json_t *pv = json_object_get(q, "pattern");
    if (!json_is_string(pv)) {
        /* a missing argument, not a bad pattern: refused like any other (tools.md §1.2) */
        buf_truncate(&out->text, 0);
        buf_puts(&out->text, "pattern is required for action=regex");
        return ERR_INVALID_ARGUMENTS;
    }
    const char *pattern = json_string_value(pv);
    size_t plen = json_string_length(pv);
    if (plen > 1024) {
        return tool_fail(out, "invalid_pattern", "pattern too long (%zu > 1024 chars)", plen);
    }
    search_job job = {.call = call};
    collect_ctx cc = {.job = &job};
    err rc = ERR_OK;
    worker_arg *wargs = NULL;
    pthread_t *threads = NULL;
    int nthreads = 0;
    file_res **order = NULL;
    size_t denied = 0;
    bool budget_hit = false;
    const char *inc = jsonx_str(q, "include");
    const char *exc = jsonx_str(q, "exclude");
    const char *excl_pat = jsonx_str(q, "exclude_pattern");
    json_t *mr = json_object_get(q, "max_results");
    job.max_results = json_is_integer(mr) ? (size_t)json_integer_value(mr) : 20;
    if (job.max_results < 1 || job.max_results > 500) {
        job.max_results = 20;
    }
    bool hidden = json_is_true(json_object_get(q, "hidden"));
    bool anchored = json_is_true(json_object_get(q, "anchored"));

    job.re = compile_re(pattern, plen, out, true);
    if (!job.re) {
        return ERR_OK;
    }
    job.has_lit = extract_literal(pattern, plen, &job.lit);
    job.mctx = pcre2_match_context_create(NULL);
    if (job.mctx) {
        pcre2_set_match_limit(job.mctx, SEARCH_MATCH_LIMIT);
    }
    if (excl_pat && !(job.exclude_re = compile_re(excl_pat, strlen(excl_pat), out, true))) {
        goto out;
    }
    char why[256];
    if (inc && *inc && !(cc.include = glob_list_compile(inc, strlen(inc), why, sizeof why))) {
        tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", inc, why);
        goto out;
    }
    if (exc && *exc && !(cc.exclude = glob_list_compile(exc, strlen(exc), why, sizeof why))) {
        tool_fail(out, "invalid_pattern", "invalid glob pattern '%s': %s", exc, why);
        goto out;
    }

    /* candidates */
    strlist roots = {0};
    json_t *pa = json_object_get(q, "paths");
    if (json_is_array(pa) && json_array_size(pa)) {
        size_t i;
        json_t *v;
        json_array_foreach (pa, i, v) {
            if (json_is_string(v)) {
                strlist_push(&roots, call->a, json_string_value(v), json_string_length(v));
            }
        }
    } else {
        json_t *p = json_object_get(q, "path");
        if (json_is_string(p)) {
            strlist_push(&roots, call->a, json_string_value(p), json_string_length(p));
        } else {
            strlist_push(&roots, call->a, ".", 1);
        }
    }
    int64_t budget_end = clock_mono_ns() + call->cfg->search_budget_ms * 1000000;
    job.stop_ns = budget_end < call->deadline_ns ? budget_end : call->deadline_ns;
    for (size_t r = 0; r < roots.n; r++) {
        char rel[PATH_MAX_LEN + 1];
        if (!tool_path_arg(call, out, roots.v[r], roots.lens[r], rel, sizeof rel)) {
            strlist_release(&roots);
            goto out;
        }
        struct stat sb;
        path_status ps;
        int fd = path_open_file(call->ws->root_fd, call->ws->root_real, rel, &sb, &ps);
        if (fd >= 0) {
            /* a path that names a file is searched even if hidden or ignored (rg FILE) */
            close(fd);
            strlist_push(&job.files, call->a, rel, strlen(rel));
            continue;
        }
        if (ps != PATH_NOT_FILE) {
            strlist_release(&roots);
            tool_path_error(out, ps, *rel ? rel : ".");
            goto out;
        }
        walk_opts o;
        tool_walk_opts(call, &o);
        o.skip_hidden = !hidden;
        o.deadline_ns = job.stop_ns;
        cc.start_len = *rel ? strlen(rel) + 1 : 0;
        walk_stats st;
        ps = walk_tree(call->ws->root_fd, call->ws->root_real, rel, &o, collect, &cc, &st);
        if (ps != PATH_OK) {
            strlist_release(&roots);
            tool_path_error(out, ps, *rel ? rel : ".");
            goto out;
        }
        denied += st.denied;
        budget_hit |= st.timed_out;
        if (cc.oom) {
            strlist_release(&roots);
            rc = ERR_NOMEM;
            goto out;
        }
    }
    strlist_release(&roots);
    strlist_sort_unique(&job.files); /* overlapping roots: each file once */

    /* search in parallel */
    job.res = xcalloc(job.files.n + 1, sizeof *job.res);
    if (!job.res) {
        rc = ERR_NOMEM;
        goto out;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
    if (job.files.n < 64) {
        nthreads = 1;
    }
    wargs = xcalloc((size_t)nthreads, sizeof *wargs);
    threads = xcalloc((size_t)nthreads, sizeof *threads);
    if (!wargs || !threads) {
        rc = ERR_NOMEM;
        goto out;
    }
    int started = 0;
    for (int t = 0; t < nthreads; t++) {
        wargs[t].job = &job;
        arena_init(&wargs[t].scratch, 0);
        if (t > 0 && pthread_create(&threads[t], NULL, worker, &wargs[t]) == 0) {
            started++;
        }
    }
    wargs[0].reporter = true;
    if (job.files.n) {
        char msg[64];
        snprintf(msg, sizeof msg, "searching %zu files", job.files.n);
        tool_progress(call, 0, (double)job.files.n, msg);
    }
    worker(&wargs[0]);
    for (int t = 1; t <= started; t++) {
        pthread_join(threads[t], NULL);
    }
    if (call->cancel && atomic_load(call->cancel)) {
        rc = ERR_CANCELLED;
        goto out;
    }
    if (atomic_load(&job.stopped) || budget_hit) {
        if (clock_mono_ns() > call->deadline_ns) {
            rc = ERR_CANCELLED; /* the request deadline, not the search budget: a timeout */
            goto out;
        }
        budget_hit = true;
    }

    /* order and render */
    size_t nfiles = 0, total = 0;
    order = xcalloc(job.files.n + 1, sizeof(file_res *));
    if (!order) {
        rc = ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < job.files.n; i++) {
        if (job.res[i].count) {
            order[nfiles++] = &job.res[i];
            total += job.res[i].count;
        }
    }
    qsort(order, nfiles, sizeof(file_res *), cmp_res);
    buf *o = &out->text;
    size_t scanned = atomic_load(&job.scanned);
    if (total == 0) {
        buf_printf(o, "0 matches for '%s' in %zu files", pattern, scanned);
    } else {
        buf_printf(o, "%zu matches in %zu files", total, nfiles);
        if (nfiles >= 2) {
            buf_puts(o, " [");
            size_t lim = nfiles <= 10 ? nfiles : 8;
            for (size_t i = 0; i < lim; i++) {
                buf_printf(o, "%s%s", i ? ", " : "", order[i]->rel);
            }
            if (nfiles > 10) {
                buf_printf(o, ", +%zu more", nfiles - 8);
            }
            buf_putc(o, ']');
        }
        buf_puts(o, ":\n");
        if (anchored) {
            buf_puts(o, "[anchored: path:line:hhhh]\n");
        }
        size_t shown = 0;
        for (size_t i = 0; i < nfiles && shown < job.max_results; i++) {
            file_res *fr = order[i];
            for (size_t k = 0; k < fr->nhits && shown < job.max_results; k++, shown++) {
                hit *h = &fr->hits[k];
                buf_printf(o, "%s:%lld", fr->rel, (long long)h->line);
                if (anchored) {
                    char a[5];
                    read_anchor(h->text, h->len, a);
                    buf_printf(o, ":%s", a);
                }
                buf_putc(o, ' ');
                size_t at = o->len;
                render_text(o, h);
                if (matches_out && !o->failed) {
                    /* the same rendering, once: structuredContent repeats the shown text */
                    json_t *m = json_pack("{s:s, s:I, s:s%}", "path", fr->rel, "line",
                                          (json_int_t)h->line, "text", o->ptr + at, o->len - at);
                    json_array_append_new(matches_out, m);
                }
                buf_putc(o, '\n');
            }
        }
        if (total > shown) {
            buf_printf(o, "(+%zu more matches not shown; raise max_results or narrow path)\n",
                       total - shown);
        }
        buf_truncate(o, o->len - (o->len && o->ptr[o->len - 1] == '\n'));
    }
    size_t nbin = atomic_load(&job.binary);
    if (nbin) {
        buf_printf(o, "\n(%zu files skipped: binary/encoding)", nbin);
    }
    size_t nfail = atomic_load(&job.failed_lines);
    if (nfail) {
        buf_printf(o,
                   "\n(%zu lines not searched: the pattern backtracks too much on them (PCRE2 "
                   "match limit); simplify it, e.g. avoid nested or overlapping repeats)",
                   nfail);
    }
    if (denied) {
        buf_printf(o, "\n(%zu secret-like files skipped by boundary policy)", denied);
    }
    if (budget_hit) {
        buf_printf(o,
                   "\n(search stopped after the %llds budget — %zu files scanned; refine the "
                   "pattern or scope with path=)",
                   (long long)(call->cfg->search_budget_ms / 1000), scanned);
    }
    json_t *fs = json_object_get(out->structured, "filesSearched");
    json_object_set_new(
        out->structured, "filesSearched",
        json_integer((json_is_integer(fs) ? json_integer_value(fs) : 0) + (json_int_t)scanned));
    if (total > job.max_results) {
        json_object_set_new(out->structured, "truncated", json_true());
    }
out:
    if (wargs) {
        for (int t = 0; t < nthreads; t++) {
            arena_release(&wargs[t].scratch);
        }
    }
    xfree(wargs);
    xfree(threads);
    xfree(order);
    xfree(job.res);
    strlist_release(&job.files);
    glob_list_free(cc.include);
    glob_list_free(cc.exclude);
    pcre2_code_free(job.re);
    pcre2_code_free(job.exclude_re);
    pcre2_match_context_free(job.mctx);
    return rc;
}

err tool_ctx_search(tool_call *call, tool_out *out)
{
    if (strcmp(arg_str(call, "action", "regex"), "regex") != 0) {
        return ctx_search_index(call, out); /* symbols.c */
    }
    json_t *matches = json_array();
    out->structured =
        json_pack("{s:o, s:i, s:b}", "matches", matches, "filesSearched", 0, "truncated", 0);
    json_t *queries = arg_get(call, "queries");
    if (json_is_array(queries) && json_array_size(queries) > 0) {
        size_t n = json_array_size(queries), nfailed = 0;
        const char *first_code = NULL;
        for (size_t i = 0; i < n; i++) {
            json_t *q = json_array_get(queries, i);
            if (!json_is_object(q)) {
                buf_truncate(&out->text, 0);
                buf_printf(&out->text, "queries[%zu] must be an object", i);
                return ERR_INVALID_ARGUMENTS;
            }
            json_t *pat = json_object_get(q, "pattern");
            buf_printf(&out->text, "%s[query %zu/%zu] '%s'\n", i ? "\n\n" : "", i + 1, n,
                       json_is_string(pat) ? json_string_value(pat) : "");
            /* a query inherits the call's hidden/anchored/include unless it sets its own */
            json_t *merged = json_deep_copy(call->args);
            json_object_del(merged, "queries");
            json_object_update(merged, q);
            tool_out sub = {0};
            buf_init(&sub.text, 0);
            sub.structured = json_object();
            err rc = search_one(call, &sub, merged, matches);
            json_decref(merged);
            if (rc == ERR_INVALID_ARGUMENTS) {
                /* the message names the query, without the output of the ones before it */
                buf_truncate(&out->text, 0);
                buf_printf(&out->text, "queries[%zu]: ", i);
            }
            buf_append(&out->text, sub.text.ptr ? sub.text.ptr : "", sub.text.len);
            buf_release(&sub.text);
            json_decref(sub.structured);
            if (rc != ERR_OK) {
                return rc;
            }
            if (sub.is_error) {
                nfailed++;
                first_code = first_code ? first_code : sub.error_code;
            }
        }
        if (nfailed == n) {
            /* every query failed: an error result, like ctx_read's batch */
            out->is_error = true;
            out->error_code = first_code;
            json_decref(out->structured);
            out->structured = json_pack("{s:s, s:s}", "error_code", first_code, "message",
                                        out->text.ptr ? out->text.ptr : "");
        }
        return ERR_OK;
    }
    return search_one(call, out, call->args, matches);
}
