/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A layer blob as a tar stream: the compressed bytes are read from a file,
 * hashed and counted as they go by, decompressed here (ISA-L or zlib for
 * gzip, libzstd for zstd) and handed to libarchive's tar reader. At the end
 * of the blob, _finish drains what the tar reader did not need and checks
 * the digest and size against the descriptor.
 */
#include <stdint.h>

#include "err.h"

struct archive;

enum wh_lcomp {
        WH_LC_NONE, /* plain tar */
        WH_LC_GZIP,
        WH_LC_ZSTD,
        WH_LC_AUTO, /* libarchive detects the compression (tar: sources) */
};

struct wh_lstream_opts {
        const char *name; /* for errors: the layer digest or the file */
        enum wh_lcomp comp;
        const char *digest;      /* expected "sha256:..." or NULL */
        int digest_uncompressed; /* digest is of the tar, not of the blob (docker-archive)
                                  */
        int64_t size;            /* expected blob size, or -1 */
        /* Called with the blob bytes read so far (may be NULL). */
        void (*progress)(uint64_t blob_bytes, void *userdata);
        void *userdata;
};

struct wh_lstream;

/* Takes fd (closed by _free, also on failure). Caller owns *ret. */
int wh_lstream_open(int fd, const struct wh_lstream_opts *opts, struct wh_lstream **ret,
                    struct wh_err *err);
struct wh_lstream *wh_lstream_free(struct wh_lstream *s);

/* Borrowed tar reader, positioned before the first header. */
struct archive *wh_lstream_archive(struct wh_lstream *s);

/*
 * Turns a libarchive failure on this stream into an error: the stream's own
 * (digest, truncation, decompression) when it has one, else libarchive's.
 */
int wh_lstream_fail(struct wh_lstream *s, struct wh_err *err);

/* 1 when the stream itself failed (read, decompression, size). */
int wh_lstream_failed(const struct wh_lstream *s);

/* After the tar end: reads the rest of the blob and verifies digest and size. */
int wh_lstream_finish(struct wh_lstream *s, struct wh_err *err);

/* Uncompressed bytes handed to the tar reader so far. */
uint64_t wh_lstream_tar_bytes(const struct wh_lstream *s);

/* Guesses the compression of a blob from its first bytes (gzip, zstd, else tar). */
enum wh_lcomp wh_lcomp_sniff(const void *buf, size_t len);

static inline void wh_lstream_freep(struct wh_lstream **s)
{
        wh_lstream_free(*s);
}
#define _cleanup_lstream_ __attribute__((cleanup(wh_lstream_freep)))
