/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The OSTree store (ostree:REPO:REF). A build commits the minimised root
 * filesystem into a bare repository, where identical files of several
 * images are one object; a container's root is then a hardlink checkout,
 * which costs a directory walk and a link per file instead of a copy.
 *
 * The commit is deterministic: no parent, the epoch as its timestamp,
 * numeric owners, modes and xattrs of the plan, so the same plan and
 * epoch give the same commit checksum. Its metadata carries what a
 * runtime needs to build a bundle without an OCI manifest:
 *   "whittle.image-config"  the image config JSON (config.Entrypoint, Env...)
 *   "whittle.image-info"    JSON: created, base digest and name, files, bytes
 *   "ostree.ref-binding"    [REF], as `ostree commit` writes it
 *
 * Everything here is built only with WITH_OSTREE=1; otherwise every
 * function fails with -ENOTSUP and says so. This header needs no glib:
 * libostree stays inside store_ostree.c and links only into whittle.
 */
#include <stdint.h>

#include "err.h"
#include "image_write.h"
#include "layer_write.h"

#define WH_OSTREE_META_CONFIG "whittle.image-config"
#define WH_OSTREE_META_INFO   "whittle.image-info"

/* 1 when this build links libostree. */
int wh_ostree_available(void);

/*
 * Commits plan (contents read from opts->spool_fd) to repo_path under ref,
 * in one transaction: on failure ref keeps its old commit. The repository
 * is created in bare mode (bare-user when not root) when repo_path is
 * missing or an empty directory; an existing one must be bare or
 * bare-user. Fifos are left out (ostree stores none), with a warning.
 * On success ret is zeroed, then ret->commit and ret->store are filled.
 */
int wh_ostree_write(const char *repo_path, const char *ref, const struct wh_plan *plan,
                    const struct wh_write_opts *opts, struct wh_write_result *ret,
                    struct wh_err *err);

enum wh_checkout_mode {
        WH_CHECKOUT_AUTO,     /* hard links where the filesystem allows, else copies */
        WH_CHECKOUT_HARDLINK, /* hard links or fail */
        WH_CHECKOUT_COPY,     /* private copies (a writable root cannot touch the store) */
};

struct wh_ostree_image {
        char commit[80];
        char *config; /* owned: the image config JSON text, NULL when absent */
        char *info;   /* owned: the image info JSON text, NULL when absent */
};

void wh_ostree_image_release(struct wh_ostree_image *img);

/*
 * Reads ref's commit and its metadata without checking anything out.
 * On success *ret is filled (release with wh_ostree_image_release).
 */
int wh_ostree_read(const char *repo_path, const char *ref, struct wh_ostree_image *ret,
                   struct wh_err *err);

/*
 * Checks ref's tree out as name under dirfd, which must not exist yet. A
 * bare repository is checked out with owners and xattrs (as root), a
 * bare-user one in user mode. On failure nothing named name is left.
 * *ret is filled as by wh_ostree_read.
 */
int wh_ostree_checkout(const char *repo_path, const char *ref, int dirfd, const char *name,
                       enum wh_checkout_mode mode, struct wh_ostree_image *ret,
                       struct wh_err *err);
