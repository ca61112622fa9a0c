/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The dir: destination: the minimised root filesystem as a plain tree.
 * Built in a temporary directory beside path, every entry created through
 * directory fds (mkdirat, openat O_NOFOLLOW|O_EXCL, symlinkat, linkat,
 * mknodat) so nothing ever resolves through a symlink the tree itself
 * holds; owners are applied when running as root; directory modes and
 * times after their children. Then moved into place: renamed when path is
 * absent or an empty directory, exchanged (RENAME_EXCHANGE) with an
 * existing tree which is then removed. On failure path is untouched.
 */
#include <stdint.h>

#include "err.h"
#include "layer_write.h"

int wh_rootfs_write(const char *path, const struct wh_plan *plan, int spool_fd,
                    int64_t epoch, struct wh_err *err);
