/* linediff.c - Myers' O((N+M)D) line diff in linear space, and unified hunks (linediff.h).
 *
 * Lines are first interned to integers (equal text, equal id), so the inner loops compare
 * ints. The diff marks each old line deleted or kept and each new line inserted or kept; kept
 * lines pair up in order (they are the common subsequence), which is all the hunk writer needs.
 *
 * The search is the divide-and-conquer form of Myers' paper (section 4b): find the middle snake
 * of the box with a forward and a backward sweep, then solve the two halves. The halves go on
 * an explicit stack (no recursion, so a pathological input cannot exhaust a connection
 * thread's stack). Two caps keep it bounded: a box whose edit distance passes max_cost, and
 * every box once the total work passes the budget, is marked replaced whole. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"
#include "tools/linediff.h"

#define MAX_COST 4096 /* edit distance searched per box before giving up minimality */

size_t ld_split(arena *a, const char *s, size_t n, ld_line **out)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += s[i] == '\n';
    }
    if (n && s[n - 1] != '\n') {
        count++;
    }
    ld_line *v = arena_alloc(a, (count ? count : 1) * sizeof *v);
    if (!v) {
        return (size_t)-1;
    }
    size_t k = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        v[k].p = p;
        v[k].n = len;
        k++;
        p += len + 1;
    }
    *out = v;
    return k;
}

/* ---- interning ---- */

typedef struct slot {
    uint64_t h;
    const ld_line *line;
    long id;
} slot;

static uint64_t hash_line(const ld_line *l)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < l->n; i++) {
        h = (h ^ (unsigned char)l->p[i]) * 1099511628211ull;
    }
    return h;
}

/* ids for both sequences; false when the arena is exhausted */
static bool intern(arena *a, const ld_line *x, size_t nx, const ld_line *y, size_t ny, long *ix,
                   long *iy)
{
    size_t cap = 16;
    while (cap < (nx + ny) * 2) {
        cap *= 2;
    }
    slot *t = arena_alloc(a, cap * sizeof *t);
    if (!t) {
        return false;
    }
    memset(t, 0, cap * sizeof *t);
    long next = 1;
    for (int side = 0; side < 2; side++) {
        const ld_line *v = side ? y : x;
        size_t n = side ? ny : nx;
        long *ids = side ? iy : ix;
        for (size_t i = 0; i < n; i++) {
            uint64_t h = hash_line(&v[i]);
            size_t k = (size_t)h & (cap - 1);
            for (;;) {
                if (!t[k].line) {
                    t[k].h = h;
                    t[k].line = &v[i];
                    t[k].id = next++;
                    ids[i] = t[k].id;
                    break;
                }
                if (t[k].h == h && t[k].line->n == v[i].n &&
                    memcmp(t[k].line->p, v[i].p, v[i].n) == 0) {
                    ids[i] = t[k].id;
                    break;
                }
                k = (k + 1) & (cap - 1);
            }
        }
    }
    return true;
}

/* ---- the middle snake ---- */

typedef struct ctx_t {
    const long *a, *b;
    long *kvdf, *kvdb; /* indexed by diagonal d = i1 - i2, offset so that d >= -(nb+1) works */
    char *del, *ins;
    size_t work, budget;
    bool gave_up; /* some box was replaced whole */
} ctx_t;

/* Find a point (i1, i2) on an optimal path through the box [off1,lim1) x [off2,lim2) (both
 * non-empty, no common prefix or suffix). false when the box's distance passes MAX_COST or
 * the work budget is spent. */
static bool split(ctx_t *c, long off1, long lim1, long off2, long lim2, long *o1, long *o2)
{
    const long *a = c->a, *b = c->b;
    long *kvdf = c->kvdf, *kvdb = c->kvdb;
    long dmin = off1 - lim2, dmax = lim1 - off2;
    long fmid = off1 - off2, bmid = lim1 - lim2;
    bool odd = ((fmid - bmid) & 1) != 0;
    long fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
    kvdf[fmid] = off1;
    kvdb[bmid] = lim1;
    for (long ec = 1;; ec++) {
        if (fmin > dmin) {
            kvdf[--fmin - 1] = -1;
        } else {
            ++fmin;
        }
        if (fmax < dmax) {
            kvdf[++fmax + 1] = -1;
        } else {
            --fmax;
        }
        for (long d = fmax; d >= fmin; d -= 2) {
            long i1 = kvdf[d - 1] >= kvdf[d + 1] ? kvdf[d - 1] + 1 : kvdf[d + 1];
            long i2 = i1 - d;
            while (i1 < lim1 && i2 < lim2 && a[i1] == b[i2]) {
                i1++;
                i2++;
                c->work++;
            }
            kvdf[d] = i1;
            if (odd && bmin <= d && d <= bmax && kvdb[d] <= i1) {
                *o1 = i1;
                *o2 = i2;
                return true;
            }
        }
        if (bmin > dmin) {
            kvdb[--bmin - 1] = LONG_MAX;
        } else {
            ++bmin;
        }
        if (bmax < dmax) {
            kvdb[++bmax + 1] = LONG_MAX;
        } else {
            --bmax;
        }
        for (long d = bmax; d >= bmin; d -= 2) {
            long i1 = kvdb[d - 1] < kvdb[d + 1] ? kvdb[d - 1] : kvdb[d + 1] - 1;
            long i2 = i1 - d;
            while (i1 > off1 && i2 > off2 && a[i1 - 1] == b[i2 - 1]) {
                i1--;
                i2--;
                c->work++;
            }
            kvdb[d] = i1;
            if (!odd && fmin <= d && d <= fmax && i1 <= kvdf[d]) {
                *o1 = i1;
                *o2 = i2;
                return true;
            }
        }
        c->work += (size_t)(fmax - fmin + bmax - bmin + 2);
        if (ec >= MAX_COST || c->work > c->budget) {
            return false;
        }
    }
}

typedef struct box {
    long off1, lim1, off2, lim2;
} box;

static bool diff_all(ctx_t *c, arena *ar, long na, long nb, const atomic_bool *cancel)
{
    /* each split yields two boxes and strictly shrinks them: the stack never holds more than
       na + nb + 1 boxes */
    size_t cap = (size_t)(na + nb) + 2;
    box *stack = arena_alloc(ar, cap * sizeof *stack);
    if (!stack) {
        return false;
    }
    size_t top = 0;
    stack[top++] = (box){0, na, 0, nb};
    size_t polls = 0;
    while (top) {
        box x = stack[--top];
        if ((++polls & 1023) == 0 && cancel && atomic_load(cancel)) {
            return false;
        }
        while (x.off1 < x.lim1 && x.off2 < x.lim2 && c->a[x.off1] == c->b[x.off2]) {
            x.off1++;
            x.off2++;
        }
        while (x.off1 < x.lim1 && x.off2 < x.lim2 && c->a[x.lim1 - 1] == c->b[x.lim2 - 1]) {
            x.lim1--;
            x.lim2--;
        }
        if (x.off1 == x.lim1 || x.off2 == x.lim2) {
            memset(c->del + x.off1, 1, (size_t)(x.lim1 - x.off1));
            memset(c->ins + x.off2, 1, (size_t)(x.lim2 - x.off2));
            continue;
        }
        long s1, s2;
        if (c->work > c->budget || !split(c, x.off1, x.lim1, x.off2, x.lim2, &s1, &s2)) {
            memset(c->del + x.off1, 1, (size_t)(x.lim1 - x.off1));
            memset(c->ins + x.off2, 1, (size_t)(x.lim2 - x.off2));
            c->gave_up = true;
            continue;
        }
        if (top + 2 > cap) {
            return false; /* cannot happen (see above); refuse rather than overrun */
        }
        stack[top++] = (box){s1, x.lim1, s2, x.lim2};
        stack[top++] = (box){x.off1, s1, x.off2, s2};
    }
    return true;
}

/* ---- unified rendering ---- */

typedef struct change {
    size_t i, ni, j, nj;
} change;

static void put_line(buf *out, char tag, const ld_line *l)
{
    buf_putc(out, tag);
    utf8_append_repaired(out, l->p, l->n);
    buf_putc(out, '\n');
}

bool ld_unified(arena *ar, const ld_line *old, size_t nold, const ld_line *new_, size_t nnew,
                int ctx, size_t work_budget, const atomic_bool *cancel, buf *out, ld_stats *st)
{
    memset(st, 0, sizeof *st);
    st->minimal = true;
    if (nold > (size_t)LONG_MAX / 4 || nnew > (size_t)LONG_MAX / 4) {
        return false;
    }
    long na = (long)nold, nb = (long)nnew;
    size_t ndiags = nold + nnew + 3;
    ctx_t c = {0};
    long *ia = arena_alloc(ar, (nold + 1) * sizeof(long));
    long *ib = arena_alloc(ar, (nnew + 1) * sizeof(long));
    long *kv = arena_alloc(ar, 2 * ndiags * sizeof(long));
    c.del = arena_alloc(ar, nold + 1);
    c.ins = arena_alloc(ar, nnew + 1);
    if (!ia || !ib || !kv || !c.del || !c.ins || !intern(ar, old, nold, new_, nnew, ia, ib)) {
        return false;
    }
    memset(c.del, 0, nold + 1);
    memset(c.ins, 0, nnew + 1);
    c.a = ia;
    c.b = ib;
    c.kvdf = kv + nnew + 1;
    c.kvdb = kv + ndiags + nnew + 1;
    c.budget = work_budget ? work_budget : 64 * (nold + nnew) + 4000000;
    if (!diff_all(&c, ar, na, nb, cancel)) {
        return false;
    }
    st->minimal = !c.gave_up;

    /* changes: maximal runs of deleted and inserted lines between kept pairs */
    size_t nch = 0, capch = 16;
    change *ch = arena_alloc(ar, capch * sizeof *ch);
    if (!ch) {
        return false;
    }
    size_t i = 0, j = 0;
    while (i < nold || j < nnew) {
        if ((i < nold && c.del[i]) || (j < nnew && c.ins[j])) {
            change x = {.i = i, .j = j};
            while (i < nold && c.del[i]) {
                i++;
            }
            while (j < nnew && c.ins[j]) {
                j++;
            }
            x.ni = i - x.i;
            x.nj = j - x.j;
            if (nch == capch) {
                change *bigger = arena_alloc(ar, capch * 2 * sizeof *ch);
                if (!bigger) {
                    return false;
                }
                memcpy(bigger, ch, nch * sizeof *ch);
                ch = bigger;
                capch *= 2;
            }
            ch[nch++] = x;
            st->deleted += x.ni;
            st->added += x.nj;
        } else {
            i++;
            j++;
        }
    }

    /* hunks: changes closer than 2*ctx unchanged lines share one */
    size_t k = 0;
    size_t uctx = (size_t)(ctx < 0 ? 0 : ctx);
    while (k < nch) {
        size_t first = k, last = k;
        while (last + 1 < nch && ch[last + 1].i - (ch[last].i + ch[last].ni) <= 2 * uctx) {
            last++;
        }
        size_t os = ch[first].i > uctx ? ch[first].i - uctx : 0;
        size_t ns = ch[first].j - (ch[first].i - os);
        size_t oe = ch[last].i + ch[last].ni + uctx;
        if (oe > nold) {
            oe = nold;
        }
        size_t ne = ch[last].j + ch[last].nj + (oe - (ch[last].i + ch[last].ni));
        size_t ol = oe - os, nl = ne - ns;
        /* an empty range names the line before it, as diff -u does */
        buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ol ? os + 1 : os, ol, nl ? ns + 1 : ns, nl);
        size_t oi = os, ni = ns;
        for (size_t q = first; q <= last; q++) {
            while (oi < ch[q].i) {
                put_line(out, ' ', &old[oi]);
                oi++;
                ni++;
            }
            for (size_t r = 0; r < ch[q].ni; r++) {
                put_line(out, '-', &old[oi++]);
            }
            for (size_t r = 0; r < ch[q].nj; r++) {
                put_line(out, '+', &new_[ni++]);
            }
        }
        while (oi < oe) {
            put_line(out, ' ', &old[oi]);
            oi++;
            ni++;
        }
        st->hunks++;
        k = last + 1;
    }
    return !out->failed;
}
