/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What happens to each tar entry of a layer, in one place:
 *
 *   error (the build stops)     absolute path, '..', path too long, size or
 *                               entry count past the caps, a parent that is
 *                               not a directory (symlinked dir), a hardlink
 *                               to a missing / non-regular / outside file,
 *                               a truncated or corrupt stream
 *   skip, one warning a layer   device nodes and sockets (never copied)
 *   skip silently               aufs metadata (.wh..wh.*), the root "./"
 *   warning, entry kept         a file that looks like ELF but does not parse
 *   whiteout                    .wh.NAME removes NAME from lower layers;
 *                               .wh..wh..opq empties its dir of lower layers;
 *                               the markers never enter the index
 */
#include "layer_apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "elf.h"
#include "log.h"
#include "path_safe.h"

#define WH_PREFIX ".wh."
#define WH_META   ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

static const char *const config_paths[] = {
        "etc/nsswitch.conf", "etc/ld.so.conf", "etc/passwd",
        "etc/group",         "etc/os-release", "usr/lib/os-release",
};

int wh_is_config_path(const char *path)
{
        for (size_t i = 0; i < ARRAY_SIZE(config_paths); i++)
                if (strcmp(path, config_paths[i]) == 0)
                        return 1;
        const char *d = "etc/ld.so.conf.d/";
        size_t n = strlen(d);
        return strncmp(path, d, n) == 0 && path[n] && !strchr(path + n, '/');
}

/* Reads exactly len bytes; a short read means the stream ended inside the file. */
static int read_full(wh_read_fn rd, void *stream, void *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                int n = rd(stream, (char *)buf + got, len - got);
                if (n < 0)
                        return n;
                if (n == 0)
                        return -EIO;
                got += (size_t)n;
        }
        return 0;
}

static int capture_elf(struct wh_entry *e, char **bufp, size_t *have, wh_read_fn rd,
                       void *stream, const char *where, struct wh_err *err)
{
        for (;;) {
                uint64_t need = wh_elf_bytes_needed(*bufp, *have);
                if (need <= *have || *have >= e->size)
                        break;
                if (need > e->size)
                        need = e->size;
                if (need > WH_MAX_ELF_READ) {
                        wh_warn("%s: entry %s: ELF headers need %llu bytes, past the %llu "
                                "MiB "
                                "cap: dependencies not read",
                                where, e->path, (unsigned long long)need,
                                WH_MAX_ELF_READ >> 20);
                        return 0;
                }
                char *nb = realloc(*bufp, need);
                if (!nb)
                        return wh_fail(err, ENOMEM, "entry %s", e->path);
                *bufp = nb;
                int r = read_full(rd, stream, nb + *have, need - *have);
                if (r < 0)
                        return wh_fail(err, r, "entry %s: read", e->path);
                *have = need;
        }
        struct wh_err perr = {0};
        if (wh_elf_parse(*bufp, *have, &e->elf, &perr) < 0)
                wh_warn("%s: entry %s: unreadable ELF file, its dependencies are not "
                        "followed: %s",
                        where, e->path, perr.msg);
        return 0;
}

int wh_capture_facts(struct wh_entry *e, wh_read_fn rd, void *stream, const char *where,
                     struct wh_err *err)
{
        if (e->size == 0)
                return 0;
        int config = wh_is_config_path(e->path) && e->size <= WH_MAX_CONTENT;
        size_t have = config ? (size_t)e->size : (size_t)(e->size < 4096 ? e->size : 4096);
        _cleanup_free_ char *buf = malloc(have + 1);
        if (!buf)
                return wh_fail(err, ENOMEM, "entry %s", e->path);
        int r = read_full(rd, stream, buf, have);
        if (r < 0)
                return wh_fail(err, r, "entry %s: read", e->path);
        buf[have] = '\0';
        if (config) {
                e->content_len = have;
                e->content = TAKE_PTR(buf);
                return 0;
        }
        if (wh_elf_is_elf(buf, have))
                return capture_elf(e, &buf, &have, rd, stream, where, err);
        if (have >= 2 && buf[0] == '#' && buf[1] == '!') {
                /* The kernel reads at most 256 bytes of a #! line. */
                size_t lim = have < 256 ? have : 256;
                size_t n = 2;
                while (n < lim && buf[n] != '\n')
                        n++;
                e->shebang = strndup(buf + 2, n - 2);
                if (!e->shebang)
                        return wh_fail(err, ENOMEM, "entry %s", e->path);
        }
        return 0;
}

static int ar_read(void *stream, void *buf, size_t len)
{
        if (len > (1u << 30))
                len = 1u << 30;
        la_ssize_t n = archive_read_data(stream, buf, len);
        return n < 0 ? -EIO : (int)n;
}

static const char *entry_name(struct archive_entry *ae)
{
        const char *p = archive_entry_pathname(ae);
        return p ? p : archive_entry_pathname_utf8(ae);
}

static int clean_entry_path(const char *raw, char **ret, struct wh_err *err)
{
        if (strlen(raw) > WH_MAX_PATH)
                return wh_failx(err, ENAMETOOLONG,
                                "entry %.64s...: path longer than %d bytes", raw,
                                WH_MAX_PATH);
        int r = wh_path_clean(raw, 0, ret);
        if (r == -EINVAL && raw[0] == '/')
                return wh_failx(err, EINVAL, "entry %s: absolute path in a layer", raw);
        if (r == -EINVAL)
                return wh_failx(err, EINVAL, "entry %s: '..' in a layer path", raw);
        if (r < 0)
                return wh_fail(err, r, "entry %s", raw);
        return 0;
}

/* Returns 1 when the entry was a whiteout or metadata marker (handled), else 0. */
static int handle_whiteout(const struct wh_apply *ap, const char *path, struct wh_err *err)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        size_t dlen = slash ? (size_t)(slash - path) : 0;

        if (strstr(path, "/" WH_META) || strncmp(path, WH_META, strlen(WH_META)) == 0) {
                if (strcmp(base, WH_OPAQUE) == 0 && !strstr(path, "/" WH_META "plnk")) {
                        _cleanup_free_ char *dir = strndup(path, dlen);
                        if (!dir)
                                return wh_fail(err, ENOMEM, "entry %s", path);
                        wh_index_clear_dir(ap->idx, dir, ap->layer);
                }
                return 1;
        }
        if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
                return 0;
        const char *name = base + strlen(WH_PREFIX);
        if (!*name)
                return wh_failx(err, EINVAL, "entry %s: whiteout without a name", path);
        _cleanup_free_ char *victim = NULL;
        if (asprintf(&victim, "%.*s%s%s", (int)dlen, path, dlen ? "/" : "", name) < 0)
                return wh_fail(err, ENOMEM, "entry %s", path);
        wh_index_remove(ap->idx, victim, ap->layer);
        return 1;
}

/*
 * pax headers may carry one xattr twice (LIBARCHIVE.xattr and
 * SCHILY.xattr): the first stays.
 */
static int set_xattrs(struct wh_entry *e, struct archive_entry *ae)
{
        const char *name;
        const void *value;
        size_t size;
        if (archive_entry_xattr_reset(ae) <= 0)
                return 0;
        while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
                if (wh_xattr_wanted(name) && wh_entry_add_xattr(e, name, value, size) < 0)
                        return -ENOMEM;
        return 0;
}

static int set_hardlink(const struct wh_apply *ap, struct wh_entry *e, const char *raw,
                        struct wh_err *err)
{
        _cleanup_free_ char *target = NULL;
        if (wh_path_clean(raw, 0, &target) < 0 || !*target)
                return wh_failx(err, EINVAL,
                                "entry %s: hardlink to '%s' points outside the image",
                                e->path, raw);
        struct wh_entry *t = wh_index_get(ap->idx, target);
        if (t && t->type == WH_F_HARDLINK)
                t = wh_index_get(ap->idx, t->link);
        if (!t)
                return wh_failx(err, ENOENT,
                                "entry %s: hardlink to '%s' points to a missing file",
                                e->path, raw);
        if (t->type != WH_F_REG)
                return wh_failx(err, EINVAL,
                                "entry %s: hardlink to '%s' points to a non-regular file",
                                e->path, raw);
        e->type = WH_F_HARDLINK;
        e->size = t->size;
        e->link = strdup(t->path);
        return e->link ? 0 : wh_fail(err, ENOMEM, "entry %s", e->path);
}

static void entry_freep(struct wh_entry **e)
{
        wh_entry_free(*e);
}

struct skipped {
        unsigned n;
        char example[128];
};

/* Builds the index entry for ae (*ret = NULL when it is skipped). */
static int make_entry(const struct wh_apply *ap, struct archive *a,
                      struct archive_entry *ae, const char *path, struct skipped *sk,
                      struct wh_entry **ret, struct wh_err *err)
{
        mode_t ft = archive_entry_filetype(ae);
        const char *hl = archive_entry_hardlink(ae);
        if (!hl)
                hl = archive_entry_hardlink_utf8(ae);
        enum wh_ftype type;
        *ret = NULL;
        if (hl)
                type = WH_F_HARDLINK;
        else if (ft == AE_IFREG)
                type = WH_F_REG;
        else if (ft == AE_IFDIR)
                type = WH_F_DIR;
        else if (ft == AE_IFLNK)
                type = WH_F_SYMLINK;
        else if (ft == AE_IFIFO)
                type = WH_F_FIFO;
        else {
                if (sk->n++ == 0)
                        snprintf(sk->example, sizeof(sk->example), "%.120s", path);
                return 0;
        }
        int64_t size = archive_entry_size(ae);
        if (size < 0 || (uint64_t)size > WH_MAX_FILE_SIZE)
                return wh_failx(err, EFBIG, "entry %s: size %lld is past the %llu GiB cap",
                                path, (long long)size, WH_MAX_FILE_SIZE >> 30);

        struct wh_entry *e = wh_entry_new(path, type);
        if (!e)
                return wh_fail(err, ENOMEM, "entry %s", path);
        _cleanup_(entry_freep) struct wh_entry *owned = e;
        e->mode = archive_entry_perm(ae) & 07777;
        e->uid = (uint32_t)archive_entry_uid(ae);
        e->gid = (uint32_t)archive_entry_gid(ae);
        e->mtime = archive_entry_mtime(ae);
        e->layer = ap->layer;
        if (set_xattrs(e, ae) < 0)
                return wh_fail(err, ENOMEM, "entry %s", path);
        int r = 0;
        if (type == WH_F_HARDLINK) {
                r = set_hardlink(ap, e, hl, err);
        } else if (type == WH_F_SYMLINK) {
                const char *t = archive_entry_symlink(ae);
                if (!t)
                        t = archive_entry_symlink_utf8(ae);
                if (!t)
                        return wh_failx(err, EINVAL, "entry %s: symlink without a target",
                                        path);
                e->link = strdup(t);
                if (!e->link)
                        return wh_fail(err, ENOMEM, "entry %s", path);
        } else if (type == WH_F_REG) {
                e->size = (uint64_t)size;
                r = wh_capture_facts(e, ar_read, a, ap->name, err);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(owned);
        return 0;
}

static int next_header(struct wh_lstream *s, struct archive_entry **ae, struct wh_err *err)
{
        int r = archive_read_next_header(wh_lstream_archive(s), ae);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
                return 1;
        return wh_lstream_fail(s, err);
}

static int apply_one(const struct wh_apply *ap, struct archive *a, struct archive_entry *ae,
                     uint32_t ordinal, struct skipped *sk, struct wh_err *err)
{
        const char *raw = entry_name(ae);
        if (!raw)
                return wh_failx(err, EINVAL, "entry #%u: name unreadable", ordinal);
        _cleanup_free_ char *path = NULL;
        int r = clean_entry_path(raw, &path, err);
        if (r < 0)
                return r;
        if (!*path)
                return 0; /* "./": the root is implicit */
        r = handle_whiteout(ap, path, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct wh_entry *e = NULL;
        r = make_entry(ap, a, ae, path, sk, &e, err);
        if (r < 0 || !e)
                return r;
        e->ordinal = ordinal;
        r = wh_index_put(ap->idx, e, err);
        if (r < 0) {
                wh_entry_free(e);
                if (r == -ENOTDIR)
                        return wh_fail_ctx(err, r, "entry %s: parent is not a directory",
                                           path);
                return wh_fail_ctx(err, r, "entry %s", path);
        }
        return 0;
}

int wh_layer_apply(struct wh_lstream *s, const struct wh_apply *ap, struct wh_err *err)
{
        struct archive *a = wh_lstream_archive(s);
        struct archive_entry *ae;
        struct skipped sk = {0};
        uint32_t ordinal = 0;
        char last[160] = "";
        int r;
        while ((r = next_header(s, &ae, err)) > 0) {
                if (*ap->entries_left == 0)
                        return wh_failx(err, E2BIG, "more than %llu entries in the image",
                                        WH_MAX_ENTRIES);
                (*ap->entries_left)--;
                r = apply_one(ap, a, ae, ordinal++, &sk, err);
                /* A read failure inside an entry: the stream knows why (truncation, ...).
                 */
                if (r == -EIO)
                        return wh_fail_ctx(err, wh_lstream_fail(s, err), "entry %s",
                                           entry_name(ae) ? entry_name(ae) : "?");
                if (r < 0)
                        return r;
                /* Skipping the data of the entry fails on the next header. */
                snprintf(last, sizeof(last), "%.150s",
                         entry_name(ae) ? entry_name(ae) : "?");
        }
        if (r < 0 && *last)
                return wh_fail_ctx(err, r, "after entry %s", last);
        if (r < 0)
                return r;
        if (sk.n)
                wh_warn("%s: %u device node(s) or socket(s) skipped (e.g. %s): they are "
                        "never "
                        "copied into images",
                        ap->name, sk.n, sk.example);
        return 0;
}

int wh_layer_read_kept(struct wh_lstream *s, const struct wh_kept *kept, size_t n,
                       wh_content_sink sink, void *userdata, struct wh_err *err)
{
        struct archive *a = wh_lstream_archive(s);
        struct archive_entry *ae;
        uint32_t ordinal = 0;
        size_t i = 0;
        int r = 0;
        while (i < n && (r = next_header(s, &ae, err)) > 0) {
                uint32_t o = ordinal++;
                if (o != kept[i].ordinal)
                        continue;
                struct wh_entry *e = kept[i++].e;
                _cleanup_free_ char *path = NULL;
                const char *raw = entry_name(ae);
                if (!raw || wh_path_clean(raw, 0, &path) < 0 ||
                    strcmp(path, e->src_path ? e->src_path : e->path) != 0 ||
                    archive_entry_filetype(ae) != AE_IFREG ||
                    (uint64_t)archive_entry_size(ae) != e->size)
                        return wh_failx(err, EINVAL,
                                        "entry %s: the layer changed since it was indexed",
                                        e->path);
                r = sink(e, ar_read, a, userdata, err);
                if (r == -EIO && wh_lstream_failed(s))
                        return wh_fail_ctx(err, wh_lstream_fail(s, err), "entry %s",
                                           e->path);
                if (r < 0)
                        return wh_fail_ctx(err, r, "entry %s", e->path);
        }
        if (i < n)
                return r < 0 ? r
                             : wh_failx(err, EINVAL,
                                        "entry %s: missing when the layer was read again",
                                        kept[i].e->path);
        return 0;
}
