/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_sample.h"
#include "cleanup.h"
#include "fs_util.h"
#include "strv.h"

#define BUILD_TIMEOUT_MS (10 * 60 * 1000)

/* Designated, so the runner's fields stay zero. */
#define VARIANT(n, d, s, r, i, fs, q)                                                      \
        {                                                                                  \
                .name = n, .description = d, .src_key = s, .runtime = r, .init = i,        \
                .rootfs = fs, .quick = q                                                   \
        }

const struct bench_variant bench_variants[] = {
        VARIANT("al2-gzip-runc",
                "AL2-style image (3 gzip layers, shell-wrapper entrypoint) on runc, no "
                "init: today's way",
                "al2", "runc", BENCH_INIT_NONE, BENCH_ROOTFS_OVERLAY, 1),
        VARIANT("al2023-gzip-runc",
                "AL2023-minimal-style image (gzip layers) on runc, no init", "al2023-gzip",
                "runc", BENCH_INIT_NONE, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("al2023-zstd-runc",
                "the same AL2023-minimal-style image with zstd layers, on runc",
                "al2023-zstd", "runc", BENCH_INIT_NONE, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("whittled-zstd-wrun-winit",
                "whittled image (one zstd layer) on whittle-run with whittle-init: "
                "whittle's way",
                "whittled-zstd", "whittle-run", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OVERLAY,
                1),
        VARIANT("whittled-gzip-wrun-winit",
                "the whittled image with a gzip layer instead of zstd", "whittled-gzip",
                "whittle-run", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("whittled-zstd-crun-winit", "whittled image, crun instead of whittle-run",
                "whittled-zstd", "crun", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OVERLAY, 1),
        VARIANT("whittled-zstd-runc-winit", "whittled image, runc instead of whittle-run",
                "whittled-zstd", "runc", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OVERLAY, 1),
        VARIANT("whittled-zstd-wrun-tini",
                "whittled image, tini (static) instead of whittle-init", "whittled-zstd",
                "whittle-run", BENCH_INIT_TINI, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("whittled-zstd-wrun-dumbinit",
                "whittled image, dumb-init instead of whittle-init", "whittled-zstd",
                "whittle-run", BENCH_INIT_DUMB, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("whittled-zstd-wrun-noinit",
                "whittled image, no init (the workload is PID 1)", "whittled-zstd",
                "whittle-run", BENCH_INIT_NONE, BENCH_ROOTFS_OVERLAY, 0),
        VARIANT("whittled-zstd-wrun-winit-tar",
                "whittled image, rootfs by tar extraction per container instead of "
                "overlayfs",
                "whittled-zstd", "whittle-run", BENCH_INIT_WHITTLE, BENCH_ROOTFS_TAR, 0),
        VARIANT("whittled-zstd-wrun-winit-ostree",
                "whittled image, committed to an OSTree repo, rootfs by hardlink checkout",
                "whittled-zstd", "whittle-run", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OSTREE, 0),
        /* The second workload, a compiled service: its own start is ~1 ms, where Python's
         * is ~45 ms, so the runtime's and the image's share of time to ready shows. */
        VARIANT("al2-gzip-runc-service",
                "AL2-style image, compiled service behind the shell wrapper, on runc, no "
                "init: today's way",
                "al2-service", "runc", BENCH_INIT_NONE, BENCH_ROOTFS_OVERLAY, 1),
        VARIANT("whittled-service-zstd-wrun-winit",
                "the compiled service whittled (profile native, one zstd layer) on "
                "whittle-run with whittle-init",
                "whittled-service", "whittle-run", BENCH_INIT_WHITTLE, BENCH_ROOTFS_OVERLAY,
                1),
};
const size_t bench_n_variants = ARRAY_SIZE(bench_variants);

/* What the registry serves. ref: a sample in benchmarks/cache/, or an image built into
 * the work directory (comp set: whittled from the Python or the service sample). */
static const struct {
        const char *key, *sample, *repo, *ref, *comp;
        int service;
} src_defs[] = {
        {"al2", "al2-style (amazonlinux:2 stand-in, Debian packages)", "bench/al2:latest",
         "al2-style:latest", NULL, 0},
        {"al2023-gzip", "al2023-python (AL2023-minimal stand-in, Debian packages)",
         "bench/al2023:gzip", "al2023-python:latest", NULL, 0},
        {"al2023-zstd", "al2023-python, zstd layers", "bench/al2023:zstd", "al2023-python:zstd",
         NULL, 0},
        {"whittled-zstd", "al2023-python whittled (one zstd layer)", "bench/whittled:zstd",
         "whittled:zstd", "zstd", 0},
        {"whittled-gzip", "al2023-python whittled (one gzip layer)", "bench/whittled:gzip",
         "whittled:gzip", "gzip", 0},
        {"al2-service", "al2-style, compiled service (shell wrapper)", "bench/al2:service",
         "al2-style:service", NULL, 1},
        {"whittled-service", "al2023-python's compiled service whittled (one zstd layer)",
         "bench/whittled:service", "whittled:service", "zstd", 1},
};

const char *bench_init_name(enum bench_init i)
{
        switch (i) {
        case BENCH_INIT_WHITTLE:
                return "whittle-init";
        case BENCH_INIT_TINI:
                return "tini";
        case BENCH_INIT_DUMB:
                return "dumb-init";
        case BENCH_INIT_NONE:
                return "none";
        }
        return "?";
}

static struct bench_src *find_src(struct bench_ctx *ctx, const char *key)
{
        for (size_t i = 0; i < ctx->n_srcs; i++)
                if (!strcmp(ctx->srcs[i].key, key))
                        return &ctx->srcs[i];
        return NULL;
}

int bench_ctx_set_src(struct bench_ctx *ctx, const char *key, const char *ref,
                      struct wh_err *err)
{
        struct bench_src *s = find_src(ctx, key);
        if (!s)
                return wh_failx(err, EINVAL, "unknown image '%s'", key);
        char *c = strdup(ref);
        if (!c)
                return wh_fail(err, ENOMEM, "image");
        free(s->ref);
        s->ref = c;
        return 0;
}

static int in_list(const char *list, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = list; p && *p;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                if (len == n && !strncmp(p, name, n))
                        return 1;
                p = comma ? comma + 1 : NULL;
        }
        return 0;
}

static int check_only(const char *only, struct wh_err *err)
{
        for (const char *p = only; p && *p;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                int found = 0;
                for (size_t i = 0; i < bench_n_variants; i++)
                        if (strlen(bench_variants[i].name) == len &&
                            !strncmp(bench_variants[i].name, p, len))
                                found = 1;
                if (!found)
                        return wh_failx(err, EINVAL, "unknown variant '%.*s'", (int)len, p);
                p = comma ? comma + 1 : NULL;
        }
        return 0;
}

static int setup_runtimes(struct bench_ctx *ctx, struct wh_err *err)
{
        static const char *const names[] = {"whittle-run", "runc", "crun"};
        /* crun 1.8 refuses hybrid cgroup hosts: a private cgroup2 mount, and no cgroup. */
        int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        for (size_t i = 0; i < 3; i++) {
                if (asprintf(&ctx->rt_roots[i], "%s/state-%s", ctx->work, names[i]) < 0)
                        return wh_fail(err, ENOMEM, "runtimes");
                ctx->runtimes[i] = (struct bench_runtime){
                        .name = names[i], .path = names[i], .root = ctx->rt_roots[i]};
        }
        /* A copy made by bench_prepare: a rebuild of build/ during a long run must not
         * change, or briefly remove, the runtime under test. */
        if (asprintf(&ctx->wrun_path, "%s/bin/whittle-run", ctx->work) < 0)
                return wh_fail(err, ENOMEM, "runtimes");
        ctx->runtimes[0].path = ctx->wrun_path;
        if (!v2) {
                ctx->runtimes[2].cgroup2_ns = 1;
                ctx->runtimes[2].extra = "--cgroup-manager=disabled";
        }
        return 0;
}

int bench_ctx_init(struct bench_ctx *ctx, const char *work_parent, int quick,
                   const char *only, struct wh_err *err)
{
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return wh_fail(err, errno, "readlink /proc/self/exe");
        exe[n] = '\0';
        ctx->bindir = strdup(dirname(exe));
        _cleanup_free_ char *up = NULL;
        if (!ctx->bindir || asprintf(&up, "%s/..", ctx->bindir) < 0)
                return wh_fail(err, ENOMEM, "init");
        if (!(ctx->top = realpath(up, NULL)))
                return wh_fail(err, errno, "resolve '%s'", up);
        char whittle[4096];
        snprintf(whittle, sizeof(whittle), "%s/whittle", ctx->bindir);
        bench_store_set_whittle(whittle);
        int r = check_only(only, err);
        if (r < 0)
                return r;
        if (asprintf(&ctx->work, "%s/whittle-bench-XXXXXX", work_parent) < 0)
                return wh_fail(err, ENOMEM, "init");
        if (!mkdtemp(ctx->work)) {
                int e = errno;
                free(ctx->work);
                ctx->work = NULL;
                return wh_fail(err, e, "make a work directory in '%s'", work_parent);
        }
        if (asprintf(&ctx->tools_dir, "%s/tools", ctx->work) < 0)
                return wh_fail(err, ENOMEM, "init");
        char vdir[4096];
        snprintf(vdir, sizeof(vdir), "%s/v", ctx->work);
        if (mkdir(vdir, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", vdir);
        ctx->n_srcs = ARRAY_SIZE(src_defs);
        ctx->srcs = calloc(ctx->n_srcs, sizeof(*ctx->srcs));
        ctx->n_vars = bench_n_variants;
        ctx->vars = calloc(ctx->n_vars, sizeof(*ctx->vars));
        if (!ctx->srcs || !ctx->vars)
                return wh_fail(err, ENOMEM, "init");
        if (asprintf(&ctx->service_from, "oci:%s/benchmarks/cache/al2023-python:service",
                     ctx->top) < 0)
                return wh_fail(err, ENOMEM, "init");
        for (size_t i = 0; i < ctx->n_srcs; i++) {
                struct bench_src *s = &ctx->srcs[i];
                s->key = src_defs[i].key;
                s->sample = src_defs[i].sample;
                s->repo = src_defs[i].repo;
                s->comp = src_defs[i].comp;
                s->service = src_defs[i].service;
                int k = s->comp ? asprintf(&s->ref, "oci:%s/images/%s", ctx->work,
                                           src_defs[i].ref)
                                : asprintf(&s->ref, "oci:%s/benchmarks/cache/%s", ctx->top,
                                           src_defs[i].ref);
                if (k < 0)
                        return wh_fail(err, ENOMEM, "init");
        }
        if ((r = setup_runtimes(ctx, err)) < 0)
                return r;
        for (size_t i = 0; i < ctx->n_vars; i++) {
                struct bench_variant *v = &ctx->vars[i];
                *v = bench_variants[i];
                v->selected = only ? in_list(only, v->name) : (!quick || v->quick);
                v->src = find_src(ctx, v->src_key);
                for (size_t k = 0; k < 3; k++)
                        if (!strcmp(ctx->runtimes[k].name, v->runtime))
                                v->rt = &ctx->runtimes[k];
                if (asprintf(&v->dir, "%s/v/%s", ctx->work, v->name) < 0)
                        return wh_fail(err, ENOMEM, "init");
                if (mkdir(v->dir, 0755) < 0)
                        return wh_fail(err, errno, "mkdir '%s'", v->dir);
                if (v->selected)
                        v->src->used = 1;
        }
        return 0;
}

/* --- one run
 * ------------------------------------------------------------------------------ */

/* Reads a file to warm its pages; errors do not matter (a missing file stays cold). */
static void touch_file(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return;
        static char buf[1 << 16];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

static int touch_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)ftw;
        if (flag == FTW_F && S_ISREG(st->st_mode))
                touch_file(path);
        return 0;
}

/* The registry's side of a pull into the page cache: its metadata for the repository and
 * the blobs of the image. */
static void warm_registry(struct bench_ctx *ctx, const struct bench_src *s)
{
        char repo[512], path[4096];
        snprintf(repo, sizeof(repo), "%s", s->repo);
        char *colon = strrchr(repo, ':');
        if (colon)
                *colon = '\0';
        snprintf(path, sizeof(path), "%s/storage/docker/registry/v2/repositories/%s",
                 ctx->reg.dir, repo);
        nftw(path, touch_cb, 32, FTW_PHYS);
        const char *dg[] = {s->reg.manifest_digest, s->reg.config_digest};
        for (size_t i = 0; i < 2 + s->reg.n_layers; i++) {
                _cleanup_free_ char *p = bench_registry_blob_path(
                        &ctx->reg, i < 2 ? dg[i] : s->reg.layers[i - 2].digest);
                if (p)
                        touch_file(p);
        }
}

static int drop_caches(struct wh_err *err)
{
        sync();
        _cleanup_close_ int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "3\n", 2) != 2)
                return wh_fail(err, errno,
                               "drop the page cache (/proc/sys/vm/drop_caches)");
        return 0;
}

static int make_cold(struct bench_ctx *ctx, struct bench_variant *v, const char *image,
                     const char *store, struct wh_err *err)
{
        int r;
        if ((r = bench_rm_rf(image, err)) < 0 || (r = bench_rm_rf(store, err)) < 0)
                return r;
        if ((r = drop_caches(err)) < 0)
                return r;
        warm_registry(ctx, v->src);
        return bench_registry_ping(ctx->reg.port, err);
}

/*
 * The container's args: the init the variant asks for in front of the image's own
 * entrypoint + cmd. An image built with `whittle build --init` already starts with
 * "/whittle-init ... --"; for the other inits that prefix is taken off again.
 */
static int variant_args(const struct bench_ctx *ctx, const struct bench_variant *v,
                        const struct bench_image *img, char ***ret, int *ret_tools)
{
        _cleanup_strv_ char **base = NULL;
        for (char **p = img->entrypoint; p && *p; p++)
                if (wh_strv_push_dup(&base, *p) < 0)
                        return -ENOMEM;
        for (char **p = img->cmd; p && *p; p++)
                if (wh_strv_push_dup(&base, *p) < 0)
                        return -ENOMEM;
        size_t nb = wh_strv_len(base);
        if (!nb)
                return -EINVAL;
        size_t skip = 0;
        int in_image = 0;
        if (!strcmp(base[0], "/whittle-init")) {
                for (size_t i = 1; i < nb; i++)
                        if (!strcmp(base[i], "--")) {
                                skip = i + 1;
                                in_image = 1;
                                break;
                        }
        }
        (void)ctx;
        char **args = NULL;
        int r = 0, tools = 1;
        switch (v->init) {
        case BENCH_INIT_WHITTLE:
                tools = !in_image;
                r = wh_strv_push_dup(&args,
                                     in_image ? "/whittle-init" : "/.bench/whittle-init");
                r = r ?: wh_strv_push_dup(&args, "--ready-fd");
                r = r ?: wh_strv_push_dup(&args, "2");
                r = r ?: wh_strv_push_dup(&args, "--");
                break;
        case BENCH_INIT_TINI:
                r = wh_strv_push_dup(&args, "/.bench/tini");
                r = r ?: wh_strv_push_dup(&args, "--");
                break;
        case BENCH_INIT_DUMB:
                r = wh_strv_push_dup(&args, "/.bench/dumb-init");
                break;
        case BENCH_INIT_NONE:
                tools = 0;
                break;
        }
        for (size_t i = skip; !r && i < nb; i++)
                r = wh_strv_push_dup(&args, base[i]);
        if (r < 0) {
                wh_strv_free(args);
                return r;
        }
        *ret = args;
        *ret_tools = tools;
        return 0;
}

struct run_paths {
        char image[4096], store[4096], bundle[4096];
};

static void run_paths(const struct bench_variant *v, struct run_paths *p)
{
        snprintf(p->image, sizeof(p->image), "%s/image", v->dir);
        snprintf(p->store, sizeof(p->store), "%s/store", v->dir);
        snprintf(p->bundle, sizeof(p->bundle), "%s/bundle", v->dir);
}

static int pull(struct bench_ctx *ctx, struct bench_variant *v, const struct run_paths *p,
                struct wh_err *err)
{
        struct bench_fetch f;
        int r = bench_fetch(ctx->reg.port, v->src->repo, p->image, &f, err);
        if (r < 0)
                return r;
        v->res.bytes_fetched = f.bytes;
        if (v->img_loaded)
                bench_image_release(&v->img);
        v->img_loaded = 0;
        if ((r = bench_image_load(p->image, "bench", &v->img, err)) < 0)
                return r;
        v->img_loaded = 1;
        return 0;
}

static int make_bundle(struct bench_ctx *ctx, struct bench_variant *v,
                       const struct run_paths *p, struct wh_err *err)
{
        int r = bench_rootfs_prepare(&v->img, p->image, p->store, v->rootfs, p->bundle,
                                     err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **args = NULL;
        int tools = 0;
        if (variant_args(ctx, v, &v->img, &args, &tools) < 0)
                return wh_failx(err, EINVAL, "%s: the image has no entrypoint or cmd",
                                v->name);
        return bench_config_write(p->bundle, args, v->img.env,
                                  v->img.workdir ? v->img.workdir : "/",
                                  tools ? ctx->tools_dir : NULL, err);
}

static int run_measured(struct bench_ctx *ctx, struct bench_variant *v, int cold,
                        const struct run_paths *p, struct bench_stamps *st,
                        struct wh_err *err)
{
        int r;
        st->t0 = bench_now_ns();
        if (cold && (r = pull(ctx, v, p, err)) < 0)
                return wh_fail_ctx(err, r, "fetch");
        st->end[BENCH_FETCH] = bench_now_ns();
        if (cold && (r = bench_unpack(&v->img, p->image, p->store, v->rootfs, err)) < 0)
                return r;
        st->end[BENCH_UNPACK] = bench_now_ns();
        if ((r = make_bundle(ctx, v, p, err)) < 0)
                return wh_fail_ctx(err, r, "rootfs");
        st->end[BENCH_ROOTFS] = bench_now_ns();
        char id[64];
        snprintf(id, sizeof(id), "wb-%d-%u", (int)getpid(), ++ctx->seq);
        struct bench_container c = {.rt = v->rt,
                                    .bundle = p->bundle,
                                    .id = id,
                                    .ready_line = ctx->ready_line,
                                    .stamp = v->init == BENCH_INIT_WHITTLE,
                                    .timeout_ms = ctx->timeout_ms};
        struct bench_container_times t;
        if ((r = bench_container_run(&c, &t, err)) < 0)
                return r;
        st->end[BENCH_CREATE] = t.created;
        st->end[BENCH_EXEC] = t.exec;
        st->end[BENCH_READY] = t.ready;
        return 0;
}

int bench_run_once(struct bench_ctx *ctx, struct bench_variant *v, int cold,
                   struct bench_sample *ret, struct wh_err *err)
{
        struct run_paths p;
        run_paths(v, &p);
        int r = bench_rootfs_release(p.bundle, err);
        if (r < 0)
                return r;
        if (!cold && !v->warm_ready)
                return wh_failx(err, EINVAL, "%s: warm run before the image was pulled",
                                v->name);
        if (cold) {
                v->warm_ready = 0;
                if ((r = make_cold(ctx, v, p.image, p.store, err)) < 0)
                        return r;
        }
        struct bench_stamps st = {0};
        r = run_measured(ctx, v, cold, &p, &st, err);
        int r2 = bench_rootfs_release(p.bundle, r < 0 ? NULL : err);
        if (r < 0 || (r = r2) < 0)
                return wh_fail_ctx(err, r, "%s (%s)", v->name, cold ? "cold" : "warm");
        if (bench_sample_from_stamps(&st, ret) < 0)
                return wh_failx(err, EINVAL,
                                "%s: stamps out of order (exec before create?)", v->name);
        return 0;
}

int bench_warm_prepare(struct bench_ctx *ctx, struct bench_variant *v, struct wh_err *err)
{
        struct run_paths p;
        run_paths(v, &p);
        int r;
        if ((r = bench_rootfs_release(p.bundle, err)) < 0 ||
            (r = bench_rm_rf(p.image, err)) < 0 || (r = bench_rm_rf(p.store, err)) < 0)
                return r;
        if ((r = pull(ctx, v, &p, err)) < 0 ||
            (r = bench_unpack(&v->img, p.image, p.store, v->rootfs, err)) < 0 ||
            (r = bench_rootfs_prepare(&v->img, p.image, p.store, v->rootfs, p.bundle,
                                      err)) < 0)
                return wh_fail_ctx(err, r, "%s: prepare warm runs", v->name);
        char rootfs[4200];
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", p.bundle);
        r = bench_tree_count(rootfs, &v->res.files, &v->res.bytes, err);
        int r2 = bench_rootfs_release(p.bundle, err);
        if (r < 0 || (r = r2) < 0)
                return r;
        v->warm_ready = 1;
        return 0;
}
