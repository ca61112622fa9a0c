/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the image writer: a small index built by hand, written to
 * every destination; determinism, the layer's contents, the peers (skopeo,
 * umoci, podman) reading the output, and atomicity on failure.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "sha256.h"
#include "../../builder/image_write.h"
#include "../../builder/compress.h"
#include "tap.h"

#define EPOCH  1700000000
#define FUTURE 2000000000

static char tmproot[] = "/tmp/wh-image-write-XXXXXX";
static char long_dir[160];
static char long_file[180];
static const unsigned char cap_value[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00};

struct fixture {
        struct wh_index *idx;
        int spool;
        uint64_t spool_len;
};

static struct wh_entry *add(struct fixture *f, const char *path, enum wh_ftype type,
                            uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                            const char *link, const char *content, int keep)
{
        struct wh_err err = {0};
        struct wh_entry *e = wh_entry_new(path, type);
        e->mode = mode;
        e->uid = uid;
        e->gid = gid;
        e->mtime = mtime;
        if (link)
                e->link = strdup(link);
        if (content) {
                size_t len = strlen(content);
                if (pwrite(f->spool, content, len, (off_t)f->spool_len) != (ssize_t)len)
                        abort();
                e->size = len;
                e->spool_off = (int64_t)f->spool_len;
                f->spool_len += len;
        }
        if (keep)
                e->keep_reason = wh_index_intern(f->idx, "test");
        if (wh_index_put(f->idx, e, &err) < 0) {
                diag("put %s: %s", path, err.msg);
                abort();
        }
        return wh_index_get(f->idx, path);
}

static void fixture_init(struct fixture *f)
{
        f->idx = wh_index_new();
        f->spool = memfd_create("spool", MFD_CLOEXEC);
        f->spool_len = 0;
        add(f, "usr", WH_F_DIR, 0751, 0, 0, 500, NULL, NULL, 0);
        add(f, "etc", WH_F_DIR, 0755, 0, 0, 1000, NULL, NULL, 1);
        add(f, "etc/hostname", WH_F_REG, 0644, 0, 0, FUTURE, NULL, "whittle\n", 1);
        add(f, "etc/shadow", WH_F_REG, 0640, 0, 42, 1000, NULL, "root:*:19000::::::\n", 1);
        struct wh_entry *tool = add(f, "usr/bin/tool", WH_F_REG, 04755, 0, 0, 1500, NULL,
                                    "#!/bin/sh\necho tool\n", 1);
        tool->xattrs = calloc(1, sizeof(*tool->xattrs));
        tool->xattrs[0].name = strdup("security.capability");
        tool->xattrs[0].value = malloc(sizeof(cap_value));
        memcpy(tool->xattrs[0].value, cap_value, sizeof(cap_value));
        tool->xattrs[0].len = sizeof(cap_value);
        tool->n_xattrs = 1;
        add(f, "usr/bin/a-hard", WH_F_HARDLINK, 04755, 0, 0, 1500, "usr/bin/tool", NULL, 1);
        add(f, "usr/bin/z-hard", WH_F_HARDLINK, 04755, 0, 0, 1500, "usr/bin/tool", NULL, 1);
        add(f, "usr/lib64", WH_F_SYMLINK, 0777, 0, 0, 1500, "/lib/x86_64-linux-gnu", NULL,
            1);
        add(f, "bin", WH_F_SYMLINK, 0777, 0, 0, 1500, "usr/bin", NULL, 1);
        add(f, "run", WH_F_DIR, 0755, 0, 0, 1000, NULL, NULL, 1);
        add(f, "run/fifo", WH_F_FIFO, 0600, 0, 0, 1000, NULL, NULL, 1);
        add(f, "dev", WH_F_DIR, 0755, 0, 0, 1000, NULL, NULL, 1);
        add(f, "dev/null", WH_F_CHR, 0666, 0, 0, 1000, NULL, NULL, 1);
        add(f, "usr/share/doc/readme", WH_F_REG, 0644, 0, 0, 1000, NULL, "not kept\n", 0);
        add(f, long_file, WH_F_REG, 0600, 1000, 1000, 1200, NULL, "deep\n", 1);
        add(f, "home/big", WH_F_REG, 0600, 3000000, 3000000, 1200, NULL, NULL, 1);
}

static void fixture_release(struct fixture *f)
{
        wh_index_free(f->idx);
        close(f->spool);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *cmd = NULL;
        int n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        int st = system(cmd);
        return st == -1 ? -1 : WEXITSTATUS(st);
}

static int have(const char *tool)
{
        return run("command -v %s >/dev/null 2>&1", tool) == 0;
}

static char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tpath(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *rel = NULL;
        if (vasprintf(&rel, fmt, ap) < 0)
                abort();
        va_end(ap);
        char *p = NULL;
        if (asprintf(&p, "%s/%s", tmproot, rel) < 0)
                abort();
        return p;
}

static struct wh_write_opts opts_for(const struct fixture *f, enum wh_compression c,
                                     json_object *config)
{
        return (struct wh_write_opts){
                .compression = c,
                .level = WH_COMP_LEVEL_DEFAULT,
                .epoch = EPOCH,
                .config = config,
                .history_created_by = "whittle build --profile test",
                .base_digest =
                        "sha256:"
                        "0000000000000000000000000000000000000000000000000000000000000000",
                .base_name = "oci:/src:latest",
                .spool_fd = f->spool,
        };
}

static json_object *sample_config(void)
{
        const char *text = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":"
                           "{\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"/usr/bin/tool\"],"
                           "\"WorkingDir\":\"/\"}}";
        json_object *o = NULL;
        struct wh_err err = {0};
        if (wh_json_parse(text, strlen(text), "config", &o, &err) < 0)
                abort();
        return o;
}

static int write_to(const char *text, const struct wh_write_opts *o, struct fixture *f,
                    struct wh_write_result *res, struct wh_err *err)
{
        struct wh_image_ref ref = {0};
        int r = wh_image_ref_parse(text, 1, &ref, err);
        if (r < 0)
                return r;
        r = wh_image_write(&ref, f->idx, o, res, err);
        wh_image_ref_release(&ref);
        if (r < 0)
                diag("write %s: %s", text, err->msg);
        return r;
}

static const char *const want_paths[] = {
        "bin",          "dev/",           "etc/",      "etc/hostname", "etc/shadow",
        "home/",        "home/big",       "opt/",      long_dir,       long_file,
        "run/",         "run/fifo",       "usr/",      "usr/bin/",     "usr/bin/a-hard",
        "usr/bin/tool", "usr/bin/z-hard", "usr/lib64",
};

/* Reads the layer blob at path (any compression) and checks every entry. */
static void check_layer(const char *path, const char *what)
{
        struct archive *ar = archive_read_new();
        archive_read_support_format_tar(ar);
        archive_read_support_filter_all(ar);
        if (!ok(archive_read_open_filename(ar, path, 65536) == ARCHIVE_OK,
                "%s: layer opens", what)) {
                archive_read_free(ar);
                return;
        }
        struct archive_entry *ae;
        size_t i = 0;
        int order = 1, names = 1, clamped = 1;
        while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
                const char *p = archive_entry_pathname(ae);
                if (i >= ARRAY_SIZE(want_paths) || strcmp(p, want_paths[i])) {
                        diag("entry %zu: '%s'", i, p);
                        order = 0;
                }
                const char *u = archive_entry_uname(ae), *g = archive_entry_gname(ae);
                if ((u && *u) || (g && *g))
                        names = 0;
                if (archive_entry_mtime(ae) > EPOCH || archive_entry_atime_is_set(ae) ||
                    archive_entry_ctime_is_set(ae))
                        clamped = 0;
                if (!strcmp(p, "etc/hostname")) {
                        char buf[32] = {0};
                        archive_read_data(ar, buf, sizeof(buf) - 1);
                        is_str(buf, "whittle\n", "%s: content of etc/hostname", what);
                        is_int(archive_entry_mtime(ae), EPOCH, "%s: future mtime clamped",
                               what);
                }
                if (!strcmp(p, "etc/shadow")) {
                        is_int(archive_entry_gid(ae), 42, "%s: numeric gid", what);
                        is_int(archive_entry_mode(ae) & 07777, 0640, "%s: file mode", what);
                        is_int(archive_entry_mtime(ae), 1000, "%s: old mtime kept", what);
                }
                if (!strcmp(p, "usr/"))
                        is_int(archive_entry_mode(ae) & 07777, 0751,
                               "%s: implied parent keeps its own mode", what);
                if (!strcmp(p, "usr/bin/a-hard")) {
                        ok(archive_entry_filetype(ae) == AE_IFREG &&
                                   archive_entry_size(ae) == 20,
                           "%s: first path of the inode carries the content", what);
                        is_int(archive_entry_mode(ae) & 07777, 04755, "%s: setuid kept",
                               what);
                        const char *name;
                        const void *val;
                        size_t len;
                        ok(archive_entry_xattr_reset(ae) == 1 &&
                                   archive_entry_xattr_next(ae, &name, &val, &len) ==
                                           ARCHIVE_OK &&
                                   !strcmp(name, "security.capability") &&
                                   len == sizeof(cap_value) && !memcmp(val, cap_value, len),
                           "%s: security.capability preserved", what);
                }
                if (!strcmp(p, "usr/bin/tool") || !strcmp(p, "usr/bin/z-hard"))
                        is_str(archive_entry_hardlink(ae), "usr/bin/a-hard",
                               "%s: %s is a hard link to the first path", what, p);
                if (!strcmp(p, "usr/lib64"))
                        is_str(archive_entry_symlink(ae), "/lib/x86_64-linux-gnu",
                               "%s: absolute symlink as written", what);
                if (!strcmp(p, "run/fifo"))
                        is_int(archive_entry_filetype(ae), AE_IFIFO, "%s: fifo", what);
                if (!strcmp(p, "home/big"))
                        is_int(archive_entry_uid(ae), 3000000, "%s: large uid", what);
                i++;
        }
        ok(order && i == ARRAY_SIZE(want_paths),
           "%s: entries sorted, kept ones only, no device nodes", what);
        ok(names, "%s: no user or group names", what);
        ok(clamped, "%s: mtimes clamped, no atime/ctime", what);
        archive_read_free(ar);
}

static char *blob_path(const char *layout, const char *digest)
{
        char *p = NULL;
        if (asprintf(&p, "%s/blobs/sha256/%s", layout, wh_digest_hex(digest)) < 0)
                abort();
        return p;
}

static char *read_text(const char *path)
{
        char *buf = NULL;
        size_t len;
        struct wh_err err = {0};
        if (wh_read_file_at(AT_FDCWD, path, 1 << 24, &buf, &len, &err) < 0)
                return NULL;
        return buf;
}

static void test_oci(enum wh_compression c, char ret_diff_id[80])
{
        const char *name = wh_compression_name(c);
        struct fixture f;
        fixture_init(&f);
        _cleanup_json_ json_object *cfg = sample_config();
        struct wh_write_opts o = opts_for(&f, c, cfg);
        _cleanup_free_ char *d1 = tpath("oci-%s-1", name), *d2 = tpath("oci-%s-2", name);
        _cleanup_free_ char *r1 = NULL, *r2 = NULL;
        if (asprintf(&r1, "oci:%s:app", d1) < 0 || asprintf(&r2, "oci:%s:app", d2) < 0)
                abort();
        struct wh_write_result a, b;
        struct wh_err err = {0};
        is_int(write_to(r1, &o, &f, &a, &err), 0, "%s: oci write", name);
        is_int(write_to(r2, &o, &f, &b, &err), 0, "%s: oci write again", name);
        is_str(a.manifest_digest, b.manifest_digest, "%s: same manifest digest", name);
        is_str(a.layer_digest, b.layer_digest, "%s: same layer digest", name);
        if (c == WH_COMP_NONE)
                is_str(a.layer_digest, a.diff_id, "none: blob digest is the diff_id");
        else
                ok(strcmp(a.layer_digest, a.diff_id) != 0, "%s: blob is compressed", name);
        memcpy(ret_diff_id, a.diff_id, 80);

        _cleanup_free_ char *layer = blob_path(d1, a.layer_digest);
        struct stat st;
        ok(stat(layer, &st) == 0 && (uint64_t)st.st_size == a.layer_size,
           "%s: layer blob on disk with the reported size", name);
        check_layer(layer, name);
        if (c == WH_COMP_ZSTD && have("zstd"))
                is_int(run("zstd -q -t %s", layer), 0, "zstd -t accepts the layer");
        if (c == WH_COMP_GZIP && have("gzip"))
                is_int(run("gzip -t < %s", layer), 0, "gzip -t accepts the layer");

        _cleanup_free_ char *cfg_path = blob_path(d1, a.config_digest);
        _cleanup_free_ char *cfg_text = read_text(cfg_path);
        ok(cfg_text && strstr(cfg_text, a.diff_id) &&
                   strstr(cfg_text, "\"created\":\"2023-11-14T22:13:20Z\"") &&
                   strstr(cfg_text, "\"Cmd\":[\"/usr/bin/tool\"]") &&
                   strstr(cfg_text, "\"comment\":\"whittle\""),
           "%s: config has diff_id, created, settings, history", name);
        _cleanup_free_ char *man_path = blob_path(d1, a.manifest_digest);
        _cleanup_free_ char *man = read_text(man_path);
        static const char *const mts[] = {"tar+zstd\"", "tar+gzip\"", "tar\""};
        ok(man && strstr(man, mts[c]) && strstr(man, "\"schemaVersion\":2") &&
                   strstr(man,
                          "org.opencontainers.image.base.name\":\"oci:/src:latest\"") &&
                   strstr(man, "org.opencontainers.image.created"),
           "%s: manifest with layer media type and annotations", name);

        if (!have("skopeo")) {
                ok(1, "# SKIP skopeo not installed");
        } else {
                _cleanup_free_ char *copy = tpath("skopeo-%s", name);
                is_int(run("skopeo copy -q %s dir:%s >/dev/null 2>&1", r1, copy), 0,
                       "%s: skopeo copies the layout (digests verified)", name);
                is_int(run("skopeo inspect %s >/dev/null 2>&1", r1), 0,
                       "%s: skopeo inspect accepts it", name);
                wh_rm_rf_at(AT_FDCWD, copy);
        }
        wh_rm_rf_at(AT_FDCWD, d1);
        wh_rm_rf_at(AT_FDCWD, d2);
        fixture_release(&f);
}

static void test_umoci(void)
{
        if (!have("umoci") || geteuid() != 0) {
                ok(1, "# SKIP umoci unpack needs umoci and root");
                return;
        }
        struct fixture f;
        fixture_init(&f);
        _cleanup_json_ json_object *cfg = sample_config();
        struct wh_write_opts o = opts_for(&f, WH_COMP_GZIP, cfg);
        _cleanup_free_ char *dir = tpath("umoci-layout"), *bundle = tpath("umoci-bundle");
        _cleanup_free_ char *ref = NULL;
        if (asprintf(&ref, "oci:%s:app", dir) < 0)
                abort();
        struct wh_write_result res;
        struct wh_err err = {0};
        is_int(write_to(ref, &o, &f, &res, &err), 0, "gzip layout for umoci");
        is_int(run("umoci unpack --image %s:app %s >/dev/null 2>&1", dir, bundle), 0,
               "umoci unpacks it");
        /* Read back through the bundle without crossing the image's own symlinks. */
        _cleanup_free_ char *host = tpath("umoci-bundle/rootfs/etc/hostname");
        _cleanup_free_ char *text = read_text(host);
        is_str(text, "whittle\n", "umoci: file content there");
        _cleanup_free_ char *tool = tpath("umoci-bundle/rootfs/usr/bin/tool");
        _cleanup_free_ char *hard = tpath("umoci-bundle/rootfs/usr/bin/a-hard");
        struct stat a, b;
        ok(lstat(tool, &a) == 0 && lstat(hard, &b) == 0 && a.st_ino == b.st_ino &&
                   (a.st_mode & 07777) == 04755,
           "umoci: hard links share an inode, setuid kept");
        wh_rm_rf_at(AT_FDCWD, bundle);
        wh_rm_rf_at(AT_FDCWD, dir);
        fixture_release(&f);
}

static size_t count_manifests(const char *dir, const char *ref, char **ret_digest)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/index.json", dir) < 0)
                abort();
        _cleanup_free_ char *text = read_text(p);
        json_object *idx = NULL, *m = NULL;
        struct wh_err err = {0};
        if (!text || wh_json_parse(text, strlen(text), "index", &idx, &err) < 0)
                return 0;
        json_object_object_get_ex(idx, "manifests", &m);
        size_t n = json_object_array_length(m);
        for (size_t i = 0; i < n && ret_digest; i++) {
                json_object *d = json_object_array_get_idx(m, i), *a = NULL, *r = NULL, *dg;
                if (json_object_object_get_ex(d, "annotations", &a) &&
                    json_object_object_get_ex(a, "org.opencontainers.image.ref.name", &r) &&
                    !strcmp(json_object_get_string(r), ref) &&
                    json_object_object_get_ex(d, "digest", &dg))
                        *ret_digest = strdup(json_object_get_string(dg));
        }
        json_object_put(idx);
        return n;
}

/* The names in blobs/sha256, one string, to compare before and after. */
static char *list_blobs(const char *dir)
{
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "ls -a %s/blobs/sha256 | sort | tr '\\n' ' '", dir) < 0)
                abort();
        FILE *p = popen(cmd, "r");
        char buf[8192] = {0};
        size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
        if (p)
                pclose(p);
        buf[n] = '\0';
        return strdup(buf);
}

static void test_oci_existing(void)
{
        struct fixture f;
        fixture_init(&f);
        _cleanup_json_ json_object *cfg = sample_config();
        struct wh_write_opts o = opts_for(&f, WH_COMP_ZSTD, cfg);
        _cleanup_free_ char *dir = tpath("oci-multi");
        _cleanup_free_ char *ra = NULL, *rb = NULL;
        if (asprintf(&ra, "oci:%s:a", dir) < 0 || asprintf(&rb, "oci:%s:b", dir) < 0)
                abort();
        struct wh_write_result a1, b1, a2;
        struct wh_err err = {0};
        is_int(mkdir(dir, 0755), 0, "an empty directory as destination");
        is_int(write_to(ra, &o, &f, &a1, &err), 0, "write ref a into the empty directory");
        o.epoch = EPOCH + 1;
        is_int(write_to(rb, &o, &f, &b1, &err), 0, "add ref b");
        ok(strcmp(a1.manifest_digest, b1.manifest_digest) != 0,
           "another epoch, another image");
        _cleanup_free_ char *da = NULL, *db = NULL;
        is_int(count_manifests(dir, "a", &da), 2, "two manifests in index.json");
        is_str(da, a1.manifest_digest, "ref a kept");
        o.epoch = EPOCH + 2;
        is_int(write_to(ra, &o, &f, &a2, &err), 0, "rewrite ref a");
        free(da);
        da = NULL;
        is_int(count_manifests(dir, "a", &da), 2, "still two manifests (a replaced)");
        is_str(da, a2.manifest_digest, "ref a points at the new manifest");
        is_int(count_manifests(dir, "b", &db), 2, "b still listed");
        is_str(db, b1.manifest_digest, "ref b unchanged");
        if (have("skopeo"))
                ok(run("skopeo inspect oci:%s:b >/dev/null 2>&1", dir) == 0 &&
                           run("skopeo inspect oci:%s:a >/dev/null 2>&1", dir) == 0,
                   "skopeo reads both refs");

        /* Failure while streaming the layer: a spool shorter than its entries. */
        _cleanup_free_ char *index_path = tpath("oci-multi/index.json");
        _cleanup_free_ char *before = read_text(index_path);
        _cleanup_free_ char *blobs_before = list_blobs(dir);
        o.epoch = EPOCH + 3;
        is_int(ftruncate(f.spool, 10), 0, "spool cut short");
        is_int(write_to(ra, &o, &f, &a2, &err), -EIO, "write fails midway");
        _cleanup_free_ char *after = read_text(index_path);
        is_str(after, before, "index.json unchanged after the failure");
        _cleanup_free_ char *blobs_after = list_blobs(dir);
        is_str(blobs_after, blobs_before, "no blob or temporary file left behind");
        fixture_release(&f);

        /*
         * Failure at the commit point: blobs are in, index.json cannot be
         * replaced. A non-empty directory squats on the temporary name
         * wh_write_file_atomic_at uses ("<name>.tmp-<pid>"); should that
         * name change, the write succeeds and the next check fails loudly.
         */
        fixture_init(&f);
        o.spool_fd = f.spool;
        o.epoch = EPOCH + 4;
        _cleanup_free_ char *blocker = tpath("oci-multi/index.json.tmp-%d", (int)getpid());
        _cleanup_free_ char *blocker_child =
                tpath("oci-multi/index.json.tmp-%d/x", (int)getpid());
        ok(mkdir(blocker, 0755) == 0 && mkdir(blocker_child, 0755) == 0,
           "block index.json's temporary name");
        ok(write_to(ra, &o, &f, &a2, &err) < 0, "write fails at the commit point");
        wh_rm_rf_at(AT_FDCWD, blocker);
        _cleanup_free_ char *after2 = read_text(index_path);
        is_str(after2, before, "index.json unchanged");
        _cleanup_free_ char *blobs_after2 = list_blobs(dir);
        is_str(blobs_after2, blobs_before, "the blobs this run added are gone again");
        wh_rm_rf_at(AT_FDCWD, dir);
        fixture_release(&f);
}

static void test_not_a_layout(void)
{
        struct fixture f;
        fixture_init(&f);
        struct wh_write_opts o = opts_for(&f, WH_COMP_ZSTD, NULL);
        _cleanup_free_ char *dir = tpath("not-oci"), *file = tpath("not-oci/keep");
        mkdir(dir, 0755);
        close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        _cleanup_free_ char *r = NULL;
        if (asprintf(&r, "oci:%s:x", dir) < 0)
                abort();
        struct wh_write_result res;
        struct wh_err err = {0};
        is_int(write_to(r, &o, &f, &res, &err), -EEXIST,
               "a non-empty non-layout is refused");
        ok(strstr(err.msg, "not an OCI layout") != NULL, "and the error says why");
#ifndef WITH_OSTREE
        /* With WITH_OSTREE=1, test_store_ostree covers this destination. */
        struct wh_image_ref ost = {
                .transport = WH_T_OSTREE, .path = (char *)"repo", .ref = (char *)"x"};
        is_int(wh_image_write(&ost, f.idx, &o, &res, &err), -ENOTSUP,
               "ostree: not in this build");
        ok(strstr(err.msg, "not supported in this build") != NULL, "ostree error is clear");
#endif
        wh_rm_rf_at(AT_FDCWD, dir);
        fixture_release(&f);
}

/* Leftover temporaries beside a destination ("<path>.tmp-*"). */
static int leftovers(const char *path)
{
        return run("ls -d %s.tmp-* >/dev/null 2>&1", path) == 0;
}

static int same_file(const char *a, const char *b)
{
        return run("cmp -s %s %s", a, b) == 0;
}

/* Names of the members of a tar file, space-separated. */
static char *archive_names(const char *path)
{
        struct archive *ar = archive_read_new();
        archive_read_support_format_tar(ar);
        char buf[8192] = {0};
        size_t len = 0;
        if (archive_read_open_filename(ar, path, 65536) == ARCHIVE_OK) {
                struct archive_entry *ae;
                while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
                        int n = snprintf(buf + len, sizeof(buf) - len, "%s ",
                                         archive_entry_pathname(ae));
                        if (n > 0 && (size_t)n < sizeof(buf) - len)
                                len += (size_t)n;
                }
        }
        archive_read_free(ar);
        return strdup(buf);
}

static void test_oci_archive(void)
{
        struct fixture f;
        fixture_init(&f);
        _cleanup_json_ json_object *cfg = sample_config();
        struct wh_write_opts o = opts_for(&f, WH_COMP_ZSTD, cfg);
        _cleanup_free_ char *p1 = tpath("img1.oci.tar"), *p2 = tpath("img2.oci.tar");
        _cleanup_free_ char *r1 = NULL, *r2 = NULL;
        if (asprintf(&r1, "oci-archive:%s", p1) < 0 ||
            asprintf(&r2, "oci-archive:%s", p2) < 0)
                abort();
        struct wh_write_result a, b;
        struct wh_err err = {0};
        is_int(write_to(r1, &o, &f, &a, &err), 0, "oci-archive written");
        is_int(write_to(r2, &o, &f, &b, &err), 0, "oci-archive written again");
        ok(same_file(p1, p2), "oci-archive: byte-for-byte identical");
        _cleanup_free_ char *names = archive_names(p1);
        ok(strstr(names, "blobs/ blobs/sha256/ ") == names && strstr(names, "index.json") &&
                   strstr(names, "oci-layout") &&
                   strstr(names, wh_digest_hex(a.layer_digest)),
           "oci-archive: layout members");
        if (have("skopeo"))
                is_int(run("skopeo inspect oci-archive:%s:latest >/dev/null 2>&1", p1), 0,
                       "skopeo inspects the oci-archive (ref latest)");

        /* A failed write leaves the existing archive and nothing beside it. */
        is_int(ftruncate(f.spool, 10), 0, "spool cut short");
        o.epoch = EPOCH + 1;
        ok(write_to(r1, &o, &f, &a, &err) < 0, "oci-archive: write fails");
        ok(same_file(p1, p2), "oci-archive: existing file untouched");
        ok(!leftovers(p1), "oci-archive: no temporary file left");
        unlink(p1);
        unlink(p2);
        fixture_release(&f);
}

static void test_docker_archive(void)
{
        struct fixture f;
        fixture_init(&f);
        _cleanup_json_ json_object *cfg = sample_config();
        struct wh_write_opts o = opts_for(&f, WH_COMP_ZSTD, cfg);
        o.compression_explicit = 1;
        _cleanup_free_ char *p = tpath("img.docker.tar");
        _cleanup_free_ char *r = NULL;
        if (asprintf(&r, "docker-archive:%s:localhost/whittle-test:v1", p) < 0)
                abort();
        struct wh_write_result res;
        struct wh_err err = {0};
        is_int(write_to(r, &o, &f, &res, &err), 0, "docker-archive written (zstd asked)");
        _cleanup_free_ char *names = archive_names(p);
        _cleanup_free_ char *want = NULL;
        if (asprintf(&want, "%s.json %s/ %s/layer.tar manifest.json repositories ",
                     wh_digest_hex(res.config_digest), wh_digest_hex(res.diff_id),
                     wh_digest_hex(res.diff_id)) < 0)
                abort();
        is_str(names, want, "docker-archive: docker save's members");

        /* The layer inside is gzip whatever was asked: docker has no zstd. */
        _cleanup_free_ char *x = tpath("docker-x");
        mkdir(x, 0700);
        is_int(run("tar -C %s -xf %s", x, p), 0, "unpack the archive (plain files only)");
        _cleanup_free_ char *layer =
                tpath("docker-x/%s/layer.tar", wh_digest_hex(res.diff_id));
        if (have("gzip"))
                is_int(run("gzip -t < %s", layer), 0, "docker-archive layer is gzip");
        check_layer(layer, "docker-archive");
        _cleanup_free_ char *mj = tpath("docker-x/manifest.json");
        _cleanup_free_ char *mtext = read_text(mj);
        _cleanup_free_ char *want_m = NULL;
        if (asprintf(
                    &want_m,
                    "[{\"Config\":\"%s.json\",\"RepoTags\":[\"localhost/whittle-test:v1\"],"
                    "\"Layers\":[\"%s/layer.tar\"]}]",
                    wh_digest_hex(res.config_digest), wh_digest_hex(res.diff_id)) < 0)
                abort();
        is_str(mtext, want_m, "manifest.json as docker writes it");
        _cleanup_free_ char *cj =
                tpath("docker-x/%s.json", wh_digest_hex(res.config_digest));
        _cleanup_free_ char *ctext = read_text(cj);
        ok(ctext && strstr(ctext, res.diff_id), "config names the uncompressed diff_id");
        wh_rm_rf_at(AT_FDCWD, x);

        if (!have("podman") || geteuid() != 0) {
                ok(1, "# SKIP podman load needs podman and root");
        } else {
                /* Everything podman keeps goes under our temporary directory. */
                _cleanup_free_ char *root = tpath("podman-root"), *rr = tpath("podman-run");
                _cleanup_free_ char *pt = tpath("podman-tmp"), *pm = NULL;
                if (asprintf(&pm,
                             "TMPDIR=%s podman --storage-driver vfs --cgroup-manager "
                             "cgroupfs "
                             "--events-backend none --tmpdir %s",
                             tmproot, pt) < 0)
                        abort();
                is_int(run("%s --root %s --runroot %s load -q -i %s >/dev/null 2>&1", pm,
                           root, rr, p),
                       0, "podman load accepts the docker-archive");
                is_int(run("%s --root %s --runroot %s image exists "
                           "localhost/whittle-test:v1",
                           pm, root, rr),
                       0, "podman has the image under its tag");
                run("%s --root %s --runroot %s rmi -a -f >/dev/null 2>&1", pm, root, rr);
                wh_rm_rf_at(AT_FDCWD, root);
                wh_rm_rf_at(AT_FDCWD, rr);
                wh_rm_rf_at(AT_FDCWD, pt);
        }
        unlink(p);
        fixture_release(&f);
}

static void check_tree(const char *dir)
{
        _cleanup_free_ char *p = NULL;
        struct stat st;
#define AT(rel)                                                                            \
        (free(p), p = NULL, asprintf(&p, "%s/%s", dir, rel) < 0 ? abort() : (void)0, p)
        ok(lstat(AT("etc/hostname"), &st) == 0 && S_ISREG(st.st_mode) &&
                   (st.st_mode & 07777) == 0644 && st.st_mtime == EPOCH,
           "dir: etc/hostname with mode and clamped mtime");
        _cleanup_free_ char *text = read_text(AT("etc/hostname"));
        is_str(text, "whittle\n", "dir: content");
        ok(lstat(AT("etc/shadow"), &st) == 0 && st.st_gid == 42 &&
                   (st.st_mode & 07777) == 0640,
           "dir: owner and mode");
        ok(lstat(AT("usr"), &st) == 0 && S_ISDIR(st.st_mode) &&
                   (st.st_mode & 07777) == 0751 && st.st_mtime == 500,
           "dir: directory mode and time applied after its children");
        struct stat a, b;
        ok(lstat(AT("usr/bin/tool"), &a) == 0 && lstat(AT("usr/bin/a-hard"), &b) == 0 &&
                   a.st_ino == b.st_ino && a.st_nlink == 3 && (a.st_mode & 07777) == 04755,
           "dir: hard links share one inode, setuid kept");
        unsigned char cap[64];
        ssize_t n = lgetxattr(AT("usr/bin/tool"), "security.capability", cap, sizeof(cap));
        ok(n == (ssize_t)sizeof(cap_value) && !memcmp(cap, cap_value, sizeof(cap_value)),
           "dir: security.capability set");
        char link[256] = {0};
        ok(readlink(AT("usr/lib64"), link, sizeof(link) - 1) > 0 &&
                   !strcmp(link, "/lib/x86_64-linux-gnu") && lstat(p, &st) == 0 &&
                   st.st_mtime == 1500,
           "dir: absolute symlink created as a link, with its time");
        ok(lstat(AT("run/fifo"), &st) == 0 && S_ISFIFO(st.st_mode) &&
                   (st.st_mode & 07777) == 0600,
           "dir: fifo");
        ok(lstat(AT("dev/null"), &st) < 0 && lstat(AT("usr/share"), &st) < 0,
           "dir: no device node, nothing unkept");
        ok(lstat(AT("home/big"), &st) == 0 && st.st_uid == 3000000, "dir: large uid");
        ok(lstat(AT(long_file), &st) == 0 && st.st_size == 5, "dir: long path");
#undef AT
}

static void test_dir(void)
{
        struct fixture f;
        fixture_init(&f);
        struct wh_write_opts o = opts_for(&f, WH_COMP_ZSTD, NULL);
        _cleanup_free_ char *dir = tpath("rootfs"), *r = NULL;
        if (asprintf(&r, "dir:%s", dir) < 0)
                abort();
        struct wh_write_result res;
        struct wh_err err = {0};
        is_int(write_to(r, &o, &f, &res, &err), 0, "dir: fresh destination");
        if (geteuid() == 0)
                check_tree(dir);
        else
                ok(1, "# SKIP the tree's owners and capabilities need root");

        /* A non-empty destination is exchanged, the old tree removed. */
        _cleanup_free_ char *marker = tpath("rootfs/old-marker");
        close(open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        is_int(write_to(r, &o, &f, &res, &err), 0, "dir: over an existing tree");
        ok(access(marker, F_OK) < 0, "dir: the old tree is gone");
        ok(!leftovers(dir), "dir: no temporaries left beside");
        if (geteuid() == 0)
                check_tree(dir);

        /* A failed write leaves the existing tree as it was. */
        close(open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        is_int(ftruncate(f.spool, 10), 0, "spool cut short");
        ok(write_to(r, &o, &f, &res, &err) < 0, "dir: write fails");
        ok(access(marker, F_OK) == 0, "dir: existing tree untouched after failure");
        ok(!leftovers(dir), "dir: the temporary tree is removed");
        fixture_release(&f);

        /* An empty directory is replaced. */
        wh_rm_rf_at(AT_FDCWD, dir);
        mkdir(dir, 0700);
        fixture_init(&f);
        o.spool_fd = f.spool;
        is_int(write_to(r, &o, &f, &res, &err), 0, "dir: over an empty directory");
        struct stat st;
        ok(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0755, "dir: root is 0755");
        _cleanup_free_ char *file = tpath("rootfs-file");
        close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        _cleanup_free_ char *rf = NULL;
        if (asprintf(&rf, "dir:%s", file) < 0)
                abort();
        is_int(write_to(rf, &o, &f, &res, &err), -EEXIST,
               "dir: a file in the way is refused");
        wh_rm_rf_at(AT_FDCWD, dir);
        unlink(file);
        fixture_release(&f);
}

int main(void)
{
        if (!mkdtemp(tmproot)) {
                perror("mkdtemp");
                return 1;
        }
        memset(long_dir, 'd', sizeof(long_dir) - 1);
        memcpy(long_dir, "opt/", 4);
        long_dir[sizeof(long_dir) - 2] = '/';
        snprintf(long_file, sizeof(long_file), "%sfile", long_dir);

        char d_zstd[80], d_gzip[80], d_none[80];
        test_oci(WH_COMP_ZSTD, d_zstd);
        test_oci(WH_COMP_GZIP, d_gzip);
        test_oci(WH_COMP_NONE, d_none);
        ok(!strcmp(d_zstd, d_gzip) && !strcmp(d_gzip, d_none),
           "one tar whatever the compression (same diff_id)");
        test_umoci();
        test_oci_existing();
        test_not_a_layout();
        test_oci_archive();
        test_docker_archive();
        test_dir();
        wh_rm_rf_at(AT_FDCWD, tmproot);
        return done_testing();
}
