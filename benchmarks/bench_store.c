/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bench_proc.h"
#include "cleanup.h"
#include "fs_util.h"

#define TOOL_TIMEOUT_MS (10 * 60 * 1000)
#define OSTREE_REF      "whittle/bench"

static char whittle_path[4096] = "whittle";

void bench_store_set_whittle(const char *path)
{
        snprintf(whittle_path, sizeof(whittle_path), "%s", path);
}

const char *bench_rootfs_name(enum bench_rootfs m)
{
        switch (m) {
        case BENCH_ROOTFS_TAR:
                return "tar";
        case BENCH_ROOTFS_OVERLAY:
                return "overlay";
        case BENCH_ROOTFS_OSTREE:
                return "ostree";
        }
        return "?";
}

int bench_rm_rf(const char *path, struct wh_err *err)
{
        int r = wh_rm_rf_at(AT_FDCWD, path);
        return r < 0 ? wh_fail(err, -r, "remove '%s'", path) : 0;
}

int bench_extract_layer(const char *blob, enum bench_comp comp, const char *dest,
                        struct wh_err *err)
{
        if (mkdir(dest, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", dest);
        const char *zflag = comp == BENCH_COMP_GZIP   ? "--gzip"
                            : comp == BENCH_COMP_ZSTD ? "--zstd"
                                                      : "--no-auto-compress";
        char *argv[] = {
                (char *)"tar", (char *)"-x", (char *)zflag, (char *)"--numeric-owner",
                (char *)"-f",  (char *)blob, (char *)"-C",  (char *)dest,
                NULL};
        int r = bench_run_ok(argv, TOOL_TIMEOUT_MS, err);
        return r < 0 ? wh_fail_ctx(err, r, "extract %s", blob) : 0;
}

static int whiteouts_at(int dfd, int depth, struct wh_err *err)
{
        if (depth > 256)
                return wh_failx(err, ELOOP, "directories nested too deep");
        _cleanup_closedir_ DIR *d = fdopendir(dup(dfd));
        if (!d)
                return wh_fail(err, errno, "opendir");
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *n = de->d_name;
                if (!strcmp(n, ".") || !strcmp(n, ".."))
                        continue;
                if (!strcmp(n, ".wh..wh..opq")) {
                        if (unlinkat(dfd, n, 0) < 0 ||
                            fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                                return wh_fail(err, errno, "opaque whiteout");
                } else if (!strncmp(n, ".wh.", 4)) {
                        if (unlinkat(dfd, n, 0) < 0)
                                return wh_fail(err, errno, "whiteout '%s'", n);
                        if (wh_rm_rf_at(dfd, n + 4) < 0 ||
                            mknodat(dfd, n + 4, S_IFCHR | 0, makedev(0, 0)) < 0)
                                return wh_fail(err, errno, "whiteout '%s'", n);
                } else if (de->d_type == DT_DIR) {
                        _cleanup_close_ int sub = openat(
                                dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return wh_fail(err, errno, "open '%s'", n);
                        int r = whiteouts_at(sub, depth + 1, err);
                        if (r < 0)
                                return wh_fail_ctx(err, r, "%s", n);
                }
        }
        return 0;
}

int bench_whiteouts_to_overlay(const char *layer_dir, struct wh_err *err)
{
        _cleanup_close_ int dfd =
                open(layer_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "open '%s'", layer_dir);
        int r = whiteouts_at(dfd, 0, err);
        return r < 0 ? wh_fail_ctx(err, r, "whiteouts in '%s'", layer_dir) : 0;
}

static int blob_path(const char *image_dir, const struct bench_layer *l, char *buf,
                     size_t len)
{
        int n = snprintf(buf, len, "%s/blobs/sha256/%s", image_dir,
                         wh_digest_hex(l->digest));
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int extract_all(const struct bench_image *img, const char *image_dir,
                       const char *store, struct wh_err *err)
{
        char layers[4096], blob[4096], dest[4200];
        snprintf(layers, sizeof(layers), "%s/layers", store);
        if (mkdir(layers, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", layers);
        for (size_t i = 0; i < img->n_layers; i++) {
                if (blob_path(image_dir, &img->layers[i], blob, sizeof(blob)) < 0)
                        return wh_failx(err, ENAMETOOLONG, "%s", image_dir);
                snprintf(dest, sizeof(dest), "%s/%zu", layers, i);
                int r = bench_extract_layer(blob, img->layers[i].comp, dest, err);
                /* Whiteouts in the bottom layer hide nothing. */
                if (r >= 0 && i > 0)
                        r = bench_whiteouts_to_overlay(dest, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The image as it is (the glob "/" "**" keeps every path) into whittle's store. */
static int ostree_import(const char *image_dir, const char *store, struct wh_err *err)
{
        _cleanup_free_ char *src = NULL, *dst = NULL;
        if (asprintf(&src, "oci:%s", image_dir) < 0 ||
            asprintf(&dst, "ostree:%s/ostree:%s", store, OSTREE_REF) < 0)
                return wh_fail(err, ENOMEM, "ostree");
        char *argv[] = {whittle_path, (char *)"build", (char *)"-q", (char *)"--keep",
                        (char *)"/**", src, dst, NULL};
        return bench_run_ok(argv, TOOL_TIMEOUT_MS, err);
}

int bench_unpack(const struct bench_image *img, const char *image_dir, const char *store,
                 enum bench_rootfs mode, struct wh_err *err)
{
        if (mode == BENCH_ROOTFS_TAR)
                return 0;
        if (mkdir(store, 0755) < 0 && errno != EEXIST)
                return wh_fail(err, errno, "mkdir '%s'", store);
        int r = mode == BENCH_ROOTFS_OSTREE ? ostree_import(image_dir, store, err)
                                            : extract_all(img, image_dir, store, err);
        return r < 0 ? wh_fail_ctx(err, r, "unpack") : 0;
}

static int mount_overlay(const struct bench_image *img, const char *store,
                         const char *bundle, struct wh_err *err)
{
        char opts[4096], dir[4096];
        size_t len = 0;
        len += (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
        /* overlayfs lists the top layer first. */
        for (size_t i = img->n_layers; i-- > 0;) {
                len += (size_t)snprintf(opts + len, sizeof(opts) - len, "%s%s/layers/%zu",
                                        i + 1 == img->n_layers ? "" : ":", store, i);
                if (len >= sizeof(opts))
                        return wh_failx(err, E2BIG, "overlay options too long");
        }
        len += (size_t)snprintf(opts + len, sizeof(opts) - len,
                                ",upperdir=%s/upper,workdir=%s/work,index=off", bundle,
                                bundle);
        if (len >= sizeof(opts))
                return wh_failx(err, E2BIG, "overlay options too long");
        static const char *const sub[] = {"upper", "work", "rootfs"};
        for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
                snprintf(dir, sizeof(dir), "%s/%s", bundle, sub[i]);
                if (mkdir(dir, 0755) < 0)
                        return wh_fail(err, errno, "mkdir '%s'", dir);
        }
        if (mount("overlay", dir, "overlay", 0, opts) < 0)
                return wh_fail(err, errno, "mount overlay on '%s'", dir);
        return 0;
}

int bench_rootfs_prepare(const struct bench_image *img, const char *image_dir,
                         const char *store, enum bench_rootfs mode, const char *bundle,
                         struct wh_err *err)
{
        char rootfs[4096], blob[4096];
        if (mkdir(bundle, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", bundle);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
        switch (mode) {
        case BENCH_ROOTFS_TAR:
                if (img->n_layers != 1)
                        return wh_failx(
                                err, EINVAL,
                                "rootfs 'tar' needs a single-layer image (this one has "
                                "%zu); use overlay",
                                img->n_layers);
                if (blob_path(image_dir, &img->layers[0], blob, sizeof(blob)) < 0)
                        return wh_failx(err, ENAMETOOLONG, "%s", image_dir);
                return bench_extract_layer(blob, img->layers[0].comp, rootfs, err);
        case BENCH_ROOTFS_OVERLAY:
                return mount_overlay(img, store, bundle, err);
        case BENCH_ROOTFS_OSTREE: {
                _cleanup_free_ char *src = NULL;
                if (asprintf(&src, "ostree:%s/ostree:%s", store, OSTREE_REF) < 0)
                        return wh_fail(err, ENOMEM, "ostree");
                char *argv[] = {whittle_path, (char *)"checkout", (char *)"-q",
                                (char *)"--hardlink", (char *)"--no-config", src,
                                (char *)bundle, NULL};
                return bench_run_ok(argv, TOOL_TIMEOUT_MS, err);
        }
        }
        return wh_failx(err, EINVAL, "rootfs mode %d", (int)mode);
}

int bench_rootfs_release(const char *bundle, struct wh_err *err)
{
        char rootfs[4096];
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
        if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return wh_fail(err, errno, "umount '%s'", rootfs);
        return bench_rm_rf(bundle, err);
}

static int64_t count_files, count_bytes;

static int count_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)path;
        (void)flag;
        if (ftw->level == 0)
                return 0;
        count_files++;
        if (S_ISREG(st->st_mode))
                count_bytes += st->st_size;
        return 0;
}

int bench_tree_count(const char *dir, int64_t *ret_files, int64_t *ret_bytes,
                     struct wh_err *err)
{
        count_files = count_bytes = 0;
        if (nftw(dir, count_cb, 64, FTW_PHYS | FTW_MOUNT) < 0)
                return wh_fail(err, errno, "walk '%s'", dir);
        *ret_files = count_files;
        *ret_bytes = count_bytes;
        return 0;
}
