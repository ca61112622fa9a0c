/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image reading end to end on small images made here: tar layers written
 * with libarchive into memory, compressed with gzip or zstd, laid out as an
 * OCI layout (and as oci-archive, docker-archive, tar: and dir: sources),
 * then indexed (pass 1) and read back (pass 2). Hostile layers must fail
 * with the layer digest and the entry in the message.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../builder/elf.h"
#include "../../builder/image_read.h"
#include "cleanup.h"
#include "fs_util.h"
#include "sha256.h"
#include "tap.h"

enum { REG, DIR_, SYM, HARD, CHR, FIFO };

struct ent {
        int type;
        const char *path;
        const char *data; /* content, or link target */
        size_t len;       /* 0: strlen(data) for REG */
        const char *xattr_name;
};

struct buf {
        char *p;
        size_t len;
};

static char tmp[128];
static int tmp_fd = -1;

static struct buf make_tar(const struct ent *e, size_t n, const char *filter)
{
        size_t cap = 1 << 22, used = 0;
        struct buf b = {malloc(cap), 0};
        struct archive *a = archive_write_new();
        archive_write_set_format_pax(a);
        if (filter && !strcmp(filter, "gzip"))
                archive_write_add_filter_gzip(a);
        if (filter && !strcmp(filter, "zstd"))
                archive_write_add_filter_zstd(a);
        archive_write_set_bytes_in_last_block(a, 1);
        archive_write_open_memory(a, b.p, cap, &used);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_mtime(ae, 1700000000, 0);
                size_t len = e[i].len ? e[i].len : (e[i].data ? strlen(e[i].data) : 0);
                switch (e[i].type) {
                case REG:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0755);
                        archive_entry_set_size(ae, (la_int64_t)len);
                        break;
                case DIR_:
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        archive_entry_set_perm(ae, 0755);
                        break;
                case SYM:
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_perm(ae, 0777);
                        archive_entry_set_symlink(ae, e[i].data);
                        break;
                case HARD:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0755);
                        archive_entry_set_hardlink(ae, e[i].data);
                        break;
                case CHR:
                        archive_entry_set_filetype(ae, AE_IFCHR);
                        archive_entry_set_perm(ae, 0666);
                        archive_entry_set_rdevmajor(ae, 1);
                        archive_entry_set_rdevminor(ae, 3);
                        break;
                case FIFO:
                        archive_entry_set_filetype(ae, AE_IFIFO);
                        archive_entry_set_perm(ae, 0644);
                        break;
                }
                if (e[i].xattr_name)
                        archive_entry_xattr_add_entry(ae, e[i].xattr_name, "v", 1);
                archive_write_header(a, ae);
                if (e[i].type == REG && len)
                        archive_write_data(a, e[i].data, len);
                archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        b.len = used;
        return b;
}

static void write_at(const char *rel, const void *p, size_t len)
{
        _cleanup_free_ char *dir = strdup(rel);
        char *s = strrchr(dir, '/');
        if (s) {
                *s = '\0';
                int d = wh_mkdir_p_at(tmp_fd, dir, 0755, NULL);
                if (d >= 0)
                        close(d);
        }
        int fd = openat(tmp_fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                        0644);
        if (fd < 0 || wh_write_all(fd, p, len) < 0)
                diag("write %s failed", rel);
        if (fd >= 0)
                close(fd);
}

/* Writes a blob into layout dir "lay/<name>" and returns its digest. */
static void put_blob(const char *name, const void *p, size_t len,
                     char digest[WH_DIGEST_STR])
{
        char rel[512];
        wh_sha256_digest(p, len, digest);
        snprintf(rel, sizeof(rel), "%s/blobs/sha256/%s", name, wh_digest_hex(digest));
        write_at(rel, p, len);
}

struct layer_spec {
        struct buf blob;
        const char *media_type;
        const char *digest_override;
        int64_t size_delta;
};

/* Builds an OCI layout tmp/<name> with the given layers; returns the layer digests. */
static void make_layout(const char *name, struct layer_spec *ls, size_t n,
                        char digests[][WH_DIGEST_STR])
{
        char rel[512];
        char cfg[4096] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                         "[\"/app\"]},"
                         "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        char cd[WH_DIGEST_STR], md[WH_DIGEST_STR];
        put_blob(name, cfg, strlen(cfg), cd);
        char man[8192];
        size_t o = (size_t)snprintf(
                man, sizeof(man),
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image."
                "manifest.v1+json\",\"config\":{\"mediaType\":\"application/"
                "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                "\"layers\":[",
                cd, strlen(cfg));
        for (size_t i = 0; i < n; i++) {
                put_blob(name, ls[i].blob.p, ls[i].blob.len, digests[i]);
                const char *d = ls[i].digest_override ? ls[i].digest_override : digests[i];
                if (ls[i].digest_override)
                        memcpy(digests[i], ls[i].digest_override, WH_DIGEST_STR);
                o += (size_t)snprintf(
                        man + o, sizeof(man) - o,
                        "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
                        i ? "," : "", ls[i].media_type, d,
                        (long long)ls[i].blob.len + (long long)ls[i].size_delta);
        }
        snprintf(man + o, sizeof(man) - o, "]}");
        put_blob(name, man, strlen(man), md);
        char idx[1024];
        snprintf(idx, sizeof(idx),
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
                 "vnd.oci.image."
                 "manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org."
                 "opencontainers.image.ref.name\":\"v1\"}}]}",
                 md, strlen(man));
        snprintf(rel, sizeof(rel), "%s/index.json", name);
        write_at(rel, idx, strlen(idx));
        snprintf(rel, sizeof(rel), "%s/oci-layout", name);
        write_at(rel, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
}

static int open_and_index(const char *text, struct wh_source **src, struct wh_index **idx,
                          struct wh_err *err)
{
        struct wh_image_ref ref = {0};
        int r = wh_image_ref_parse(text, 0, &ref, err);
        if (r < 0)
                return r;
        *idx = wh_index_new();
        *src = NULL;
        r = wh_source_open(&ref, src, err);
        wh_image_ref_release(&ref);
        if (r < 0)
                return r;
        return wh_source_index(*src, *idx, NULL, NULL, NULL, err);
}

static char *ref_text(const char *transport, const char *name, const char *suffix)
{
        char *s = NULL;
        if (asprintf(&s, "%s:%s/%s%s", transport, tmp, name, suffix ? suffix : "") < 0)
                abort();
        return s;
}

/* Expects indexing tmp/<name> to fail with all of want[] in the message. */
static void expect_fail(const char *name, const char *const *want, size_t n,
                        const char *what)
{
        _cleanup_free_ char *t = ref_text("oci", name, NULL);
        struct wh_source *src;
        struct wh_index *idx;
        struct wh_err err = {0};
        int r = open_and_index(t, &src, &idx, &err);
        ok(r < 0, "%s: refused", what);
        int all = 1;
        for (size_t i = 0; i < n; i++)
                if (!strstr(err.msg, want[i]))
                        all = 0;
        ok(all, "%s: message names the layer and the problem", what);
        if (!all)
                diag("got: %s", err.msg);
        wh_source_free(src);
        wh_index_free(idx);
}

struct collected {
        char paths[8][64];
        char data[8][64];
        int n;
};

static int sink(struct wh_entry *e, wh_read_fn rd, void *stream, void *userdata,
                struct wh_err *err)
{
        struct collected *c = userdata;
        char buf[65536];
        size_t total = 0;
        int n;
        (void)err;
        while ((n = rd(stream, buf, sizeof(buf))) > 0) {
                if (total < 63 && c->n < 8)
                        memcpy(c->data[c->n] + total, buf,
                               (size_t)n < 63 - total ? (size_t)n : 63 - total);
                total += (size_t)n;
        }
        if (n < 0)
                return n;
        if (c->n < 8)
                snprintf(c->paths[c->n++], 64, "%s", e->path);
        return total == e->size ? 0 : -EIO;
}

static struct buf host_elf;

static void check_good_index(struct wh_index *idx, const char *what)
{
        struct wh_entry *e;
        e = wh_index_get(idx, "etc/passwd");
        ok(e && e->content && !strcmp(e->content, "root:x:0:0::/root:/bin/sh\n"),
           "%s: etc/passwd content captured", what);
        ok(!wh_index_get(idx, "etc/group"), "%s: whiteout removed etc/group", what);
        ok(wh_index_get(idx, "opt") && !wh_index_get(idx, "opt/old") &&
                   wh_index_get(idx, "opt/new"),
           "%s: opaque dir dropped lower contents only", what);
        ok(!wh_index_get(idx, "opt/.wh..wh..opq") && !wh_index_get(idx, "etc/.wh.group"),
           "%s: whiteout markers are not entries", what);
        e = wh_index_get(idx, "usr/bin/script");
        is_str(e ? e->shebang : NULL, "/bin/sh -e", "%s: shebang captured", what);
        e = wh_index_get(idx, "usr/bin/app");
        ok(e && e->elf != NULL, "%s: ELF facts captured", what);
        e = wh_index_get(idx, "usr/bin/app2");
        ok(e && e->type == WH_F_HARDLINK && e->link && !strcmp(e->link, "usr/bin/app"),
           "%s: hardlink recorded", what);
        e = wh_index_get(idx, "lib64");
        ok(e && e->type == WH_F_SYMLINK && !strcmp(e->link, "/lib"),
           "%s: absolute symlink kept raw", what);
        ok(!wh_index_get(idx, "dev/null"), "%s: device node skipped", what);
        e = wh_index_get(idx, "run/fifo");
        ok(e && e->type == WH_F_FIFO, "%s: fifo kept", what);
        e = wh_index_get(idx, "usr/bin/cap");
        ok(e && e->n_xattrs == 1 && !strcmp(e->xattrs[0].name, "user.keep"),
           "%s: user.* xattr kept", what);
        e = wh_index_get(idx, "usr/bin/trusted");
        ok(e && e->n_xattrs == 0, "%s: trusted.* xattr dropped", what);
}

static const struct ent layer0[] = {
        {DIR_, "etc/", NULL, 0, NULL},
        {REG, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0, NULL},
        {REG, "etc/group", "root:x:0:\n", 0, NULL},
        {REG, "opt/old", "old", 0, NULL},
        {REG, "usr/bin/script", "#!/bin/sh -e\necho hi\n", 0, NULL},
        {REG, "usr/bin/app", NULL, 0, NULL}, /* filled with host_elf */
        {HARD, "usr/bin/app2", "usr/bin/app", 0, NULL},
        {SYM, "lib64", "/lib", 0, NULL},
        {CHR, "dev/null", NULL, 0, NULL},
        {FIFO, "run/fifo", NULL, 0, NULL},
        {REG, "usr/bin/cap", "c", 0, "user.keep"},
        {REG, "usr/bin/trusted", "t", 0, "trusted.drop"},
};

static const struct ent layer1[] = {
        {REG, "etc/.wh.group", "", 0, NULL},
        {REG, "opt/.wh..wh..opq", "", 0, NULL},
        {REG, "opt/new", "fresh", 0, NULL},
};

static struct buf layer0_tar(const char *filter)
{
        struct ent e[ARRAY_SIZE(layer0)];
        memcpy(e, layer0, sizeof(e));
        e[5].data = host_elf.p;
        e[5].len = host_elf.len;
        return make_tar(e, ARRAY_SIZE(e), filter);
}

static void test_good(void)
{
        struct layer_spec ls[2] = {
                {layer0_tar("gzip"), "application/vnd.oci.image.layer.v1.tar+gzip", NULL,
                 0},
                {make_tar(layer1, ARRAY_SIZE(layer1), "zstd"),
                 "application/vnd.oci.image.layer.v1.tar+zstd", NULL, 0},
        };
        char dg[2][WH_DIGEST_STR];
        make_layout("good", ls, 2, dg);

        struct wh_source *src;
        struct wh_index *idx;
        struct wh_err err = {0};
        _cleanup_free_ char *t = ref_text("oci", "good", ":v1");
        is_int(open_and_index(t, &src, &idx, &err), 0, "good image indexes");
        if (err.code)
                diag("%s", err.msg);
        is_int(src ? src->n_layers : 0, 2, "two layers");
        ok(src && src->config && src->manifest_digest, "config and manifest digest set");
        check_good_index(idx, "oci");

        /* Pass 2: keep three files over both layers. */
        const char *keep[] = {"etc/passwd", "opt/new", "usr/bin/script"};
        for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
                struct wh_entry *e = wh_index_get(idx, keep[i]);
                if (e)
                        e->keep_reason = wh_index_intern(idx, "test");
        }
        struct collected c = {0};
        is_int(wh_source_read_kept(src, idx, sink, &c, NULL, NULL, &err), 0,
               "pass 2 reads");
        is_int(c.n, 3, "three kept files streamed");
        int found = 0;
        for (int i = 0; i < c.n; i++)
                if ((!strcmp(c.paths[i], "opt/new") && !strcmp(c.data[i], "fresh")) ||
                    (!strcmp(c.paths[i], "etc/passwd") &&
                     !strncmp(c.data[i], "root:", 5)) ||
                    (!strcmp(c.paths[i], "usr/bin/script") &&
                     !strncmp(c.data[i], "#!/bin/sh", 9)))
                        found++;
        is_int(found, 3, "kept contents are the right versions");
        wh_source_free(src);
        wh_index_free(idx);

        /* Without a REF: the only manifest is taken; a wrong REF lists the names. */
        _cleanup_free_ char *t2 = ref_text("oci", "good", NULL);
        is_int(open_and_index(t2, &src, &idx, &err), 0, "no REF with one manifest");
        wh_source_free(src);
        wh_index_free(idx);
        _cleanup_free_ char *t3 = ref_text("oci", "good", ":nope");
        ok(open_and_index(t3, &src, &idx, &err) < 0 && strstr(err.msg, "available: v1"),
           "unknown REF refused, names listed");
        wh_source_free(src);
        wh_index_free(idx);
        free(ls[0].blob.p);
        free(ls[1].blob.p);
}

static void bad_layer(const char *name, const struct ent *e, size_t n, const char *filter,
                      const char *mt, const char *want_entry, const char *want_what)
{
        struct layer_spec ls = {make_tar(e, n, filter), mt, NULL, 0};
        char dg[1][WH_DIGEST_STR];
        make_layout(name, &ls, 1, dg);
        const char *want[] = {dg[0], want_entry, want_what};
        expect_fail(name, want, 3, name);
        free(ls.blob.p);
}

static void test_hostile(void)
{
        const char *gz = "application/vnd.oci.image.layer.v1.tar+gzip";
        struct ent abs[] = {{REG, "/etc/evil", "x", 0, NULL}};
        bad_layer("abs", abs, 1, "gzip", gz, "/etc/evil", "absolute path");
        struct ent dotdot[] = {{REG, "a/../../evil", "x", 0, NULL}};
        bad_layer("dotdot", dotdot, 1, "gzip", gz, "a/../../evil", "'..'");
        struct ent under_link[] = {{SYM, "evil", "/etc", 0, NULL},
                                   {REG, "evil/passwd", "x", 0, NULL}};
        bad_layer("underlink", under_link, 2, "gzip", gz, "evil/passwd", "not a directory");
        struct ent hl_out[] = {{HARD, "x", "../../etc/shadow", 0, NULL}};
        bad_layer("hardlink-out", hl_out, 1, "gzip", gz, "entry x", "outside the image");
        struct ent hl_missing[] = {{HARD, "x", "nothere", 0, NULL}};
        bad_layer("hardlink-missing", hl_missing, 1, "gzip", gz, "entry x", "missing file");

        /* Digest and size mismatches, and a truncated gzip stream. */
        struct ent ok_ent[] = {{REG, "f", "data", 0, NULL}};
        const char *wrong =
                "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        struct layer_spec ls = {make_tar(ok_ent, 1, "gzip"), gz, NULL, 0};
        char dg[1][WH_DIGEST_STR];
        char real[WH_DIGEST_STR];
        wh_sha256_digest(ls.blob.p, ls.blob.len, real);
        /* The blob is stored under the wrong name so that it is found. */
        char rel[256];
        snprintf(rel, sizeof(rel), "digest/blobs/sha256/%s", wh_digest_hex(wrong));
        write_at(rel, ls.blob.p, ls.blob.len);
        ls.digest_override = wrong;
        make_layout("digest", &ls, 1, dg);
        snprintf(rel, sizeof(rel), "digest/blobs/sha256/%s", wh_digest_hex(wrong));
        write_at(rel, ls.blob.p, ls.blob.len);
        const char *want_d[] = {wrong, "digest mismatch", real};
        expect_fail("digest", want_d, 3, "digest mismatch");

        ls.digest_override = NULL;
        ls.size_delta = 1;
        make_layout("size", &ls, 1, dg);
        const char *want_s[] = {dg[0], "size mismatch"};
        expect_fail("size", want_s, 2, "size mismatch (descriptor larger)");
        ls.size_delta = -1;
        make_layout("size2", &ls, 1, dg);
        const char *want_s2[] = {dg[0], "larger than its descriptor"};
        expect_fail("size2", want_s2, 2, "size mismatch (blob larger)");

        struct ent big[] = {{REG, "f", NULL, 200000, NULL}};
        _cleanup_free_ char *zeros = calloc(1, 200000);
        big[0].data = zeros;
        struct layer_spec tr = {make_tar(big, 1, "gzip"), gz, NULL, 0};
        tr.blob.len /= 2;
        make_layout("trunc", &tr, 1, dg);
        const char *want_t[] = {dg[0], "truncated gzip"};
        expect_fail("trunc", want_t, 2, "truncated gzip layer");
        free(tr.blob.p);
        free(ls.blob.p);

        /* A plain tar cut inside a file's data. */
        struct layer_spec tt = {make_tar(big, 1, NULL),
                                "application/vnd.oci.image.layer.v1.tar", NULL, 0};
        tt.blob.len = 100000;
        make_layout("trunc-tar", &tt, 1, dg);
        const char *want_tt[] = {dg[0], "entry f"};
        expect_fail("trunc-tar", want_tt, 2, "truncated tar layer");
        free(tt.blob.p);
}

/* A tar of the files under tmp/<dir>, paths relative to it. */
static void tar_dir(const char *dir, const char *out, const char *const *files, size_t n)
{
        struct ent e[16] = {0};
        struct buf contents[16] = {0};
        if (n > 16)
                n = 16;
        for (size_t i = 0; i < n; i++) {
                char rel[512];
                snprintf(rel, sizeof(rel), "%s/%s", dir, files[i]);
                wh_read_file_at(tmp_fd, rel, 1 << 24, &contents[i].p, &contents[i].len,
                                NULL);
                e[i] = (struct ent){REG, files[i], contents[i].p, contents[i].len, NULL};
        }
        struct buf b = make_tar(e, n, NULL);
        write_at(out, b.p, b.len);
        free(b.p);
        for (size_t i = 0; i < n; i++)
                free(contents[i].p);
}

static void list_blobs(const char *dir, char names[][128], size_t *n)
{
        char rel[256];
        snprintf(rel, sizeof(rel), "%s/blobs/sha256", dir);
        int fd = openat(tmp_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        *n = 0;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        snprintf(names[(*n)++], 128, "blobs/sha256/%.100s", de->d_name);
        if (d)
                closedir(d);
}

static void test_archives(void)
{
        /* oci-archive: the "good" layout as a tar. */
        char names[16][128];
        const char *files[16];
        size_t n;
        list_blobs("good", names, &n);
        files[0] = "oci-layout";
        files[1] = "index.json";
        for (size_t i = 0; i < n; i++)
                files[2 + i] = names[i];
        tar_dir("good", "good.tar", files, n + 2);
        struct wh_source *src;
        struct wh_index *idx;
        struct wh_err err = {0};
        _cleanup_free_ char *t = NULL;
        if (asprintf(&t, "oci-archive:%s/good.tar", tmp) < 0)
                abort();
        is_int(open_and_index(t, &src, &idx, &err), 0, "oci-archive indexes");
        if (err.code)
                diag("%s", err.msg);
        check_good_index(idx, "oci-archive");
        char *tmpdir = src && src->tmpdir ? strdup(src->tmpdir) : NULL;
        wh_source_free(src);
        wh_index_free(idx);
        struct stat st;
        ok(tmpdir && stat(tmpdir, &st) < 0 && errno == ENOENT, "unpacked archive removed");
        free(tmpdir);

        /* docker-archive: plain tar layers named by path, diff_ids in the config. */
        struct buf l0 = layer0_tar(NULL), l1 = make_tar(layer1, ARRAY_SIZE(layer1), "gzip");
        char d0[WH_DIGEST_STR], d1[WH_DIGEST_STR], cd[WH_DIGEST_STR];
        struct buf l1_plain = make_tar(layer1, ARRAY_SIZE(layer1), NULL);
        wh_sha256_digest(l0.p, l0.len, d0);
        wh_sha256_digest(l1_plain.p, l1_plain.len, d1);
        write_at("dock/aaa/layer.tar", l0.p, l0.len);
        write_at("dock/bbb/layer.tar.gz", l1.p, l1.len);
        char cfg[1024];
        snprintf(cfg, sizeof(cfg),
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                 "\"layers\","
                 "\"diff_ids\":[\"%s\",\"%s\"]}}",
                 d0, d1);
        wh_sha256_digest(cfg, strlen(cfg), cd);
        char cfg_name[128], man[1024];
        snprintf(cfg_name, sizeof(cfg_name), "%s.json", wh_digest_hex(cd));
        char rel[256];
        snprintf(rel, sizeof(rel), "dock/%s", cfg_name);
        write_at(rel, cfg, strlen(cfg));
        snprintf(man, sizeof(man),
                 "[{\"Config\":\"%s\",\"RepoTags\":[\"app:1\"],\"Layers\":[\"aaa/"
                 "layer.tar\","
                 "\"bbb/layer.tar.gz\"]}]",
                 cfg_name);
        write_at("dock/manifest.json", man, strlen(man));
        const char *dfiles[] = {"manifest.json", cfg_name, "aaa/layer.tar",
                                "bbb/layer.tar.gz"};
        tar_dir("dock", "dock.tar", dfiles, 4);
        free(t);
        if (asprintf(&t, "docker-archive:%s/dock.tar:app:1", tmp) < 0)
                abort();
        is_int(open_and_index(t, &src, &idx, &err), 0, "docker-archive indexes");
        if (err.code)
                diag("%s", err.msg);
        check_good_index(idx, "docker-archive");
        wh_source_free(src);
        wh_index_free(idx);

        /* A diff_id that does not match the layer. */
        d1[10] = d1[10] == '0' ? '1' : '0';
        snprintf(cfg, sizeof(cfg),
                 "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}", d0, d1);
        write_at("dock/cfg.json", cfg, strlen(cfg));
        snprintf(man, sizeof(man),
                 "[{\"Config\":\"cfg.json\",\"Layers\":[\"aaa/layer.tar\",\"bbb/"
                 "layer.tar.gz\"]}]");
        write_at("dock/manifest.json", man, strlen(man));
        const char *dfiles2[] = {"manifest.json", "cfg.json", "aaa/layer.tar",
                                 "bbb/layer.tar.gz"};
        tar_dir("dock", "dock2.tar", dfiles2, 4);
        free(t);
        if (asprintf(&t, "docker-archive:%s/dock2.tar", tmp) < 0)
                abort();
        ok(open_and_index(t, &src, &idx, &err) < 0 && strstr(err.msg, "digest mismatch") &&
                   strstr(err.msg, d1),
           "docker-archive diff_id mismatch refused, names the layer");
        wh_source_free(src);
        wh_index_free(idx);

        /* tar: a gzip rootfs, compression detected by libarchive. */
        struct buf rootfs = layer0_tar("gzip");
        write_at("rootfs.tar.gz", rootfs.p, rootfs.len);
        free(t);
        if (asprintf(&t, "tar:%s/rootfs.tar.gz", tmp) < 0)
                abort();
        is_int(open_and_index(t, &src, &idx, &err), 0, "tar: source indexes");
        ok(wh_index_get(idx, "etc/group") && wh_index_get(idx, "usr/bin/app2"),
           "tar: entries present");
        struct wh_entry *e = wh_index_get(idx, "etc/group");
        if (e)
                e->keep_reason = "k";
        struct collected c = {0};
        is_int(wh_source_read_kept(src, idx, sink, &c, NULL, NULL, &err), 0, "tar: pass 2");
        ok(c.n == 1 && !strcmp(c.data[0], "root:x:0:\n"), "tar: kept content read");
        wh_source_free(src);
        wh_index_free(idx);
        free(l0.p);
        free(l1.p);
        free(l1_plain.p);
        free(rootfs.p);
}

static void test_dir(void)
{
        write_at("root/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 26);
        write_at("root/usr/bin/app", host_elf.p, host_elf.len);
        write_at("root/usr/bin/s", "#!/usr/bin/env python3\n", 23);
        write_at("root/proc/self", "not walked", 10);
        write_at("root/out/result", "excluded", 8);
        ok(symlinkat("/lib", tmp_fd, "root/lib64") == 0, "dir: made a symlink");
        ok(linkat(tmp_fd, "root/usr/bin/app", tmp_fd, "root/usr/bin/app-hard", 0) == 0,
           "dir: made a hardlink");
        char root[300], out[300];
        snprintf(root, sizeof(root), "dir:%s/root", tmp);
        snprintf(out, sizeof(out), "%s/root/out", tmp);

        struct wh_image_ref ref = {0};
        struct wh_source *src = NULL;
        struct wh_index *idx = wh_index_new();
        struct wh_err err = {0};
        wh_image_ref_parse(root, 0, &ref, &err);
        is_int(wh_source_open(&ref, &src, &err), 0, "dir: opens");
        src->exclude_path = out;
        is_int(wh_source_index(src, idx, NULL, NULL, NULL, &err), 0, "dir: indexes");
        if (err.code)
                diag("%s", err.msg);
        struct wh_entry *e = wh_index_get(idx, "etc/passwd");
        ok(e && e->content && !strncmp(e->content, "root:", 5), "dir: config content");
        struct wh_entry *a1 = wh_index_get(idx, "usr/bin/app"),
                        *a2 = wh_index_get(idx, "usr/bin/app-hard");
        ok(a1 && a2 && (a1->elf || a2->elf), "dir: ELF parsed");
        e = wh_index_get(idx, "usr/bin/s");
        is_str(e ? e->shebang : NULL, "/usr/bin/env python3", "dir: shebang");
        e = wh_index_get(idx, "lib64");
        ok(e && e->type == WH_F_SYMLINK && !strcmp(e->link, "/lib"),
           "dir: symlink not followed");
        ok(wh_index_get(idx, "proc") && !wh_index_get(idx, "proc/self"),
           "dir: proc kept, its contents not");
        ok(wh_index_get(idx, "out") && !wh_index_get(idx, "out/result"),
           "dir: exclude_path contents not indexed");
        struct wh_entry *a = wh_index_get(idx, "usr/bin/app"),
                        *b = wh_index_get(idx, "usr/bin/app-hard");
        ok(a && b && ((a->type == WH_F_HARDLINK) ^ (b->type == WH_F_HARDLINK)),
           "dir: one of two hardlinked names is a hardlink");
        e = wh_index_get(idx, "usr/bin/s");
        if (e)
                e->keep_reason = "k";
        struct collected c = {0};
        is_int(wh_source_read_kept(src, idx, sink, &c, NULL, NULL, &err), 0, "dir: pass 2");
        ok(c.n == 1 && !strncmp(c.data[0], "#!/usr/bin/env", 14), "dir: kept content read");
        wh_source_free(src);
        wh_index_free(idx);
        wh_image_ref_release(&ref);
}

int main(void)
{
        snprintf(tmp, sizeof(tmp), "%s/test-layer-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmp))
                return 1;
        tmp_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (wh_read_file_at(AT_FDCWD, "/bin/true", 1 << 24, &host_elf.p, &host_elf.len,
                            NULL) < 0)
                return 1;
        test_good();
        test_hostile();
        test_archives();
        test_dir();
        free(host_elf.p);
        wh_rm_rf_at(AT_FDCWD, tmp);
        close(tmp_fd);
        return done_testing();
}
