/* audit.c - audit log writer (see audit.h). */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1;
static char *path;
static unsigned char hmac_key[64];
static size_t hmac_key_len;
static int64_t sync_every_ms = 1000;
static atomic_bool failed;
static atomic_ullong failures;
static bool dirty; /* lines written since the last fdatasync (under lock) */
static pthread_t syncer;
static bool syncer_running;
static pthread_cond_t syncer_wake = PTHREAD_COND_INITIALIZER;

/* fdatasync at most every auditSyncMs, off the request path: a sync can take milliseconds,
 * and holding the write lock through it would stall every response behind it. The descriptor
 * is dup'ed under the lock so a concurrent reopen cannot close it mid-sync. */
static void *sync_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (syncer_running) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ms = sync_every_ms > 0 ? sync_every_ms : 1000;
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&syncer_wake, &lock, &ts);
        if (!dirty || fd < 0) {
            continue;
        }
        int sfd = dup(fd);
        dirty = false;
        pthread_mutex_unlock(&lock);
        if (sfd >= 0) {
            if (fdatasync(sfd) != 0 && errno != EINVAL) { /* EINVAL: /dev/null and friends */
                log_error("audit: fdatasync failed: %s", strerror(errno));
            }
            close(sfd);
        }
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int mkdir_parents(const char *file)
{
    char *dir = xstrdup(file);
    if (!dir) {
        return -1;
    }
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
                xfree(dir);
                return -1;
            }
            *p = '/';
        }
    }
    xfree(dir);
    return 0;
}

static bool load_key(const char *key_path, char *why, size_t why_len)
{
    int kfd = open(key_path, O_RDONLY | O_CLOEXEC);
    if (kfd >= 0) {
        ssize_t n = read(kfd, hmac_key, sizeof hmac_key);
        close(kfd);
        if (n < 32) {
            snprintf(why, why_len, "audit HMAC key '%s' must hold at least 32 bytes", key_path);
            return false;
        }
        hmac_key_len = (size_t)n;
        return true;
    }
    if (errno != ENOENT) {
        snprintf(why, why_len, "cannot read audit HMAC key '%s': %s", key_path, strerror(errno));
        return false;
    }
    if (mkdir_parents(key_path) != 0 || !crypto_random(hmac_key, 32)) {
        snprintf(why, why_len, "cannot create audit HMAC key '%s'", key_path);
        return false;
    }
    kfd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (kfd < 0 || write(kfd, hmac_key, 32) != 32 || fsync(kfd) != 0) {
        snprintf(why, why_len, "cannot write audit HMAC key '%s': %s", key_path, strerror(errno));
        if (kfd >= 0) {
            close(kfd);
        }
        return false;
    }
    close(kfd);
    hmac_key_len = 32;
    log_info("audit: created HMAC key '%s' (mode 0600)", key_path);
    return true;
}

static int open_log(const char *p)
{
    return open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

err audit_open(const char *log_path, const char *hmac_key_path, int64_t sync_ms, char *why,
               size_t why_len)
{
    if (!load_key(hmac_key_path, why, why_len)) {
        return ERR_IO;
    }
    if (mkdir_parents(log_path) != 0) {
        snprintf(why, why_len, "cannot create the directory of audit log '%s': %s", log_path,
                 strerror(errno));
        return ERR_IO;
    }
    int nfd = open_log(log_path);
    if (nfd < 0) {
        snprintf(why, why_len, "cannot open audit log '%s': %s", log_path, strerror(errno));
        return ERR_IO;
    }
    pthread_mutex_lock(&lock);
    if (fd >= 0) {
        close(fd);
    }
    fd = nfd;
    xfree(path);
    path = xstrdup(log_path);
    sync_every_ms = sync_ms;
    atomic_store(&failed, false);
    bool start = !syncer_running;
    syncer_running = true;
    pthread_mutex_unlock(&lock);
    if (start && pthread_create(&syncer, NULL, sync_loop, NULL) != 0) {
        syncer_running = false;
    }
    return ERR_OK;
}

void audit_close(void)
{
    pthread_mutex_lock(&lock);
    bool join = syncer_running;
    syncer_running = false;
    pthread_cond_signal(&syncer_wake);
    pthread_mutex_unlock(&lock);
    if (join) {
        pthread_join(syncer, NULL);
    }
    pthread_mutex_lock(&lock);
    if (fd >= 0) {
        fdatasync(fd);
        close(fd);
        fd = -1;
    }
    xfree(path);
    path = NULL;
    pthread_mutex_unlock(&lock);
}

static void reopen_locked(void)
{
    if (!path) {
        return;
    }
    int nfd = open_log(path);
    if (nfd < 0) {
        log_error("audit: cannot reopen '%s': %s", path, strerror(errno));
        atomic_store(&failed, true);
        return;
    }
    if (fd >= 0) {
        fdatasync(fd);
        close(fd);
    }
    fd = nfd;
}

void audit_reopen(void)
{
    pthread_mutex_lock(&lock);
    reopen_locked();
    pthread_mutex_unlock(&lock);
}

void audit_set_sync_ms(int64_t sync_ms)
{
    pthread_mutex_lock(&lock);
    sync_every_ms = sync_ms;
    pthread_mutex_unlock(&lock);
}

bool audit_ready(void)
{
    return !atomic_load(&failed);
}

uint64_t audit_write_failures(void)
{
    return atomic_load(&failures);
}

static void put_str(buf *b, const char *key, const char *v)
{
    buf_printf(b, ",\"%s\":", key);
    if (!v) {
        buf_puts(b, "null");
        return;
    }
    json_t *s = json_string(v);
    if (!s) {
        buf_puts(b, "null"); /* not UTF-8: cannot appear in a valid line */
        return;
    }
    jsonx_dump(b, s);
    json_decref(s);
}

bool audit_write(const audit_record *r)
{
    char ts[32];
    clock_rfc3339(r->ts_ms, ts);
    buf line;
    buf_init(&line, 64 << 10);
    buf_printf(&line, "{\"ts\":\"%s\"", ts);
    put_str(&line, "requestId", r->request_id);
    put_str(&line, "tokenId", r->token_id);
    put_str(&line, "tenantId", r->tenant_id);
    put_str(&line, "workspaceId", r->workspace_id);
    put_str(&line, "tool", r->tool);
    put_str(&line, "method", r->method);
    buf_printf(&line, ",\"allowed\":%s", r->allowed ? "true" : "false");
    put_str(&line, "deniedReason", r->denied_reason);
    buf_printf(&line, ",\"status\":%d,\"durationMs\":%lld", r->status, (long long)r->duration_ms);
    put_str(&line, "sourceIp", r->source_ip);
    put_str(&line, "argumentsMd5", r->has_args ? r->args_md5 : NULL);
    put_str(&line, "argumentsHmac", r->has_args ? r->args_hmac : NULL);
    if (r->flood_count > 0) {
        char first[32], last[32];
        clock_rfc3339(r->flood_first_ms, first);
        clock_rfc3339(r->flood_last_ms, last);
        buf_printf(&line, ",\"count\":%ld,\"firstTs\":\"%s\",\"lastTs\":\"%s\"", r->flood_count,
                   first, last);
    }
    buf_puts(&line, "}\n");
    if (line.failed) {
        buf_release(&line);
        return false;
    }

    bool ok = false;
    pthread_mutex_lock(&lock);
    if (atomic_load(&failed)) {
        reopen_locked(); /* recovery attempt: the refusal's own line */
    }
    if (fd >= 0) {
        ssize_t w;
        do {
            w = write(fd, line.ptr, line.len);
        } while (w < 0 && errno == EINTR);
        ok = w == (ssize_t)line.len;
        if (ok) {
            dirty = true;
        }
    }
    if (!ok) {
        atomic_fetch_add(&failures, 1);
        if (!atomic_exchange(&failed, true)) {
            log_error("audit: cannot write '%s': %s; refusing audited requests until it works",
                      path ? path : "?", strerror(errno));
        }
    } else if (atomic_exchange(&failed, false)) {
        log_info("audit: writing '%s' again; serving requests", path ? path : "?");
    }
    pthread_mutex_unlock(&lock);
    buf_release(&line);
    return ok;
}

void audit_hash_args(audit_record *r, const json_t *args)
{
    buf canon;
    buf_init(&canon, 64 << 20);
    if (args) {
        jsonx_canonical(&canon, args);
    } else {
        buf_puts(&canon, "{}");
    }
    crypto_md5_hex(canon.ptr, canon.len, r->args_md5);
    crypto_hmac_sha256_hex(hmac_key, hmac_key_len, canon.ptr, canon.len, r->args_hmac);
    r->has_args = true;
    buf_release(&canon);
}
