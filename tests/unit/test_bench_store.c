/* SPDX-License-Identifier: Apache-2.0 */
/* whittle-bench: OCI layout reading, whiteout conversion, tree counts. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "sha256.h"
#include "../../benchmarks/bench_image.h"
#include "../../benchmarks/bench_store.h"
#include "tap.h"

static char tmp[] = "/tmp/test-bench-store-XXXXXX";

/* mkdir -p of an absolute path (wh_mkdir_p_at walks below its dirfd). */
static void mkdirs(const char *abs)
{
        struct wh_err err;
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = wh_mkdir_p_at(root, abs, 0755, &err);
        if (fd >= 0)
                close(fd);
}

static void put(const char *rel, const char *text)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", tmp, rel);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || wh_write_all(fd, text, strlen(text)) < 0)
                diag("cannot write %s", p);
}

/* Stores text as a blob; returns its digest in out. */
static void blob(const char *text, char out[WH_DIGEST_STR])
{
        char rel[128];
        wh_sha256_digest(text, strlen(text), out);
        snprintf(rel, sizeof(rel), "img/blobs/sha256/%s", wh_digest_hex(out));
        put(rel, text);
}

static void test_image(void)
{
        char p[512], cfg[WH_DIGEST_STR], man[WH_DIGEST_STR], text[2048];
        snprintf(p, sizeof(p), "%s/img/blobs/sha256", tmp);
        struct wh_err err;
        mkdirs(p);
        blob("{\"config\":{\"Entrypoint\":[\"/bin/app\",\"-x\"],\"Cmd\":null,"
             "\"Env\":[\"A=1\"],\"WorkingDir\":\"/srv\"}}",
             cfg);
        snprintf(
                text, sizeof(text),
                "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":1},\"layers\":"
                "["
                "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
                "\"sha256:%064d\",\"size\":100},{\"mediaType\":"
                "\"application/"
                "vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"sha256:%064d\","
                "\"size\":23}]}",
                cfg, 1, 2);
        blob(text, man);
        snprintf(text, sizeof(text),
                 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"annotations\":{"
                 "\"org.opencontainers.image.ref.name\":\"v1\"}}]}",
                 man);
        put("img/index.json", text);
        snprintf(p, sizeof(p), "%s/img", tmp);
        struct bench_image img;
        is_int(bench_image_load(p, "v1", &img, &err), 0, "layout loads by ref");
        is_int(img.n_layers, 2, "two layers");
        ok(img.layers[0].comp == BENCH_COMP_GZIP && img.layers[1].comp == BENCH_COMP_ZSTD,
           "compression from the media types");
        is_int(img.compressed_bytes, 123, "compressed bytes summed");
        is_str(img.manifest_digest, man, "manifest digest");
        is_str(img.config_digest, cfg, "config digest");
        is_str(img.entrypoint ? img.entrypoint[1] : NULL, "-x", "entrypoint");
        ok(img.cmd == NULL, "a null Cmd is no cmd");
        is_str(img.workdir, "/srv", "working directory");
        bench_image_release(&img);
        ok(bench_image_load(p, "v2", &img, &err) < 0 &&
                   strstr(err.msg, "no manifest named 'v2'"),
           "a missing ref is named");
        char *dir = NULL, *ref = NULL;
        is_int(bench_oci_ref_split("oci:/a/b:tag", &dir, &ref), 0, "oci ref splits");
        is_str(dir, "/a/b", "dir part");
        is_str(ref, "tag", "ref part");
        free(dir);
        free(ref);
        is_int(bench_oci_ref_split("docker://x", &dir, &ref), -EINVAL,
               "other transports refused");
}

static void test_whiteouts(void)
{
        if (geteuid() != 0) {
                ok(1, "# SKIP whiteouts need root (mknod, trusted.* xattrs)");
                return;
        }
        char p[512];
        snprintf(p, sizeof(p), "%s/layer/etc/sub", tmp);
        struct wh_err err;
        mkdirs(p);
        put("layer/etc/.wh.passwd", "");
        put("layer/etc/sub/.wh..wh..opq", "");
        put("layer/etc/sub/kept", "x");
        put("layer/etc/hosts", "y");
        snprintf(p, sizeof(p), "%s/layer", tmp);
        is_int(bench_whiteouts_to_overlay(p, &err), 0, "whiteouts converted");
        struct stat st;
        snprintf(p, sizeof(p), "%s/layer/etc/passwd", tmp);
        ok(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
           ".wh.passwd became a 0/0 character device");
        snprintf(p, sizeof(p), "%s/layer/etc/.wh.passwd", tmp);
        ok(lstat(p, &st) < 0 && errno == ENOENT, "the .wh. file is gone");
        char v[4] = {0};
        snprintf(p, sizeof(p), "%s/layer/etc/sub", tmp);
        ok(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y',
           "an opaque marker makes the directory opaque");
        snprintf(p, sizeof(p), "%s/layer/etc/sub/kept", tmp);
        ok(lstat(p, &st) == 0, "siblings of the marker stay");
        int64_t files = 0, bytes = 0;
        snprintf(p, sizeof(p), "%s/layer", tmp);
        is_int(bench_tree_count(p, &files, &bytes, &err), 0, "tree counted");
        /* etc, etc/sub, etc/passwd, etc/hosts, etc/sub/kept */
        is_int(files, 5, "entries below the root");
        is_int(bytes, 2, "bytes of regular files");
}

int main(void)
{
        if (!mkdtemp(tmp))
                return 1;
        test_image();
        test_whiteouts();
        wh_rm_rf_at(AT_FDCWD, tmp);
        return done_testing();
}
