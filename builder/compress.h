/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A streaming compressor that also hashes both sides in the same pass:
 * sha256 of what goes in (a layer's diff_id) and of what comes out (the
 * blob's digest). Output goes to an fd through a fixed buffer, so memory
 * does not grow with the layer.
 *
 * Deterministic by construction: zstd runs single-threaded with the
 * checksum flag on and no pledged size; gzip is zlib deflate with a header
 * of mtime 0, no name and OS 255 (unknown), as Go's gzip writes it.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image_write.h"
#include "sha256.h"

struct wh_compressor;

/* No level given: the codec's default (zstd 3, gzip 6). */
#define WH_COMP_LEVEL_DEFAULT INT_MIN

/*
 * level: WH_COMP_LEVEL_DEFAULT, or zstd's -7..22 (negative: its fast
 * levels), gzip's 0..9. out_fd is borrowed and written from its current
 * position. Caller owns *ret.
 */
int wh_compressor_new(enum wh_compression c, int level, int out_fd,
                      struct wh_compressor **ret, struct wh_err *err);
struct wh_compressor *wh_compressor_free(struct wh_compressor *z);

int wh_compressor_write(struct wh_compressor *z, const void *buf, size_t len,
                        struct wh_err *err);

/* A wh_tar_sink_fn over wh_compressor_write (userdata is the compressor). */
int wh_compressor_sink(void *userdata, const void *buf, size_t len, struct wh_err *err);

struct wh_compress_result {
        char diff_id[WH_DIGEST_STR]; /* sha256 of the input */
        char digest[WH_DIGEST_STR];  /* sha256 of the output */
        uint64_t in_size, out_size;
};

/* Ends the stream and flushes everything to out_fd. */
int wh_compressor_finish(struct wh_compressor *z, struct wh_compress_result *ret,
                         struct wh_err *err);

static inline void wh_compressor_freep(struct wh_compressor **z)
{
        wh_compressor_free(*z);
}
#define _cleanup_compressor_ __attribute__((cleanup(wh_compressor_freep)))
