/* SPDX-License-Identifier: Apache-2.0 */
#include "fs_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int wh_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                    struct wh_err *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return wh_fail(err, errno, "open '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_fail(err, errno, "stat '%s'", path);
        if (!S_ISREG(st.st_mode))
                return wh_failx(err, EINVAL, "'%s': not a regular file", path);
        if ((uint64_t)st.st_size > max)
                return wh_failx(err, EFBIG, "'%s': file too large (%lld bytes, limit %zu)",
                                path, (long long)st.st_size, max);
        size_t cap = (size_t)st.st_size + 1, len = 0;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return wh_fail(err, ENOMEM, "read '%s'", path);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max + 1)
                                return wh_failx(err, EFBIG, "'%s': file too large", path);
                        size_t ncap = cap * 2;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                                return wh_fail(err, ENOMEM, "read '%s'", path);
                        buf = nb;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_fail(err, errno, "read '%s'", path);
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max)
                return wh_failx(err, EFBIG, "'%s': file too large", path);
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int wh_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int wh_pread_all(int fd, void *buf, size_t len, off_t off)
{
        char *p = buf;
        while (len > 0) {
                ssize_t n = pread(fd, p, len, off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                off += n;
                len -= (size_t)n;
        }
        return 0;
}

int wh_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                            mode_t mode, struct wh_err *err)
{
        return wh_write_file_atomic_ex(dirfd, name, data, len, mode, 0, err);
}

int wh_write_file_atomic_ex(int dirfd, const char *name, const void *data, size_t len,
                            mode_t mode, unsigned flags, struct wh_err *err)
{
        char tmp[PATH_MAX];
        int n = snprintf(tmp, sizeof(tmp), "%s.tmp-%d", name, (int)getpid());
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return wh_failx(err, ENAMETOOLONG, "'%s': name too long", name);
        _cleanup_close_ int fd = openat(dirfd, tmp,
                                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                                        mode);
        if (fd < 0)
                return wh_fail(err, errno, "create '%s'", tmp);
        int r = wh_write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && !(flags & WH_WRITE_NOSYNC) && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return wh_fail(err, -r, "write '%s'", name);
        }
        return 0;
}

static int rm_rf_children(int dfd)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                int e = errno;
                close(dfd);
                return -e;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = wh_rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

int wh_rm_rf_at(int dirfd, const char *name)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        int dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        /* A read-only directory would refuse its children's removal. */
        if (!(st.st_mode & S_IWUSR))
                fchmod(dfd, st.st_mode | S_IRWXU);
        int r = rm_rf_children(dfd);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int wh_mkdir_p_at(int dirfd, const char *rel, mode_t mode, struct wh_err *err)
{
        _cleanup_close_ int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return wh_fail(err, errno, "open directory");
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return wh_fail(err, ENOMEM, "mkdir '%s'", rel);
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (!strcmp(c, ".") || !*c)
                        continue;
                if (!strcmp(c, ".."))
                        return wh_failx(err, EINVAL, "mkdir '%s': '..' not allowed", rel);
                if (mkdirat(cur, c, mode) < 0 && errno != EEXIST)
                        return wh_fail(err, errno, "mkdir '%s' (at '%s')", rel, c);
                int nfd = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return wh_fail(err, errno == ELOOP ? ENOTDIR : errno,
                                       "mkdir '%s' (at '%s')", rel, c);
                close(cur);
                cur = nfd;
        }
        return TAKE_FD(cur);
}

int wh_mkdtemp_beside(const char *path, char **ret, struct wh_err *err)
{
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
                len--;
        _cleanup_free_ char *t = NULL;
        if (asprintf(&t, "%.*s.tmp-XXXXXX", (int)len, path) < 0)
                return wh_fail(err, ENOMEM, "temporary directory for '%s'", path);
        if (!mkdtemp(t))
                return wh_fail(err, errno, "create temporary directory '%s'", t);
        *ret = TAKE_PTR(t);
        return 0;
}

int wh_dest_dir_state(const char *path, const char *marker, const char *kind,
                      struct wh_err *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return errno == ENOENT ? 1 : wh_fail(err, errno, "'%s'", path);
        if (!S_ISDIR(st.st_mode))
                return wh_failx(err, EEXIST, "'%s' exists and is not a directory", path);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open '%s'", path);
        if (faccessat(fd, marker, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        _cleanup_closedir_ DIR *d = fdopendir(TAKE_FD(fd));
        if (!d)
                return wh_fail(err, errno, "read '%s'", path);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        return wh_failx(err, EEXIST, "'%s' exists and is not %s (no %s)",
                                        path, kind, marker);
        return 1;
}

const char *wh_tmp_dir(void)
{
        const char *env = getenv("TMPDIR");
        const char *const candidates[] = {env, "/var/tmp", "/tmp"};
        for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
                struct stat st;
                if (candidates[i] && *candidates[i] && stat(candidates[i], &st) == 0 &&
                    S_ISDIR(st.st_mode))
                        return candidates[i];
        }
        return ".";
}
