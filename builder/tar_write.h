/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A deterministic tar writer: ustar headers, with a pax extended header
 * only when a value does not fit (long names and link targets, sizes past
 * 8 GiB, ids past 07777777) or an entry carries xattrs (SCHILY.xattr.*).
 * Nothing in the output depends on the time, the host or the process:
 * uname/gname are empty, pax headers carry no time, pid or atime, and the
 * pax header's own name is derived from the entry.
 *
 * The writer owns no buffer and no fd: every byte goes to a sink, in order.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "index.h"

/* Receives the stream; returns 0 or -errno (with err filled). */
typedef int (*wh_tar_sink_fn)(void *userdata, const void *buf, size_t len,
                              struct wh_err *err);

enum {
        WH_TAR_REG = '0',
        WH_TAR_LINK = '1',
        WH_TAR_SYMLINK = '2',
        WH_TAR_DIR = '5',
        WH_TAR_FIFO = '6',
};

struct wh_tar_hdr {
        const char *path; /* relative, without trailing '/' (added for directories) */
        char type;        /* WH_TAR_* */
        uint32_t mode;    /* permission bits */
        uint32_t uid, gid;
        uint64_t size;    /* WH_TAR_REG only */
        int64_t mtime;    /* already clamped by the caller; negative is written as 0 */
        const char *link; /* symlink target or hardlink path, else NULL */
        const struct wh_xattr *xattrs;
        size_t n_xattrs;
};

/* Caller-owned state (_init / no release: it holds nothing). */
struct wh_tar_writer {
        wh_tar_sink_fn sink;
        void *userdata;
        uint64_t remaining; /* data bytes the current entry still expects */
        uint64_t offset;    /* bytes emitted so far */
};

void wh_tar_writer_init(struct wh_tar_writer *w, wh_tar_sink_fn sink, void *userdata);

/* Emits the header(s) of one entry. The previous entry's data must be complete. */
int wh_tar_write_header(struct wh_tar_writer *w, const struct wh_tar_hdr *h,
                        struct wh_err *err);

/* Emits data of the current entry; the padding follows the last byte by itself. */
int wh_tar_write_data(struct wh_tar_writer *w, const void *buf, size_t len,
                      struct wh_err *err);

/*
 * Emits len bytes of the current entry read from fd at off, through buf
 * (bufsize bytes, caller-provided so one buffer serves a whole archive).
 * A short file is -EIO.
 */
int wh_tar_copy_fd(struct wh_tar_writer *w, int fd, off_t off, uint64_t len, void *buf,
                   size_t bufsize, struct wh_err *err);

/* Ends the archive with two zero blocks. */
int wh_tar_finish(struct wh_tar_writer *w, struct wh_err *err);
