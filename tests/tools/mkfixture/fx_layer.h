/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * mkfixture's layer writer: a tar stream written by hand (hostile fixtures
 * need headers no sane writer produces), hashed twice (diff_id and blob
 * digest) and compressed into a blob under an OCI layout's blobs/sha256.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

#include "err.h"
#include "sha256.h"

#define FX_BUFSZ (128 * 1024)

enum fx_comp { FX_NONE, FX_GZIP, FX_ZSTD };

struct fx_layer {
        enum fx_comp comp;
        int level;
        int fd;     /* the compressed blob while it is written, then -1 */
        int raw_fd; /* uncompressed copy (for docker archives), or -1 */
        z_stream gz;
        ZSTD_CCtx *zc;
        struct wh_sha256 *diff_h, *blob_h;
        uint64_t tar_size, blob_size;
        char diff_id[WH_DIGEST_STR], digest[WH_DIGEST_STR];
        char tmp_name[64], raw_name[64];
        /* paths written into this layer, so host imports add each once */
        char **seen;
        size_t n_seen_slots, n_seen;
        /* xattrs for the next entry, as pax records */
        char *xattr_recs;
        size_t xattr_len;
        /* descriptor overrides from "corrupt" */
        int64_t desc_size_delta;
        bool wrong_digest, truncate, missing;
};

struct fx_hdr {
        const char *path;
        char type; /* '0' file, '1' hardlink, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo */
        unsigned mode;
        uint64_t uid, gid, size;
        int64_t mtime;
        const char *link;
        unsigned dev_major, dev_minor;
        bool verbatim; /* no trailing '/' added to directory names */
};

/* Starts layer number index (comp "gzip", "zstd" or "none"; level NULL for the default). */
int fx_layer_begin(struct fx_layer *l, int blobs_fd, size_t index, const char *comp,
                   const char *level, bool keep_raw, struct wh_err *err);
/* Ends the tar stream and names the blob by its digest. No-op when already ended. */
int fx_layer_end(struct fx_layer *l, int blobs_fd, struct wh_err *err);

int fx_tar_out(struct fx_layer *l, const void *p, size_t n, struct wh_err *err);
int fx_tar_pad(struct fx_layer *l, uint64_t size, struct wh_err *err);
/* A ustar header (octal, or base-256 for numbers that do not fit). */
void fx_build_header(const struct fx_hdr *h, char b[static 512]);
/* The header, after a pax header when needed (long names, pending xattrs). */
int fx_write_header(struct fx_layer *l, const struct fx_hdr *h, struct wh_err *err);
int fx_pax_append(char **recs, size_t *n, const char *key, const void *val, size_t vlen);
/* 1 if path was written to l before, 0 if now recorded, -ENOMEM. */
int fx_seen_add(struct fx_layer *l, const char *path);

/* An entry's content: text:STR, hex:HEX, zero:N, rand:N, host:/PATH. */
struct fx_content {
        enum { CT_MEM, CT_ZERO, CT_RAND, CT_HOST } kind;
        const char *data; /* CT_MEM */
        size_t len;
        char *owned;
        int host_fd;
        uint64_t size;
};
int fx_content_open(const char *spec, struct fx_content *c, struct wh_err *err);
int fx_content_stream(struct fx_layer *l, struct fx_content *c, struct wh_err *err);
void fx_content_release(struct fx_content *c);

/* Copies every entry of an existing tar (any compression) into l. */
int fx_add_tarball(struct fx_layer *l, const char *file, struct wh_err *err);
