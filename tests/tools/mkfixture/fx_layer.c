/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkfixture's layer writer (see fx_layer.h). Tar numbers that do not fit
 * octal use base-256 like GNU tar; that is also how a fixture claims an
 * absurd size.
 */
#include "fx_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "parse_num.h"

/* one writer at a time: the buffers need not live in each layer */
static unsigned char buf[FX_BUFSZ], zbuf[FX_BUFSZ];

/* ---- output stream ---- */

static int blob_write(struct fx_layer *l, const void *p, size_t n,
                      struct wh_err *err)
{
        int r = wh_write_all(l->fd, p, n);
        if (r < 0)
                return wh_fail(err, -r, "write layer blob");
        wh_sha256_update(l->blob_h, p, n);
        l->blob_size += n;
        return 0;
}

static int layer_compress(struct fx_layer *l, const void *p, size_t n, bool end,
                    struct wh_err *err)
{
        int r;
        if (l->comp == FX_NONE)
                return n ? blob_write(l, p, n, err) : 0;
        if (l->comp == FX_GZIP) {
                l->gz.next_in = (unsigned char *)(uintptr_t)p;
                l->gz.avail_in = (uInt)n;
                int zr;
                do {
                        l->gz.next_out = zbuf;
                        l->gz.avail_out = sizeof(zbuf);
                        zr = deflate(&l->gz, end ? Z_FINISH : Z_NO_FLUSH);
                        if (zr == Z_STREAM_ERROR)
                                return wh_failx(err, EIO, "deflate failed");
                        r = blob_write(l, zbuf, sizeof(zbuf) - l->gz.avail_out,
                                       err);
                        if (r < 0)
                                return r;
                } while (l->gz.avail_out == 0 || (end && zr != Z_STREAM_END));
                return 0;
        }
        ZSTD_inBuffer in = {p, n, 0};
        size_t left;
        do {
                ZSTD_outBuffer out = {zbuf, sizeof(zbuf), 0};
                left = ZSTD_compressStream2(l->zc, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
                if (ZSTD_isError(left))
                        return wh_failx(err, EIO, "zstd: %s", ZSTD_getErrorName(left));
                r = blob_write(l, zbuf, out.pos, err);
                if (r < 0)
                        return r;
        } while (end ? left != 0 : in.pos < in.size);
        return 0;
}

int fx_tar_out(struct fx_layer *l, const void *p, size_t n, struct wh_err *err)
{
        wh_sha256_update(l->diff_h, p, n);
        l->tar_size += n;
        if (l->raw_fd >= 0) {
                int r = wh_write_all(l->raw_fd, p, n);
                if (r < 0)
                        return wh_fail(err, -r, "write raw layer copy");
        }
        return layer_compress(l, p, n, false, err);
}

int fx_tar_pad(struct fx_layer *l, uint64_t size, struct wh_err *err)
{
        static const char zero[512];
        size_t pad = (size_t)((512 - size % 512) % 512);
        return pad ? fx_tar_out(l, zero, pad, err) : 0;
}

/* ---- tar headers ---- */

/* Octal when it fits, else the base-256 form GNU tar and libarchive read. */
static void put_num(char *field, size_t width, uint64_t v, bool negative)
{
        uint64_t lim = (uint64_t)1 << (3 * (width - 1));
        if (!negative && v < lim) {
                snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
                return;
        }
        memset(field, negative ? 0xff : 0, width);
        for (size_t i = width - 1; i > 0 && (v || negative); i--) {
                field[i] = (char)(v & 0xff);
                v >>= 8;
        }
        field[0] = (char)(negative ? 0xff : 0x80);
}

static size_t pax_record(char *out, size_t cap, const char *key, const void *val, size_t vlen)
{
        size_t body = strlen(key) + vlen + 3; /* ' ' '=' '\n' */
        size_t len = body + 1;
        while (snprintf(NULL, 0, "%zu", len) + body != len)
                len++;
        if (out && len <= cap) {
                int k = snprintf(out, cap, "%zu %s=", len, key);
                memcpy(out + k, val, vlen);
                out[len - 1] = '\n';
        }
        return len;
}

int fx_pax_append(char **recs, size_t *n, const char *key, const void *val, size_t vlen)
{
        size_t len = pax_record(NULL, 0, key, val, vlen);
        char *p = realloc(*recs, *n + len + 1);
        if (!p)
                return -ENOMEM;
        pax_record(p + *n, len + 1, key, val, vlen);
        *recs = p;
        *n += len;
        return 0;
}

void fx_build_header(const struct fx_hdr *h, char b[static 512])
{
        memset(b, 0, 512);
        size_t plen = strlen(h->path);
        memcpy(b, h->path, plen > 100 ? 100 : plen);
        put_num(b + 100, 8, h->mode, false);
        put_num(b + 108, 8, h->uid, false);
        put_num(b + 116, 8, h->gid, false);
        put_num(b + 124, 12, h->size, false);
        put_num(b + 136, 12, (uint64_t)h->mtime, h->mtime < 0);
        b[156] = h->type;
        if (h->link) {
                size_t llen = strlen(h->link);
                memcpy(b + 157, h->link, llen > 100 ? 100 : llen);
        }
        memcpy(b + 257, "ustar", 6);
        memcpy(b + 263, "00", 2);
        if (h->type == '3' || h->type == '4') {
                put_num(b + 329, 8, h->dev_major, false);
                put_num(b + 337, 8, h->dev_minor, false);
        }
        memset(b + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char)b[i];
        snprintf(b + 148, 8, "%06o", sum);
        b[155] = ' ';
}

static int raw_header(struct fx_layer *l, const struct fx_hdr *h, struct wh_err *err)
{
        char b[512];
        fx_build_header(h, b);
        return fx_tar_out(l, b, sizeof(b), err);
}

/*
 * One entry's header, preceded by a pax header when the path or link does
 * not fit ustar or xattrs are pending.
 */
int fx_write_header(struct fx_layer *l, const struct fx_hdr *in, struct wh_err *err)
{
        /* directories carry a trailing '/' in the tars docker and buildah write */
        _cleanup_free_ char *slashed = NULL;
        struct fx_hdr copy = *in;
        const struct fx_hdr *h = &copy;
        size_t pl = strlen(in->path);
        if (in->type == '5' && !in->verbatim && pl > 0 && in->path[pl - 1] != '/') {
                if (asprintf(&slashed, "%s/", in->path) < 0)
                        return wh_fail(err, ENOMEM, "path");
                copy.path = slashed;
        }
        _cleanup_free_ char *recs = TAKE_PTR(l->xattr_recs);
        size_t n = l->xattr_len;
        l->xattr_len = 0;
        if (strlen(h->path) > 100 && fx_pax_append(&recs, &n, "path", h->path, strlen(h->path)) < 0)
                return wh_fail(err, ENOMEM, "pax header");
        if (h->link && strlen(h->link) > 100 &&
            fx_pax_append(&recs, &n, "linkpath", h->link, strlen(h->link)) < 0)
                return wh_fail(err, ENOMEM, "pax header");
        if (n > 0) {
                struct fx_hdr x = {.path = "PaxHeaders/entry", .type = 'x', .mode = 0644,
                                .size = n, .mtime = h->mtime};
                int r = raw_header(l, &x, err);
                if (r >= 0)
                        r = fx_tar_out(l, recs, n, err);
                if (r >= 0)
                        r = fx_tar_pad(l, n, err);
                if (r < 0)
                        return r;
        }
        return raw_header(l, h, err);
}

/* ---- the per-layer set of written paths ---- */

static uint64_t hash_str(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* Returns 1 if path was already there, 0 if added, -ENOMEM. */
int fx_seen_add(struct fx_layer *l, const char *path)
{
        if (2 * (l->n_seen + 1) > l->n_seen_slots) {
                size_t ns = l->n_seen_slots ? 2 * l->n_seen_slots : 1024;
                char **t = calloc(ns, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                for (size_t i = 0; i < l->n_seen_slots; i++) {
                        if (!l->seen[i])
                                continue;
                        size_t j = hash_str(l->seen[i]) & (ns - 1);
                        while (t[j])
                                j = (j + 1) & (ns - 1);
                        t[j] = l->seen[i];
                }
                free(l->seen);
                l->seen = t;
                l->n_seen_slots = ns;
        }
        size_t j = hash_str(path) & (l->n_seen_slots - 1);
        for (; l->seen[j]; j = (j + 1) & (l->n_seen_slots - 1))
                if (strcmp(l->seen[j], path) == 0)
                        return 1;
        l->seen[j] = strdup(path);
        if (!l->seen[j])
                return -ENOMEM;
        l->n_seen++;
        return 0;
}

/* ---- entry contents ---- */

void fx_content_release(struct fx_content *c)
{
        free(c->owned);
        if (c->host_fd >= 0)
                close(c->host_fd);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int fx_content_open(const char *spec, struct fx_content *c, struct wh_err *err)
{
        *c = (struct fx_content){.host_fd = -1};
        if (strncmp(spec, "text:", 5) == 0) {
                c->data = spec + 5;
                c->size = c->len = strlen(c->data);
                return 0;
        }
        if (strncmp(spec, "hex:", 4) == 0) {
                size_t n = strlen(spec + 4);
                if (n % 2)
                        return wh_failx(err, EINVAL, "odd number of hex digits");
                c->owned = malloc(n / 2 + 1);
                if (!c->owned)
                        return wh_fail(err, ENOMEM, "hex content");
                for (size_t i = 0; i < n / 2; i++) {
                        int hi = hexval(spec[4 + 2 * i]), lo = hexval(spec[5 + 2 * i]);
                        if (hi < 0 || lo < 0)
                                return wh_failx(err, EINVAL, "bad hex digit in '%s'", spec);
                        c->owned[i] = (char)(hi << 4 | lo);
                }
                c->data = c->owned;
                c->size = c->len = n / 2;
                return 0;
        }
        if (strncmp(spec, "zero:", 5) == 0 || strncmp(spec, "rand:", 5) == 0) {
                c->kind = spec[0] == 'z' ? CT_ZERO : CT_RAND;
                if (wh_parse_u64(spec + 5, (uint64_t)1 << 40, &c->size) < 0)
                        return wh_failx(err, EINVAL, "bad size in '%s'", spec);
                return 0;
        }
        if (strncmp(spec, "host:", 5) == 0) {
                struct stat st;
                c->kind = CT_HOST;
                c->host_fd = open(spec + 5, O_RDONLY | O_CLOEXEC);
                if (c->host_fd < 0)
                        return wh_fail(err, errno, "open host file '%s'", spec + 5);
                if (fstat(c->host_fd, &st) < 0)
                        return wh_fail(err, errno, "stat '%s'", spec + 5);
                if (!S_ISREG(st.st_mode))
                        return wh_failx(err, EINVAL, "host file '%s' is not regular", spec + 5);
                c->size = (uint64_t)st.st_size;
                return 0;
        }
        return wh_failx(err, EINVAL, "unknown content '%s' (text:, hex:, zero:, rand:, host:)",
                        spec);
}

int fx_content_stream(struct fx_layer *l, struct fx_content *c, struct wh_err *err)
{
        uint64_t done = 0, x = 0x9e3779b97f4a7c15ULL ^ c->size;
        int r;
        if (c->kind == CT_MEM)
                return c->len ? fx_tar_out(l, c->data, c->len, err) : 0;
        if (c->kind == CT_ZERO)
                memset(buf, 0, sizeof(buf));
        while (done < c->size) {
                size_t n = c->size - done < sizeof(buf) ? (size_t)(c->size - done)
                                                            : sizeof(buf);
                if (c->kind == CT_RAND) {
                        /* xorshift: incompressible yet reproducible */
                        for (size_t i = 0; i < n; i++) {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                buf[i] = (unsigned char)x;
                        }
                } else if (c->kind == CT_HOST) {
                        ssize_t k = read(c->host_fd, buf, n);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return wh_fail(err, errno, "read host file");
                        if (k == 0)
                                return wh_failx(err, EIO, "host file shrank while read");
                        n = (size_t)k;
                }
                r = fx_tar_out(l, buf, n, err);
                if (r < 0)
                        return r;
                done += n;
        }
        return 0;
}

/* ---- existing tarballs ---- */

static void free_archive(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

static const char *strip_dot(const char *p)
{
        while (p[0] == '.' && p[1] == '/')
                p += 2;
        while (p[0] == '/')
                p++;
        return p;
}

static int tarball_entry(struct fx_layer *l, struct archive *a, struct archive_entry *ae,
                         struct wh_err *err)
{
        _cleanup_free_ char *path = strdup(strip_dot(archive_entry_pathname(ae)));
        if (!path)
                return wh_fail(err, ENOMEM, "path");
        size_t pl = strlen(path);
        while (pl > 0 && path[pl - 1] == '/')
                path[--pl] = '\0';
        if (pl == 0 || strcmp(path, ".") == 0)
                return 0;
        struct fx_hdr h = {.path = path, .mode = archive_entry_perm(ae),
                        .uid = (uint64_t)archive_entry_uid(ae),
                        .gid = (uint64_t)archive_entry_gid(ae),
                        .mtime = archive_entry_mtime(ae)};
        const char *hl = archive_entry_hardlink(ae);
        switch (archive_entry_filetype(ae)) {
        case AE_IFREG: h.type = '0'; h.size = (uint64_t)archive_entry_size(ae); break;
        case AE_IFDIR: h.type = '5'; break;
        case AE_IFLNK: h.type = '2'; h.link = archive_entry_symlink(ae); break;
        case AE_IFCHR: h.type = '3'; break;
        case AE_IFBLK: h.type = '4'; break;
        case AE_IFIFO: h.type = '6'; break;
        default:
                if (!hl)
                        return wh_failx(err, EINVAL, "entry '%s': unsupported type", path);
        }
        if (hl) {
                h.type = '1';
                h.size = 0;
                h.link = strip_dot(hl);
        }
        h.dev_major = major(archive_entry_rdev(ae));
        h.dev_minor = minor(archive_entry_rdev(ae));
        const char *name;
        const void *val;
        size_t vlen;
        archive_entry_xattr_reset(ae);
        while (archive_entry_xattr_next(ae, &name, &val, &vlen) == ARCHIVE_OK) {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "SCHILY.xattr.%s", name) < 0 ||
                    fx_pax_append(&l->xattr_recs, &l->xattr_len, key, val, vlen) < 0)
                        return wh_fail(err, ENOMEM, "xattr");
        }
        int r = fx_seen_add(l, path);
        if (r < 0)
                return wh_fail(err, -r, "path set");
        if (r >= 0)
                r = fx_write_header(l, &h, err);
        uint64_t done = 0;
        while (r >= 0 && h.type == '0') {
                la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
                if (n < 0)
                        return wh_failx(err, EIO, "entry '%s': %s", path,
                                        archive_error_string(a));
                if (n == 0)
                        break;
                done += (uint64_t)n;
                r = fx_tar_out(l, buf, (size_t)n, err);
        }
        if (r >= 0 && h.type == '0' && done != h.size)
                return wh_failx(err, EIO, "entry '%s': %llu bytes, header says %llu", path,
                                (unsigned long long)done, (unsigned long long)h.size);
        return r < 0 ? r : fx_tar_pad(l, h.size, err);
}

int fx_add_tarball(struct fx_layer *l, const char *file, struct wh_err *err)
{
        _cleanup_(free_archive) struct archive *a = archive_read_new();
        if (!a)
                return wh_fail(err, ENOMEM, "archive_read_new");
        archive_read_support_filter_all(a);
        archive_read_support_format_all(a);
        if (archive_read_open_filename(a, file, FX_BUFSZ) != ARCHIVE_OK)
                return wh_failx(err, EIO, "open '%s': %s", file, archive_error_string(a));
        for (;;) {
                struct archive_entry *ae;
                int ar = archive_read_next_header(a, &ae);
                if (ar == ARCHIVE_EOF)
                        return 0;
                if (ar < ARCHIVE_WARN)
                        return wh_failx(err, EIO, "'%s': %s", file, archive_error_string(a));
                int r = tarball_entry(l, a, ae, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "tarball '%s'", file);
        }
}

/* ---- layers ---- */

int fx_layer_end(struct fx_layer *l, int blobs_fd, struct wh_err *err)
{
        static const char eof[1024];
        if (l->fd < 0)
                return 0;
        int r = fx_tar_out(l, eof, sizeof(eof), err);
        if (r >= 0)
                r = layer_compress(l, NULL, 0, true, err);
        if (r < 0)
                return r;
        if (l->comp == FX_GZIP)
                deflateEnd(&l->gz);
        ZSTD_freeCCtx(l->zc);
        l->zc = NULL;
        wh_sha256_final(l->diff_h, l->diff_id);
        wh_sha256_final(l->blob_h, l->digest);
        close(l->fd);
        l->fd = -1;
        if (renameat(blobs_fd, l->tmp_name, blobs_fd, wh_digest_hex(l->digest)) < 0)
                return wh_fail(err, errno, "rename layer blob");
        return 0;
}

int fx_layer_begin(struct fx_layer *l, int blobs_fd, size_t index, const char *comp,
                   const char *level, bool keep_raw, struct wh_err *err)
{
        *l = (struct fx_layer){.fd = -1, .raw_fd = -1};
        if (strcmp(comp, "gzip") == 0)
                l->comp = FX_GZIP, l->level = 6;
        else if (strcmp(comp, "zstd") == 0)
                l->comp = FX_ZSTD, l->level = 3;
        else if (strcmp(comp, "none") == 0)
                l->comp = FX_NONE;
        else
                return wh_failx(err, EINVAL, "unknown compression '%s'", comp);
        if (level && wh_parse_int(level, 0, 19, &l->level) < 0)
                return wh_failx(err, EINVAL, "bad level '%s'", level);
        l->diff_h = wh_sha256_new();
        l->blob_h = wh_sha256_new();
        if (!l->diff_h || !l->blob_h)
                return wh_fail(err, ENOMEM, "sha256");
        snprintf(l->tmp_name, sizeof(l->tmp_name), ".tmp-layer-%zu", index);
        l->fd = openat(blobs_fd, l->tmp_name,
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (l->fd < 0)
                return wh_fail(err, errno, "create layer blob");
        if (keep_raw) {
                snprintf(l->raw_name, sizeof(l->raw_name), ".tmp-raw-%zu", index);
                l->raw_fd = openat(blobs_fd, l->raw_name,
                                   O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (l->raw_fd < 0)
                        return wh_fail(err, errno, "create raw layer copy");
        }
        if (l->comp == FX_GZIP &&
            deflateInit2(&l->gz, l->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return wh_failx(err, ENOMEM, "deflateInit2");
        if (l->comp == FX_ZSTD) {
                l->zc = ZSTD_createCCtx();
                if (!l->zc || ZSTD_isError(ZSTD_CCtx_setParameter(l->zc, ZSTD_c_compressionLevel,
                                                                  l->level)))
                        return wh_failx(err, ENOMEM, "zstd context");
        }
        return 0;
}
