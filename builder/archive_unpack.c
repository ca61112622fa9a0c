/* SPDX-License-Identifier: Apache-2.0 */
#include "archive_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "path_safe.h"

#define COPY_BUF (1024 * 1024)

static void archive_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

void wh_unpacked_release(struct wh_unpacked *u, int keep_dir)
{
        if (!u)
                return;
        if (u->dirfd >= 0)
                close(u->dirfd);
        u->dirfd = -1;
        if (u->dir && !keep_dir)
                wh_rm_rf_at(AT_FDCWD, u->dir);
        free(u->dir);
        u->dir = NULL;
        for (size_t i = 0; i < u->n_links; i++) {
                free(u->links[i].path);
                free(u->links[i].target);
        }
        free(u->links);
        u->links = NULL;
        u->n_links = 0;
}

static int add_link(struct wh_unpacked *u, const char *path, const char *raw, int symlink)
{
        _cleanup_free_ char *target = NULL;
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        if (symlink) {
                /* Relative to the link's directory; resolved only inside the archive. */
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *joined = NULL;
                if (raw[0] == '/') {
                        joined = strdup(raw);
                } else if (asprintf(&joined, "%.*s/%s", slash ? (int)(slash - path) : 0,
                                    path, raw) < 0)
                        joined = NULL;
                if (!joined)
                        return -ENOMEM;
                if (wh_path_clean(joined, WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT,
                                  &target) < 0)
                        return 0;
        } else if (wh_path_clean(raw, 0, &target) < 0) {
                return 0;
        }
        struct wh_archive_link *nl = realloc(u->links, (u->n_links + 1) * sizeof(*nl));
        if (!nl)
                return -ENOMEM;
        u->links = nl;
        nl[u->n_links].path = TAKE_PTR(p);
        nl[u->n_links].target = TAKE_PTR(target);
        u->n_links++;
        return 0;
}

static int copy_out(struct archive *a, int fd, const char *path, struct wh_err *err)
{
        _cleanup_free_ char *buf = malloc(COPY_BUF);
        if (!buf)
                return wh_fail(err, ENOMEM, "unpack '%s'", path);
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, COPY_BUF);
                if (n < 0)
                        return wh_failx(err, EIO, "'%s': %s", path,
                                        archive_error_string(a));
                if (n == 0)
                        return 0;
                int r = wh_write_all(fd, buf, (size_t)n);
                if (r < 0)
                        return wh_fail(err, r, "unpack '%s'", path);
        }
}

static int write_file(struct wh_unpacked *u, struct archive *a, const char *path,
                      struct wh_err *err)
{
        const char *slash = strrchr(path, '/');
        _cleanup_close_ int pfd = -1;
        if (slash) {
                _cleanup_free_ char *parent = strndup(path, (size_t)(slash - path));
                if (!parent)
                        return wh_fail(err, ENOMEM, "unpack '%s'", path);
                pfd = wh_mkdir_p_at(u->dirfd, parent, 0700, err);
                if (pfd < 0)
                        return pfd;
        }
        int at = slash ? pfd : u->dirfd;
        const char *base = slash ? slash + 1 : path;
        /* A later entry of the same name wins, as with tar -x. */
        if (unlinkat(at, base, 0) < 0 && errno != ENOENT)
                return wh_fail(err, errno, "unpack '%s'", path);
        _cleanup_close_ int fd = openat(
                at, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return wh_fail(err, errno, "unpack '%s'", path);
        return copy_out(a, fd, path, err);
}

static int make_tmpdir(char **ret, struct wh_err *err)
{
        const char *base = wh_tmp_dir();
        if (asprintf(ret, "%s/whittle-src-XXXXXX", base) < 0)
                return wh_fail(err, ENOMEM, "temporary directory");
        if (!mkdtemp(*ret))
                return wh_fail(err, errno, "create a temporary directory in %s", base);
        return 0;
}

static int unpack_entries(struct wh_unpacked *u, struct archive *a, struct wh_err *err)
{
        struct archive_entry *ae;
        int r;
        while ((r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return wh_failx(err, EINVAL, "%s", archive_error_string(a));
                const char *raw = archive_entry_pathname(ae);
                _cleanup_free_ char *path = NULL;
                if (!raw || wh_path_clean(raw, 0, &path) < 0)
                        return wh_failx(err, EINVAL, "entry '%s': path leaves the archive",
                                        raw ? raw : "?");
                if (!*path)
                        continue;
                const char *hl = archive_entry_hardlink(ae);
                mode_t ft = archive_entry_filetype(ae);
                if (hl)
                        r = add_link(u, path, hl, 0);
                else if (ft == AE_IFLNK && archive_entry_symlink(ae))
                        r = add_link(u, path, archive_entry_symlink(ae), 1);
                else if (ft == AE_IFREG)
                        r = write_file(u, a, path, err);
                else
                        continue;
                if (r == -ENOMEM)
                        return wh_fail(err, ENOMEM, "unpack");
                if (r < 0)
                        return r;
        }
        return 0;
}

int wh_archive_unpack(const char *file, struct wh_unpacked *ret, struct wh_err *err)
{
        struct wh_unpacked u = {.dirfd = -1};
        _cleanup_(archive_freep) struct archive *a = archive_read_new();
        if (!a)
                return wh_fail(err, ENOMEM, "%s", file);
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        if (archive_read_open_filename(a, file, COPY_BUF) != ARCHIVE_OK)
                return wh_failx(err, archive_errno(a) > 0 ? archive_errno(a) : EINVAL,
                                "%s: %s", file, archive_error_string(a));
        int r = make_tmpdir(&u.dir, err);
        if (r < 0)
                return r;
        u.dirfd = open(u.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (u.dirfd < 0)
                r = wh_fail(err, errno, "open '%s'", u.dir);
        if (r >= 0)
                r = unpack_entries(&u, a, err);
        if (r < 0) {
                wh_unpacked_release(&u, 0);
                return wh_fail_ctx(err, r, "%s", file);
        }
        *ret = u;
        return 0;
}
