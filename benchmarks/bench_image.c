/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_image.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

#define JSON_MAX (4 * 1024 * 1024)

void bench_image_release(struct bench_image *img)
{
        free(img->layers);
        wh_strv_free(img->entrypoint);
        wh_strv_free(img->cmd);
        wh_strv_free(img->env);
        free(img->workdir);
        memset(img, 0, sizeof(*img));
}

int bench_comp_from_media_type(const char *mt, enum bench_comp *ret)
{
        static const struct {
                const char *mt;
                enum bench_comp c;
        } map[] = {
                {"application/vnd.oci.image.layer.v1.tar", BENCH_COMP_NONE},
                {"application/vnd.oci.image.layer.v1.tar+gzip", BENCH_COMP_GZIP},
                {"application/vnd.oci.image.layer.v1.tar+zstd", BENCH_COMP_ZSTD},
                {"application/vnd.docker.image.rootfs.diff.tar", BENCH_COMP_NONE},
                {"application/vnd.docker.image.rootfs.diff.tar.gzip", BENCH_COMP_GZIP},
                {"application/vnd.docker.image.rootfs.diff.tar.zstd", BENCH_COMP_ZSTD},
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
                if (!strcmp(mt, map[i].mt)) {
                        *ret = map[i].c;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *bench_comp_name(enum bench_comp c)
{
        switch (c) {
        case BENCH_COMP_GZIP:
                return "gzip";
        case BENCH_COMP_ZSTD:
                return "zstd";
        default:
                return "none";
        }
}

int bench_oci_ref_split(const char *ref, char **ret_dir, char **ret_ref)
{
        if (strncmp(ref, "oci:", 4) != 0 || !ref[4])
                return -EINVAL;
        const char *d = ref + 4, *colon = strchr(d, ':');
        char *dir = colon ? strndup(d, (size_t)(colon - d)) : strdup(d);
        char *r = colon && colon[1] ? strdup(colon + 1) : NULL;
        if (!dir || (colon && colon[1] && !r)) {
                free(dir);
                free(r);
                return -ENOMEM;
        }
        *ret_dir = dir;
        *ret_ref = r;
        return 0;
}

static int load_blob(int dfd, const char *digest, json_object **ret, struct wh_err *err)
{
        if (!wh_digest_valid(digest))
                return wh_failx(err, EINVAL, "bad digest '%s'", digest);
        char path[128];
        snprintf(path, sizeof(path), "blobs/sha256/%s", wh_digest_hex(digest));
        return wh_json_parse_file(dfd, path, JSON_MAX, ret, err);
}

/* index.json -> the manifest digest for ref. */
static int find_manifest(int dfd, const char *ref, char out[WH_DIGEST_STR],
                         struct wh_err *err)
{
        _cleanup_json_ json_object *idx = NULL;
        json_object *mans = NULL;
        int r = wh_json_parse_file(dfd, "index.json", JSON_MAX, &idx, err);
        if (r < 0)
                return r;
        r = wh_json_get_array(idx, "index.json", "manifests", 1, &mans, err);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(mans);
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(mans, i), *ann = NULL;
                const char *name = NULL, *dg = NULL;
                if (wh_json_get_string(m, "manifest", "digest", 1, &dg, err) < 0)
                        return -EINVAL;
                if (wh_json_get_object(m, "manifest", "annotations", 0, &ann, err) < 0)
                        return -EINVAL;
                if (ann)
                        wh_json_get_string(ann, "annotations",
                                           "org.opencontainers.image.ref.name", 0, &name,
                                           NULL);
                if ((!ref && n == 1) || (ref && name && !strcmp(name, ref))) {
                        snprintf(out, WH_DIGEST_STR, "%s", dg);
                        return 0;
                }
        }
        return wh_failx(err, ENOENT, "no manifest named '%s' in index.json",
                        ref ? ref : "(only one)");
}

static int load_layers(json_object *man, struct bench_image *img, struct wh_err *err)
{
        json_object *layers = NULL;
        int r = wh_json_get_array(man, "manifest", "layers", 1, &layers, err);
        if (r < 0)
                return r;
        size_t n = json_object_array_length(layers);
        img->layers = calloc(n ? n : 1, sizeof(*img->layers));
        if (!img->layers)
                return wh_fail(err, ENOMEM, "manifest");
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                const char *dg = NULL, *mt = NULL;
                struct bench_layer *bl = &img->layers[i];
                if (wh_json_get_string(l, "layer", "digest", 1, &dg, err) < 0 ||
                    wh_json_get_string(l, "layer", "mediaType", 1, &mt, err) < 0 ||
                    wh_json_get_int64(l, "layer", "size", 1, 0, INT64_MAX, &bl->size, err) <
                            0)
                        return -EINVAL;
                if (!wh_digest_valid(dg))
                        return wh_failx(err, EINVAL, "layer %zu: bad digest '%s'", i, dg);
                if (bench_comp_from_media_type(mt, &bl->comp) < 0)
                        return wh_failx(err, EINVAL, "layer %s: media type '%s'", dg, mt);
                snprintf(bl->digest, sizeof(bl->digest), "%s", dg);
                img->compressed_bytes += bl->size;
        }
        img->n_layers = n;
        return 0;
}

static int load_config(int dfd, json_object *man, struct bench_image *img,
                       struct wh_err *err)
{
        json_object *cfgdesc = NULL, *c = NULL;
        _cleanup_json_ json_object *cfg = NULL;
        const char *dg = NULL, *wd = NULL;
        int r = wh_json_get_object(man, "manifest", "config", 1, &cfgdesc, err);
        if (r < 0)
                return r;
        if ((r = wh_json_get_string(cfgdesc, "config", "digest", 1, &dg, err)) < 0)
                return r;
        if ((r = load_blob(dfd, dg, &cfg, err)) < 0)
                return wh_fail_ctx(err, r, "config %s", dg);
        snprintf(img->config_digest, sizeof(img->config_digest), "%s", dg);
        if ((r = wh_json_get_object(cfg, "config", "config", 0, &c, err)) < 0)
                return r;
        if (!c)
                return 0;
        if (wh_json_get_strv(c, "config", "Entrypoint", 0, &img->entrypoint, err) < 0 ||
            wh_json_get_strv(c, "config", "Cmd", 0, &img->cmd, err) < 0 ||
            wh_json_get_strv(c, "config", "Env", 0, &img->env, err) < 0 ||
            wh_json_get_string(c, "config", "WorkingDir", 0, &wd, err) < 0)
                return -EINVAL;
        if (wd && *wd && !(img->workdir = strdup(wd)))
                return wh_fail(err, ENOMEM, "config");
        return 0;
}

int bench_image_load(const char *dir, const char *ref, struct bench_image *ret,
                     struct wh_err *err)
{
        struct bench_image img = {0};
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "image '%s'", dir);
        _cleanup_json_ json_object *man = NULL;
        int r = find_manifest(dfd, ref, img.manifest_digest, err);
        if (r >= 0)
                r = load_blob(dfd, img.manifest_digest, &man, err);
        if (r >= 0)
                r = load_layers(man, &img, err);
        if (r >= 0)
                r = load_config(dfd, man, &img, err);
        if (r < 0) {
                bench_image_release(&img);
                return wh_fail_ctx(err, r, "image '%s'", dir);
        }
        *ret = img;
        return 0;
}
