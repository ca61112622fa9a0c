/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * File helpers that work through directory fds and never follow a symlink
 * in the last component (O_NOFOLLOW), so they are safe on image trees.
 */
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Reads a regular file of at most max bytes; *ret is NUL-terminated, caller owns. */
int wh_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                    struct wh_err *err);

/* Writes all of buf to fd, retrying on EINTR / short writes. Returns 0 or -errno. */
int wh_write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes at off; -EIO on a short file. */
int wh_pread_all(int fd, void *buf, size_t len, off_t off);

/*
 * Writes a file atomically: a temporary name in dirfd, fsync, rename over
 * name. On failure nothing named name changes.
 */
int wh_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                            mode_t mode, struct wh_err *err);

/* Flags of wh_write_file_atomic_ex. */
enum {
        /* No fsync: for files on a tmpfs (a runtime's state under /run),
         * where a container start must not wait for a disk. */
        WH_WRITE_NOSYNC = 1 << 0,
};
int wh_write_file_atomic_ex(int dirfd, const char *name, const void *data, size_t len,
                            mode_t mode, unsigned flags, struct wh_err *err);

/* Removes name under dirfd recursively; never follows symlinks. Missing is fine. */
int wh_rm_rf_at(int dirfd, const char *name);

/*
 * Creates every missing directory of rel under dirfd with mode, refusing
 * to cross symlinks. Returns an O_PATH|O_DIRECTORY fd of the last one.
 */
int wh_mkdir_p_at(int dirfd, const char *rel, mode_t mode, struct wh_err *err);

/*
 * Where a destination directory stands before it is written: 1 when path
 * is missing or an empty directory (create it there), 0 when it holds
 * marker (add to it); an EEXIST error naming kind ("an OCI layout") when it
 * is anything else, so nobody's files get mixed into.
 */
int wh_dest_dir_state(const char *path, const char *marker, const char *kind,
                      struct wh_err *err);

/* A new directory next to path ("<path>.tmp-XXXXXX"); caller owns *ret. */
int wh_mkdtemp_beside(const char *path, char **ret, struct wh_err *err);

/*
 * Where temporary files go: $TMPDIR, else /var/tmp (large files), else
 * /tmp, else the current directory; the first that is a directory. A build
 * stage or a minimal image may lack /var/tmp. Borrowed string.
 */
const char *wh_tmp_dir(void);
