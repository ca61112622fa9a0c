/* SPDX-License-Identifier: Apache-2.0 */
#include "compress.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "cleanup.h"
#include "fs_util.h"

#define OUT_BUF (256 * 1024)
/* zlib counts in uInt; feed it in slices well below that. */
#define GZ_SLICE (1u << 30)

struct wh_compressor {
        enum wh_compression c;
        int out_fd;
        ZSTD_CCtx *zc;
        z_stream gz;
        gz_header gzh;
        int gz_live;
        struct wh_sha256 *h_in, *h_out;
        unsigned char *out;
        size_t out_len;
        uint64_t in_size, out_size;
        int finished;
};

struct wh_compressor *wh_compressor_free(struct wh_compressor *z)
{
        if (!z)
                return NULL;
        ZSTD_freeCCtx(z->zc);
        if (z->gz_live)
                deflateEnd(&z->gz);
        wh_sha256_free(z->h_in);
        wh_sha256_free(z->h_out);
        free(z->out);
        free(z);
        return NULL;
}

static int zstd_setup(struct wh_compressor *z, int level, struct wh_err *err)
{
        z->zc = ZSTD_createCCtx();
        if (!z->zc)
                return wh_fail(err, ENOMEM, "zstd context");
        size_t e = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_compressionLevel,
                                          level == WH_COMP_LEVEL_DEFAULT ? 3 : level);
        if (!ZSTD_isError(e))
                e = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_checksumFlag, 1);
        if (!ZSTD_isError(e))
                e = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_nbWorkers, 0);
        if (ZSTD_isError(e))
                return wh_failx(err, EINVAL, "zstd level %d: %s", level,
                                ZSTD_getErrorName(e));
        return 0;
}

static int gzip_setup(struct wh_compressor *z, int level, struct wh_err *err)
{
        if (level == WH_COMP_LEVEL_DEFAULT)
                level = 6;
        if (level < 0 || level > 9)
                return wh_failx(err, EINVAL, "gzip level %d: must be 0 to 9", level);
        /* windowBits 31: a gzip wrapper; memLevel 8 and the default strategy are zlib's. */
        int r = deflateInit2(&z->gz, level, Z_DEFLATED, 31, 8,
                             Z_DEFAULT_STRATEGY);
        if (r != Z_OK)
                return wh_failx(err, r == Z_MEM_ERROR ? ENOMEM : EINVAL, "gzip init: %s",
                                z->gz.msg ? z->gz.msg : "error");
        z->gz_live = 1;
        z->gzh.time = 0;
        z->gzh.os = 255;
        if (deflateSetHeader(&z->gz, &z->gzh) != Z_OK)
                return wh_failx(err, EINVAL, "gzip header");
        return 0;
}

int wh_compressor_new(enum wh_compression c, int level, int out_fd,
                      struct wh_compressor **ret, struct wh_err *err)
{
        struct wh_compressor *z = calloc(1, sizeof(*z));
        if (!z)
                return wh_fail(err, ENOMEM, "compressor");
        _cleanup_compressor_ struct wh_compressor *zz = z;
        z->c = c;
        z->out_fd = out_fd;
        z->h_in = wh_sha256_new();
        z->h_out = wh_sha256_new();
        z->out = malloc(OUT_BUF);
        if (!z->h_in || !z->h_out || !z->out)
                return wh_fail(err, ENOMEM, "compressor");
        int r = 0;
        if (c == WH_COMP_ZSTD)
                r = zstd_setup(z, level, err);
        else if (c == WH_COMP_GZIP)
                r = gzip_setup(z, level, err);
        else if (c != WH_COMP_NONE)
                r = wh_failx(err, EINVAL, "unknown compression %d", (int)c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(zz);
        return 0;
}

static int flush_out(struct wh_compressor *z, struct wh_err *err)
{
        if (!z->out_len)
                return 0;
        int r = wh_write_all(z->out_fd, z->out, z->out_len);
        if (r < 0)
                return wh_fail(err, -r, "write compressed stream");
        /* Uncompressed, both digests are the same: hash once. */
        if (z->c != WH_COMP_NONE)
                wh_sha256_update(z->h_out, z->out, z->out_len);
        z->out_size += z->out_len;
        z->out_len = 0;
        return 0;
}

static int zstd_run(struct wh_compressor *z, const void *buf, size_t len,
                    ZSTD_EndDirective end, struct wh_err *err)
{
        ZSTD_inBuffer in = {buf, len, 0};
        for (;;) {
                ZSTD_outBuffer out = {z->out, OUT_BUF, z->out_len};
                size_t left = ZSTD_compressStream2(z->zc, &out, &in, end);
                if (ZSTD_isError(left))
                        return wh_failx(err, EIO, "zstd: %s", ZSTD_getErrorName(left));
                z->out_len = out.pos;
                if (z->out_len == OUT_BUF) {
                        int r = flush_out(z, err);
                        if (r < 0)
                                return r;
                }
                if (end == ZSTD_e_continue ? in.pos == in.size : left == 0)
                        return 0;
        }
}

static int gzip_run(struct wh_compressor *z, const void *buf, size_t len, int flush,
                    struct wh_err *err)
{
        z->gz.next_in = (Bytef *)(uintptr_t)buf;
        z->gz.avail_in = (uInt)len;
        for (;;) {
                z->gz.next_out = z->out + z->out_len;
                z->gz.avail_out = (uInt)(OUT_BUF - z->out_len);
                int r = deflate(&z->gz, flush);
                if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                        return wh_failx(err, EIO, "gzip: %s",
                                        z->gz.msg ? z->gz.msg : "error");
                z->out_len = OUT_BUF - z->gz.avail_out;
                if (z->out_len == OUT_BUF) {
                        int q = flush_out(z, err);
                        if (q < 0)
                                return q;
                        continue;
                }
                if (flush == Z_FINISH ? r == Z_STREAM_END : z->gz.avail_in == 0)
                        return 0;
        }
}

int wh_compressor_write(struct wh_compressor *z, const void *buf, size_t len,
                        struct wh_err *err)
{
        if (z->finished)
                return wh_failx(err, EINVAL, "compressor: write after finish");
        wh_sha256_update(z->h_in, buf, len);
        z->in_size += len;
        const unsigned char *p = buf;
        while (len > 0) {
                int r;
                size_t n = len;
                if (z->c == WH_COMP_ZSTD) {
                        r = zstd_run(z, p, n, ZSTD_e_continue, err);
                } else if (z->c == WH_COMP_GZIP) {
                        n = len < GZ_SLICE ? len : GZ_SLICE;
                        r = gzip_run(z, p, n, Z_NO_FLUSH, err);
                } else {
                        n = len < OUT_BUF - z->out_len ? len : OUT_BUF - z->out_len;
                        memcpy(z->out + z->out_len, p, n);
                        z->out_len += n;
                        r = z->out_len == OUT_BUF ? flush_out(z, err) : 0;
                }
                if (r < 0)
                        return r;
                p += n;
                len -= n;
        }
        return 0;
}

int wh_compressor_sink(void *userdata, const void *buf, size_t len, struct wh_err *err)
{
        return wh_compressor_write(userdata, buf, len, err);
}

int wh_compressor_finish(struct wh_compressor *z, struct wh_compress_result *ret,
                         struct wh_err *err)
{
        int r = 0;
        if (z->finished)
                return wh_failx(err, EINVAL, "compressor: finished twice");
        if (z->c == WH_COMP_ZSTD)
                r = zstd_run(z, NULL, 0, ZSTD_e_end, err);
        else if (z->c == WH_COMP_GZIP)
                r = gzip_run(z, NULL, 0, Z_FINISH, err);
        if (r >= 0)
                r = flush_out(z, err);
        if (r < 0)
                return r;
        z->finished = 1;
        wh_sha256_final(z->h_in, ret->diff_id);
        if (z->c == WH_COMP_NONE)
                memcpy(ret->digest, ret->diff_id, sizeof(ret->digest));
        else
                wh_sha256_final(z->h_out, ret->digest);
        ret->in_size = z->in_size;
        ret->out_size = z->out_size;
        return 0;
}
