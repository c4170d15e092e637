/* rewrite.c - atomic, locked rewrites of team.json (see rewrite.h). */
#include "config/rewrite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/jsonx.h"

static int dump_cb(const char *chunk, size_t size, void *data)
{
    buf_append(data, chunk, size);
    return 0;
}

err config_write_atomic(const char *path, const json_t *doc, char *why, size_t why_len)
{
    buf text;
    buf_init(&text, 64 << 20);
    json_dump_callback(doc, dump_cb, &text, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    buf_putc(&text, '\n');
    if (text.failed) {
        snprintf(why, why_len, "cannot serialize the config");
        buf_release(&text);
        return ERR_NOMEM;
    }
    char suffix[17];
    crypto_random_hex(8, suffix);
    size_t tn = strlen(path) + 32;
    char *tmp = xmalloc(tn);
    char *dir = xstrdup(path);
    if (!tmp || !dir) {
        buf_release(&text);
        xfree(tmp);
        xfree(dir);
        return ERR_NOMEM;
    }
    snprintf(tmp, tn, "%s.tmp-%s", path, suffix);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
    } else {
        memcpy(dir, ".", 2); /* strdup of the path left room for two bytes */
    }

    err rc = ERR_IO;
    mode_t mode = 0600;
    struct stat st;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(why, why_len, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < text.len) {
        ssize_t w = write(fd, text.ptr + off, text.len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            snprintf(why, why_len, "cannot write '%s': %s", tmp, strerror(errno));
            goto unlink_tmp;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        snprintf(why, why_len, "cannot sync '%s': %s", tmp, strerror(errno));
        goto unlink_tmp;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(why, why_len, "cannot replace '%s': %s", path, strerror(errno));
        goto unlink_tmp;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = ERR_OK;
    goto out;
unlink_tmp:
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
out:
    buf_release(&text);
    xfree(tmp);
    xfree(dir);
    return rc;
}

err config_rewrite(const char *path, bool create, config_edit_fn edit, void *ctx, char *why,
                   size_t why_len)
{
    size_t ln = strlen(path) + 8;
    char *lockpath = xmalloc(ln);
    if (!lockpath) {
        return ERR_NOMEM;
    }
    snprintf(lockpath, ln, "%s.lock", path);
    int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    xfree(lockpath);
    if (lfd < 0) {
        snprintf(why, why_len, "cannot open the lock file of '%s': %s", path, strerror(errno));
        return ERR_IO;
    }
    while (flock(lfd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            snprintf(why, why_len, "cannot lock '%s': %s", path, strerror(errno));
            close(lfd);
            return ERR_IO;
        }
    }
    err rc = ERR_IO;
    json_t *doc = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT || !create) {
            snprintf(why, why_len, "cannot open '%s': %s", path, strerror(errno));
            goto out;
        }
        doc = json_object();
    } else {
        buf data;
        buf_init(&data, 16 << 20);
        bool read_ok = buf_read_fd(&data, fd);
        close(fd);
        if (!read_ok) {
            snprintf(why, why_len, "cannot read '%s': %s", path, strerror(errno));
            buf_release(&data);
            goto out;
        }
        char perr[200];
        doc =
            data.failed ? NULL : jsonx_parse(data.ptr ? data.ptr : "", data.len, perr, sizeof perr);
        buf_release(&data);
        if (!doc || !json_is_object(doc)) {
            snprintf(why, why_len, "'%s' is not a valid config: %s", path,
                     doc ? "the top level must be an object" : perr);
            rc = ERR_INVALID_REQUEST;
            goto out;
        }
    }
    if (!edit(doc, ctx, why, why_len)) {
        rc = ERR_CONFLICT;
        goto out;
    }
    rc = config_write_atomic(path, doc, why, why_len);
out:
    json_decref(doc);
    flock(lfd, LOCK_UN);
    close(lfd);
    return rc;
}
