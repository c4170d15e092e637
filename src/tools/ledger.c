/* ledger.c - the read ledger and its per-tenant blob store (see ledger.h).
 *
 * Two chained hash tables with fixed slot counts (allocated on first use, never rehashed):
 * entries keyed by "tenant\x1f workspace\x1f channel\x1f token\x1f path" and blobs keyed by
 * "tenant\x1f sha". Both keep a recency list: entries globally (the entry bound), blobs per
 * tenant (the ledgerBlobBytes bound). A blob is charged its length plus BLOB_OVERHEAD so that
 * many empty files cannot grow the store without bound. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "tools/ledger.h"

#define ENTRY_SLOTS ((size_t)1 << 18)
#define BLOB_SLOTS ((size_t)1 << 14)
#define BLOB_OVERHEAD 128
#define SEP '\x1f'

typedef struct entry entry;
struct entry {
    entry *chain;
    entry *newer, *older;
    uint64_t hash;
    char sha[65];
    int64_t at_ms;
    uint64_t reads;
    size_t keylen;
    char key[]; /* NUL-terminated */
};

typedef struct tenant tenant;
typedef struct blob blob;
struct blob {
    blob *chain;
    blob *newer, *older; /* the tenant's recency list */
    tenant *t;
    uint64_t hash;
    char sha[65];
    size_t len;
    char data[];
};

struct tenant {
    tenant *next;
    blob *newest, *oldest;
    size_t bytes; /* charged */
    char name[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry **eslots;
static entry *enewest, *eoldest;
static size_t ecount, ebytes;
static blob **bslots;
static tenant *tenants;

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

static bool tables(void)
{
    if (!eslots) {
        eslots = xcalloc(ENTRY_SLOTS, sizeof(void *)); /* an array of entry pointers */
    }
    if (!bslots) {
        bslots = xcalloc(BLOB_SLOTS, sizeof(void *)); /* an array of blob pointers */
    }
    return eslots && bslots;
}

/* "tenant\x1fws\x1fchannel\x1ftoken\x1f" (+ path when given); NULL when too long */
static char *make_key(const ledger_key *k, const char *path, size_t *len)
{
    const char *parts[5] = {k->tenant ? k->tenant : "", k->workspace ? k->workspace : "",
                            k->channel ? k->channel : "default", k->token ? k->token : "", path};
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        if (parts[i]) {
            n += strlen(parts[i]) + 1;
        }
    }
    char *s = xmalloc(n + 1);
    if (!s) {
        return NULL;
    }
    size_t o = 0;
    for (int i = 0; i < 5; i++) {
        if (parts[i]) {
            size_t l = strlen(parts[i]);
            memcpy(s + o, parts[i], l);
            o += l;
            s[o++] = i < 4 ? SEP : '\0';
        }
    }
    s[o] = '\0';
    *len = path ? o - 1 : o; /* with a path: the NUL is not part of the key */
    return s;
}

/* ---- entries ---- */

static void e_unlink_list(entry *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    } else {
        enewest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    } else {
        eoldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void e_push_front(entry *e)
{
    e->older = enewest;
    e->newer = NULL;
    if (enewest) {
        enewest->newer = e;
    }
    enewest = e;
    if (!eoldest) {
        eoldest = e;
    }
}

static entry **e_find(const char *key, size_t len, uint64_t h)
{
    entry **pp = &eslots[h & (ENTRY_SLOTS - 1)];
    while (*pp &&
           !((*pp)->hash == h && (*pp)->keylen == len && memcmp((*pp)->key, key, len) == 0)) {
        pp = &(*pp)->chain;
    }
    return pp;
}

static void e_remove(entry *e)
{
    entry **pp = e_find(e->key, e->keylen, e->hash);
    if (*pp == e) {
        *pp = e->chain;
    }
    e_unlink_list(e);
    ecount--;
    ebytes -= sizeof *e + e->keylen + 1;
    xfree(e);
}

/* ---- blobs ---- */

static tenant *tenant_get(const char *name, bool create)
{
    for (tenant *t = tenants; t; t = t->next) {
        if (strcmp(t->name, name) == 0) {
            return t;
        }
    }
    if (!create) {
        return NULL;
    }
    size_t n = strlen(name);
    tenant *t = xcalloc(1, sizeof *t + n + 1);
    if (!t) {
        return NULL;
    }
    memcpy(t->name, name, n + 1);
    t->next = tenants;
    tenants = t;
    return t;
}

static uint64_t blob_hash(const tenant *t, const char *sha)
{
    return fnv(t->name, strlen(t->name)) * 31 + fnv(sha, 64);
}

static blob **b_find(const tenant *t, const char *sha, uint64_t h)
{
    blob **pp = &bslots[h & (BLOB_SLOTS - 1)];
    while (*pp && !((*pp)->t == t && memcmp((*pp)->sha, sha, 64) == 0)) {
        pp = &(*pp)->chain;
    }
    return pp;
}

static void b_unlink_list(blob *b)
{
    tenant *t = b->t;
    if (b->newer) {
        b->newer->older = b->older;
    } else {
        t->newest = b->older;
    }
    if (b->older) {
        b->older->newer = b->newer;
    } else {
        t->oldest = b->newer;
    }
    b->newer = b->older = NULL;
}

static void b_push_front(blob *b)
{
    tenant *t = b->t;
    b->older = t->newest;
    b->newer = NULL;
    if (t->newest) {
        t->newest->newer = b;
    }
    t->newest = b;
    if (!t->oldest) {
        t->oldest = b;
    }
}

static void b_remove(blob *b)
{
    blob **pp = b_find(b->t, b->sha, b->hash);
    if (*pp == b) {
        *pp = b->chain;
    }
    b_unlink_list(b);
    b->t->bytes -= b->len + BLOB_OVERHEAD;
    xfree(b);
}

/* keep content under sha in the tenant's store (or just touch it) */
static void blob_put(tenant *t, const char *sha, const char *content, size_t len, size_t cap)
{
    uint64_t h = blob_hash(t, sha);
    blob **pp = b_find(t, sha, h);
    if (*pp) {
        b_unlink_list(*pp);
        b_push_front(*pp);
        return;
    }
    size_t charge;
    if (!size_add(len, BLOB_OVERHEAD, &charge) || charge > cap) {
        return; /* larger than the whole store: known by hash only */
    }
    while (t->oldest && t->bytes + charge > cap) {
        b_remove(t->oldest);
    }
    blob *b = xmalloc(sizeof *b + len + 1);
    if (!b) {
        return;
    }
    memset(b, 0, sizeof *b);
    b->t = t;
    b->hash = h;
    memcpy(b->sha, sha, 64);
    b->sha[64] = '\0';
    b->len = len;
    memcpy(b->data, content, len);
    b->data[len] = '\0';
    b->chain = bslots[h & (BLOB_SLOTS - 1)];
    bslots[h & (BLOB_SLOTS - 1)] = b;
    b_push_front(b);
    t->bytes += charge;
}

/* ---- the API ---- */

bool ledger_record(const ledger_key *k, const char *relpath, const char *sha, const char *content,
                   size_t len, size_t blob_cap)
{
    if (!relpath || !sha || strlen(sha) < 64) {
        return false;
    }
    size_t klen;
    char *key = make_key(k, relpath, &klen);
    if (!key) {
        return false;
    }
    bool ok = false;
    pthread_mutex_lock(&lock);
    if (!tables()) {
        goto out;
    }
    uint64_t h = fnv(key, klen);
    entry **pp = e_find(key, klen, h);
    entry *e = *pp;
    if (!e) {
        e = xmalloc(sizeof *e + klen + 1);
        if (!e) {
            goto out;
        }
        memset(e, 0, sizeof *e);
        e->hash = h;
        e->keylen = klen;
        memcpy(e->key, key, klen + 1);
        e->chain = eslots[h & (ENTRY_SLOTS - 1)];
        eslots[h & (ENTRY_SLOTS - 1)] = e;
        e_push_front(e);
        ecount++;
        ebytes += sizeof *e + klen + 1;
        while (eoldest && eoldest != e &&
               (ecount > LEDGER_MAX_ENTRIES || ebytes > LEDGER_MAX_META_BYTES)) {
            e_remove(eoldest);
        }
    } else {
        e_unlink_list(e);
        e_push_front(e);
    }
    memcpy(e->sha, sha, 64);
    e->sha[64] = '\0';
    e->at_ms = clock_wall_ms();
    e->reads++;
    if (content && blob_cap) {
        tenant *t = tenant_get(k->tenant ? k->tenant : "", true);
        if (t) {
            blob_put(t, e->sha, content, len, blob_cap);
            /* a smaller cap after a reload applies at the next delivery */
            while (t->oldest && t->bytes > blob_cap) {
                b_remove(t->oldest);
            }
        }
    }
    ok = true;
out:
    pthread_mutex_unlock(&lock);
    xfree(key);
    return ok;
}

bool ledger_get(const ledger_key *k, const char *relpath, arena *a, ledger_entry *out)
{
    memset(out, 0, sizeof *out);
    size_t klen;
    char *key = make_key(k, relpath, &klen);
    if (!key) {
        return false;
    }
    bool found = false;
    pthread_mutex_lock(&lock);
    if (!eslots) {
        goto out;
    }
    entry *e = *e_find(key, klen, fnv(key, klen));
    if (!e) {
        goto out;
    }
    memcpy(out->sha, e->sha, 65);
    out->at_ms = e->at_ms;
    out->reads = e->reads;
    found = true;
    tenant *t = tenant_get(k->tenant ? k->tenant : "", false);
    if (t && bslots) {
        blob *b = *b_find(t, e->sha, blob_hash(t, e->sha));
        if (b) {
            char *copy = arena_alloc(a, b->len + 1);
            if (!copy) {
                found = false;
                goto out;
            }
            memcpy(copy, b->data, b->len + 1);
            out->content = copy;
            out->len = b->len;
            b_unlink_list(b);
            b_push_front(b);
        }
    }
out:
    pthread_mutex_unlock(&lock);
    xfree(key);
    return found;
}

size_t ledger_forget(const ledger_key *k, const char *relpath)
{
    size_t plen;
    ledger_key kk = *k;
    char *prefix = make_key(&kk, relpath, &plen);
    if (!prefix) {
        return 0;
    }
    size_t n = 0;
    pthread_mutex_lock(&lock);
    if (eslots) {
        if (relpath) {
            entry *e = *e_find(prefix, plen, fnv(prefix, plen));
            if (e) {
                e_remove(e);
                n = 1;
            }
        } else {
            for (entry *e = enewest, *next; e; e = next) {
                next = e->older;
                if (e->keylen > plen && memcmp(e->key, prefix, plen) == 0) {
                    e_remove(e);
                    n++;
                }
            }
        }
    }
    pthread_mutex_unlock(&lock);
    xfree(prefix);
    return n;
}

size_t ledger_list(const ledger_key *k, arena *a, ledger_item **out)
{
    /* prefix: up to the token's separator, or up to the channel's when listing a channel */
    ledger_key kk = *k;
    size_t plen;
    char *prefix = make_key(&kk, NULL, &plen);
    if (!prefix) {
        return (size_t)-1;
    }
    if (!k->token) {
        plen--; /* "tenant\x1fws\x1fchannel\x1f" + "\x1f": drop the empty token's separator */
    }
    size_t n = 0, cap = 0;
    ledger_item *v = NULL;
    bool full = false;
    pthread_mutex_lock(&lock);
    for (entry *e = eslots ? enewest : NULL; e && !full; e = e->older) {
        if (e->keylen <= plen || memcmp(e->key, prefix, plen) != 0) {
            continue;
        }
        const char *rest = e->key + plen;
        const char *tok = k->token;
        size_t toklen = 0;
        if (!tok) {
            const char *sep = memchr(rest, SEP, e->keylen - plen);
            if (!sep) {
                continue;
            }
            tok = rest;
            toklen = (size_t)(sep - rest);
            rest = sep + 1;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            ledger_item *bigger = arena_alloc(a, ncap * sizeof *v);
            if (!bigger) {
                full = true;
                break;
            }
            if (n) {
                memcpy(bigger, v, n * sizeof *v);
            }
            v = bigger;
            cap = ncap;
        }
        ledger_item *it = &v[n];
        memset(it, 0, sizeof *it);
        it->path = arena_strdup(a, rest);
        it->token = k->token ? arena_strdup(a, k->token) : arena_strndup(a, tok, toklen);
        if (!it->path || !it->token) {
            full = true;
            break;
        }
        memcpy(it->sha, e->sha, 65);
        it->at_ms = e->at_ms;
        it->reads = e->reads;
        tenant *t = tenant_get(k->tenant ? k->tenant : "", false);
        it->held = t && bslots && *b_find(t, e->sha, blob_hash(t, e->sha));
        n++;
    }
    pthread_mutex_unlock(&lock);
    xfree(prefix);
    *out = v;
    return full ? (size_t)-1 : n;
}

size_t ledger_blob_bytes(const char *tenant_name)
{
    pthread_mutex_lock(&lock);
    tenant *t = tenant_get(tenant_name ? tenant_name : "", false);
    size_t n = t ? t->bytes : 0;
    pthread_mutex_unlock(&lock);
    return n;
}

size_t ledger_drop_tenant(const char *tenant_id)
{
    ledger_key k = {.tenant = tenant_id};
    size_t plen;
    char *prefix = make_key(&k, NULL, &plen);
    if (!prefix) {
        return 0;
    }
    /* "tenant\x1f": the entries of every workspace, channel and caller of the tenant */
    plen = strlen(tenant_id) + 1;
    size_t n = 0;
    pthread_mutex_lock(&lock);
    for (entry *e = enewest, *next; e; e = next) {
        next = e->older;
        if (e->keylen > plen && memcmp(e->key, prefix, plen) == 0) {
            e_remove(e);
            n++;
        }
    }
    for (tenant *t = tenants; t; t = t->next) {
        if (strcmp(t->name, tenant_id) == 0) {
            while (t->oldest) {
                b_remove(t->oldest);
            }
        }
    }
    pthread_mutex_unlock(&lock);
    xfree(prefix);
    return n;
}

void ledger_reset(void)
{
    pthread_mutex_lock(&lock);
    while (eoldest) {
        e_remove(eoldest);
    }
    for (tenant *t = tenants, *next; t; t = next) {
        next = t->next;
        while (t->oldest) {
            b_remove(t->oldest);
        }
        xfree(t);
    }
    tenants = NULL;
    xfree(eslots);
    xfree(bslots);
    eslots = NULL;
    bslots = NULL;
    pthread_mutex_unlock(&lock);
}
