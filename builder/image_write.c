/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output image: one layer from the plan, a config that carries the
 * source's settings over, a manifest, and the destination's own packaging.
 * Every JSON document is built key by key in a fixed order and printed
 * compact, so the same input gives the same digests.
 */
#include "image_write.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "compress.h"
#include "fs_util.h"
#include "image_config.h"
#include "json_util.h"
#include "layer_write.h"
#include "log.h"
#include "oci_write.h"
#include "rootfs_write.h"
#include "store_ostree.h"

struct image_out {
        enum wh_compression comp;
        struct wh_compress_result layer;
        char *config;
        size_t config_len;
        char config_digest[WH_DIGEST_STR];
        char *manifest;
        size_t manifest_len;
        char manifest_digest[WH_DIGEST_STR];
};

static void image_out_release(struct image_out *o)
{
        free(o->config);
        free(o->manifest);
}

int wh_compression_parse(const char *s, enum wh_compression *ret)
{
        if (!strcmp(s, "zstd"))
                *ret = WH_COMP_ZSTD;
        else if (!strcmp(s, "gzip"))
                *ret = WH_COMP_GZIP;
        else if (!strcmp(s, "none"))
                *ret = WH_COMP_NONE;
        else
                return -EINVAL;
        return 0;
}

const char *wh_compression_name(enum wh_compression c)
{
        switch (c) {
        case WH_COMP_ZSTD:
                return "zstd";
        case WH_COMP_GZIP:
                return "gzip";
        case WH_COMP_NONE:
                return "none";
        }
        return "unknown";
}

static const char *layer_media_type(enum wh_compression c)
{
        switch (c) {
        case WH_COMP_ZSTD:
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        case WH_COMP_GZIP:
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        case WH_COMP_NONE:
                break;
        }
        return "application/vnd.oci.image.layer.v1.tar";
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#else
        return "unknown";
#endif
}

/* Adds src[key] (shared, not copied) to dst when present. */
static int carry(json_object *dst, json_object *src, const char *key)
{
        json_object *v = NULL;
        if (!src || !json_object_object_get_ex(src, key, &v))
                return 0;
        return json_object_object_add(dst, key, json_object_get(v)) ? -ENOMEM : 0;
}

static const char *const head_keys[] = {"architecture", "os",      "os.version",
                                        "os.features",  "variant", "author"};

static int is_placed_key(const char *k)
{
        static const char *const placed[] = {"created", "config", "rootfs", "history"};
        for (size_t i = 0; i < ARRAY_SIZE(placed); i++)
                if (!strcmp(k, placed[i]))
                        return 1;
        for (size_t i = 0; i < ARRAY_SIZE(head_keys); i++)
                if (!strcmp(k, head_keys[i]))
                        return 1;
        return 0;
}

static int add_defaults(json_object *cfg, json_object *src)
{
        json_object *v = NULL;
        if (!src || !json_object_object_get_ex(src, "architecture", &v)) {
                wh_warn("image config has no architecture; writing '%s'", host_arch());
                if (wh_json_add_string(cfg, "architecture", host_arch()) < 0)
                        return -ENOMEM;
        }
        if (!src || !json_object_object_get_ex(src, "os", &v)) {
                wh_warn("image config has no os; writing 'linux'");
                if (wh_json_add_string(cfg, "os", "linux") < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Hands v to parent[key]; v is released on failure (NULL counts as ENOMEM). */
static int add_obj(json_object *parent, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(parent, key, v)) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_elem(json_object *arr, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(arr, v)) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_rootfs_history(json_object *cfg, const char *diff_id, const char *created,
                              const char *created_by)
{
        json_object *rootfs = json_object_new_object();
        int r = add_obj(cfg, "rootfs", rootfs);
        if (r < 0)
                return r;
        json_object *ids = r >= 0 ? json_object_new_array() : NULL;
        r = wh_json_add_string(rootfs, "type", "layers");
        if (r >= 0)
                r = add_obj(rootfs, "diff_ids", ids);
        if (r >= 0)
                r = add_elem(ids, json_object_new_string(diff_id));
        json_object *hist = r >= 0 ? json_object_new_array() : NULL;
        if (r >= 0)
                r = add_obj(cfg, "history", hist);
        json_object *h = r >= 0 ? json_object_new_object() : NULL;
        if (r >= 0)
                r = add_elem(hist, h);
        if (r >= 0)
                r = wh_json_add_string(h, "created", created);
        if (r >= 0 && created_by)
                r = wh_json_add_string(h, "created_by", created_by);
        if (r >= 0)
                r = wh_json_add_string(h, "comment", "whittle");
        return r;
}

static int build_config(const struct wh_write_opts *opts, const char *diff_id,
                        const char *created, char **ret, struct wh_err *err)
{
        json_object *src = opts->config;
        if (src && !json_object_is_type(src, json_type_object))
                return wh_failx(err, EINVAL, "image config: expected an object");
        _cleanup_json_ json_object *cfg = json_object_new_object();
        int r = cfg ? wh_json_add_string(cfg, "created", created) : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(head_keys); i++)
                r = carry(cfg, src, head_keys[i]);
        if (r >= 0)
                r = add_defaults(cfg, src);
        if (r >= 0 && src) {
                json_object_object_foreach(src, k, v)
                {
                        (void)v;
                        if (r >= 0 && !is_placed_key(k))
                                r = carry(cfg, src, k);
                }
        }
        if (r >= 0)
                r = carry(cfg, src, "config");
        if (r >= 0)
                r = add_rootfs_history(cfg, diff_id, created, opts->history_created_by);
        char *text = r >= 0 ? wh_json_to_string(cfg, 0) : NULL;
        if (!text)
                return wh_fail(err, ENOMEM, "image config");
        *ret = text;
        return 0;
}

static json_object *descriptor(const char *mt, const char *digest, uint64_t size)
{
        _cleanup_json_ json_object *d = json_object_new_object();
        if (!d || wh_json_add_string(d, "mediaType", mt) < 0 ||
            wh_json_add_string(d, "digest", digest) < 0 ||
            wh_json_add_int64(d, "size", (int64_t)size) < 0)
                return NULL;
        return TAKE_PTR(d);
}

static int build_manifest(const struct wh_write_opts *opts, const struct image_out *o,
                          const char *created, char **ret, struct wh_err *err)
{
        _cleanup_json_ json_object *m = json_object_new_object();
        int r = m ? add_obj(m, "schemaVersion", json_object_new_int(2)) : -ENOMEM;
        if (r >= 0)
                r = wh_json_add_string(m, "mediaType", WH_MT_OCI_MANIFEST);
        if (r >= 0)
                r = add_obj(m, "config",
                            descriptor(WH_MT_OCI_CONFIG, o->config_digest, o->config_len));
        json_object *layers = r >= 0 ? json_object_new_array() : NULL;
        if (r >= 0)
                r = add_obj(m, "layers", layers);
        if (r >= 0)
                r = add_elem(layers, descriptor(layer_media_type(o->comp), o->layer.digest,
                                                o->layer.out_size));
        json_object *a = r >= 0 ? json_object_new_object() : NULL;
        if (r >= 0)
                r = add_obj(m, "annotations", a);
        if (r >= 0 && opts->base_digest)
                r = wh_json_add_string(a, "org.opencontainers.image.base.digest",
                                       opts->base_digest);
        if (r >= 0 && opts->base_name)
                r = wh_json_add_string(a, "org.opencontainers.image.base.name",
                                       opts->base_name);
        if (r >= 0)
                r = wh_json_add_string(a, "org.opencontainers.image.created", created);
        char *text = r >= 0 ? wh_json_to_string(m, 0) : NULL;
        if (!text)
                return wh_fail(err, ENOMEM, "manifest");
        *ret = text;
        return 0;
}

/* The layer into out_fd, then the config and manifest that describe it. */
static int build_image(const struct wh_plan *plan, const struct wh_write_opts *opts,
                       enum wh_compression comp, int level, int out_fd, struct image_out *o,
                       struct wh_err *err)
{
        _cleanup_compressor_ struct wh_compressor *z = NULL;
        o->comp = comp;
        int r = wh_compressor_new(comp, level, out_fd, &z, err);
        if (r >= 0)
                r = wh_plan_write_tar(plan, opts->spool_fd, z, err);
        if (r >= 0)
                r = wh_compressor_finish(z, &o->layer, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "layer");
        char created[32];
        wh_config_time(opts->epoch, created);
        r = build_config(opts, o->layer.diff_id, created, &o->config, err);
        if (r < 0)
                return r;
        o->config_len = strlen(o->config);
        wh_sha256_digest(o->config, o->config_len, o->config_digest);
        r = build_manifest(opts, o, created, &o->manifest, err);
        if (r < 0)
                return r;
        o->manifest_len = strlen(o->manifest);
        wh_sha256_digest(o->manifest, o->manifest_len, o->manifest_digest);
        return 0;
}

static void fill_result(const struct image_out *o, struct wh_write_result *ret)
{
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->manifest_digest, sizeof(ret->manifest_digest), "%s",
                 o->manifest_digest);
        snprintf(ret->config_digest, sizeof(ret->config_digest), "%s", o->config_digest);
        snprintf(ret->layer_digest, sizeof(ret->layer_digest), "%s", o->layer.digest);
        snprintf(ret->diff_id, sizeof(ret->diff_id), "%s", o->layer.diff_id);
        ret->layer_size = o->layer.out_size;
        ret->tar_size = o->layer.in_size;
}

/* Layer, config and manifest into the blob dir; the temporary layer goes on failure. */
static int oci_put_blobs(struct wh_blob_dir *bd, const struct wh_plan *plan,
                         const struct wh_write_opts *opts, struct image_out *o,
                         struct wh_err *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r = wh_blob_tmp(bd, &tmp, &fd, err);
        if (r < 0)
                return r;
        r = build_image(plan, opts, opts->compression, opts->level, fd, o, err);
        if (r >= 0)
                r = wh_blob_commit(bd, fd, tmp, o->layer.digest, err);
        if (r < 0) {
                wh_blob_discard(bd, tmp);
                return r;
        }
        char d[WH_DIGEST_STR];
        r = wh_blob_put(bd, o->config, o->config_len, d, err);
        if (r >= 0)
                r = wh_blob_put(bd, o->manifest, o->manifest_len, d, err);
        return r;
}

/* Everything after the layout's directory exists; index.json last, as the commit. */
static int oci_fill(int lfd, int fresh, const char *ref, const struct wh_plan *plan,
                    const struct wh_write_opts *opts, struct image_out *o,
                    struct wh_err *err)
{
        _cleanup_json_ json_object *index = NULL;
        int r = wh_oci_index_load(lfd, &index, err);
        if (r < 0)
                return r;
        struct wh_blob_dir bd = {.dfd = -1};
        r = wh_blob_dir_open(lfd, &bd, err);
        if (r < 0)
                return r;
        r = oci_put_blobs(&bd, plan, opts, o, err);
        if (r >= 0)
                r = wh_oci_index_set(index, ref, o->manifest_digest, o->manifest_len, err);
        _cleanup_free_ char *text = r >= 0 ? wh_oci_index_text(index) : NULL;
        if (r >= 0 && !text)
                r = wh_fail(err, ENOMEM, "index.json");
        if (r >= 0 && fresh)
                r = wh_write_file_atomic_at(lfd, "oci-layout", wh_oci_layout_text,
                                            strlen(wh_oci_layout_text), 0644, err);
        if (r >= 0)
                r = wh_write_file_atomic_at(lfd, "index.json", text, strlen(text), 0644,
                                            err);
        if (r < 0)
                wh_blob_dir_rollback(&bd);
        wh_blob_dir_release(&bd);
        return r;
}

static int write_oci(const struct wh_image_ref *dest, const struct wh_plan *plan,
                     const struct wh_write_opts *opts, struct image_out *o,
                     struct wh_err *err)
{
        const char *ref = dest->ref ? dest->ref : "latest";
        int fresh = wh_dest_dir_state(dest->path, "oci-layout", "an OCI layout", err);
        if (fresh < 0)
                return fresh;
        _cleanup_free_ char *tmpdir = NULL;
        if (fresh) {
                /* A new layout is built beside its place and appears whole, by rename. */
                int r = wh_mkdtemp_beside(dest->path, &tmpdir, err);
                if (r < 0)
                        return r;
        }
        const char *dir = fresh ? tmpdir : dest->path;
        _cleanup_close_ int lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = lfd < 0 ? wh_fail(err, errno, "open '%s'", dir) : 0;
        if (r >= 0)
                r = oci_fill(lfd, fresh, ref, plan, opts, o, err);
        if (r >= 0 && fresh && fchmod(lfd, 0755) < 0)
                r = wh_fail(err, errno, "chmod '%s'", dir);
        if (r >= 0 && fresh && rename(tmpdir, dest->path) < 0)
                r = wh_fail(err, errno, "rename '%s' to '%s'", tmpdir, dest->path);
        if (r < 0 && fresh)
                wh_rm_rf_at(AT_FDCWD, tmpdir);
        return r;
}

static int cmp_member(const void *a, const void *b)
{
        const struct wh_archive_member *x = a, *y = b;
        return strcmp(x->name, y->name);
}

static int write_oci_archive(const struct wh_image_ref *dest, const struct wh_plan *plan,
                             const struct wh_write_opts *opts, struct image_out *o,
                             struct wh_err *err)
{
        _cleanup_close_ int fd = wh_tmpfile_beside(dest->path, err);
        if (fd < 0)
                return fd;
        int r = build_image(plan, opts, opts->compression, opts->level, fd, o, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *index = NULL;
        r = wh_oci_index_load(-1, &index, err);
        if (r >= 0)
                r = wh_oci_index_set(index, dest->ref ? dest->ref : "latest",
                                     o->manifest_digest, o->manifest_len, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = wh_oci_index_text(index);
        _cleanup_free_ char *n_layer = NULL, *n_config = NULL, *n_manifest = NULL;
        if (!text ||
            asprintf(&n_layer, "blobs/sha256/%s", wh_digest_hex(o->layer.digest)) < 0 ||
            asprintf(&n_config, "blobs/sha256/%s", wh_digest_hex(o->config_digest)) < 0 ||
            asprintf(&n_manifest, "blobs/sha256/%s", wh_digest_hex(o->manifest_digest)) < 0)
                return wh_fail(err, ENOMEM, "archive");
        struct wh_archive_member blobs[3] = {
                {.name = n_layer, .fd = fd, .len = o->layer.out_size},
                {.name = n_config, .data = o->config, .len = o->config_len, .fd = -1},
                {.name = n_manifest, .data = o->manifest, .len = o->manifest_len, .fd = -1},
        };
        qsort(blobs, ARRAY_SIZE(blobs), sizeof(blobs[0]), cmp_member);
        struct wh_archive_member m[] = {
                {.name = "blobs", .is_dir = 1, .fd = -1},
                {.name = "blobs/sha256", .is_dir = 1, .fd = -1},
                blobs[0],
                blobs[1],
                blobs[2],
                {.name = "index.json", .data = text, .len = strlen(text), .fd = -1},
                {.name = "oci-layout",
                 .data = wh_oci_layout_text,
                 .len = strlen(wh_oci_layout_text),
                 .fd = -1},
        };
        return wh_archive_write(dest->path, m, ARRAY_SIZE(m), opts->epoch, err);
}

/* NAME:TAG from a docker-archive reference; the tag defaults to latest. */
static char *docker_repo_tag(const char *ref, char **ret_name, char **ret_tag)
{
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(ref, ':');
        if (colon && slash && colon < slash)
                colon = NULL; /* a registry port, not a tag */
        size_t nlen = colon ? (size_t)(colon - ref) : strlen(ref);
        *ret_name = strndup(ref, nlen);
        *ret_tag = strdup(colon ? colon + 1 : "latest");
        char *rt = NULL;
        if (*ret_name && *ret_tag && asprintf(&rt, "%s:%s", *ret_name, *ret_tag) < 0)
                rt = NULL;
        return rt;
}

/* manifest.json and repositories, as `docker save` writes them. */
static int docker_json(const struct image_out *o, const char *ref, const char *config_name,
                       const char *layer_name, char **ret_manifest, char **ret_repos)
{
        _cleanup_free_ char *name = NULL, *tag = NULL, *repotag = NULL;
        if (ref && !(repotag = docker_repo_tag(ref, &name, &tag)))
                return -ENOMEM;
        _cleanup_json_ json_object *list = json_object_new_array();
        json_object *m = json_object_new_object();
        int r = list ? add_elem(list, m) : -ENOMEM;
        if (r >= 0)
                r = wh_json_add_string(m, "Config", config_name);
        json_object *tags = r >= 0 ? json_object_new_array() : NULL;
        if (r >= 0)
                r = add_obj(m, "RepoTags", tags);
        if (r >= 0 && repotag)
                r = add_elem(tags, json_object_new_string(repotag));
        json_object *layers = r >= 0 ? json_object_new_array() : NULL;
        if (r >= 0)
                r = add_obj(m, "Layers", layers);
        if (r >= 0)
                r = add_elem(layers, json_object_new_string(layer_name));
        if (r < 0 || !(*ret_manifest = wh_json_to_string(list, 0)))
                return -ENOMEM;
        *ret_repos = NULL;
        if (!repotag)
                return 0;
        /* repositories names the top layer by its directory, the legacy layer id. */
        _cleanup_json_ json_object *repos = json_object_new_object();
        json_object *byname = r >= 0 ? json_object_new_object() : NULL;
        r = repos ? add_obj(repos, name, byname) : -ENOMEM;
        if (r >= 0)
                r = wh_json_add_string(byname, tag, wh_digest_hex(o->layer.diff_id));
        if (r < 0 || !(*ret_repos = wh_json_to_string(repos, 0))) {
                free(*ret_manifest);
                *ret_manifest = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int write_docker_archive(const struct wh_image_ref *dest, const struct wh_plan *plan,
                                const struct wh_write_opts *opts, struct image_out *o,
                                struct wh_err *err)
{
        enum wh_compression comp = opts->compression;
        int level = opts->level;
        if (comp == WH_COMP_ZSTD) {
                if (opts->compression_explicit)
                        wh_warn("docker-archive: layers cannot be zstd; writing gzip");
                comp = WH_COMP_GZIP;
                level = WH_COMP_LEVEL_DEFAULT;
        }
        _cleanup_close_ int fd = wh_tmpfile_beside(dest->path, err);
        if (fd < 0)
                return fd;
        int r = build_image(plan, opts, comp, level, fd, o, err);
        if (r < 0)
                return r;
        const char *lid = wh_digest_hex(o->layer.diff_id);
        _cleanup_free_ char *n_config = NULL, *n_layer = NULL;
        _cleanup_free_ char *manifest = NULL, *repos = NULL;
        if (asprintf(&n_config, "%s.json", wh_digest_hex(o->config_digest)) < 0 ||
            asprintf(&n_layer, "%s/layer.tar", lid) < 0 ||
            docker_json(o, dest->ref, n_config, n_layer, &manifest, &repos) < 0)
                return wh_fail(err, ENOMEM, "docker-archive");
        struct wh_archive_member m[] = {
                {.name = n_config, .data = o->config, .len = o->config_len, .fd = -1},
                {.name = lid, .is_dir = 1, .fd = -1},
                {.name = n_layer, .fd = fd, .len = o->layer.out_size},
                {.name = "manifest.json",
                 .data = manifest,
                 .len = strlen(manifest),
                 .fd = -1},
                {.name = "repositories",
                 .data = repos,
                 .len = repos ? strlen(repos) : 0,
                 .fd = -1},
        };
        return wh_archive_write(dest->path, m, ARRAY_SIZE(m) - (repos ? 0 : 1), opts->epoch,
                                err);
}

static int write_dir(const struct wh_image_ref *dest, const struct wh_plan *plan,
                     const struct wh_write_opts *opts, struct wh_write_result *ret,
                     struct wh_err *err)
{
        int r = wh_rootfs_write(dest->path, plan, opts->spool_fd, opts->epoch, err);
        if (r >= 0)
                memset(ret, 0, sizeof(*ret));
        return r;
}

int wh_image_write(const struct wh_image_ref *dest, struct wh_index *idx,
                   const struct wh_write_opts *opts, struct wh_write_result *ret,
                   struct wh_err *err)
{
        const char *tname = wh_transport_name(dest->transport);
        if (dest->transport == WH_T_TAR)
                return wh_failx(err, EINVAL,
                                "tar: is a source only; write oci:, "
                                "oci-archive:, docker-archive: or dir:");
        if (dest->transport == WH_T_OSTREE && !wh_ostree_available())
                return wh_failx(err, ENOTSUP,
                                "ostree: destination not supported in this build "
                                "(build with WITH_OSTREE=1)");
        struct wh_plan plan = {0};
        int r = wh_plan_build(idx, opts->epoch, &plan, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s:%s", tname, dest->path);
        struct image_out o = {0};
        switch (dest->transport) {
        case WH_T_OCI:
                r = write_oci(dest, &plan, opts, &o, err);
                break;
        case WH_T_OCI_ARCHIVE:
                r = write_oci_archive(dest, &plan, opts, &o, err);
                break;
        case WH_T_DOCKER_ARCHIVE:
                r = write_docker_archive(dest, &plan, opts, &o, err);
                break;
        case WH_T_OSTREE:
                r = wh_ostree_write(dest->path, dest->ref, &plan, opts, ret, err);
                break;
        default:
                r = write_dir(dest, &plan, opts, ret, err);
                break;
        }
        if (r >= 0 && dest->transport != WH_T_DIR && dest->transport != WH_T_OSTREE)
                fill_result(&o, ret);
        image_out_release(&o);
        wh_plan_release(&plan);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s:%s", tname, dest->path);
        return 0;
}
