/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The container's file system, built in the container process (already in
 * its new mount namespace) in three steps:
 *
 *   wh_mounts_prepare()  stop propagation to the host, bind the rootfs onto
 *                        itself, do config.json's mounts, device nodes and
 *                        /dev symlinks. Every destination is resolved inside
 *                        the rootfs with openat2(RESOLVE_IN_ROOT) and the
 *                        mount is done on /proc/self/fd/N of the resolved fd,
 *                        so no symlink in the image leads a mount out.
 *   wh_mounts_pivot()    pivot_root (or MS_MOVE + chroot with --no-pivot)
 *                        and detach the old root.
 *   wh_mounts_finish()   maskedPaths, readonlyPaths, rootfsPropagation and
 *                        the read-only root, inside the new root.
 *
 * Hooks that must run "after mounts, before pivot_root" go between the
 * first two. These run after clone(): they may allocate (the process is a
 * single-threaded copy) but report errors in err only.
 */
#include "err.h"
#include "spec.h"

/* in_userns: device nodes are bind-mounted from the host instead of mknod. */
struct wh_mounts_opts {
        /* Called before each sysfs mount (which shows the network devices
         * of the mounting process's network namespace): must do its work
         * once and then return 0. May be NULL. */
        int (*before_sysfs)(void *data, struct wh_err *err);
        void *data;
        /* The container's cgroup2 directory, if the runtime made one: a
         * "cgroup" mount binds it rather than mounting cgroup2 afresh,
         * whose mount first waits for the cgroups removed before it to
         * finish going offline (an RCU grace period or more: 4-15 ms
         * here when containers come and go). The container sees the same
         * tree: its own cgroup as the root. */
        const char *cgroup2_dir;
};

int wh_mounts_prepare(const struct wh_spec *spec, int in_userns,
                      const struct wh_mounts_opts *opts, int *ret_root_fd,
                      struct wh_err *err);
int wh_mounts_pivot(const struct wh_spec *spec, int root_fd, int no_pivot,
                    struct wh_err *err);
int wh_mounts_finish(const struct wh_spec *spec, struct wh_err *err);

/*
 * Resolves path inside root_fd, creating missing directories (and, with
 * as_file, an empty file as the last component). Returns an O_PATH fd of
 * the result. Symlinks are followed but stay inside the root.
 */
int wh_mounts_mkpath_in_root(int root_fd, const char *path, int as_file,
                             struct wh_err *err);
