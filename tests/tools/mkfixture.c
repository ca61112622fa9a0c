/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkfixture MANIFEST OUTDIR: builds a test image (OCI layout, optionally a
 * docker-save archive too) from a text manifest, so fixtures live in the
 * tree as readable text and never as opaque blobs. The tar writer is our
 * own, not libarchive's, because hostile fixtures need headers no sane
 * writer produces (absurd sizes, "..", absolute names). Output is a pure
 * function of the manifest and the host files it names: no timestamps,
 * no owner names, entries in manifest order.
 *
 * The manifest language is documented in tests/fixtures/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "err.h"
#include "fs_util.h"
#include "json_util.h"
#include "mkfixture/fx_layer.h"
#include "parse_num.h"
#include "path_safe.h"
#include "sha256.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MAX_LAYERS 64
#define MAX_TOKENS 16

struct fx {
        int out_fd, blobs_fd;
        struct fx_layer layers[MAX_LAYERS];
        size_t n_layers;
        json_object *top;  /* config: top-level members */
        json_object *conf; /* config.config */
        char **refs;
        size_t n_refs;
        char *docker_file, *docker_tag;
        bool keep_raw;
        bool bad_config_json, bad_manifest_mt, missing_config;
        int64_t mtime;
        unsigned char buf[FX_BUFSZ];
};

/* ---- entries ---- */

static struct fx_layer *cur_layer(struct fx *fx)
{
        return fx->n_layers ? &fx->layers[fx->n_layers - 1] : NULL;
}

/* Records h->path in the layer set; 1 when it was there already (skip it). */
static int note_path(struct fx *fx, const char *path, bool dedup, struct wh_err *err)
{
        int r = fx_seen_add(cur_layer(fx), path);
        if (r < 0)
                return wh_fail(err, -r, "path set");
        return dedup ? r : 0;
}

static int add_entry(struct fx *fx, struct fx_hdr *h, const char *content, bool dedup,
                     struct wh_err *err)
{
        int r = note_path(fx, h->path, dedup, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (h->mtime == INT64_MIN)
                h->mtime = fx->mtime;
        if (!content)
                return fx_write_header(cur_layer(fx), h, err);
        struct fx_content c;
        r = fx_content_open(content, &c, err);
        if (r >= 0) {
                h->size = c.size;
                r = fx_write_header(cur_layer(fx), h, err);
        }
        if (r >= 0)
                r = fx_content_stream(cur_layer(fx), &c, err);
        if (r >= 0)
                r = fx_tar_pad(cur_layer(fx), c.size, err);
        fx_content_release(&c);
        return r;
}

/* ---- host files: a path with every symlink and directory on its way ---- */

static int host_import(struct fx *fx, const char *path, int depth, struct wh_err *err);

static int host_import_link(struct fx *fx, const char *rel, const char *rest, int depth,
                            struct wh_err *err)
{
        char target[PATH_MAX], abs[PATH_MAX + 1];
        snprintf(abs, sizeof(abs), "/%s", rel);
        ssize_t n = readlink(abs, target, sizeof(target) - 1);
        if (n < 0)
                return wh_fail(err, errno, "readlink '%s'", abs);
        target[n] = '\0';
        struct fx_hdr h = {.path = rel, .type = '2', .mode = 0777, .link = target,
                        .mtime = INT64_MIN};
        int r = add_entry(fx, &h, NULL, true, err);
        if (r < 0)
                return r;
        /* resolve on the host: relative targets from the link's directory */
        _cleanup_free_ char *joined = NULL, *clean = NULL;
        const char *slash = strrchr(rel, '/');
        int dl = slash ? (int)(slash - rel) : 0;
        if (asprintf(&joined, "%s%.*s/%s/%s", target[0] == '/' ? "" : "/",
                     target[0] == '/' ? 0 : dl, rel, target, rest) < 0)
                return wh_fail(err, ENOMEM, "path");
        r = wh_path_clean(joined, WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT, &clean);
        if (r < 0)
                return wh_fail(err, -r, "resolve '%s'", joined);
        return host_import(fx, clean, depth + 1, err);
}

static int host_import(struct fx *fx, const char *path, int depth, struct wh_err *err)
{
        if (depth > 40)
                return wh_failx(err, ELOOP, "too many symlinks importing '%s'", path);
        _cleanup_free_ char *rel = NULL;
        int r = wh_path_clean(path, WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT, &rel);
        if (r < 0)
                return wh_fail(err, -r, "host path '%s'", path);
        for (char *p = rel; *p;) {
                char *e = strchrnul(p, '/');
                char saved = *e;
                *e = '\0';
                char abs[PATH_MAX + 2];
                struct stat st;
                snprintf(abs, sizeof(abs), "/%s", rel);
                if (lstat(abs, &st) < 0)
                        return wh_fail(err, errno, "host path '%s'", abs);
                const char *rest = saved ? e + 1 : "";
                if (S_ISLNK(st.st_mode))
                        return host_import_link(fx, rel, rest, depth, err);
                struct fx_hdr h = {.path = rel, .mode = st.st_mode & 07777, .mtime = INT64_MIN};
                if (S_ISDIR(st.st_mode)) {
                        h.type = '5';
                        r = add_entry(fx, &h, NULL, true, err);
                } else if (S_ISREG(st.st_mode) && !saved) {
                        _cleanup_free_ char *spec = NULL;
                        if (asprintf(&spec, "host:%s", abs) < 0)
                                return wh_fail(err, ENOMEM, "path");
                        h.type = '0';
                        r = add_entry(fx, &h, spec, true, err);
                } else {
                        return wh_failx(err, EINVAL, "host path '%s': not a dir, file or link",
                                        abs);
                }
                if (r < 0)
                        return r;
                *e = saved;
                p = saved ? e + 1 : e;
        }
        return 0;
}

/* Runs ldd on a host program and imports every library it names. */
static int host_import_deps(struct fx *fx, const char *prog, struct wh_err *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return wh_fail(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0)
                return wh_fail(err, errno, "fork");
        if (pid == 0) {
                dup2(pfd[1], STDOUT_FILENO);
                execlp("ldd", "ldd", prog, (char *)NULL);
                _exit(127);
        }
        close(pfd[1]);
        _cleanup_fclose_ FILE *f = fdopen(pfd[0], "r");
        if (!f) {
                close(pfd[0]);
                waitpid(pid, NULL, 0);
                return wh_fail(err, errno, "fdopen");
        }
        char line[PATH_MAX + 256];
        int r = 0;
        while (r >= 0 && fgets(line, sizeof(line), f)) {
                if (strstr(line, "not found")) {
                        r = wh_failx(err, ENOENT, "ldd %s: %s", prog, line);
                        break;
                }
                char *p = strstr(line, "=> ");
                p = p ? p + 3 : line + strspn(line, " \t");
                if (*p != '/')
                        continue; /* vdso, "statically linked" */
                p[strcspn(p, " \t\n")] = '\0';
                r = host_import(fx, p, 0, err);
        }
        int status;
        waitpid(pid, &status, 0);
        return r;
}

/* ---- blobs, config, manifest, index ---- */

static int write_blob(struct fx *fx, const char *data, size_t len, char digest[WH_DIGEST_STR],
                      struct wh_err *err)
{
        wh_sha256_digest(data, len, digest);
        _cleanup_close_ int fd = openat(fx->blobs_fd, wh_digest_hex(digest),
                                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                                        0644);
        if (fd < 0)
                return wh_fail(err, errno, "create blob");
        int r = wh_write_all(fd, data, len);
        return r < 0 ? wh_fail(err, -r, "write blob") : 0;
}

static const char *json_text(json_object *o)
{
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
}

static json_object *descriptor(const char *mt, const char *digest, int64_t size)
{
        json_object *d = json_object_new_object();
        json_object_object_add(d, "mediaType", json_object_new_string(mt));
        json_object_object_add(d, "digest", json_object_new_string(digest));
        json_object_object_add(d, "size", json_object_new_int64(size));
        return d;
}

static const char *layer_mt(const struct fx_layer *l)
{
        return l->comp == FX_GZIP ? MT_LAYER "+gzip" : l->comp == FX_ZSTD ? MT_LAYER "+zstd"
                                                                       : MT_LAYER;
}

/* The hostile "corrupt" variants, applied to finished blobs. */
static int corrupt_layer(struct fx *fx, struct fx_layer *l, struct wh_err *err)
{
        if (l->truncate) {
                _cleanup_close_ int fd = openat(fx->blobs_fd, wh_digest_hex(l->digest),
                                                O_RDWR | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || ftruncate(fd, (off_t)(l->blob_size / 2)) < 0)
                        return wh_fail(err, errno, "truncate layer");
                /* the descriptor matches the cut blob: only the stream is broken */
                l->blob_size /= 2;
                _cleanup_sha256_ struct wh_sha256 *h = wh_sha256_new();
                uint64_t done = 0;
                while (h && done < l->blob_size) {
                        size_t n = l->blob_size - done < FX_BUFSZ ? l->blob_size - done : FX_BUFSZ;
                        if (wh_pread_all(fd, fx->buf, n, (off_t)done) < 0)
                                return wh_fail(err, EIO, "read layer");
                        wh_sha256_update(h, fx->buf, n);
                        done += n;
                }
                char old[WH_DIGEST_STR];
                memcpy(old, l->digest, sizeof(old));
                wh_sha256_final(h, l->digest);
                if (renameat(fx->blobs_fd, wh_digest_hex(old), fx->blobs_fd,
                             wh_digest_hex(l->digest)) < 0)
                        return wh_fail(err, errno, "rename layer");
        }
        if (l->wrong_digest) {
                /* the blob moves to the wrong name: found, but its hash differs */
                char old[WH_DIGEST_STR];
                memcpy(old, l->digest, sizeof(old));
                char *last = &l->digest[WH_DIGEST_STR - 2];
                *last = *last == '0' ? '1' : '0';
                if (renameat(fx->blobs_fd, wh_digest_hex(old), fx->blobs_fd,
                             wh_digest_hex(l->digest)) < 0)
                        return wh_fail(err, errno, "rename layer");
        }
        if (l->missing && unlinkat(fx->blobs_fd, wh_digest_hex(l->digest), 0) < 0)
                return wh_fail(err, errno, "remove layer");
        return 0;
}

static int write_config(struct fx *fx, char **ret_text, char digest[WH_DIGEST_STR],
                        struct wh_err *err)
{
        _cleanup_json_ json_object *c = json_object_new_object();
        json_object *v;
        if (json_object_object_get_ex(fx->top, "created", &v))
                json_object_object_add(c, "created", json_object_get(v));
        json_object_object_add(c, "architecture", json_object_new_string("amd64"));
        json_object_object_add(c, "os", json_object_new_string("linux"));
        json_object_object_foreach(fx->top, key, val)
                json_object_object_add(c, key, json_object_get(val));
        json_object_object_add(c, "config", json_object_get(fx->conf));
        json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
        json_object *hist = json_object_new_array();
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        for (size_t i = 0; i < fx->n_layers; i++) {
                char what[64];
                json_object *h = json_object_new_object();
                snprintf(what, sizeof(what), "mkfixture layer %zu", i);
                json_object_array_add(ids, json_object_new_string(fx->layers[i].diff_id));
                json_object_object_add(h, "created_by", json_object_new_string(what));
                json_object_array_add(hist, h);
        }
        json_object_object_add(rootfs, "diff_ids", ids);
        json_object_object_add(c, "rootfs", rootfs);
        json_object_object_add(c, "history", hist);
        const char *text = json_text(c);
        if (fx->bad_config_json)
                text = "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {";
        *ret_text = strdup(text);
        if (!*ret_text)
                return wh_fail(err, ENOMEM, "config");
        int r = write_blob(fx, *ret_text, strlen(*ret_text), digest, err);
        if (r >= 0 && fx->missing_config && unlinkat(fx->blobs_fd, wh_digest_hex(digest), 0) < 0)
                return wh_fail(err, errno, "remove config");
        return r;
}

static int write_oci(struct fx *fx, const char *config_digest, size_t config_len,
                     struct wh_err *err)
{
        const char *mmt = fx->bad_manifest_mt ? "application/vnd.example.bogus+json"
                                              : MT_MANIFEST;
        _cleanup_json_ json_object *m = json_object_new_object();
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string(mmt));
        json_object_object_add(m, "config",
                               descriptor(MT_CONFIG, config_digest, (int64_t)config_len));
        json_object *layers = json_object_new_array();
        for (size_t i = 0; i < fx->n_layers; i++) {
                struct fx_layer *l = &fx->layers[i];
                json_object_array_add(layers,
                                      descriptor(layer_mt(l), l->digest,
                                                 (int64_t)l->blob_size + l->desc_size_delta));
        }
        json_object_object_add(m, "layers", layers);
        const char *mtext = json_text(m);
        char mdigest[WH_DIGEST_STR];
        int r = write_blob(fx, mtext, strlen(mtext), mdigest, err);
        if (r < 0)
                return r;

        _cleanup_json_ json_object *idx = json_object_new_object();
        json_object *list = json_object_new_array();
        json_object_object_add(idx, "schemaVersion", json_object_new_int(2));
        json_object_object_add(idx, "mediaType", json_object_new_string(MT_INDEX));
        for (size_t i = 0; i < (fx->n_refs ? fx->n_refs : 1); i++) {
                json_object *d = descriptor(mmt, mdigest, (int64_t)strlen(mtext));
                if (fx->n_refs) {
                        json_object *ann = json_object_new_object();
                        json_object_object_add(ann, "org.opencontainers.image.ref.name",
                                               json_object_new_string(fx->refs[i]));
                        json_object_object_add(d, "annotations", ann);
                }
                json_object_array_add(list, d);
        }
        json_object_object_add(idx, "manifests", list);
        const char *itext = json_text(idx);
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        r = wh_write_file_atomic_at(fx->out_fd, "index.json", itext, strlen(itext), 0644, err);
        if (r >= 0)
                r = wh_write_file_atomic_at(fx->out_fd, "oci-layout", layout, strlen(layout),
                                            0644, err);
        return r;
}

static int dtar_file(int fd, const char *path, char type, const void *data, uint64_t size,
                     int src_fd, unsigned char *buf)
{
        char b[512];
        struct fx_hdr h = {.path = path, .type = type, .mode = type == '5' ? 0755 : 0644,
                        .size = size};
        fx_build_header(&h, b);
        int r = wh_write_all(fd, b, sizeof(b));
        if (r < 0)
                return r;
        if (data)
                r = wh_write_all(fd, data, (size_t)size);
        for (uint64_t done = 0; r >= 0 && src_fd >= 0 && done < size;) {
                size_t n = size - done < FX_BUFSZ ? (size_t)(size - done) : FX_BUFSZ;
                r = wh_pread_all(src_fd, buf, n, (off_t)done);
                if (r >= 0)
                        r = wh_write_all(fd, buf, n);
                done += n;
        }
        static const char zero[512];
        if (r >= 0 && size % 512)
                r = wh_write_all(fd, zero, 512 - size % 512);
        return r;
}

/* A "docker save" archive: <config>.json, <diff_id>/layer.tar, manifest.json. */
static int write_docker(struct fx *fx, const char *config, const char *config_digest,
                        struct wh_err *err)
{
        _cleanup_close_ int fd = openat(fx->out_fd, fx->docker_file,
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                        0644);
        if (fd < 0)
                return wh_fail(err, errno, "create '%s'", fx->docker_file);
        char name[128];
        snprintf(name, sizeof(name), "%s.json", wh_digest_hex(config_digest));
        _cleanup_json_ json_object *m = json_object_new_array();
        json_object *e = json_object_new_object(), *tags = json_object_new_array();
        json_object *layers = json_object_new_array();
        json_object_array_add(m, e);
        json_object_object_add(e, "Config", json_object_new_string(name));
        json_object_array_add(tags, json_object_new_string(fx->docker_tag ? fx->docker_tag
                                                                          : "fixture:latest"));
        json_object_object_add(e, "RepoTags", tags);
        json_object_object_add(e, "Layers", layers);
        int r = dtar_file(fd, name, '0', config, strlen(config), -1, fx->buf);
        for (size_t i = 0; r >= 0 && i < fx->n_layers; i++) {
                struct fx_layer *l = &fx->layers[i];
                snprintf(name, sizeof(name), "%s/", wh_digest_hex(l->diff_id));
                r = dtar_file(fd, name, '5', NULL, 0, -1, fx->buf);
                snprintf(name, sizeof(name), "%s/layer.tar", wh_digest_hex(l->diff_id));
                json_object_array_add(layers, json_object_new_string(name));
                if (r >= 0)
                        r = dtar_file(fd, name, '0', NULL, l->tar_size, l->raw_fd, fx->buf);
        }
        const char *mtext = json_text(m);
        if (r >= 0)
                r = dtar_file(fd, "manifest.json", '0', mtext, strlen(mtext), -1, fx->buf);
        static const char eof[1024];
        if (r >= 0)
                r = wh_write_all(fd, eof, sizeof(eof));
        return r < 0 ? wh_fail(err, -r, "write '%s'", fx->docker_file) : 0;
}

static int finish(struct fx *fx, struct wh_err *err)
{
        int r = fx_layer_end(cur_layer(fx), fx->blobs_fd, err);
        for (size_t i = 0; r >= 0 && i < fx->n_layers; i++)
                r = corrupt_layer(fx, &fx->layers[i], err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config = NULL;
        char cdigest[WH_DIGEST_STR];
        r = write_config(fx, &config, cdigest, err);
        if (r >= 0)
                r = write_oci(fx, cdigest, strlen(config), err);
        if (r >= 0 && fx->docker_file)
                r = write_docker(fx, config, cdigest, err);
        for (size_t i = 0; i < fx->n_layers; i++) {
                if (fx->layers[i].raw_fd >= 0) {
                        close(fx->layers[i].raw_fd);
                        unlinkat(fx->blobs_fd, fx->layers[i].raw_name, 0);
                }
        }
        return r;
}

/* ---- the manifest language ---- */

struct line {
        char *tok[MAX_TOKENS];
        size_t off[MAX_TOKENS]; /* where each token starts in the original line */
        int n;
        const char *text;       /* the original line */
};

/*
 * Splits on blanks. A token may hold "double quoted" parts with \n \t \\ \"
 * escapes; an unquoted '#' at the start of a token begins a comment.
 */
static int tokenize(const char *text, char *store, struct line *ln, struct wh_err *err)
{
        const char *p = text;
        char *o = store;
        *ln = (struct line){.text = text};
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\r')
                        p++;
                if (!*p || *p == '#')
                        return 0;
                if (ln->n == MAX_TOKENS)
                        return wh_failx(err, E2BIG, "more than %d words", MAX_TOKENS);
                ln->off[ln->n] = (size_t)(p - text);
                ln->tok[ln->n++] = o;
                bool q = false;
                for (; *p && (q || (*p != ' ' && *p != '\t' && *p != '\r')); p++) {
                        if (*p == '"') {
                                q = !q;
                        } else if (q && *p == '\\' && p[1]) {
                                p++;
                                *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == '0' ? '\0' : *p;
                        } else {
                                *o++ = *p;
                        }
                }
                if (q)
                        return wh_failx(err, EINVAL, "unterminated quote");
                *o++ = '\0';
        }
}

static int parse_u32(const char *s, const char *what, uint64_t *ret, struct wh_err *err)
{
        if (wh_parse_u64(s, UINT32_MAX, ret) < 0)
                return wh_failx(err, EINVAL, "bad %s '%s'", what, s);
        return 0;
}

/* PATH MODE UID GID into h; the path must already be clean and relative. */
static int parse_common(char *const *a, struct fx_hdr *h, bool verbatim, struct wh_err *err)
{
        unsigned mode;
        int r;
        if (!verbatim) {
                _cleanup_free_ char *c = NULL;
                r = wh_path_clean(a[0], 0, &c);
                if (r < 0 || strcmp(c, a[0]) != 0 || !*c)
                        return wh_failx(err, EINVAL,
                                        "path '%s' is not clean and relative (use raw)", a[0]);
        }
        h->path = a[0];
        h->verbatim = verbatim;
        h->mtime = INT64_MIN;
        if (!a[1])
                return 0;
        if (wh_parse_mode(a[1], &mode) < 0)
                return wh_failx(err, EINVAL, "bad mode '%s'", a[1]);
        h->mode = mode;
        r = parse_u32(a[2], "uid", &h->uid, err);
        return r < 0 ? r : parse_u32(a[3], "gid", &h->gid, err);
}

static int need_args(const struct line *ln, int min, int max, const char *usage,
                     struct wh_err *err)
{
        if (ln->n - 1 < min || ln->n - 1 > max)
                return wh_failx(err, EINVAL, "usage: %s %s", ln->tok[0], usage);
        return 0;
}

static const struct {
        const char *word, *key;
        bool top, string;
} config_keys[] = {
        {"entrypoint", "Entrypoint", false, false}, {"cmd", "Cmd", false, false},
        {"env", "Env", false, false},               {"user", "User", false, true},
        {"workdir", "WorkingDir", false, true},     {"labels", "Labels", false, false},
        {"stopsignal", "StopSignal", false, true},  {"exposedports", "ExposedPorts", false, false},
        {"volumes", "Volumes", false, false},       {"created", "created", true, true},
        {"architecture", "architecture", true, true}, {"os", "os", true, true},
        {"author", "author", true, true},
};

static int do_config(struct fx *fx, const struct line *ln, struct wh_err *err)
{
        if (ln->n < 3)
                return wh_failx(err, EINVAL, "usage: config KEY JSON");
        size_t k = 0;
        while (k < ARRAY_SIZE(config_keys) && strcmp(config_keys[k].word, ln->tok[1]) != 0)
                k++;
        if (k == ARRAY_SIZE(config_keys))
                return wh_failx(err, EINVAL, "unknown config key '%s'", ln->tok[1]);
        const char *text = ln->text + ln->off[2];
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return wh_fail(err, ENOMEM, "json");
        json_object *v = json_tokener_parse_ex(tok, text, (int)strlen(text));
        const char *rest = text + json_tokener_get_parse_end(tok);
        bool parsed = json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        rest += strspn(rest, " \t\r");
        if (parsed && *rest && *rest != '#') {
                json_object_put(v);
                return wh_failx(err, EINVAL, "trailing text after the JSON value: '%s'", rest);
        }
        if (config_keys[k].string && (!parsed || !json_object_is_type(v, json_type_string))) {
                /* a plain word: "config user 1000", "config workdir /app" */
                json_object_put(v);
                v = json_object_new_string(ln->tok[2]);
        } else if (!parsed) {
                return wh_failx(err, EINVAL, "config %s: invalid JSON '%s'", ln->tok[1], text);
        }
        json_object_object_add(config_keys[k].top ? fx->top : fx->conf, config_keys[k].key, v);
        return 0;
}

static int do_corrupt(struct fx *fx, const struct line *ln, struct wh_err *err)
{
        const char *kind = ln->n > 1 ? ln->tok[1] : "";
        if (strcmp(kind, "config-json") == 0)
                return fx->bad_config_json = true, 0;
        if (strcmp(kind, "manifest-mediatype") == 0)
                return fx->bad_manifest_mt = true, 0;
        if (strcmp(kind, "missing-config") == 0)
                return fx->missing_config = true, 0;
        uint64_t i;
        if (ln->n != 3 || wh_parse_u64(ln->tok[2], UINT32_MAX, &i) < 0)
                return wh_failx(err, EINVAL, "usage: corrupt KIND [LAYER]");
        if (i >= fx->n_layers)
                return wh_failx(err, EINVAL, "corrupt: no layer %llu yet",
                                (unsigned long long)i);
        struct fx_layer *l = &fx->layers[i];
        if (strcmp(kind, "layer-digest") == 0)
                l->wrong_digest = true;
        else if (strcmp(kind, "layer-size") == 0)
                l->desc_size_delta = 1;
        else if (strcmp(kind, "truncate-layer") == 0)
                l->truncate = true;
        else if (strcmp(kind, "missing-blob") == 0)
                l->missing = true;
        else
                return wh_failx(err, EINVAL, "unknown corruption '%s'", kind);
        return 0;
}

static int do_entry(struct fx *fx, const struct line *ln, struct wh_err *err)
{
        char *const *a = ln->tok + 1;
        const char *w = ln->tok[0];
        struct fx_hdr h = {.mode = 0644};
        _cleanup_free_ char *tmp = NULL;
        int r;
        if (strcmp(w, "dir") == 0 || strcmp(w, "fifo") == 0) {
                if ((r = need_args(ln, 4, 4, "PATH MODE UID GID", err)) < 0 ||
                    (r = parse_common(ln->tok + 1, &h, false, err)) < 0)
                        return r;
                h.type = w[0] == 'd' ? '5' : '6';
                return add_entry(fx, &h, NULL, false, err);
        }
        if (strcmp(w, "file") == 0) {
                if ((r = need_args(ln, 5, 5, "PATH MODE UID GID CONTENT", err)) < 0 ||
                    (r = parse_common(ln->tok + 1, &h, false, err)) < 0)
                        return r;
                h.type = '0';
                return add_entry(fx, &h, a[4], false, err);
        }
        if (strcmp(w, "raw") == 0 || strcmp(w, "raw-file") == 0) {
                if ((r = need_args(ln, 2, 2, "PATH CONTENT", err)) < 0)
                        return r;
                h = (struct fx_hdr){.path = a[0], .type = '0', .mode = 0644, .verbatim = true,
                                 .mtime = INT64_MIN};
                return add_entry(fx, &h, a[1], false, err);
        }
        if (strcmp(w, "raw-dir") == 0) {
                if ((r = need_args(ln, 1, 1, "PATH", err)) < 0)
                        return r;
                h = (struct fx_hdr){.path = a[0], .type = '5', .mode = 0755, .verbatim = true,
                                 .mtime = INT64_MIN};
                return add_entry(fx, &h, NULL, false, err);
        }
        if (strcmp(w, "symlink") == 0 || strcmp(w, "hardlink") == 0 ||
            strcmp(w, "raw-symlink") == 0 || strcmp(w, "raw-hardlink") == 0) {
                bool raw = w[0] == 'r', hard = strstr(w, "hard") != NULL;
                if ((r = need_args(ln, 2, 2, "PATH TARGET", err)) < 0)
                        return r;
                char *pair[] = {a[0], NULL};
                if ((r = parse_common(pair, &h, raw, err)) < 0)
                        return r;
                if (hard && !raw && (wh_path_clean(a[1], 0, &tmp) < 0 || strcmp(tmp, a[1])))
                        return wh_failx(err, EINVAL, "hardlink target '%s' is not clean", a[1]);
                h.type = hard ? '1' : '2';
                h.mode = hard ? 0644 : 0777;
                h.link = a[1];
                return add_entry(fx, &h, NULL, false, err);
        }
        if (strcmp(w, "dev") == 0) {
                uint64_t maj, min;
                if ((r = need_args(ln, 4, 7, "PATH c|b MAJOR MINOR [MODE UID GID]", err)) < 0)
                        return r;
                char *common[] = {a[0], ln->n == 8 ? a[4] : NULL, a[5], a[6]};
                if ((r = parse_common(common, &h, false, err)) < 0 ||
                    (r = parse_u32(a[2], "major", &maj, err)) < 0 ||
                    (r = parse_u32(a[3], "minor", &min, err)) < 0)
                        return r;
                if (strcmp(a[1], "c") && strcmp(a[1], "b"))
                        return wh_failx(err, EINVAL, "device type must be c or b");
                h.type = a[1][0] == 'c' ? '3' : '4';
                h.mode = ln->n == 8 ? h.mode : 0666;
                h.dev_major = (unsigned)maj;
                h.dev_minor = (unsigned)min;
                return add_entry(fx, &h, NULL, false, err);
        }
        if (strcmp(w, "whiteout") == 0 || strcmp(w, "opaque") == 0) {
                if ((r = need_args(ln, 1, 1, "PATH", err)) < 0)
                        return r;
                char *one[] = {a[0], NULL};
                if ((r = parse_common(one, &h, false, err)) < 0)
                        return r;
                const char *slash = strrchr(a[0], '/');
                int dl = slash ? (int)(slash - a[0]) + 1 : 0;
                if (w[0] == 'o')
                        r = asprintf(&tmp, "%s/.wh..wh..opq", a[0]);
                else
                        r = asprintf(&tmp, "%.*s.wh.%s", dl, a[0], a[0] + dl);
                if (r < 0)
                        return wh_fail(err, ENOMEM, "path");
                h.path = tmp;
                h.type = '0';
                return add_entry(fx, &h, "text:", false, err);
        }
        return 1;
}

static int do_special(struct fx *fx, const struct line *ln, struct wh_err *err)
{
        char *const *a = ln->tok + 1;
        const char *w = ln->tok[0];
        int r;
        if (strcmp(w, "bogus-size") == 0) {
                /* a header claiming SIZE bytes, followed by none of them */
                uint64_t size;
                if ((r = need_args(ln, 2, 2, "PATH SIZE", err)) < 0)
                        return r;
                if (wh_parse_u64(a[1], UINT64_MAX >> 2, &size) < 0)
                        return wh_failx(err, EINVAL, "bad size '%s'", a[1]);
                struct fx_hdr h = {.path = a[0], .type = '0', .mode = 0644, .size = size,
                                .mtime = fx->mtime};
                return fx_write_header(cur_layer(fx), &h, err);
        }
        if (strcmp(w, "many") == 0) {
                uint64_t count;
                if ((r = need_args(ln, 2, 2, "PREFIX COUNT", err)) < 0)
                        return r;
                if (wh_parse_u64(a[1], 100000000, &count) < 0)
                        return wh_failx(err, EINVAL, "bad count '%s'", a[1]);
                for (uint64_t i = 0; i < count; i++) {
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "%s/%08llu", a[0], (unsigned long long)i);
                        struct fx_hdr h = {.path = path, .type = '0', .mode = 0644,
                                        .mtime = fx->mtime};
                        if ((r = fx_write_header(cur_layer(fx), &h, err)) < 0)
                                return r;
                }
                return 0;
        }
        if (strcmp(w, "xattr") == 0) {
                struct fx_content c;
                _cleanup_free_ char *key = NULL;
                if ((r = need_args(ln, 2, 2, "NAME CONTENT", err)) < 0)
                        return r;
                if ((r = fx_content_open(a[1], &c, err)) < 0)
                        return r;
                if (c.kind != CT_MEM)
                        r = wh_failx(err, EINVAL, "xattr values are text: or hex:");
                else if (asprintf(&key, "SCHILY.xattr.%s", a[0]) < 0 ||
                         fx_pax_append(&cur_layer(fx)->xattr_recs, &cur_layer(fx)->xattr_len, key, c.data, c.len) < 0)
                        r = wh_fail(err, ENOMEM, "xattr");
                fx_content_release(&c);
                return r;
        }
        if (strcmp(w, "hostfile") == 0 || strcmp(w, "hostbin") == 0) {
                if ((r = need_args(ln, 1, MAX_TOKENS, "PATH...", err)) < 0)
                        return r;
                for (int i = 1; i < ln->n; i++) {
                        r = host_import(fx, ln->tok[i], 0, err);
                        if (r >= 0 && w[4] == 'b')
                                r = host_import_deps(fx, ln->tok[i], err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (strcmp(w, "tarball") == 0)
                return (r = need_args(ln, 1, 1, "FILE", err)) < 0 ? r : fx_add_tarball(cur_layer(fx), a[0], err);
        return 1;
}

static int do_line(struct fx *fx, const struct line *ln, struct wh_err *err)
{
        const char *w = ln->tok[0];
        int r;
        if (strcmp(w, "layer") == 0) {
                if ((r = need_args(ln, 1, 2, "gzip|zstd|none [LEVEL]", err)) < 0)
                        return r;
                if (fx->n_layers && (r = fx_layer_end(cur_layer(fx), fx->blobs_fd, err)) < 0)
                        return r;
                if (fx->n_layers == MAX_LAYERS)
                        return wh_failx(err, E2BIG, "more than %d layers", MAX_LAYERS);
                size_t i = fx->n_layers++;
                return fx_layer_begin(&fx->layers[i], fx->blobs_fd, i, ln->tok[1],
                                      ln->n == 3 ? ln->tok[2] : NULL, fx->keep_raw, err);
        }
        if (strcmp(w, "config") == 0)
                return do_config(fx, ln, err);
        if (strcmp(w, "corrupt") == 0)
                return do_corrupt(fx, ln, err);
        if (strcmp(w, "mtime") == 0) {
                if ((r = need_args(ln, 1, 1, "SECONDS", err)) < 0)
                        return r;
                if (wh_parse_i64(ln->tok[1], INT32_MIN, INT64_MAX >> 8, &fx->mtime) < 0)
                        return wh_failx(err, EINVAL, "bad mtime '%s'", ln->tok[1]);
                return 0;
        }
        if (strcmp(w, "ref") == 0) {
                if ((r = need_args(ln, 1, 1, "NAME", err)) < 0)
                        return r;
                char **v = realloc(fx->refs, (fx->n_refs + 1) * sizeof(*v));
                if (!v || !(v[fx->n_refs] = strdup(ln->tok[1])))
                        return wh_fail(err, ENOMEM, "ref");
                fx->refs = v;
                fx->n_refs++;
                return 0;
        }
        if (strcmp(w, "format") == 0) {
                if ((r = need_args(ln, 2, 3, "docker-archive FILE [NAME:TAG]", err)) < 0)
                        return r;
                if (strcmp(ln->tok[1], "docker-archive") || strchr(ln->tok[2], '/') ||
                    ln->tok[2][0] == '.')
                        return wh_failx(err, EINVAL,
                                        "format docker-archive FILE: a plain file name in OUTDIR");
                free(fx->docker_file);
                free(fx->docker_tag);
                fx->docker_file = strdup(ln->tok[2]);
                fx->docker_tag = ln->n == 4 ? strdup(ln->tok[3]) : NULL;
                return fx->docker_file ? 0 : wh_fail(err, ENOMEM, "format");
        }
        if (fx->n_layers == 0)
                return wh_failx(err, EINVAL, "'%s' before the first 'layer' line", w);
        r = do_entry(fx, ln, err);
        if (r == 1)
                r = do_special(fx, ln, err);
        if (r == 1)
                return wh_failx(err, EINVAL, "unknown directive '%s'", w);
        return r;
}

static int run(struct fx *fx, const char *manifest, struct wh_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = wh_read_file_at(AT_FDCWD, manifest, 1 << 20, &text, &len, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *store = malloc(len + 1);
        if (!store)
                return wh_fail(err, ENOMEM, "manifest");
        /* the raw layer copies are only kept when a docker archive is asked for */
        for (char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p + strspn(p, " \t"), "format", 6) == 0)
                        fx->keep_raw = true;
        int lineno = 0;
        for (char *p = text, *next; p; p = next) {
                next = strchr(p, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                struct line ln;
                r = tokenize(p, store, &ln, err);
                if (r >= 0 && ln.n > 0)
                        r = do_line(fx, &ln, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "%s:%d", manifest, lineno);
        }
        if (fx->n_layers == 0)
                return wh_failx(err, EINVAL, "%s: no 'layer' line", manifest);
        return finish(fx, err);
}

static int open_outdir(struct fx *fx, const char *dir, struct wh_err *err)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return wh_fail(err, errno, "mkdir '%s'", dir);
        fx->out_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fx->out_fd < 0)
                return wh_fail(err, errno, "open '%s'", dir);
        _cleanup_closedir_ DIR *d = fdopendir(dup(fx->out_fd));
        for (struct dirent *de; d && (de = readdir(d));)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        return wh_failx(err, EEXIST, "'%s' is not empty", dir);
        if (mkdirat(fx->out_fd, "blobs", 0755) < 0)
                return wh_fail(err, errno, "mkdir blobs");
        _cleanup_close_ int b = openat(fx->out_fd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (b < 0 || mkdirat(b, "sha256", 0755) < 0)
                return wh_fail(err, errno, "mkdir blobs/sha256");
        fx->blobs_fd = openat(b, "sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fx->blobs_fd < 0 ? wh_fail(err, errno, "open blobs/sha256") : 0;
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: mkfixture MANIFEST OUTDIR\n");
                return 2;
        }
        static struct fx fx;
        struct wh_err err = {0};
        fx.out_fd = fx.blobs_fd = -1;
        fx.top = json_object_new_object();
        fx.conf = json_object_new_object();
        int r = open_outdir(&fx, argv[2], &err);
        if (r >= 0)
                r = run(&fx, argv[1], &err);
        if (r < 0) {
                wh_err_print(&err, "mkfixture");
                return 1;
        }
        return 0;
}
