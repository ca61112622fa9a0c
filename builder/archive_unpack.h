/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Unpacks an image archive (oci-archive, docker-archive) into a new private
 * directory. Only regular files are written, through directory fds with
 * O_NOFOLLOW|O_EXCL, so nothing in the archive can make us write elsewhere;
 * symlinks and hardlinks are recorded, not created.
 */
#include <stddef.h>

#include "err.h"
#include "oci_manifest.h"

struct wh_unpacked {
        char *dir; /* owned; removed by _release */
        int dirfd;
        struct wh_archive_link *links; /* owned */
        size_t n_links;
};

/* Caller owns *ret (wh_unpacked_release). */
int wh_archive_unpack(const char *file, struct wh_unpacked *ret, struct wh_err *err);

/* Closes and frees; keep_dir = 1 leaves the directory (its path is handed on). */
void wh_unpacked_release(struct wh_unpacked *u, int keep_dir);
