/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * From an image directory (an OCI layout, or an unpacked docker save) to a
 * manifest, a config and layer descriptors in a struct wh_source. Every
 * blob read here is checked against its descriptor's digest and size
 * before it is parsed.
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image_read.h"

#define WH_MAX_JSON   (4u << 20)
#define WH_MAX_LAYERS 10000

/* Resolves ref (or the only manifest) in the OCI layout at dirfd/dir into src. */
int wh_oci_load(int dirfd, const char *dir, const char *ref, struct wh_source *src,
                struct wh_err *err);

/* A symlink or hardlink inside an unpacked archive: both paths cleaned. */
struct wh_archive_link {
        char *path;
        char *target; /* cleaned path from the archive root */
};

/* Resolves ref ("NAME:TAG", "@N" or the only image) of a docker save at dirfd/dir. */
int wh_docker_load(int dirfd, const char *dir, const char *ref,
                   const struct wh_archive_link *links, size_t n_links,
                   struct wh_source *src, struct wh_err *err);

/* Reads a blob of the layout at dirfd, at most max bytes, verifying digest and size. */
int wh_oci_read_blob(int dirfd, const char *digest, int64_t size, size_t max, char **ret,
                     size_t *ret_len, struct wh_err *err);

/* 1 for a layer media type we read; *ret_gzip / *ret_zstd say its compression. */
int wh_layer_media_type(const char *mt, int *ret_gzip, int *ret_zstd);
