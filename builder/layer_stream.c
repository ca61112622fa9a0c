/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decompression is done here rather than by libarchive's filters so that
 * the compressed bytes can be hashed as they are read (one read of each
 * blob), gzip can use ISA-L, and a truncated or corrupt stream is reported
 * with the layer's name.
 */
#include "layer_stream.h"

#include <archive.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#ifdef WITH_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "cleanup.h"
#include "sha256.h"

#define IN_BUF  (512 * 1024)
#define OUT_BUF (1024 * 1024)

struct wh_lstream {
        int fd;
        struct wh_lstream_opts o;
        struct archive *a;
        struct wh_sha256 *h;
        uint64_t blob_bytes, tar_bytes;

        unsigned char *in, *out;
        size_t in_pos, in_len;
        int in_eof;

        int members;       /* gzip members / zstd frames started */
        int member_active; /* inside a gzip member */
        int zstd_in_frame;
#ifdef WITH_ISAL
        struct inflate_state *isal;
#endif
        z_stream *z;
        ZSTD_DCtx *zd;

        int failed;
        struct wh_err err;
};

enum wh_lcomp wh_lcomp_sniff(const void *buf, size_t len)
{
        const unsigned char *b = buf;
        if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
                return WH_LC_GZIP;
        if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
                return WH_LC_ZSTD;
        return WH_LC_NONE;
}

static ssize_t stream_fail(struct wh_lstream *s, int code, const char *what)
{
        if (!s->failed) {
                wh_failx(&s->err, code, "%s", what);
                s->failed = 1;
        }
        return -1;
}

/* Hashes blob bytes or tar bytes, whichever the digest is of (the same for plain tar). */
static void account(struct wh_lstream *s, const void *buf, size_t n, int compressed)
{
        int plain = s->o.comp == WH_LC_NONE || s->o.comp == WH_LC_AUTO;
        if (!s->h)
                return;
        if (compressed ? (plain || !s->o.digest_uncompressed) : s->o.digest_uncompressed)
                wh_sha256_update(s->h, buf, n);
}

/* Reads more blob bytes into dst; 0 at the end of the file, -1 on error. */
static ssize_t read_blob(struct wh_lstream *s, void *dst, size_t cap)
{
        ssize_t n;
        do
                n = read(s->fd, dst, cap);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                wh_fail(&s->err, errno, "read");
                s->failed = 1;
                return -1;
        }
        if (n == 0) {
                s->in_eof = 1;
                return 0;
        }
        s->blob_bytes += (uint64_t)n;
        if (s->o.size >= 0 && s->blob_bytes > (uint64_t)s->o.size) {
                char msg[160];
                snprintf(msg, sizeof(msg), "blob is larger than its descriptor's size %lld",
                         (long long)s->o.size);
                return stream_fail(s, EINVAL, msg);
        }
        account(s, dst, (size_t)n, 1);
        if (s->o.progress)
                s->o.progress(s->blob_bytes, s->o.userdata);
        return n;
}

/* 1 when input is available, 0 at the end of the blob, -1 on error. */
static int fill_in(struct wh_lstream *s)
{
        if (s->in_pos < s->in_len)
                return 1;
        if (s->in_eof)
                return 0;
        ssize_t n = read_blob(s, s->in, IN_BUF);
        if (n <= 0)
                return (int)n;
        s->in_pos = 0;
        s->in_len = (size_t)n;
        return 1;
}

/* Between gzip members: trailing zero padding is tolerated, anything else starts a member.
 */
static int gzip_next_member(struct wh_lstream *s)
{
        for (;;) {
                int r = fill_in(s);
                if (r <= 0)
                        return r;
                while (s->in_pos < s->in_len && s->in[s->in_pos] == 0)
                        s->in_pos++;
                if (s->in_pos < s->in_len)
                        break;
        }
#ifdef WITH_ISAL
        isal_inflate_init(s->isal);
        s->isal->crc_flag = ISAL_GZIP;
#else
        if (inflateReset(s->z) != Z_OK)
                return (int)stream_fail(s, EIO, "gzip: cannot reset the decoder");
#endif
        s->member_active = 1;
        s->members++;
        return 1;
}

static ssize_t produce_gzip(struct wh_lstream *s)
{
        size_t produced = 0;
        while (produced == 0) {
                if (!s->member_active) {
                        int r = gzip_next_member(s);
                        if (r < 0)
                                return -1;
                        if (r == 0) {
                                if (s->members == 0)
                                        return stream_fail(s, EINVAL, "empty gzip stream");
                                return 0;
                        }
                }
                int r = fill_in(s);
                if (r < 0)
                        return -1;
                if (r == 0)
                        return stream_fail(s, EIO, "truncated gzip stream");
                size_t avail = s->in_len - s->in_pos;
                int finished;
#ifdef WITH_ISAL
                struct inflate_state *st = s->isal;
                st->next_in = s->in + s->in_pos;
                st->avail_in = (uint32_t)avail;
                st->next_out = s->out;
                st->avail_out = OUT_BUF;
                int ir = isal_inflate(st);
                if (ir < 0) {
                        char msg[80];
                        snprintf(msg, sizeof(msg), "corrupt gzip stream (isa-l error %d)",
                                 ir);
                        return stream_fail(s, EINVAL, msg);
                }
                s->in_pos += avail - st->avail_in;
                produced = OUT_BUF - st->avail_out;
                finished = st->block_state == ISAL_BLOCK_FINISH;
#else
                z_stream *z = s->z;
                z->next_in = s->in + s->in_pos;
                z->avail_in = (uInt)avail;
                z->next_out = s->out;
                z->avail_out = OUT_BUF;
                int zr = inflate(z, Z_NO_FLUSH);
                if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                        char msg[160];
                        snprintf(msg, sizeof(msg), "corrupt gzip stream (%s)",
                                 z->msg ? z->msg : "zlib error");
                        return stream_fail(s, EINVAL, msg);
                }
                s->in_pos += avail - z->avail_in;
                produced = OUT_BUF - z->avail_out;
                finished = zr == Z_STREAM_END;
#endif
                if (finished)
                        s->member_active = 0;
        }
        return (ssize_t)produced;
}

static ssize_t produce_zstd(struct wh_lstream *s)
{
        for (;;) {
                int f = fill_in(s);
                if (f < 0)
                        return -1;
                if (f == 0 && !s->zstd_in_frame) {
                        if (s->members == 0)
                                return stream_fail(s, EINVAL, "empty zstd stream");
                        return 0;
                }
                ZSTD_inBuffer ib = {s->in + s->in_pos, s->in_len - s->in_pos, 0};
                ZSTD_outBuffer ob = {s->out, OUT_BUF, 0};
                size_t r = ZSTD_decompressStream(s->zd, &ob, &ib);
                if (ZSTD_isError(r)) {
                        char msg[160];
                        snprintf(msg, sizeof(msg), "corrupt zstd stream (%s)",
                                 ZSTD_getErrorName(r));
                        return stream_fail(s, EINVAL, msg);
                }
                s->in_pos += ib.pos;
                if (ib.pos > 0 && !s->zstd_in_frame) {
                        s->zstd_in_frame = 1;
                        s->members++;
                }
                /* r == 0: the frame ended and all of it is flushed. */
                if (r == 0)
                        s->zstd_in_frame = 0;
                if (ob.pos > 0)
                        return (ssize_t)ob.pos;
                if (f == 0 && s->zstd_in_frame)
                        return stream_fail(s, EIO, "truncated zstd stream");
        }
}

/* The next chunk of tar bytes in s->out; 0 at the end, -1 on error. */
static ssize_t produce(struct wh_lstream *s)
{
        ssize_t n;
        if (s->failed)
                return -1;
        switch (s->o.comp) {
        case WH_LC_GZIP:
                n = produce_gzip(s);
                break;
        case WH_LC_ZSTD:
                n = produce_zstd(s);
                break;
        default:
                if (s->in_eof)
                        return 0;
                return read_blob(s, s->out, OUT_BUF);
        }
        if (n > 0)
                account(s, s->out, (size_t)n, 0);
        return n;
}

static la_ssize_t cb_read(struct archive *a, void *userdata, const void **buf)
{
        struct wh_lstream *s = userdata;
        ssize_t n = produce(s);
        if (n < 0) {
                archive_set_error(a, s->err.code ? s->err.code : EIO, "%s", s->err.msg);
                return -1;
        }
        s->tar_bytes += (uint64_t)n;
        *buf = s->out;
        return n;
}

struct wh_lstream *wh_lstream_free(struct wh_lstream *s)
{
        if (!s)
                return NULL;
        if (s->a)
                archive_read_free(s->a);
        if (s->fd >= 0)
                close(s->fd);
        wh_sha256_free(s->h);
        free(s->in);
        free(s->out);
#ifdef WITH_ISAL
        free(s->isal);
#endif
        if (s->z) {
                inflateEnd(s->z);
                free(s->z);
        }
        ZSTD_freeDCtx(s->zd);
        free(s);
        return NULL;
}

static int setup_codec(struct wh_lstream *s)
{
        if (s->o.comp == WH_LC_GZIP) {
#ifdef WITH_ISAL
                s->isal = calloc(1, sizeof(*s->isal));
                if (!s->isal)
                        return -ENOMEM;
#else
                s->z = calloc(1, sizeof(*s->z));
                if (!s->z)
                        return -ENOMEM;
                if (inflateInit2(s->z, 16 + MAX_WBITS) != Z_OK) {
                        free(s->z);
                        s->z = NULL;
                        return -ENOMEM;
                }
#endif
        } else if (s->o.comp == WH_LC_ZSTD) {
                s->zd = ZSTD_createDCtx();
                if (!s->zd)
                        return -ENOMEM;
        }
        return 0;
}

int wh_lstream_open(int fd, const struct wh_lstream_opts *opts, struct wh_lstream **ret,
                    struct wh_err *err)
{
        _cleanup_lstream_ struct wh_lstream *s = calloc(1, sizeof(*s));
        if (!s) {
                close(fd);
                return wh_fail(err, ENOMEM, "%s", opts->name);
        }
        s->fd = fd;
        s->o = *opts;
        s->in = malloc(IN_BUF);
        s->out = malloc(OUT_BUF);
        if (!s->in || !s->out || setup_codec(s) < 0)
                return wh_fail(err, ENOMEM, "%s", opts->name);
        if (opts->digest) {
                if (!wh_digest_valid(opts->digest))
                        return wh_failx(err, EINVAL, "%s: unsupported digest '%s'",
                                        opts->name, opts->digest);
                s->h = wh_sha256_new();
                if (!s->h)
                        return wh_fail(err, ENOMEM, "%s", opts->name);
        }
        s->a = archive_read_new();
        if (!s->a)
                return wh_fail(err, ENOMEM, "%s", opts->name);
        archive_read_support_format_tar(s->a);
        if (opts->comp == WH_LC_AUTO)
                archive_read_support_filter_all(s->a);
        if (archive_read_open(s->a, s, NULL, cb_read, NULL) != ARCHIVE_OK)
                return wh_lstream_fail(s, err);
        *ret = TAKE_PTR(s);
        return 0;
}

struct archive *wh_lstream_archive(struct wh_lstream *s)
{
        return s->a;
}

uint64_t wh_lstream_tar_bytes(const struct wh_lstream *s)
{
        return s->tar_bytes;
}

int wh_lstream_failed(const struct wh_lstream *s)
{
        return s->failed;
}

int wh_lstream_fail(struct wh_lstream *s, struct wh_err *err)
{
        if (s->failed) {
                if (err)
                        *err = s->err;
                return -s->err.code;
        }
        const char *m = archive_error_string(s->a);
        int code = archive_errno(s->a);
        if (code <= 0)
                code = EINVAL;
        return wh_failx(err, code, "%s", m ? m : "unreadable tar stream");
}

int wh_lstream_finish(struct wh_lstream *s, struct wh_err *err)
{
        ssize_t n;
        /* The tar reader stops at the end marker: the rest still counts. */
        while ((n = produce(s)) > 0)
                ;
        if (n < 0)
                return wh_lstream_fail(s, err);
        if (s->o.size >= 0 && s->blob_bytes != (uint64_t)s->o.size)
                return wh_failx(err, EINVAL,
                                "size mismatch: descriptor says %lld bytes, blob has %llu",
                                (long long)s->o.size, (unsigned long long)s->blob_bytes);
        if (s->h) {
                char got[WH_DIGEST_STR];
                wh_sha256_final(s->h, got);
                if (strcmp(got, s->o.digest) != 0)
                        return wh_failx(err, EINVAL, "digest mismatch: content is %s", got);
        }
        return 0;
}
