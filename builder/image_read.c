/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sources by transport. Archives are unpacked into a private directory
 * first (regular files only), so every transport but dir: ends up as blobs
 * on disk described by struct wh_layer_desc, and both passes stream them
 * the same way.
 */
#include "image_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_unpack.h"
#include "cleanup.h"
#include "dir_source.h"
#include "fs_util.h"
#include "layer_apply.h"
#include "layer_stream.h"
#include "oci_manifest.h"

struct wh_source *wh_source_free(struct wh_source *src)
{
        if (!src)
                return NULL;
        wh_image_ref_release(&src->ref);
        free(src->manifest_digest);
        free(src->config_digest);
        if (src->config)
                json_object_put(src->config);
        for (size_t i = 0; i < src->n_layers; i++) {
                free(src->layers[i].digest);
                free(src->layers[i].media_type);
                free(src->layers[i].blob_path);
        }
        free(src->layers);
        if (src->root_fd >= 0)
                close(src->root_fd);
        if (src->tmpdir)
                wh_rm_rf_at(AT_FDCWD, src->tmpdir);
        free(src->tmpdir);
        free(src);
        return NULL;
}

static void source_freep(struct wh_source **s)
{
        wh_source_free(*s);
}

static int open_archive(struct wh_source *src, struct wh_err *err)
{
        struct wh_unpacked u = {.dirfd = -1};
        int r = wh_archive_unpack(src->ref.path, &u, err);
        if (r < 0)
                return r;
        src->tmpdir = strdup(u.dir);
        if (!src->tmpdir) {
                wh_unpacked_release(&u, 0);
                return wh_fail(err, ENOMEM, "%s", src->ref.path);
        }
        struct stat st;
        /* Newer docker saves carry an OCI layout next to manifest.json; the
         * docker manifest is still the one that names images by tag. */
        if (src->ref.transport == WH_T_DOCKER_ARCHIVE &&
            fstatat(u.dirfd, "manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = wh_docker_load(u.dirfd, u.dir, src->ref.ref, u.links, u.n_links, src,
                                   err);
        else
                r = wh_oci_load(u.dirfd, u.dir, src->ref.ref, src, err);
        wh_unpacked_release(&u, 1);
        return r;
}

static int open_tar(struct wh_source *src, struct wh_err *err)
{
        struct stat st;
        if (stat(src->ref.path, &st) < 0)
                return wh_fail(err, errno, "%s", src->ref.path);
        if (!S_ISREG(st.st_mode))
                return wh_failx(err, EINVAL, "%s: not a regular file", src->ref.path);
        src->layers = calloc(1, sizeof(*src->layers));
        if (!src->layers)
                return wh_fail(err, ENOMEM, "%s", src->ref.path);
        src->n_layers = 1;
        src->layers[0].size = st.st_size;
        src->layers[0].blob_path = strdup(src->ref.path);
        if (!src->layers[0].blob_path)
                return wh_fail(err, ENOMEM, "%s", src->ref.path);
        src->compressed_bytes = (uint64_t)st.st_size;
        return 0;
}

int wh_source_open(const struct wh_image_ref *ref, struct wh_source **ret,
                   struct wh_err *err)
{
        _cleanup_(source_freep) struct wh_source *src = calloc(1, sizeof(*src));
        if (!src)
                return wh_fail(err, ENOMEM, "source");
        src->root_fd = -1;
        src->ref.transport = ref->transport;
        src->ref.path = strdup(ref->path);
        if (!src->ref.path || (ref->ref && !(src->ref.ref = strdup(ref->ref))))
                return wh_fail(err, ENOMEM, "source");

        int r = 0;
        switch (ref->transport) {
        case WH_T_OCI: {
                _cleanup_close_ int dfd =
                        open(ref->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return wh_fail(err, errno, "%s", ref->path);
                r = wh_oci_load(dfd, ref->path, ref->ref, src, err);
                break;
        }
        case WH_T_OCI_ARCHIVE:
        case WH_T_DOCKER_ARCHIVE:
                r = open_archive(src, err);
                break;
        case WH_T_DIR:
                src->root_fd = open(ref->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (src->root_fd < 0)
                        return wh_fail(err, errno, "%s", ref->path);
                break;
        case WH_T_TAR:
                r = open_tar(src, err);
                break;
        case WH_T_OSTREE:
                return wh_failx(err, ENOTSUP, "ostree:%s: ostree sources are not supported",
                                ref->path);
        }
        if (r < 0)
                return r;
        if (!src->config && !(src->config = json_object_new_object()))
                return wh_fail(err, ENOMEM, "source");
        *ret = TAKE_PTR(src);
        return 0;
}

static const char *layer_name(const struct wh_source *src, size_t i)
{
        return src->layers[i].digest ? src->layers[i].digest : src->layers[i].blob_path;
}

struct progress_ctx {
        wh_progress_fn fn;
        void *userdata;
        const char *phase;
        uint64_t base, total;
};

static void on_blob_bytes(uint64_t blob_bytes, void *userdata)
{
        struct progress_ctx *p = userdata;
        p->fn(p->phase, p->base + blob_bytes, p->total, p->userdata);
}

static int open_layer(const struct wh_source *src, size_t i, struct progress_ctx *pc,
                      struct wh_lstream **ret, struct wh_err *err)
{
        const struct wh_layer_desc *l = &src->layers[i];
        int gz = 0, zs = 0;
        enum wh_lcomp comp = WH_LC_AUTO;
        if (l->media_type) {
                if (!wh_layer_media_type(l->media_type, &gz, &zs))
                        return wh_failx(err, EINVAL, "unsupported media type '%s'",
                                        l->media_type);
                comp = gz ? WH_LC_GZIP : zs ? WH_LC_ZSTD : WH_LC_NONE;
        }
        int fd = open(l->blob_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open blob");
        struct wh_lstream_opts o = {
                .name = layer_name(src, i),
                .comp = comp,
                .digest = l->digest,
                .digest_uncompressed = l->digest_uncompressed,
                .size = l->digest_uncompressed ? -1 : l->size,
                .progress = pc->fn ? on_blob_bytes : NULL,
                .userdata = pc,
        };
        return wh_lstream_open(fd, &o, ret, err);
}

static int index_layer(struct wh_source *src, size_t i, struct wh_index *idx,
                       uint64_t *entries_left, struct progress_ctx *pc, uint64_t *tar_bytes,
                       struct wh_err *err)
{
        _cleanup_lstream_ struct wh_lstream *s = NULL;
        int r = open_layer(src, i, pc, &s, err);
        if (r < 0)
                return r;
        struct wh_apply ap = {
                .idx = idx,
                .layer = (uint32_t)i,
                .name = layer_name(src, i),
                .entries_left = entries_left,
        };
        r = wh_layer_apply(s, &ap, err);
        if (r >= 0)
                r = wh_lstream_finish(s, err);
        *tar_bytes += wh_lstream_tar_bytes(s);
        return r;
}

int wh_source_index(struct wh_source *src, struct wh_index *idx,
                    struct wh_index_stats *stats, wh_progress_fn progress, void *userdata,
                    struct wh_err *err)
{
        struct wh_index_stats st = {0};
        int r = 0;
        if (src->ref.transport == WH_T_DIR) {
                r = wh_dir_index(src, idx, progress, userdata, err);
        } else {
                uint64_t entries_left = WH_MAX_ENTRIES;
                struct progress_ctx pc = {progress, userdata, "read", 0,
                                          src->compressed_bytes};
                for (size_t i = 0; i < src->n_layers && r >= 0; i++) {
                        r = index_layer(src, i, idx, &entries_left, &pc, &st.layer_bytes_in,
                                        err);
                        if (r < 0)
                                r = wh_fail_ctx(err, r, "layer %s", layer_name(src, i));
                        if (src->layers[i].size > 0)
                                pc.base += (uint64_t)src->layers[i].size;
                }
        }
        if (r < 0)
                return r;
        size_t n;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        if (!v)
                return wh_fail(err, ENOMEM, "index");
        st.files = n;
        for (size_t i = 0; i < n; i++)
                if (v[i]->type == WH_F_REG)
                        st.bytes += v[i]->size;
        if (stats)
                *stats = st;
        return 0;
}

static int cmp_kept(const void *a, const void *b)
{
        const struct wh_entry *x = ((const struct wh_kept *)a)->e;
        const struct wh_entry *y = ((const struct wh_kept *)b)->e;
        if (x->layer != y->layer)
                return x->layer < y->layer ? -1 : 1;
        return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static int read_layer_kept(struct wh_source *src, size_t layer, const struct wh_kept *kept,
                           size_t n, wh_content_sink sink, void *userdata,
                           struct progress_ctx *pc, struct wh_err *err)
{
        _cleanup_lstream_ struct wh_lstream *s = NULL;
        int r = open_layer(src, layer, pc, &s, err);
        if (r >= 0)
                r = wh_layer_read_kept(s, kept, n, sink, userdata, err);
        /* Pass 1 verified the blob; stopping after the last kept file saves
         * reading the rest of the layer. */
        if (r < 0)
                return wh_fail_ctx(err, r, "layer %s", layer_name(src, layer));
        return 0;
}

int wh_source_read_kept(struct wh_source *src, struct wh_index *idx, wh_content_sink sink,
                        void *userdata, wh_progress_fn progress, void *progress_data,
                        struct wh_err *err)
{
        if (src->ref.transport == WH_T_DIR)
                return wh_dir_read_kept(src, idx, sink, userdata, progress, progress_data,
                                        err);
        size_t n, k = 0;
        struct wh_entry **v = wh_index_sorted(idx, &n);
        if (!v)
                return wh_fail(err, ENOMEM, "index");
        _cleanup_free_ struct wh_kept *kept = calloc(n ? n : 1, sizeof(*kept));
        if (!kept)
                return wh_fail(err, ENOMEM, "index");
        for (size_t i = 0; i < n; i++)
                if (v[i]->keep_reason && v[i]->type == WH_F_REG &&
                    v[i]->layer < src->n_layers)
                        kept[k++] = (struct wh_kept){v[i]->ordinal, v[i]};
        qsort(kept, k, sizeof(*kept), cmp_kept);

        struct progress_ctx pc = {progress, progress_data, "copy", 0, 0};
        for (size_t i = 0; i < k; i++)
                if (i == 0 || kept[i].e->layer != kept[i - 1].e->layer)
                        pc.total += (uint64_t)src->layers[kept[i].e->layer].size;
        for (size_t i = 0; i < k;) {
                size_t j = i;
                uint32_t layer = kept[i].e->layer;
                while (j < k && kept[j].e->layer == layer)
                        j++;
                int r = read_layer_kept(src, layer, kept + i, j - i, sink, userdata, &pc,
                                        err);
                if (r < 0)
                        return r;
                pc.base += (uint64_t)src->layers[layer].size;
                i = j;
        }
        return 0;
}
