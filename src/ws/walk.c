/* walk.c - the directory walker (see walk.h).
 *
 * Paths are kept in one buffer in "top" coordinates: top is the enclosing repository's top
 * when the root lies inside a repository (so that `.gitignore` files above the root can be
 * matched), else the root itself. Each directory on the current descent is a frame holding its
 * rule files and the offset at which paths relative to it begin in that buffer. */
#include "ws/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "ws/ignore.h"

enum { CLS_CTXD, CLS_IGNORE, CLS_GIT, CLS_EXCLUDE, CLS__COUNT };
#define MAX_FRAMES 300
#define MAX_RULE_FILE (1 << 20)

typedef struct frame {
    ignore_rules *rules[CLS__COUNT];
    size_t base; /* offset in the path buffer where paths relative to this dir begin */
    int repo_id; /* 0 = not inside a repository */
} frame;

typedef struct walker {
    const walk_opts *o;
    walk_fn fn;
    void *ctx;
    walk_stats *st;
    const char *root_real;
    int root_fd;
    ignore_rules *config_rules;
    frame frames[MAX_FRAMES];
    int nframes;
    int next_repo_id;
    char path[PATH_MAX_LEN * 2 + 8]; /* top-relative path of the current entry */
    size_t root_off;                 /* where root-relative paths begin in path */
    const char **protected_rel;      /* server files inside this root, root-relative */
    size_t n_protected_rel;
    unsigned tick;
    bool stop;
} walker;

typedef struct dent {
    char *name;
    unsigned char d_type;
} dent;

static int dent_cmp(const void *a, const void *b)
{
    return strcmp(((const dent *)a)->name, ((const dent *)b)->name);
}

static ignore_rules *load_rules_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > MAX_RULE_FILE) {
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *data = xmalloc(n + 1);
    if (!data) {
        close(fd);
        return NULL;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, data + got, n - got);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    ignore_rules *rules = ignore_rules_parse(data, got);
    xfree(data);
    return rules;
}

static void free_frame(frame *f)
{
    for (int i = 0; i < CLS__COUNT; i++) {
        ignore_rules_free(f->rules[i]);
        f->rules[i] = NULL;
    }
}

/* The verdict for the entry whose top-relative path is w->path[0..len). */
static bool is_ignored(walker *w, size_t len, bool is_dir)
{
    const char *p = w->path;
    if (w->config_rules) {
        const char *sub = p + w->root_off;
        ignore_verdict v = ignore_rules_match(w->config_rules, sub, len - w->root_off, is_dir);
        if (v != IGNORE_NONE) {
            return v == IGNORE_EXCLUDED;
        }
    }
    int repo = w->nframes ? w->frames[w->nframes - 1].repo_id : 0;
    for (int cls = 0; cls < CLS__COUNT; cls++) {
        for (int i = w->nframes - 1; i >= 0; i--) {
            frame *f = &w->frames[i];
            if (!f->rules[cls] || f->base > len) {
                continue;
            }
            if ((cls == CLS_GIT || cls == CLS_EXCLUDE) && f->repo_id != repo) {
                continue; /* an outer repository's rules stop at a nested checkout */
            }
            ignore_verdict v =
                ignore_rules_match(f->rules[cls], p + f->base, len - f->base, is_dir);
            if (v != IGNORE_NONE) {
                return v == IGNORE_EXCLUDED;
            }
        }
    }
    return false;
}

static bool out_of_time(walker *w)
{
    if ((++w->tick & 63) != 0) {
        return false;
    }
    if (w->o->cancel && atomic_load(w->o->cancel)) {
        w->st->cancelled = true;
        return true;
    }
    if (w->o->deadline_ns && clock_mono_ns() > w->o->deadline_ns) {
        w->st->timed_out = true;
        return true;
    }
    return false;
}

static bool is_protected(walker *w, const char *rel)
{
    for (size_t i = 0; i < w->n_protected_rel; i++) {
        if (strcmp(w->protected_rel[i], rel) == 0) {
            return true;
        }
    }
    return false;
}

/* push a frame for the directory whose top-relative path is path[0..len), content dfd */
static bool push_frame(walker *w, int dfd, size_t len, bool has_git, bool git_is_dir)
{
    if (w->nframes >= MAX_FRAMES) {
        return false;
    }
    frame *f = &w->frames[w->nframes];
    memset(f, 0, sizeof *f);
    f->base = len ? len + 1 : 0;
    f->repo_id = w->nframes ? w->frames[w->nframes - 1].repo_id : 0;
    if (has_git) {
        f->repo_id = ++w->next_repo_id;
        if (git_is_dir && w->o->respect_ignore) {
            int gfd = openat(dfd, ".git/info", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (gfd >= 0) {
                f->rules[CLS_EXCLUDE] = load_rules_at(gfd, "exclude");
                close(gfd);
            }
        }
    }
    if (w->o->respect_ignore) {
        f->rules[CLS_CTXD] = load_rules_at(dfd, ".ctxdignore");
        f->rules[CLS_IGNORE] = load_rules_at(dfd, ".ignore");
        if (f->repo_id) {
            f->rules[CLS_GIT] = load_rules_at(dfd, ".gitignore");
        }
    }
    w->nframes++;
    return true;
}

static void walk_dir(walker *w, int dfd, size_t len, int depth);

static void visit(walker *w, int dfd, size_t dir_len, const dent *d, int depth)
{
    size_t nl = strlen(d->name);
    size_t len = dir_len ? dir_len + 1 + nl : nl;
    if (len + 1 >= sizeof w->path) {
        return;
    }
    if (dir_len) {
        w->path[dir_len] = '/';
    }
    memcpy(w->path + (dir_len ? dir_len + 1 : 0), d->name, nl + 1);
    const char *rel = w->path + w->root_off;

    if (strcmp(d->name, ".git") == 0) {
        return; /* never listed, never counted */
    }
    if (w->o->skip_hidden && d->name[0] == '.') {
        return;
    }
    unsigned char t = d->d_type;
    if (t == DT_UNKNOWN) {
        struct stat sb;
        if (fstatat(dfd, d->name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            return;
        }
        t = S_ISDIR(sb.st_mode)   ? DT_DIR
            : S_ISREG(sb.st_mode) ? DT_REG
            : S_ISLNK(sb.st_mode) ? DT_LNK
                                  : DT_FIFO;
    }
    if (w->n_protected_rel && is_protected(w, rel)) {
        return;
    }
    walk_type type;
    if (t == DT_DIR) {
        type = WALK_DIR;
    } else if (t == DT_REG) {
        type = WALK_FILE;
    } else if (t == DT_LNK) {
        if (!w->o->list_links) {
            return;
        }
        /* a link counts only when it leads to a regular file inside the root */
        path_status ps;
        int fd = path_open(w->root_fd, w->root_real, rel, O_PATH, &ps);
        if (fd < 0) {
            return;
        }
        struct stat sb;
        bool ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
        close(fd);
        if (!ok) {
            return;
        }
        type = WALK_LINK_FILE;
    } else {
        if (!w->o->list_other) {
            return;
        }
        type = WALK_OTHER;
    }
    if (type != WALK_DIR && path_denied_name(d->name)) {
        w->st->denied++;
        return;
    }
    if (w->o->respect_ignore && is_ignored(w, len, type == WALK_DIR)) {
        return;
    }
    walk_entry e = {rel, len - w->root_off, w->path + (dir_len ? dir_len + 1 : 0), depth, type,
                    dfd};
    if (type == WALK_DIR) {
        w->st->dirs++;
    } else {
        w->st->files++;
    }
    walk_action a = w->fn(&e, w->ctx);
    if (a == WALK_STOP) {
        w->stop = true;
        return;
    }
    if (type == WALK_DIR && a == WALK_CONTINUE && (!w->o->max_depth || depth < w->o->max_depth)) {
        int cfd = openat(dfd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd >= 0) {
            walk_dir(w, cfd, len, depth + 1);
            close(cfd);
        }
    }
}

static void walk_dir(walker *w, int dfd, size_t len, int depth)
{
    int dup_fd = dup(dfd);
    if (dup_fd < 0) {
        return;
    }
    DIR *dir = fdopendir(dup_fd);
    if (!dir) {
        close(dup_fd);
        return;
    }
    dent *ents = NULL;
    size_t n = 0, cap = 0;
    bool has_git = false, git_is_dir = false;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (strcmp(de->d_name, ".git") == 0) {
            has_git = true;
            git_is_dir = de->d_type == DT_DIR;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            dent *ne = xrealloc(ents, nc * sizeof *ents);
            if (!ne) {
                break;
            }
            ents = ne;
            cap = nc;
        }
        ents[n].name = xstrdup(de->d_name);
        ents[n].d_type = de->d_type;
        if (!ents[n].name) {
            break;
        }
        n++;
    }
    closedir(dir);
    if (n > 1) {
        qsort(ents, n, sizeof *ents, dent_cmp);
    }
    w->path[len] = '\0';
    bool pushed = push_frame(w, dfd, len, has_git, git_is_dir);
    for (size_t i = 0; i < n && pushed && !w->stop; i++) {
        if (out_of_time(w)) {
            w->stop = true;
            break;
        }
        visit(w, dfd, len, &ents[i], depth);
    }
    for (size_t i = 0; i < n; i++) {
        xfree(ents[i].name);
    }
    xfree(ents);
    if (pushed) {
        free_frame(&w->frames[--w->nframes]);
    }
    w->path[len] = '\0';
}

static bool exists_at(const char *dir, const char *name, bool *is_dir)
{
    char p[PATH_MAX_LEN * 2];
    snprintf(p, sizeof p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
    struct stat sb;
    if (lstat(p, &sb) != 0) {
        return false;
    }
    if (is_dir) {
        *is_dir = S_ISDIR(sb.st_mode);
    }
    return true;
}

/* Frames for the directories above `start` (the enclosing repository's dirs above the root:
 * .gitignore and info/exclude only; the root and dirs between root and start: all classes). */
static bool push_ancestors(walker *w, int root_fd, const char *start_rel)
{
    /* find the repository top at or above the root */
    char top[PATH_MAX_LEN + 1];
    snprintf(top, sizeof top, "%s", w->root_real);
    bool found = false, git_dir = false;
    for (;;) {
        if (exists_at(top, ".git", &git_dir)) {
            found = true;
            break;
        }
        char *slash = strrchr(top, '/');
        if (!slash || slash == top) {
            break;
        }
        *slash = '\0';
    }
    size_t rootlen = strlen(w->root_real);
    size_t toplen = found ? strlen(top) : rootlen;
    /* root's path relative to top */
    const char *prefix = found && toplen < rootlen ? w->root_real + toplen + 1 : "";
    size_t pl = strlen(prefix);
    memcpy(w->path, prefix, pl);
    w->root_off = pl ? pl + 1 : 0;
    if (pl) {
        w->path[pl] = '/';
    }

    if (found && toplen < rootlen && w->o->respect_ignore) {
        /* directories from top down to the root's parent */
        char dir[PATH_MAX_LEN + 1];
        snprintf(dir, sizeof dir, "%s", top);
        size_t off = 0; /* top-relative length of dir */
        bool first = true;
        while (w->nframes < MAX_FRAMES - 1) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0) {
                return false;
            }
            frame *f = &w->frames[w->nframes++];
            memset(f, 0, sizeof *f);
            f->base = off ? off + 1 : 0;
            f->repo_id = 1;
            f->rules[CLS_GIT] = load_rules_at(dfd, ".gitignore");
            if (first && git_dir) {
                int gfd = openat(dfd, ".git/info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (gfd >= 0) {
                    f->rules[CLS_EXCLUDE] = load_rules_at(gfd, "exclude");
                    close(gfd);
                }
            }
            close(dfd);
            first = false;
            /* next component of prefix */
            const char *next = strchr(prefix + (off ? off + 1 : 0), '/');
            size_t noff = next ? (size_t)(next - prefix) : pl;
            if (noff >= pl) {
                break;
            }
            snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%.*s",
                     (int)(noff - (off ? off + 1 : 0)), prefix + (off ? off + 1 : 0));
            off = noff;
        }
        w->next_repo_id = 1;
    }
    /* the root and every directory between it and start (start's own frame: walk_dir) */
    size_t rl = strlen(start_rel);
    size_t pos = 0;
    while (rl > 0) {
        char sub[PATH_MAX_LEN + 1];
        snprintf(sub, sizeof sub, "%.*s", (int)pos, start_rel);
        path_status ps;
        int dfd = path_open(root_fd, w->root_real, sub, O_RDONLY | O_DIRECTORY, &ps);
        if (dfd < 0) {
            return false;
        }
        struct stat sb;
        bool hg = fstatat(dfd, ".git", &sb, AT_SYMLINK_NOFOLLOW) == 0;
        bool gd = hg && S_ISDIR(sb.st_mode);
        size_t tlen = pos ? w->root_off + pos : (w->root_off ? w->root_off - 1 : 0);
        bool ok = push_frame(w, dfd, tlen, hg, gd);
        close(dfd);
        if (!ok) {
            return false;
        }
        const char *next = strchr(start_rel + pos + (pos ? 1 : 0), '/');
        if (!next) {
            break;
        }
        pos = (size_t)(next - start_rel);
    }
    return true;
}

path_status walk_tree(int root_fd, const char *root_real, const char *start_rel, const walk_opts *o,
                      walk_fn fn, void *ctx, walk_stats *st)
{
    memset(st, 0, sizeof *st);
    walker *w = xcalloc(1, sizeof *w);
    if (!w) {
        return PATH_IO;
    }
    w->o = o;
    w->fn = fn;
    w->ctx = ctx;
    w->st = st;
    w->root_real = root_real;
    w->root_fd = root_fd;
    path_status ps;
    int sfd = path_open(root_fd, root_real, start_rel, O_RDONLY | O_DIRECTORY, &ps);
    if (sfd < 0) {
        xfree(w);
        return ps;
    }
    if (o->respect_ignore && o->n_extra_ignore) {
        buf lines;
        buf_init(&lines, 1 << 20);
        for (size_t i = 0; i < o->n_extra_ignore; i++) {
            buf_puts(&lines, o->extra_ignore[i]);
            buf_putc(&lines, '\n');
        }
        w->config_rules = ignore_rules_parse(lines.ptr ? lines.ptr : "", lines.len);
        buf_release(&lines);
    }
    /* server files that lie inside this root, as root-relative paths */
    const char *prot[16];
    size_t np = 0;
    const char *all[16];
    size_t na = path_protected_list(all, 16);
    size_t rl = strlen(root_real);
    for (size_t i = 0; i < na; i++) {
        if (strncmp(all[i], root_real, rl) == 0 && all[i][rl] == '/') {
            prot[np++] = all[i] + rl + 1;
        }
    }
    w->protected_rel = prot;
    w->n_protected_rel = np;

    ps = PATH_IO;
    if (push_ancestors(w, root_fd, start_rel)) {
        size_t sl = strlen(start_rel);
        size_t len = sl ? w->root_off + sl : (w->root_off ? w->root_off - 1 : 0);
        memcpy(w->path + w->root_off, start_rel, sl);
        w->path[len] = '\0';
        walk_dir(w, sfd, len, 1);
        ps = PATH_OK;
    }
    close(sfd);
    for (int i = 0; i < w->nframes; i++) {
        free_frame(&w->frames[i]);
    }
    ignore_rules_free(w->config_rules);
    xfree(w);
    return ps;
}
