/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the streaming compressor: round trips through zstd, zlib
 * and the plain copy, the two digests, determinism, and the external
 * checkers (zstd -t, gzip -t) when installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cleanup.h"
#include "../../builder/compress.h"
#include "tap.h"

#define INPUT (3 * 1024 * 1024 + 17)

static unsigned char *make_input(void)
{
        unsigned char *p = malloc(INPUT);
        uint32_t x = 12345;
        for (size_t i = 0; i < INPUT; i++) {
                /* Compressible but not trivial: text-like runs with noise. */
                x = x * 1103515245u + 12345u;
                p[i] = (i % 64 < 40) ? (unsigned char)("whittle "[i % 8])
                                     : (unsigned char)(x >> 24);
        }
        return p;
}

static int read_all(int fd, unsigned char **ret, size_t *ret_len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        unsigned char *p = malloc((size_t)st.st_size + 1);
        if (pread(fd, p, (size_t)st.st_size, 0) != st.st_size) {
                free(p);
                return -EIO;
        }
        *ret = p;
        *ret_len = (size_t)st.st_size;
        return 0;
}

static int compress_to(enum wh_compression c, int level, const unsigned char *in, int fd,
                       struct wh_compress_result *res)
{
        struct wh_err err = {0};
        _cleanup_compressor_ struct wh_compressor *z = NULL;
        if (wh_compressor_new(c, level, fd, &z, &err) < 0)
                return -1;
        /* Uneven pieces, as the tar writer hands them over. */
        size_t off = 0, step = 511;
        while (off < INPUT) {
                size_t n = INPUT - off < step ? INPUT - off : step;
                if (wh_compressor_write(z, in + off, n, &err) < 0)
                        return -1;
                off += n;
                step = step * 3 % 200003 + 1;
        }
        return wh_compressor_finish(z, res, &err);
}

static int decompress(enum wh_compression c, const unsigned char *blob, size_t len,
                      unsigned char *out, size_t cap, size_t *ret_len)
{
        if (c == WH_COMP_ZSTD) {
                size_t n = ZSTD_decompress(out, cap, blob, len);
                if (ZSTD_isError(n))
                        return -1;
                *ret_len = n;
                return 0;
        }
        if (c == WH_COMP_GZIP) {
                z_stream s = {0};
                if (inflateInit2(&s, 31) != Z_OK)
                        return -1;
                s.next_in = (Bytef *)blob;
                s.avail_in = (uInt)len;
                s.next_out = out;
                s.avail_out = (uInt)cap;
                int r = inflate(&s, Z_FINISH);
                *ret_len = s.total_out;
                inflateEnd(&s);
                return r == Z_STREAM_END ? 0 : -1;
        }
        if (len > cap)
                return -1;
        memcpy(out, blob, len);
        *ret_len = len;
        return 0;
}

static void check_tool(const char *tool, const char *args, int fd)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
        if (system(cmd) != 0) {
                ok(1, "# SKIP %s not installed", tool);
                return;
        }
        /* The blob fd is close-on-exec; the tool reads a copy by path. */
        char path[] = "/tmp/wh-compress-XXXXXX";
        int t = mkstemp(path);
        unsigned char *blob;
        size_t len;
        read_all(fd, &blob, &len);
        ok(t >= 0 && write(t, blob, len) == (ssize_t)len, "copy for %s", tool);
        close(t);
        free(blob);
        snprintf(cmd, sizeof(cmd), "%s %s %s 2>/dev/null", tool, args, path);
        is_int(system(cmd), 0, "%s accepts the stream", tool);
        unlink(path);
}

static void test_codec(enum wh_compression c, const unsigned char *in)
{
        const char *name = wh_compression_name(c);
        char want_in[WH_DIGEST_STR];
        wh_sha256_digest(in, INPUT, want_in);

        int fd1 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        int fd2 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        struct wh_compress_result r1, r2;
        is_int(compress_to(c, WH_COMP_LEVEL_DEFAULT, in, fd1, &r1), 0, "%s: compress", name);
        is_int(compress_to(c, WH_COMP_LEVEL_DEFAULT, in, fd2, &r2), 0, "%s: compress again", name);
        is_str(r1.diff_id, want_in, "%s: diff_id is the input's sha256", name);
        is_str(r1.digest, r2.digest, "%s: same input, same output digest", name);
        is_int(r1.in_size, INPUT, "%s: input size", name);

        unsigned char *blob;
        size_t len = 0;
        is_int(read_all(fd1, &blob, &len), 0, "%s: read blob", name);
        is_int(r1.out_size, len, "%s: output size matches the file", name);
        char want_out[WH_DIGEST_STR];
        wh_sha256_digest(blob, len, want_out);
        is_str(r1.digest, want_out, "%s: digest is the output's sha256", name);
        if (c != WH_COMP_NONE)
                ok(len < INPUT, "%s: output is smaller (%zu < %d)", name, len, INPUT);
        if (c == WH_COMP_GZIP)
                ok(len > 10 && blob[4] == 0 && blob[5] == 0 && blob[6] == 0 &&
                           blob[7] == 0 && blob[9] == 255,
                   "gzip: header mtime 0, OS 255");

        unsigned char *out = malloc(INPUT + 64);
        size_t olen = 0;
        is_int(decompress(c, blob, len, out, INPUT + 64, &olen), 0, "%s: decompresses",
               name);
        ok(olen == INPUT && !memcmp(out, in, INPUT), "%s: round trip", name);
        free(out);
        free(blob);
        if (c == WH_COMP_ZSTD)
                check_tool("zstd", "-q -t", fd1);
        if (c == WH_COMP_GZIP)
                check_tool("gzip", "-t", fd1);
        close(fd1);
        close(fd2);
}

static void test_levels(const unsigned char *in)
{
        int fd1 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        int fd2 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        struct wh_compress_result a, b;
        is_int(compress_to(WH_COMP_ZSTD, 1, in, fd1, &a), 0, "zstd level 1");
        is_int(compress_to(WH_COMP_ZSTD, 19, in, fd2, &b), 0, "zstd level 19");
        ok(strcmp(a.digest, b.digest) != 0, "the level reaches the codec");
        int fd3 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        int fd4 = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        struct wh_compress_result c, d;
        is_int(compress_to(WH_COMP_ZSTD, -5, in, fd3, &c), 0, "zstd fast level -5");
        is_int(compress_to(WH_COMP_ZSTD, WH_COMP_LEVEL_DEFAULT, in, fd4, &d), 0,
               "zstd default level");
        ok(strcmp(c.digest, d.digest) != 0, "a negative zstd level is not the default");
        close(fd1);
        close(fd2);
        close(fd3);
        close(fd4);
        struct wh_err err = {0};
        struct wh_compressor *z = NULL;
        is_int(wh_compressor_new(WH_COMP_GZIP, 12, 1, &z, &err), -EINVAL,
               "gzip level 12 refused");
        ok(z == NULL, "nothing returned on failure");
        is_int(wh_compressor_new(WH_COMP_GZIP, -3, 1, &z, &err), -EINVAL,
               "gzip level -3 refused");
        int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct wh_compress_result r;
        is_int(compress_to(WH_COMP_NONE, WH_COMP_LEVEL_DEFAULT, in, ro, &r), -1, "write error is reported");
        close(ro);
}

static void test_names(void)
{
        enum wh_compression c = WH_COMP_NONE;
        is_int(wh_compression_parse("zstd", &c), 0, "parse zstd");
        is_int(c, WH_COMP_ZSTD, "zstd value");
        is_int(wh_compression_parse("gzip", &c), 0, "parse gzip");
        is_int(c, WH_COMP_GZIP, "gzip value");
        is_int(wh_compression_parse("none", &c), 0, "parse none");
        is_int(c, WH_COMP_NONE, "none value");
        is_int(wh_compression_parse("xz", &c), -EINVAL, "xz refused");
        is_int(c, WH_COMP_NONE, "untouched on failure");
        is_str(wh_compression_name(WH_COMP_GZIP), "gzip", "name of gzip");
}

int main(void)
{
        unsigned char *in = make_input();
        test_codec(WH_COMP_ZSTD, in);
        test_codec(WH_COMP_GZIP, in);
        test_codec(WH_COMP_NONE, in);
        test_levels(in);
        test_names();
        free(in);
        return done_testing();
}
