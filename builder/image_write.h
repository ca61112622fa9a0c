/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Writing the result: one squashed, deterministic layer (entries sorted,
 * mtimes clamped to the epoch, numeric ids with empty names, no atime or
 * ctime) compressed with zstd, gzip or not at all, plus config and
 * manifest, to an OCI layout, an OCI archive, a docker archive or a plain
 * directory. Every destination is written atomically: on failure an
 * existing destination is left as it was.
 */
#include <json-c/json.h>
#include <stdint.h>

#include "err.h"
#include "image_ref.h"
#include "index.h"

enum wh_compression { WH_COMP_ZSTD, WH_COMP_GZIP, WH_COMP_NONE };

struct wh_write_opts {
        enum wh_compression compression;
        int level;           /* -1: the codec's default (zstd 3, gzip 6) */
        int64_t epoch;       /* SOURCE_DATE_EPOCH: mtime clamp and created time */
        json_object *config; /* the complete image config except rootfs and history (borrowed) */
        const char *history_created_by; /* for the history entry */
        const char *base_digest;        /* manifest digest of the source, or NULL */
        const char *base_name;          /* source reference text, or NULL */
        int spool_fd;                   /* kept contents at entry->spool_off */
        int compression_explicit;       /* the user chose it (warn when overridden) */
};

/* What a content-addressed store (ostree:) already held of a commit. */
struct wh_store_stats {
        int present; /* 0 for destinations that are not a store */
        uint64_t objects_new, objects_reused;
        uint64_t bytes_new, bytes_reused; /* file contents only */
};

struct wh_write_result {
        char manifest_digest[80];
        char config_digest[80];
        char layer_digest[80];  /* compressed blob */
        char diff_id[80];       /* uncompressed tar */
        uint64_t layer_size;    /* compressed bytes */
        uint64_t tar_size;      /* uncompressed bytes */
        char commit[80];        /* ostree: the commit checksum, else "" */
        struct wh_store_stats store;
};

/*
 * Writes the kept entries of idx (those with keep_reason) to dest. The
 * directories above kept entries are marked kept too. For dir: *ret is
 * zeroed (no image, no digests); for docker-archive the layer is gzip (or
 * none) whatever was asked, and manifest_digest names the OCI manifest
 * that describes the same config and layer.
 */
int wh_image_write(const struct wh_image_ref *dest, struct wh_index *idx,
                   const struct wh_write_opts *opts, struct wh_write_result *ret,
                   struct wh_err *err);

int wh_compression_parse(const char *s, enum wh_compression *ret);
const char *wh_compression_name(enum wh_compression c);
