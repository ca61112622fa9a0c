/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * From a pulled OCI layout to a container root, three ways:
 *
 *   tar      no store: every container gets the layers extracted into its
 *            own rootfs (what umoci unpack does). Single-layer images only:
 *            extracting a later layer over an earlier one with GNU tar would
 *            follow the image's absolute symlinks onto the host.
 *   overlay  unpack extracts each layer into a directory of its own in the
 *            store (whiteouts turned into overlayfs ones), the rootfs is an
 *            overlay mount over them (what containerd and podman do).
 *   ostree   unpack is `whittle build` of the pulled image into an OSTree
 *            repository (ostree:REPO:REF, whittle's store); the rootfs is
 *            `whittle checkout` of it: hard links into the repository.
 *
 * Every extraction is GNU tar (with gzip or zstd) into a fresh empty
 * directory, the same for every image. GNU tar creates symlinks whose
 * target is absolute or holds '..' only at the end of the archive, so no
 * entry is ever written through one.
 */
#include <stdint.h>

#include "bench_image.h"
#include "err.h"

enum bench_rootfs {
        BENCH_ROOTFS_TAR,
        BENCH_ROOTFS_OVERLAY,
        BENCH_ROOTFS_OSTREE,
};

const char *bench_rootfs_name(enum bench_rootfs m);

/* The whittle program the ostree mode runs (default: "whittle" in PATH). */
void bench_store_set_whittle(const char *path);

/*
 * Unpacks img (its blobs in image_dir) into the store directory store
 * (created). Nothing to do for tar.
 */
int bench_unpack(const struct bench_image *img, const char *image_dir, const char *store,
                 enum bench_rootfs mode, struct wh_err *err);

/* Makes bundle/rootfs (bundle is created). */
int bench_rootfs_prepare(const struct bench_image *img, const char *image_dir,
                         const char *store, enum bench_rootfs mode, const char *bundle,
                         struct wh_err *err);

/* Unmounts bundle/rootfs when mounted and removes bundle. Safe to call twice. */
int bench_rootfs_release(const char *bundle, struct wh_err *err);

/* Extracts one layer blob into the empty directory dest. */
int bench_extract_layer(const char *blob, enum bench_comp comp, const char *dest,
                        struct wh_err *err);

/*
 * Turns OCI whiteouts in an extracted layer into overlayfs ones: ".wh.NAME"
 * becomes a 0/0 character device NAME, ".wh..wh..opq" an opaque directory.
 * Works through directory fds, never following a symlink.
 */
int bench_whiteouts_to_overlay(const char *layer_dir, struct wh_err *err);

/* Counts entries (not the root) and bytes of regular files under dir, not crossing mounts.
 */
int bench_tree_count(const char *dir, int64_t *ret_files, int64_t *ret_bytes,
                     struct wh_err *err);

/* rm -rf path (never following symlinks); missing is fine. */
int bench_rm_rf(const char *path, struct wh_err *err);
