/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifest resolution. The order of checks is fixed: a blob's digest and
 * size are verified before its JSON is parsed, a manifest's media type
 * before its fields are trusted, and every layer descriptor before any
 * layer is opened.
 */
#include "oci_manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "parse_num.h"
#include "path_safe.h"
#include "sha256.h"

#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define REF_NAME           "org.opencontainers.image.ref.name"
#define MAX_NESTING        4

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__i386__)
#define HOST_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ARCH "ppc64le"
#elif defined(__s390x__)
#define HOST_ARCH "s390x"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_ARCH "riscv64"
#else
#define HOST_ARCH "amd64"
#endif

static const struct {
        const char *mt;
        int gzip, zstd;
} layer_types[] = {
        {"application/vnd.oci.image.layer.v1.tar", 0, 0},
        {"application/vnd.oci.image.layer.v1.tar+gzip", 1, 0},
        {"application/vnd.oci.image.layer.v1.tar+zstd", 0, 1},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar", 0, 0},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", 1, 0},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", 0, 1},
        {"application/vnd.docker.image.rootfs.diff.tar", 0, 0},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", 1, 0},
        {"application/vnd.docker.image.rootfs.diff.tar.zstd", 0, 1},
        {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", 1, 0},
};

int wh_layer_media_type(const char *mt, int *ret_gzip, int *ret_zstd)
{
        for (size_t i = 0; i < sizeof(layer_types) / sizeof(layer_types[0]); i++)
                if (strcmp(mt, layer_types[i].mt) == 0) {
                        if (ret_gzip)
                                *ret_gzip = layer_types[i].gzip;
                        if (ret_zstd)
                                *ret_zstd = layer_types[i].zstd;
                        return 1;
                }
        return 0;
}

static int blob_name(const char *digest, char **ret, struct wh_err *err)
{
        if (!wh_digest_valid(digest))
                return wh_failx(err, EINVAL, "unsupported or malformed digest '%s'",
                                digest);
        if (asprintf(ret, "blobs/sha256/%s", wh_digest_hex(digest)) < 0)
                return wh_fail(err, ENOMEM, "blob %s", digest);
        return 0;
}

int wh_oci_read_blob(int dirfd, const char *digest, int64_t size, size_t max, char **ret,
                     size_t *ret_len, struct wh_err *err)
{
        _cleanup_free_ char *name = NULL;
        int r = blob_name(digest, &name, err);
        if (r < 0)
                return r;
        if (size < 0 || (uint64_t)size > max)
                return wh_failx(err, EFBIG, "blob %s: size %lld is past the %zu byte cap",
                                digest, (long long)size, max);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = wh_read_file_at(dirfd, name, max, &buf, &len, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "blob %s", digest);
        if (len != (size_t)size)
                return wh_failx(
                        err, EINVAL,
                        "blob %s: size mismatch: descriptor says %lld bytes, blob has %zu",
                        digest, (long long)size, len);
        char got[WH_DIGEST_STR];
        wh_sha256_digest(buf, len, got);
        if (strcmp(got, digest) != 0)
                return wh_failx(err, EINVAL, "blob %s: digest mismatch: content is %s",
                                digest, got);
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

struct desc {
        const char *media_type; /* borrowed from the JSON */
        const char *digest;
        int64_t size;
};

static int parse_desc(json_object *o, const char *what, struct desc *d, struct wh_err *err)
{
        int r;
        d->media_type = NULL;
        if ((r = wh_json_get_string(o, what, "mediaType", 0, &d->media_type, err)) < 0 ||
            (r = wh_json_get_string(o, what, "digest", 1, &d->digest, err)) < 0 ||
            (r = wh_json_get_int64(o, what, "size", 1, 0, INT64_MAX, &d->size, err)) < 0)
                return r;
        if (!wh_digest_valid(d->digest))
                return wh_failx(err, EINVAL,
                                "%s.digest: unsupported or malformed digest '%s'", what,
                                d->digest);
        return 0;
}

static int read_json_blob(int dirfd, const struct desc *d, const char *what,
                          json_object **ret, struct wh_err *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = wh_oci_read_blob(dirfd, d->digest, d->size, WH_MAX_JSON, &buf, &len, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s", what);
        r = wh_json_parse(buf, len, what, ret, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(*ret, json_type_object))
                return wh_failx(err, EINVAL, "%s %s: not a JSON object", what, d->digest);
        return 0;
}

static int add_layer(struct wh_source *src, const char *dir, const char *what,
                     json_object *lo, struct wh_err *err)
{
        struct desc d;
        int r = parse_desc(lo, what, &d, err);
        if (r < 0)
                return r;
        if (!d.media_type || !wh_layer_media_type(d.media_type, NULL, NULL))
                return wh_failx(err, EINVAL, "%s: unsupported layer media type '%s'", what,
                                d.media_type ? d.media_type : "(none)");
        struct wh_layer_desc *l = &src->layers[src->n_layers];
        l->digest = strdup(d.digest);
        l->media_type = strdup(d.media_type);
        l->size = d.size;
        if (asprintf(&l->blob_path, "%s/blobs/sha256/%s", dir, wh_digest_hex(d.digest)) < 0)
                l->blob_path = NULL;
        src->n_layers++;
        if (!l->digest || !l->media_type || !l->blob_path)
                return wh_fail(err, ENOMEM, "%s", what);
        src->compressed_bytes += (uint64_t)d.size;
        return 0;
}

static int load_manifest(int dirfd, const char *dir, const struct desc *md,
                         struct wh_source *src, struct wh_err *err)
{
        _cleanup_json_ json_object *m = NULL;
        int r = read_json_blob(dirfd, md, "manifest", &m, err);
        if (r < 0)
                return r;
        const char *mt = NULL;
        if ((r = wh_json_get_string(m, "manifest", "mediaType", 0, &mt, err)) < 0)
                return r;
        if (mt && md->media_type && strcmp(mt, md->media_type) != 0)
                return wh_failx(
                        err, EINVAL,
                        "manifest %s: media type '%s' differs from its descriptor's '%s'",
                        md->digest, mt, md->media_type);
        if (!mt)
                mt = md->media_type ? md->media_type : MT_OCI_MANIFEST;
        if (strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
                return wh_failx(err, EINVAL, "manifest %s: unsupported media type '%s'",
                                md->digest, mt);

        json_object *co, *layers;
        struct desc cd;
        if ((r = wh_json_get_object(m, "manifest", "config", 1, &co, err)) < 0 ||
            (r = parse_desc(co, "manifest.config", &cd, err)) < 0 ||
            (r = wh_json_get_array(m, "manifest", "layers", 1, &layers, err)) < 0)
                return r;
        if (!cd.media_type || (strcmp(cd.media_type, MT_OCI_CONFIG) != 0 &&
                               strcmp(cd.media_type, MT_DOCKER_CONFIG) != 0))
                return wh_failx(err, EINVAL, "manifest.config: unsupported media type '%s'",
                                cd.media_type ? cd.media_type : "(none)");
        r = read_json_blob(dirfd, &cd, "config", &src->config, err);
        if (r < 0)
                return r;

        size_t n = json_object_array_length(layers);
        if (n > WH_MAX_LAYERS)
                return wh_failx(err, E2BIG, "manifest: %zu layers, more than %d", n,
                                WH_MAX_LAYERS);
        src->layers = calloc(n ? n : 1, sizeof(*src->layers));
        if (!src->layers)
                return wh_fail(err, ENOMEM, "manifest");
        for (size_t i = 0; i < n; i++) {
                char what[48];
                snprintf(what, sizeof(what), "manifest.layers[%zu]", i);
                r = add_layer(src, dir, what, json_object_array_get_idx(layers, i), err);
                if (r < 0)
                        return r;
        }
        src->manifest_digest = strdup(md->digest);
        src->config_digest = strdup(cd.digest);
        if (!src->manifest_digest || !src->config_digest)
                return wh_fail(err, ENOMEM, "manifest");
        return 0;
}

static int is_index_type(const char *mt)
{
        return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

/* 1 when the descriptor names linux on the host's architecture. */
static int platform_matches(json_object *d)
{
        json_object *p = NULL;
        const char *os = NULL, *arch = NULL;
        /* Optional lookups leave the outputs NULL when absent. */
        if (wh_json_get_object(d, "descriptor", "platform", 0, &p, NULL) < 0 || !p)
                return 0;
        if (wh_json_get_string(p, "platform", "os", 0, &os, NULL) < 0 ||
            wh_json_get_string(p, "platform", "architecture", 0, &arch, NULL) < 0 || !os ||
            !arch)
                return 0;
        return strcmp(os, "linux") == 0 && strcmp(arch, HOST_ARCH) == 0;
}

static const char *ref_name(json_object *d)
{
        json_object *ann = NULL;
        const char *name = NULL;
        if (wh_json_get_object(d, "descriptor", "annotations", 0, &ann, NULL) == 0 && ann &&
            wh_json_get_string(ann, "annotations", REF_NAME, 0, &name, NULL) < 0)
                name = NULL;
        return name;
}

static int pick_descriptor(json_object *manifests, const char *ref, const char *where,
                           json_object **ret, struct wh_err *err);

static int load_desc(int dirfd, const char *dir, json_object *dj, int depth,
                     struct wh_source *src, struct wh_err *err)
{
        struct desc d;
        int r = parse_desc(dj, "index.manifests[]", &d, err);
        if (r < 0)
                return r;
        if (!is_index_type(d.media_type))
                return load_manifest(dirfd, dir, &d, src, err);
        if (depth >= MAX_NESTING)
                return wh_failx(err, ELOOP, "image indexes nested deeper than %d",
                                MAX_NESTING);
        _cleanup_json_ json_object *idx = NULL;
        json_object *manifests, *pick;
        if ((r = read_json_blob(dirfd, &d, "image index", &idx, err)) < 0 ||
            (r = wh_json_get_array(idx, "image index", "manifests", 1, &manifests, err)) <
                    0 ||
            (r = pick_descriptor(manifests, NULL, d.digest, &pick, err)) < 0)
                return r;
        return load_desc(dirfd, dir, pick, depth + 1, src, err);
}

/* Lists the ref names of manifests into buf for error messages. */
static void list_refs(json_object *manifests, char *buf, size_t cap)
{
        size_t o = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < json_object_array_length(manifests) && o + 1 < cap; i++) {
                const char *n = ref_name(json_object_array_get_idx(manifests, i));
                int k = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "",
                                 n ? n : "(unnamed)");
                if (k < 0)
                        break;
                o += (size_t)k;
        }
        if (o >= cap && cap > 4)
                memcpy(buf + cap - 4, "...", 4);
}

static int pick_descriptor(json_object *manifests, const char *ref, const char *where,
                           json_object **ret, struct wh_err *err)
{
        size_t n = json_object_array_length(manifests);
        json_object *found = NULL;
        char names[512];
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(manifests, i);
                const char *name = ref_name(d);
                if (ref ? (name && strcmp(name, ref) == 0) : platform_matches(d)) {
                        if (!found)
                                found = d;
                }
        }
        /* Without a name, a lone manifest is the one whatever its platform. */
        if (!ref && n == 1)
                found = json_object_array_get_idx(manifests, 0);
        if (found) {
                *ret = found;
                return 0;
        }
        list_refs(manifests, names, sizeof(names));
        if (ref)
                return wh_failx(err, ENOENT, "%s: no manifest named '%s' (available: %s)",
                                where, ref, n ? names : "none");
        if (n == 0)
                return wh_failx(err, ENOENT, "%s: no manifests", where);
        return wh_failx(err, EINVAL,
                        "%s: %zu manifests and none for linux/%s: name one with :REF "
                        "(available: %s)",
                        where, n, HOST_ARCH, names);
}

int wh_oci_load(int dirfd, const char *dir, const char *ref, struct wh_source *src,
                struct wh_err *err)
{
        _cleanup_json_ json_object *layout = NULL, *index = NULL;
        const char *ver = NULL;
        json_object *manifests, *pick;
        int r = wh_json_parse_file(dirfd, "oci-layout", 4096, &layout, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s: not an OCI layout", dir);
        if ((r = wh_json_get_string(layout, "oci-layout", "imageLayoutVersion", 1, &ver,
                                    err)) < 0)
                return r;
        r = wh_json_parse_file(dirfd, "index.json", WH_MAX_JSON, &index, err);
        if (r < 0)
                return r;
        const char *mt = NULL;
        if ((r = wh_json_get_string(index, "index.json", "mediaType", 0, &mt, err)) < 0)
                return r;
        if (mt && strcmp(mt, MT_OCI_INDEX) != 0)
                return wh_failx(err, EINVAL, "index.json: unsupported media type '%s'", mt);
        if ((r = wh_json_get_array(index, "index.json", "manifests", 1, &manifests, err)) <
                    0 ||
            (r = pick_descriptor(manifests, ref, "index.json", &pick, err)) < 0)
                return r;
        return load_desc(dirfd, dir, pick, 0, src, err);
}

/* ---- docker save ---- */

static int follow_links(const struct wh_archive_link *links, size_t n, char **path)
{
        for (int hops = 0; hops < 40; hops++) {
                size_t i;
                for (i = 0; i < n; i++)
                        if (strcmp(links[i].path, *path) == 0)
                                break;
                if (i == n)
                        return 0;
                char *t = strdup(links[i].target);
                if (!t)
                        return -ENOMEM;
                free(*path);
                *path = t;
        }
        return -ELOOP;
}

static int pick_docker_entry(json_object *arr, const char *ref, json_object **ret,
                             struct wh_err *err)
{
        size_t n = json_object_array_length(arr);
        int64_t want = -1;
        if (ref && ref[0] == '@' && wh_parse_i64(ref + 1, 0, INT32_MAX, &want) < 0)
                return wh_failx(err, EINVAL, "'%s': expected @INDEX", ref);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                if (!ref && n == 1) {
                        *ret = e;
                        return 0;
                }
                if (want >= 0) {
                        if ((int64_t)i == want) {
                                *ret = e;
                                return 0;
                        }
                        continue;
                }
                _cleanup_strv_ char **tags = NULL;
                if (!ref ||
                    wh_json_get_strv(e, "manifest.json[]", "RepoTags", 0, &tags, NULL) < 0)
                        continue;
                for (char **t = tags; t && *t; t++) {
                        const char *s = *t;
                        if (strncmp(s, "docker.io/library/", 18) == 0 &&
                            strcmp(s + 18, ref) == 0)
                                s += 18;
                        if (strcmp(s, ref) == 0 || strcmp(*t, ref) == 0) {
                                *ret = e;
                                return 0;
                        }
                }
        }
        if (!ref)
                return wh_failx(
                        err, EINVAL,
                        "manifest.json: %zu images: name one with :NAME:TAG or :@INDEX", n);
        return wh_failx(err, ENOENT, "manifest.json: no image '%s'", ref);
}

static int docker_config(int dirfd, const char *cfg_path, struct wh_source *src,
                         struct wh_err *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = wh_read_file_at(dirfd, cfg_path, WH_MAX_JSON, &buf, &len, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "config");
        char got[WH_DIGEST_STR];
        wh_sha256_digest(buf, len, got);
        /* Docker names the config after its digest: "<hex>.json" or "blobs/sha256/<hex>".
         */
        const char *base = strrchr(cfg_path, '/');
        base = base ? base + 1 : cfg_path;
        if (strlen(base) >= WH_SHA256_HEX &&
            strspn(base, "0123456789abcdef") == WH_SHA256_HEX &&
            strncmp(base, wh_digest_hex(got), WH_SHA256_HEX) != 0)
                return wh_failx(err, EINVAL, "config %s: digest mismatch: content is %s",
                                cfg_path, got);
        src->config_digest = strdup(got);
        if (!src->config_digest)
                return wh_fail(err, ENOMEM, "config");
        r = wh_json_parse(buf, len, "config", &src->config, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(src->config, json_type_object))
                return wh_failx(err, EINVAL, "config %s: not a JSON object", cfg_path);
        return 0;
}

static int docker_layer(int dirfd, const char *dir, const char *path, const char *diff_id,
                        const struct wh_archive_link *links, size_t n_links,
                        struct wh_layer_desc *l, struct wh_err *err)
{
        _cleanup_free_ char *p = NULL;
        if (wh_path_clean(path, 0, &p) < 0 || !*p)
                return wh_failx(err, EINVAL, "layer path '%s' leaves the archive", path);
        if (follow_links(links, n_links, &p) < 0)
                return wh_failx(err, ELOOP, "layer path '%s': too many links", path);
        _cleanup_close_ int fd = openat(dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return wh_fail(err, errno, "layer '%s'", path);
        struct stat st;
        unsigned char magic[4] = {0};
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return wh_failx(err, EINVAL, "layer '%s': not a regular file", path);
        ssize_t m = pread(fd, magic, sizeof(magic), 0);
        int gz = m >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        int zs = m >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
                 magic[3] == 0xfd;
        l->digest = strdup(diff_id);
        l->media_type = strdup(gz   ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                               : zs ? "application/vnd.docker.image.rootfs.diff.tar.zstd"
                                    : "application/vnd.docker.image.rootfs.diff.tar");
        l->size = st.st_size;
        l->digest_uncompressed = 1;
        if (asprintf(&l->blob_path, "%s/%s", dir, p) < 0)
                l->blob_path = NULL;
        if (!l->digest || !l->media_type || !l->blob_path)
                return wh_fail(err, ENOMEM, "layer '%s'", path);
        return 0;
}

int wh_docker_load(int dirfd, const char *dir, const char *ref,
                   const struct wh_archive_link *links, size_t n_links,
                   struct wh_source *src, struct wh_err *err)
{
        _cleanup_json_ json_object *man = NULL;
        json_object *entry = NULL, *diff_ids = NULL, *rootfs = NULL;
        const char *cfg;
        _cleanup_strv_ char **layers = NULL;
        int r = wh_json_parse_file(dirfd, "manifest.json", WH_MAX_JSON, &man, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "docker archive");
        if (!json_object_is_type(man, json_type_array))
                return wh_failx(err, EINVAL, "manifest.json: expected an array");
        if ((r = pick_docker_entry(man, ref, &entry, err)) < 0 ||
            (r = wh_json_get_string(entry, "manifest.json[]", "Config", 1, &cfg, err)) <
                    0 ||
            (r = wh_json_get_strv(entry, "manifest.json[]", "Layers", 1, &layers, err)) < 0)
                return r;
        _cleanup_free_ char *cfg_path = NULL;
        if (wh_path_clean(cfg, 0, &cfg_path) < 0 || !*cfg_path ||
            follow_links(links, n_links, &cfg_path) < 0)
                return wh_failx(err, EINVAL, "manifest.json: bad Config path '%s'", cfg);
        if ((r = docker_config(dirfd, cfg_path, src, err)) < 0 ||
            (r = wh_json_get_object(src->config, "config", "rootfs", 1, &rootfs, err)) <
                    0 ||
            (r = wh_json_get_array(rootfs, "config.rootfs", "diff_ids", 1, &diff_ids,
                                   err)) < 0)
                return r;
        size_t n = 0;
        while (layers[n])
                n++;
        if (n > WH_MAX_LAYERS)
                return wh_failx(err, E2BIG, "manifest.json: %zu layers, more than %d", n,
                                WH_MAX_LAYERS);
        if (json_object_array_length(diff_ids) != n)
                return wh_failx(err, EINVAL, "config: %zu diff_ids for %zu layers",
                                json_object_array_length(diff_ids), n);
        src->layers = calloc(n ? n : 1, sizeof(*src->layers));
        if (!src->layers)
                return wh_fail(err, ENOMEM, "docker archive");
        for (size_t i = 0; i < n; i++) {
                const char *id =
                        json_object_get_string(json_object_array_get_idx(diff_ids, i));
                if (!id || !wh_digest_valid(id))
                        return wh_failx(err, EINVAL,
                                        "config.rootfs.diff_ids[%zu]: bad digest", i);
                src->n_layers++;
                r = docker_layer(dirfd, dir, layers[i], id, links, n_links, &src->layers[i],
                                 err);
                if (r < 0)
                        return r;
                src->compressed_bytes += (uint64_t)src->layers[i].size;
        }
        return 0;
}
