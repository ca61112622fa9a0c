/* SPDX-License-Identifier: Apache-2.0 */
#include "rootfs_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "log.h"

#define COPY_BUF (1024 * 1024)

struct rootfs {
        int root_fd;
        int spool_fd;
        int as_root; /* owners are applied only when we may set them */
        int warned_xattr;
        char *cur_dir; /* path of cur_fd, "" for the root */
        int cur_fd;
        void *buf;
};

static void rootfs_release(struct rootfs *t)
{
        if (t->cur_fd >= 0 && t->cur_fd != t->root_fd)
                close(t->cur_fd);
        if (t->root_fd >= 0)
                close(t->root_fd);
        free(t->cur_dir);
        free(t->buf);
}

/*
 * Opens rel (a cleaned path, "" for the root) below root_fd one component
 * at a time with O_NOFOLLOW: a symlink anywhere on the way is an error,
 * never a detour. With create, missing directories are made (0755; only an
 * index without the parent entry gets here).
 */
static int open_dir_walk(int root_fd, const char *rel, int create)
{
        int cur = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        const char *p = rel;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                char comp[NAME_MAX + 1];
                if (len == 0 || len > NAME_MAX || (len <= 2 && !strncmp(p, "..", len))) {
                        close(cur);
                        return -EINVAL;
                }
                memcpy(comp, p, len);
                comp[len] = '\0';
                int nfd =
                        openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create && mkdirat(cur, comp, 0755) == 0)
                        nfd = openat(cur, comp,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                close(cur);
                if (nfd < 0)
                        return -e;
                cur = nfd;
                p += len;
                if (*p == '/')
                        p++;
        }
        return cur;
}

/* The fd of path's parent directory and path's last component. */
static int parent_of(struct rootfs *t, const char *path, const char **ret_base)
{
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t)(slash - path) : 0;
        *ret_base = slash ? slash + 1 : path;
        if (t->cur_dir && strlen(t->cur_dir) == dlen && !strncmp(t->cur_dir, path, dlen))
                return t->cur_fd;
        char *dir = strndup(path, dlen);
        if (!dir)
                return -ENOMEM;
        int fd = open_dir_walk(t->root_fd, dir, 1);
        if (fd < 0) {
                free(dir);
                return fd;
        }
        if (t->cur_fd >= 0 && t->cur_fd != t->root_fd)
                close(t->cur_fd);
        free(t->cur_dir);
        t->cur_dir = dir;
        t->cur_fd = fd;
        return fd;
}

static int set_xattrs(struct rootfs *t, int fd, const struct wh_entry *meta)
{
        for (size_t i = 0; i < meta->n_xattrs; i++) {
                const struct wh_xattr *x = &meta->xattrs[i];
                if (fsetxattr(fd, x->name, x->value, x->len, 0) == 0)
                        continue;
                if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
                        return -errno;
                if (!t->warned_xattr++)
                        wh_warn("'/%s': cannot set xattr %s here (%s); leaving it out",
                                meta->path, x->name, strerror(errno));
        }
        return 0;
}

/* Owner, mode, xattrs, times: in this order, since chown clears set-id bits and
 * capabilities. */
static int set_meta_fd(struct rootfs *t, int fd, const struct wh_item *it)
{
        const struct wh_entry *m = it->meta;
        if (t->as_root && fchown(fd, m->uid, m->gid) < 0)
                return -errno;
        if (fchmod(fd, m->mode & 07777) < 0)
                return -errno;
        int r = set_xattrs(t, fd, m);
        if (r < 0)
                return r;
        struct timespec ts[2] = {{it->mtime, 0}, {it->mtime, 0}};
        return futimens(fd, ts) < 0 ? -errno : 0;
}

static int copy_content(struct rootfs *t, int fd, const struct wh_item *it)
{
        loff_t off = it->spool_off;
        uint64_t left = it->size;
        while (left > 0) {
                size_t want = left < (1u << 30) ? (size_t)left : (1u << 30);
                ssize_t n = copy_file_range(t->spool_fd, &off, fd, NULL, want, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                              errno == EOPNOTSUPP))
                        break;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                left -= (uint64_t)n;
        }
        while (left > 0) {
                size_t want = left < COPY_BUF ? (size_t)left : COPY_BUF;
                int r = wh_pread_all(t->spool_fd, t->buf, want, off);
                if (r >= 0)
                        r = wh_write_all(fd, t->buf, want);
                if (r < 0)
                        return r;
                off += (loff_t)want;
                left -= want;
        }
        return 0;
}

static int make_file(struct rootfs *t, int dfd, const char *base, const struct wh_item *it)
{
        _cleanup_close_ int fd = openat(
                dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = copy_content(t, fd, it);
        if (r >= 0)
                r = set_meta_fd(t, fd, it);
        return r;
}

/* Index paths are cleaned; this guard keeps a bad one from naming a directory above. */
static int bad_name(const char *base)
{
        return !*base || !strcmp(base, ".") || !strcmp(base, "..");
}

static int make_hardlink(struct rootfs *t, int dfd, const char *base,
                         const struct wh_item *it)
{
        const char *slash = strrchr(it->link, '/');
        _cleanup_free_ char *dir =
                strndup(it->link, slash ? (size_t)(slash - it->link) : 0);
        if (!dir)
                return -ENOMEM;
        const char *src_base = slash ? slash + 1 : it->link;
        if (bad_name(src_base))
                return -EINVAL;
        _cleanup_close_ int src = open_dir_walk(t->root_fd, dir, 0);
        if (src < 0)
                return src;
        return linkat(src, src_base, dfd, base, 0) < 0 ? -errno : 0;
}

/* Symlinks and fifos: metadata by name, never following the entry itself. */
static int make_special(struct rootfs *t, int dfd, const char *base,
                        const struct wh_item *it)
{
        const struct wh_entry *m = it->meta;
        if (it->kind == WH_ITEM_SYMLINK) {
                if (symlinkat(it->link, dfd, base) < 0)
                        return -errno;
        } else {
                if (mknodat(dfd, base, S_IFIFO | 0600, 0) < 0)
                        return -errno;
                /* Just created by us as a fifo: the open cannot block or land elsewhere. */
                _cleanup_close_ int fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (t->as_root && fchownat(fd, "", m->uid, m->gid, AT_EMPTY_PATH) < 0)
                        return -errno;
                if (fchmodat(dfd, base, m->mode & 07777, 0) < 0)
                        return -errno;
        }
        if (it->kind == WH_ITEM_SYMLINK && t->as_root &&
            fchownat(dfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        struct timespec ts[2] = {{it->mtime, 0}, {it->mtime, 0}};
        return utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int make_item(struct rootfs *t, const struct wh_item *it)
{
        const char *base;
        int dfd = parent_of(t, it->e->path, &base);
        if (dfd < 0)
                return dfd;
        if (bad_name(base))
                return -EINVAL;
        switch (it->kind) {
        case WH_ITEM_DIR:
                /* Owner-writable until its children are in; the real mode comes last. */
                return mkdirat(dfd, base, 0700) < 0 ? -errno : 0;
        case WH_ITEM_FILE:
                return make_file(t, dfd, base, it);
        case WH_ITEM_HARDLINK:
                return make_hardlink(t, dfd, base, it);
        case WH_ITEM_SYMLINK:
        case WH_ITEM_FIFO:
                return make_special(t, dfd, base, it);
        }
        return -EINVAL;
}

/* Directory metadata last and deepest first, so children's creation does not undo it. */
static int finish_dirs(struct rootfs *t, const struct wh_plan *plan, struct wh_err *err)
{
        for (size_t i = plan->n; i-- > 0;) {
                const struct wh_item *it = &plan->items[i];
                if (it->kind != WH_ITEM_DIR)
                        continue;
                _cleanup_close_ int fd = open_dir_walk(t->root_fd, it->e->path, 0);
                int r = fd < 0 ? fd : set_meta_fd(t, fd, it);
                if (r < 0)
                        return wh_fail(err, -r, "'/%s'", it->e->path);
        }
        return 0;
}

static int build_tree(struct rootfs *t, const struct wh_plan *plan, int64_t epoch,
                      struct wh_err *err)
{
        for (size_t i = 0; i < plan->n; i++) {
                int r = make_item(t, &plan->items[i]);
                if (r < 0)
                        return wh_fail(err, -r, "'/%s'", plan->items[i].e->path);
        }
        int r = finish_dirs(t, plan, err);
        if (r < 0)
                return r;
        struct timespec ts[2] = {{epoch < 0 ? 0 : epoch, 0}, {epoch < 0 ? 0 : epoch, 0}};
        if (fchmod(t->root_fd, 0755) < 0 || futimens(t->root_fd, ts) < 0)
                return wh_fail(err, errno, "root directory");
        return 0;
}

static int dir_is_empty(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        return 0;
        return 1;
}

/* Replaces a non-empty tree: exchange when the filesystem can, else two renames. */
static int swap_in(const char *tmp, const char *path, struct wh_err *err)
{
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
                if (wh_rm_rf_at(AT_FDCWD, tmp) < 0)
                        wh_warn("could not remove the previous tree, now at '%s'", tmp);
                return 0;
        }
        if (errno != EINVAL && errno != ENOSYS)
                return wh_fail(err, errno, "exchange '%s' with '%s'", tmp, path);
        _cleanup_free_ char *old = NULL;
        if (asprintf(&old, "%s.old", tmp) < 0)
                return wh_fail(err, ENOMEM, "'%s'", path);
        if (rename(path, old) < 0)
                return wh_fail(err, errno, "rename '%s' aside", path);
        if (rename(tmp, path) < 0) {
                int e = errno;
                rename(old, path);
                return wh_fail(err, e, "rename '%s' to '%s'", tmp, path);
        }
        if (wh_rm_rf_at(AT_FDCWD, old) < 0)
                wh_warn("could not remove the previous tree, now at '%s'", old);
        return 0;
}

static int place(const char *tmp, const char *path, struct wh_err *err)
{
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT)
                        return wh_fail(err, errno, "'%s'", path);
        } else if (!S_ISDIR(st.st_mode)) {
                return wh_failx(err, EEXIST, "'%s' exists and is not a directory", path);
        } else {
                int empty = dir_is_empty(path);
                if (empty < 0)
                        return wh_fail(err, -empty, "'%s'", path);
                if (!empty)
                        return swap_in(tmp, path, err);
        }
        /* Absent or an empty directory: a plain rename replaces it in one step. */
        if (rename(tmp, path) < 0)
                return wh_fail(err, errno, "rename '%s' to '%s'", tmp, path);
        return 0;
}

int wh_rootfs_write(const char *path, const struct wh_plan *plan, int spool_fd,
                    int64_t epoch, struct wh_err *err)
{
        struct stat st;
        if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
                return wh_failx(err, EEXIST, "'%s' exists and is not a directory", path);
        _cleanup_free_ char *tmp = NULL;
        int r = wh_mkdtemp_beside(path, &tmp, err);
        if (r < 0)
                return r;
        struct rootfs t = {.root_fd = -1,
                           .cur_fd = -1,
                           .spool_fd = spool_fd,
                           .as_root = geteuid() == 0};
        t.root_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        t.buf = malloc(COPY_BUF);
        if (t.root_fd < 0 || !t.buf)
                r = wh_fail(err, t.root_fd < 0 ? errno : ENOMEM, "'%s'", tmp);
        if (r >= 0)
                r = build_tree(&t, plan, epoch, err);
        rootfs_release(&t);
        if (r >= 0)
                r = place(tmp, path, err);
        if (r < 0)
                wh_rm_rf_at(AT_FDCWD, tmp);
        return r;
}
