/* SPDX-License-Identifier: Apache-2.0 */
#include "layer_write.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "tar_write.h"

#define COPY_BUF (1024 * 1024)

static int64_t clamp_mtime(int64_t mtime, int64_t epoch)
{
        int64_t t = mtime > epoch ? epoch : mtime;
        return t < 0 ? 0 : t;
}

/*
 * The closure keeps what a workload needs; a kept file under a directory it
 * did not keep still needs that directory, with the image's mode and owner
 * rather than whatever an unpacker would invent.
 */
static int keep_parents(struct wh_index *idx, struct wh_entry **sorted, size_t n,
                        struct wh_err *err)
{
        const char *reason = wh_index_intern(idx, "parent of a kept path");
        if (!reason)
                return wh_fail(err, ENOMEM, "plan");
        for (size_t i = 0; i < n; i++)
                if (sorted[i]->keep_reason)
                        wh_index_keep_parents(idx, sorted[i]->path, reason);
        return 0;
}

struct link_key {
        const char *key; /* the regular file's path the entry shares an inode with */
        size_t i;        /* position in sorted order */
};

static int cmp_link_key(const void *a, const void *b)
{
        const struct link_key *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        if (c)
                return c;
        return x->i < y->i ? -1 : x->i > y->i;
}

struct group {
        size_t leader; /* first kept path of the inode, in sorted order */
        const struct wh_entry *meta;
        int64_t spool_off;
        uint64_t size;
};

/* Settles one run keys[a..b) of entries sharing an inode. */
static int settle_group(struct wh_index *idx, struct wh_entry **sorted,
                        const struct link_key *keys, size_t a, size_t b,
                        struct group *groups, struct wh_err *err)
{
        struct wh_entry *target = wh_index_get(idx, keys[a].key);
        if (target && target->type != WH_F_REG)
                target = NULL;
        struct group g = {.leader = keys[a].i,
                          .meta = target ? target : sorted[keys[a].i],
                          .spool_off = -1};
        g.size = g.meta->size;
        if (target && target->spool_off >= 0)
                g.spool_off = target->spool_off;
        for (size_t k = a; k < b && g.spool_off < 0; k++)
                if (sorted[keys[k].i]->spool_off >= 0)
                        g.spool_off = sorted[keys[k].i]->spool_off;
        if (g.size > 0 && g.spool_off < 0)
                return wh_failx(err, EINVAL, "'/%s': kept file's content was not spooled",
                                sorted[g.leader]->path);
        for (size_t k = a; k < b; k++)
                groups[keys[k].i] = g;
        return 0;
}

static int group_links(struct wh_index *idx, struct wh_entry **sorted, size_t n,
                       struct group *groups, struct wh_err *err)
{
        _cleanup_free_ struct link_key *keys = calloc(n ? n : 1, sizeof(*keys));
        if (!keys)
                return wh_fail(err, ENOMEM, "plan");
        size_t nk = 0;
        for (size_t i = 0; i < n; i++) {
                const struct wh_entry *e = sorted[i];
                if (!e->keep_reason)
                        continue;
                if (e->type == WH_F_REG)
                        keys[nk++] = (struct link_key){e->path, i};
                else if (e->type == WH_F_HARDLINK && e->link)
                        keys[nk++] = (struct link_key){e->link, i};
                else if (e->type == WH_F_HARDLINK)
                        return wh_failx(err, EINVAL, "'/%s': hard link without a target",
                                        e->path);
        }
        qsort(keys, nk, sizeof(*keys), cmp_link_key);
        for (size_t a = 0, b; a < nk; a = b) {
                for (b = a + 1; b < nk && !strcmp(keys[a].key, keys[b].key); b++)
                        ;
                int r = settle_group(idx, sorted, keys, a, b, groups, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int make_item(struct wh_entry **sorted, size_t i, const struct group *g,
                     int64_t epoch, struct wh_item *it, struct wh_err *err)
{
        const struct wh_entry *e = sorted[i];
        *it = (struct wh_item){
                .e = e, .meta = e, .spool_off = -1, .mtime = clamp_mtime(e->mtime, epoch)};
        switch (e->type) {
        case WH_F_DIR:
                it->kind = WH_ITEM_DIR;
                return 1;
        case WH_F_SYMLINK:
                if (!e->link)
                        return wh_failx(err, EINVAL, "'/%s': symlink without a target",
                                        e->path);
                it->kind = WH_ITEM_SYMLINK;
                it->link = e->link;
                return 1;
        case WH_F_FIFO:
                it->kind = WH_ITEM_FIFO;
                return 1;
        case WH_F_REG:
        case WH_F_HARDLINK:
                it->meta = g->meta;
                it->mtime = clamp_mtime(g->meta->mtime, epoch);
                if (g->leader == i) {
                        it->kind = WH_ITEM_FILE;
                        it->size = g->size;
                        it->spool_off = g->size ? g->spool_off : -1;
                } else {
                        it->kind = WH_ITEM_HARDLINK;
                        it->link = sorted[g->leader]->path;
                }
                return 1;
        case WH_F_CHR:
        case WH_F_BLK:
                return 0;
        }
        return wh_failx(err, EINVAL, "'/%s': unknown entry type %d", e->path, (int)e->type);
}

int wh_plan_build(struct wh_index *idx, int64_t epoch, struct wh_plan *ret,
                  struct wh_err *err)
{
        size_t n = 0;
        struct wh_entry **sorted = wh_index_sorted(idx, &n);
        if (!sorted && n)
                return wh_fail(err, ENOMEM, "sort index");
        int r = keep_parents(idx, sorted, n, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct group *groups = calloc(n ? n : 1, sizeof(*groups));
        _cleanup_free_ struct wh_item *items = calloc(n ? n : 1, sizeof(*items));
        if (!groups || !items)
                return wh_fail(err, ENOMEM, "plan");
        r = group_links(idx, sorted, n, groups, err);
        if (r < 0)
                return r;
        size_t ni = 0, skipped = 0;
        for (size_t i = 0; i < n; i++) {
                if (!sorted[i]->keep_reason)
                        continue;
                r = make_item(sorted, i, &groups[i], epoch, &items[ni], err);
                if (r < 0)
                        return r;
                if (r > 0)
                        ni++;
                else
                        skipped++;
        }
        if (skipped)
                wh_warn("left out %zu device node%s: a container's runtime provides /dev",
                        skipped, skipped == 1 ? "" : "s");
        ret->items = TAKE_PTR(items);
        ret->n = ni;
        ret->n_devices_skipped = skipped;
        return 0;
}

void wh_plan_release(struct wh_plan *p)
{
        if (!p)
                return;
        free(p->items);
        p->items = NULL;
        p->n = 0;
}

static char item_tar_type(enum wh_item_kind k)
{
        switch (k) {
        case WH_ITEM_DIR:
                return WH_TAR_DIR;
        case WH_ITEM_FILE:
                return WH_TAR_REG;
        case WH_ITEM_HARDLINK:
                return WH_TAR_LINK;
        case WH_ITEM_SYMLINK:
                return WH_TAR_SYMLINK;
        case WH_ITEM_FIFO:
                return WH_TAR_FIFO;
        }
        return WH_TAR_REG;
}

static int write_item(struct wh_tar_writer *w, const struct wh_item *it, int spool_fd,
                      void *buf, struct wh_err *err)
{
        struct wh_tar_hdr h = {
                .path = it->e->path,
                .type = item_tar_type(it->kind),
                .mode = it->meta->mode,
                .uid = it->meta->uid,
                .gid = it->meta->gid,
                .size = it->kind == WH_ITEM_FILE ? it->size : 0,
                .mtime = it->mtime,
                .link = it->link,
        };
        /* A hard link's header shares the file's inode: its xattrs are already there. */
        if (it->kind != WH_ITEM_HARDLINK) {
                h.xattrs = it->meta->xattrs;
                h.n_xattrs = it->meta->n_xattrs;
        }
        int r = wh_tar_write_header(w, &h, err);
        if (r < 0)
                return r;
        if (h.size == 0)
                return 0;
        return wh_tar_copy_fd(w, spool_fd, (off_t)it->spool_off, it->size, buf, COPY_BUF,
                              err);
}

int wh_plan_write_tar(const struct wh_plan *p, int spool_fd, struct wh_compressor *z,
                      struct wh_err *err)
{
        _cleanup_free_ void *buf = malloc(COPY_BUF);
        if (!buf)
                return wh_fail(err, ENOMEM, "layer");
        struct wh_tar_writer w;
        wh_tar_writer_init(&w, wh_compressor_sink, z);
        for (size_t i = 0; i < p->n; i++) {
                int r = write_item(&w, &p->items[i], spool_fd, buf, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "'/%s'", p->items[i].e->path);
        }
        return wh_tar_finish(&w, err);
}
