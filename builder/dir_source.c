/* SPDX-License-Identifier: Apache-2.0 */
#include "dir_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "elf.h"
#include "layer_apply.h"
#include "log.h"
#include "path_safe.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct ino_slot {
        dev_t dev;
        ino_t ino;
        const char *path; /* borrowed from the index entry (never replaced in a walk) */
};

struct walk {
        struct wh_index *idx;
        int have_ex;
        dev_t ex_dev;
        ino_t ex_ino;
        uint64_t entries_left;
        uint64_t done;
        unsigned skipped;
        char skipped_example[128];
        struct ino_slot *inos;
        size_t ino_cap, ino_n;
        wh_progress_fn progress;
        void *userdata;
};

static int pseudo_fs(int fd)
{
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return 0;
        switch ((unsigned long)sf.f_type) {
        case PROC_SUPER_MAGIC:
        case SYSFS_MAGIC:
        case DEVPTS_SUPER_MAGIC:
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
        case DEBUGFS_MAGIC:
        case TRACEFS_MAGIC:
        case SECURITYFS_MAGIC:
        case BPF_FS_MAGIC:
        case PSTOREFS_MAGIC:
        case BINFMTFS_MAGIC:
        case EFIVARFS_MAGIC:
                return 1;
        default:
                return 0;
        }
}

static uint64_t ino_hash(dev_t d, ino_t i)
{
        uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ULL ^ (uint64_t)d;
        return h ^ (h >> 29);
}

/* The first path seen for (dev, ino), or NULL after recording path as the first. */
static const char *ino_first(struct walk *w, dev_t dev, ino_t ino, const char *path,
                             int *oom)
{
        if ((w->ino_n + 1) * 2 > w->ino_cap) {
                size_t ncap = w->ino_cap ? w->ino_cap * 2 : 256;
                struct ino_slot *ns = calloc(ncap, sizeof(*ns));
                if (!ns) {
                        *oom = 1;
                        return NULL;
                }
                for (size_t i = 0; i < w->ino_cap; i++) {
                        if (!w->inos[i].path)
                                continue;
                        size_t j = ino_hash(w->inos[i].dev, w->inos[i].ino) & (ncap - 1);
                        while (ns[j].path)
                                j = (j + 1) & (ncap - 1);
                        ns[j] = w->inos[i];
                }
                free(w->inos);
                w->inos = ns;
                w->ino_cap = ncap;
        }
        size_t mask = w->ino_cap - 1;
        size_t j = ino_hash(dev, ino) & mask;
        for (; w->inos[j].path; j = (j + 1) & mask)
                if (w->inos[j].dev == dev && w->inos[j].ino == ino)
                        return w->inos[j].path;
        w->inos[j] = (struct ino_slot){dev, ino, path};
        w->ino_n++;
        return NULL;
}

struct fd_reader {
        int fd;
        uint64_t left;
};

static int fd_read(void *stream, void *buf, size_t len)
{
        struct fd_reader *r = stream;
        if (r->left == 0)
                return 0;
        if (len > r->left)
                len = (size_t)r->left;
        if (len > (1u << 30))
                len = 1u << 30;
        ssize_t n;
        do
                n = read(r->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EIO; /* shorter than it was when indexed */
        r->left -= (uint64_t)n;
        return (int)n;
}

static int read_xattrs(struct wh_entry *e, int fd)
{
        char names[4096], val[4096];
        ssize_t n = flistxattr(fd, names, sizeof(names));
        if (n <= 0)
                return 0;
        for (char *p = names; p < names + n; p += strlen(p) + 1) {
                if (!wh_xattr_wanted(p))
                        continue;
                ssize_t vl = fgetxattr(fd, p, val, sizeof(val));
                if (vl >= 0 && wh_entry_add_xattr(e, p, val, (size_t)vl) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int walk_dir(struct walk *w, int dfd, const char *rel, int depth,
                    struct wh_err *err);

/*
 * A file on disk can be mapped: parsing the mapping reads only the pages
 * the ELF reader touches (headers, dynamic section, string table), where a
 * stream would have to read the whole file up to its dynamic section.
 * Returns 1 when the file was an ELF file and was handled.
 */
static int elf_from_mapping(struct wh_entry *e, int fd)
{
        unsigned char magic[4];
        if (e->size < 64 || pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
            !wh_elf_is_elf(magic, sizeof(magic)))
                return 0;
        void *map = mmap(NULL, (size_t)e->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return 0;
        struct wh_err perr = {0};
        if (wh_elf_parse(map, (size_t)e->size, &e->elf, &perr) < 0)
                wh_warn("dir: entry %s: unreadable ELF file, its dependencies are not "
                        "followed: %s",
                        e->path, perr.msg);
        munmap(map, (size_t)e->size);
        return 1;
}

static int regular(struct walk *w, int dfd, const char *name, struct wh_entry *e,
                   const struct stat *st, struct wh_err *err)
{
        if (st->st_nlink > 1) {
                int oom = 0;
                const char *first = ino_first(w, st->st_dev, st->st_ino, e->path, &oom);
                if (oom)
                        return wh_fail(err, ENOMEM, "'%s'", e->path);
                if (first) {
                        e->type = WH_F_HARDLINK;
                        e->link = strdup(first);
                        return e->link ? 0 : wh_fail(err, ENOMEM, "'%s'", e->path);
                }
        }
        if ((uint64_t)st->st_size > WH_MAX_FILE_SIZE)
                return wh_failx(err, EFBIG, "'%s': size past the %llu GiB cap", e->path,
                                WH_MAX_FILE_SIZE >> 30);
        e->size = (uint64_t)st->st_size;
        _cleanup_close_ int fd =
                openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return wh_fail(err, errno, "open '%s'", e->path);
        if (read_xattrs(e, fd) < 0)
                return wh_fail(err, ENOMEM, "'%s'", e->path);
        if (elf_from_mapping(e, fd))
                return 0;
        struct fd_reader rd = {fd, e->size};
        return wh_capture_facts(e, fd_read, &rd, "dir", err);
}

static int skip_contents(struct walk *w, int depth, const char *name, int fd)
{
        struct stat st;
        if (depth == 0 &&
            (!strcmp(name, "proc") || !strcmp(name, "sys") || !strcmp(name, "dev")))
                return 1;
        if (w->have_ex && fstat(fd, &st) == 0 && st.st_dev == w->ex_dev &&
            st.st_ino == w->ex_ino)
                return 1;
        return pseudo_fs(fd);
}

static int one_entry(struct walk *w, int dfd, const char *name, const char *path, int depth,
                     struct wh_err *err)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : wh_fail(err, errno, "stat '%s'", path);
        enum wh_ftype type;
        switch (st.st_mode & S_IFMT) {
        case S_IFREG:
                type = WH_F_REG;
                break;
        case S_IFDIR:
                type = WH_F_DIR;
                break;
        case S_IFLNK:
                type = WH_F_SYMLINK;
                break;
        case S_IFIFO:
                type = WH_F_FIFO;
                break;
        default:
                if (w->skipped++ == 0)
                        snprintf(w->skipped_example, sizeof(w->skipped_example), "%.120s",
                                 path);
                return 0;
        }
        if (w->entries_left-- == 0)
                return wh_failx(err, E2BIG, "more than %llu entries", WH_MAX_ENTRIES);
        struct wh_entry *e = wh_entry_new(path, type);
        if (!e)
                return wh_fail(err, ENOMEM, "'%s'", path);
        e->mode = st.st_mode & 07777;
        e->uid = st.st_uid;
        e->gid = st.st_gid;
        e->mtime = st.st_mtim.tv_sec;
        e->ordinal = (uint32_t)w->done;
        int r = 0;
        if (type == WH_F_REG) {
                r = regular(w, dfd, name, e, &st, err);
        } else if (type == WH_F_SYMLINK) {
                char buf[WH_MAX_PATH + 1];
                ssize_t n = readlinkat(dfd, name, buf, sizeof(buf));
                if (n < 0 || n > WH_MAX_PATH)
                        r = wh_fail(err, n < 0 ? errno : ENAMETOOLONG, "readlink '%s'",
                                    path);
                else if (!(e->link = strndup(buf, (size_t)n)))
                        r = wh_fail(err, ENOMEM, "'%s'", path);
        }
        if (r >= 0)
                r = wh_index_put(w->idx, e, err);
        if (r < 0) {
                wh_entry_free(e);
                return r;
        }
        if (w->progress && (++w->done & 1023) == 0)
                w->progress("read", w->done, 0, w->userdata);
        if (type != WH_F_DIR)
                return 0;
        _cleanup_close_ int cfd =
                openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return wh_fail(err, errno, "open '%s'", path);
        if (read_xattrs(e, cfd) < 0)
                return wh_fail(err, ENOMEM, "'%s'", path);
        if (skip_contents(w, depth, name, cfd))
                return 0;
        return walk_dir(w, cfd, path, depth + 1, err);
}

static int walk_dir(struct walk *w, int dfd, const char *rel, int depth, struct wh_err *err)
{
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return wh_fail(err, errno, "'%s'", *rel ? rel : "/");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return wh_fail(err, errno, "'%s'", *rel ? rel : "/");
        }
        struct dirent *de;
        char path[WH_MAX_PATH + 1];
        errno = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int n = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "",
                                 de->d_name);
                if (n < 0 || (size_t)n >= sizeof(path))
                        return wh_failx(err, ENAMETOOLONG, "'%s/%s': path longer than %d",
                                        rel, de->d_name, WH_MAX_PATH);
                int r = one_entry(w, dirfd(d), de->d_name, path, depth, err);
                if (r < 0)
                        return r;
                errno = 0;
        }
        if (errno)
                return wh_fail(err, errno, "read directory '%s'", *rel ? rel : "/");
        return 0;
}

int wh_dir_index(struct wh_source *src, struct wh_index *idx, wh_progress_fn progress,
                 void *userdata, struct wh_err *err)
{
        struct walk w = {
                .idx = idx,
                .entries_left = WH_MAX_ENTRIES,
                .progress = progress,
                .userdata = userdata,
        };
        struct stat st;
        if (src->exclude_path && stat(src->exclude_path, &st) == 0 && S_ISDIR(st.st_mode)) {
                w.have_ex = 1;
                w.ex_dev = st.st_dev;
                w.ex_ino = st.st_ino;
        }
        int r = walk_dir(&w, src->root_fd, "", 0, err);
        free(w.inos);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s", src->ref.path);
        if (w.skipped)
                wh_warn("%s: %u device node(s) or socket(s) skipped (e.g. %s): they are "
                        "never "
                        "copied into images",
                        src->ref.path, w.skipped, w.skipped_example);
        if (progress)
                progress("read", w.done, w.done, userdata);
        return 0;
}

int wh_dir_read_kept(struct wh_source *src, struct wh_index *idx, wh_content_sink sink,
                     void *userdata, wh_progress_fn progress, void *progress_data,
                     struct wh_err *err)
{
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        if (!v)
                return wh_fail(err, ENOMEM, "index");
        uint64_t total = 0, done = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i]->keep_reason && v[i]->type == WH_F_REG)
                        total += v[i]->size;
        for (size_t i = 0; i < n; i++) {
                struct wh_entry *e = v[i];
                if (!e->keep_reason || e->type != WH_F_REG)
                        continue;
                _cleanup_close_ int fd = wh_open_in_root(
                        src->root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_NOCTTY, 0);
                struct stat st;
                if (fd < 0)
                        return wh_fail(err, -fd, "%s: open '%s'", src->ref.path, e->path);
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
                    (uint64_t)st.st_size != e->size)
                        return wh_failx(err, EINVAL,
                                        "%s: '%s' changed since it was indexed",
                                        src->ref.path, e->path);
                struct fd_reader rd = {fd, e->size};
                int r = sink(e, fd_read, &rd, userdata, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "%s: '%s'", src->ref.path, e->path);
                done += e->size;
                if (progress)
                        progress("copy", done, total, progress_data);
        }
        return 0;
}
