/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Reading a source image: resolve the reference to a manifest and config
 * (checking media types, digests and sizes), then stream the layers into
 * the file index (pass 1) and stream the kept files' contents out (pass 2).
 */
#include <json-c/json.h>
#include <stdint.h>

#include "err.h"
#include "image_ref.h"
#include "index.h"

struct wh_layer_desc {
        char *digest;     /* owned; "sha256:..." of the blob as stored */
        char *media_type; /* owned */
        int64_t size;     /* from the descriptor */
        char *blob_path;  /* owned; where the blob is on disk (inside the source or a temp dir) */
        int digest_uncompressed; /* digest is the diff_id (of the tar), as docker-archive gives */
};

struct wh_source {
        struct wh_image_ref ref;
        char *manifest_digest;    /* owned; NULL for dir:/tar: */
        char *config_digest;      /* owned; NULL for dir:/tar: */
        json_object *config;      /* owned; the image config ({} for dir:/tar:) */
        struct wh_layer_desc *layers;
        size_t n_layers;
        int root_fd;              /* dir: sources, else -1 */
        char *tmpdir;             /* owned; unpacked archive, removed by _free */
        uint64_t compressed_bytes; /* sum of layer sizes */
        /* Set by the caller before _index: dir: sources do not descend into
         * this directory (the build's own output under the source). Borrowed. */
        const char *exclude_path;
};

/* Opens and validates (manifest, config, descriptors). Caller owns *ret. */
int wh_source_open(const struct wh_image_ref *ref, struct wh_source **ret, struct wh_err *err);
struct wh_source *wh_source_free(struct wh_source *src);

struct wh_index_stats {
        uint64_t files;           /* entries in the final index */
        uint64_t bytes;           /* sum of regular file sizes in the final index */
        uint64_t layer_bytes_in;  /* uncompressed tar bytes read */
};

/* Called with progress while layers stream (may be NULL). */
typedef void (*wh_progress_fn)(const char *phase, uint64_t done, uint64_t total, void *userdata);

/*
 * Pass 1: applies every layer in order (whiteouts, hostile-entry checks,
 * blob digest and size verified at the end of each blob) into idx.
 * Errors name the layer digest and the entry.
 */
int wh_source_index(struct wh_source *src, struct wh_index *idx, struct wh_index_stats *stats,
                    wh_progress_fn progress, void *userdata, struct wh_err *err);

/*
 * Pass 2: for every kept (keep_reason != NULL) regular file in idx, in layer
 * order, calls sink with its content stream. sink reads with the supplied
 * read function until it returns 0.
 */
typedef int (*wh_read_fn)(void *stream, void *buf, size_t len); /* bytes, 0 at end, -errno */
typedef int (*wh_content_sink)(struct wh_entry *e, wh_read_fn read, void *stream, void *userdata,
                               struct wh_err *err);
int wh_source_read_kept(struct wh_source *src, struct wh_index *idx, wh_content_sink sink,
                        void *userdata, wh_progress_fn progress, void *progress_data,
                        struct wh_err *err);
