/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tar headers written by hand rather than through libarchive: the output
 * has to be byte-for-byte reproducible, and owning every field is the
 * simplest way to be sure nothing (a pax mtime, a pid in a pax name, a
 * looked-up user name) leaks in.
 */
#include "tar_write.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"

#define BLOCK        512
#define MAX_OCTAL_8  07777777ULL     /* 7 digits + NUL */
#define MAX_OCTAL_12 077777777777ULL /* 11 digits + NUL */
/* An xattr set larger than this is not something a layer should carry. */
#define MAX_PAX_BYTES (8u << 20)

struct ustar {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
};
_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header is one block");

static const char zeros[BLOCK];

void wh_tar_writer_init(struct wh_tar_writer *w, wh_tar_sink_fn sink, void *userdata)
{
        memset(w, 0, sizeof(*w));
        w->sink = sink;
        w->userdata = userdata;
}

static int emit(struct wh_tar_writer *w, const void *buf, size_t len, struct wh_err *err)
{
        int r = w->sink(w->userdata, buf, len, err);
        if (r < 0)
                return r;
        w->offset += len;
        return 0;
}

/* Zero-padded octal in width-1 digits and a NUL; v must fit. */
static void put_octal(char *field, size_t width, uint64_t v)
{
        field[width - 1] = '\0';
        for (size_t i = width - 1; i > 0; i--) {
                field[i - 1] = (char)('0' + (v & 7));
                v >>= 3;
        }
}

static size_t decimal_digits(size_t v)
{
        size_t n = 1;
        while (v >= 10) {
                v /= 10;
                n++;
        }
        return n;
}

struct pax {
        char *buf;
        size_t len, cap;
};

/* Appends "<len> <key>=<value>\n", where len counts the whole record. */
static int pax_add(struct pax *p, const char *key, const void *val, size_t vlen)
{
        size_t klen = strlen(key);
        size_t base = klen + vlen + 3; /* ' ', '=', '\n' */
        if (base > MAX_PAX_BYTES)
                return -E2BIG;
        size_t rlen = base + decimal_digits(base);
        if (decimal_digits(rlen) != decimal_digits(base))
                rlen = base + decimal_digits(rlen);
        if (p->len + rlen > MAX_PAX_BYTES)
                return -E2BIG;
        if (p->len + rlen + 1 > p->cap) {
                size_t ncap = (p->len + rlen + 1) * 2;
                char *nb = realloc(p->buf, ncap);
                if (!nb)
                        return -ENOMEM;
                p->buf = nb;
                p->cap = ncap;
        }
        char *o = p->buf + p->len;
        int n = snprintf(o, p->cap - p->len, "%zu %s=", rlen, key);
        if (n < 0)
                return -EINVAL;
        memcpy(o + n, val, vlen);
        o[n + vlen] = '\n';
        p->len += rlen;
        return 0;
}

static int pax_add_u64(struct pax *p, const char *key, uint64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
        return pax_add(p, key, num, (size_t)n);
}

static void checksum(struct ustar *u)
{
        memset(u->chksum, ' ', sizeof(u->chksum));
        const unsigned char *b = (const unsigned char *)u;
        unsigned sum = 0;
        for (size_t i = 0; i < BLOCK; i++)
                sum += b[i];
        put_octal(u->chksum, 7, sum);
        u->chksum[7] = ' ';
}

static void fill_common(struct ustar *u, char type, uint32_t mode, uint32_t uid,
                        uint32_t gid, uint64_t size, int64_t mtime)
{
        memset(u, 0, sizeof(*u));
        u->typeflag = type;
        put_octal(u->mode, sizeof(u->mode), mode & 07777);
        put_octal(u->uid, sizeof(u->uid), uid <= MAX_OCTAL_8 ? uid : 0);
        put_octal(u->gid, sizeof(u->gid), gid <= MAX_OCTAL_8 ? gid : 0);
        put_octal(u->size, sizeof(u->size), size <= MAX_OCTAL_12 ? size : 0);
        uint64_t mt = mtime < 0 ? 0 : (uint64_t)mtime;
        put_octal(u->mtime, sizeof(u->mtime), mt <= MAX_OCTAL_12 ? mt : MAX_OCTAL_12);
        memcpy(u->magic, "ustar", 6);
        memcpy(u->version, "00", 2);
        put_octal(u->devmajor, sizeof(u->devmajor), 0);
        put_octal(u->devminor, sizeof(u->devminor), 0);
}

/* The pax header's name: fixed text plus the entry's base name, never a pid. */
static void pax_name(char name[100], const char *path)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        memset(name, 0, 100);
        int n = snprintf(name, 100, "PaxHeaders/%s", base);
        (void)n; /* truncation is fine: the name only has to be stable */
}

static int build_pax(const struct wh_tar_hdr *h, const char *name, size_t name_len,
                     struct pax *p)
{
        int r = 0;
        if (name_len > 100)
                r = pax_add(p, "path", name, name_len);
        if (r >= 0 && h->link && strlen(h->link) > 100)
                r = pax_add(p, "linkpath", h->link, strlen(h->link));
        if (r >= 0 && h->type == WH_TAR_REG && h->size > MAX_OCTAL_12)
                r = pax_add_u64(p, "size", h->size);
        if (r >= 0 && h->uid > MAX_OCTAL_8)
                r = pax_add_u64(p, "uid", h->uid);
        if (r >= 0 && h->gid > MAX_OCTAL_8)
                r = pax_add_u64(p, "gid", h->gid);
        for (size_t i = 0; r >= 0 && i < h->n_xattrs; i++) {
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "SCHILY.xattr.%s", h->xattrs[i].name) < 0)
                        return -ENOMEM;
                r = pax_add(p, key, h->xattrs[i].value, h->xattrs[i].len);
        }
        return r;
}

static int emit_pax(struct wh_tar_writer *w, const struct wh_tar_hdr *h,
                    const struct pax *p, struct wh_err *err)
{
        struct ustar u;
        fill_common(&u, 'x', 0644, 0, 0, p->len, h->mtime);
        pax_name(u.name, h->path);
        checksum(&u);
        int r = emit(w, &u, sizeof(u), err);
        if (r >= 0)
                r = emit(w, p->buf, p->len, err);
        if (r >= 0 && p->len % BLOCK)
                r = emit(w, zeros, BLOCK - p->len % BLOCK, err);
        return r;
}

int wh_tar_write_header(struct wh_tar_writer *w, const struct wh_tar_hdr *h,
                        struct wh_err *err)
{
        if (w->remaining)
                return wh_failx(err, EINVAL, "tar: previous entry is %llu bytes short",
                                (unsigned long long)w->remaining);
        _cleanup_free_ char *name = NULL;
        if (asprintf(&name, "%s%s", h->path, h->type == WH_TAR_DIR ? "/" : "") < 0)
                return wh_fail(err, ENOMEM, "tar header '%s'", h->path);
        size_t name_len = strlen(name);

        struct pax p = {0};
        int r = build_pax(h, name, name_len, &p);
        if (r == -E2BIG) {
                free(p.buf);
                return wh_failx(err, E2BIG,
                                "tar header '%s': extended attributes too large", h->path);
        }
        if (r < 0) {
                free(p.buf);
                return wh_fail(err, -r, "tar header '%s'", h->path);
        }
        if (p.len)
                r = emit_pax(w, h, &p, err);
        free(p.buf);
        if (r < 0)
                return r;

        uint64_t size = h->type == WH_TAR_REG ? h->size : 0;
        struct ustar u;
        fill_common(&u, h->type, h->mode, h->uid, h->gid, size, h->mtime);
        /* Past 100 bytes the pax record is authoritative; the field keeps a prefix. */
        memcpy(u.name, name, name_len < 100 ? name_len : 100);
        if (h->link) {
                size_t ll = strlen(h->link);
                memcpy(u.linkname, h->link, ll < 100 ? ll : 100);
        }
        checksum(&u);
        r = emit(w, &u, sizeof(u), err);
        if (r < 0)
                return r;
        w->remaining = size;
        return 0;
}

int wh_tar_write_data(struct wh_tar_writer *w, const void *buf, size_t len,
                      struct wh_err *err)
{
        if (len > w->remaining)
                return wh_failx(err, EINVAL, "tar: %zu bytes of data past the entry's size",
                                len);
        int r = emit(w, buf, len, err);
        if (r < 0)
                return r;
        w->remaining -= len;
        if (w->remaining == 0 && w->offset % BLOCK)
                return emit(w, zeros, BLOCK - w->offset % BLOCK, err);
        return 0;
}

int wh_tar_copy_fd(struct wh_tar_writer *w, int fd, off_t off, uint64_t len, void *buf,
                   size_t bufsize, struct wh_err *err)
{
        while (len > 0) {
                size_t want = len < bufsize ? (size_t)len : bufsize;
                ssize_t n = pread(fd, buf, want, off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_fail(err, errno, "read at offset %lld", (long long)off);
                if (n == 0)
                        return wh_failx(err, EIO, "read at offset %lld: file is short",
                                        (long long)off);
                int r = wh_tar_write_data(w, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                off += n;
                len -= (uint64_t)n;
        }
        return 0;
}

int wh_tar_finish(struct wh_tar_writer *w, struct wh_err *err)
{
        if (w->remaining)
                return wh_failx(err, EINVAL, "tar: last entry is %llu bytes short",
                                (unsigned long long)w->remaining);
        int r = emit(w, zeros, BLOCK, err);
        if (r >= 0)
                r = emit(w, zeros, BLOCK, err);
        return r;
}
