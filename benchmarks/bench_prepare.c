/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Before the first measured run: tools checked, inits copied where a bind mount
 * can reach them, the whittled images built, the registry started and every
 * image pushed and pulled once (that pull tells what the registry serves).
 * After the last: everything stopped, unmounted and removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_runner.h"
#include "cleanup.h"
#include "fs_util.h"

#define BUILD_TIMEOUT_MS (10 * 60 * 1000)

static int have_tool(const char *name)
{
        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = strdup(path ? path : "/usr/bin:/bin");
        char *save = NULL;
        for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
             d = strtok_r(NULL, ":", &save)) {
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", d, name);
                if (access(p, X_OK) == 0)
                        return 1;
        }
        return 0;
}

static int any_selected(const struct bench_ctx *ctx,
                        int (*pred)(const struct bench_variant *))
{
        for (size_t i = 0; i < ctx->n_vars; i++)
                if (ctx->vars[i].selected && pred(&ctx->vars[i]))
                        return 1;
        return 0;
}

static int uses_ostree(const struct bench_variant *v)
{
        return v->rootfs == BENCH_ROOTFS_OSTREE;
}
static int uses_tini(const struct bench_variant *v)
{
        return v->init == BENCH_INIT_TINI;
}
static int uses_dumb(const struct bench_variant *v)
{
        return v->init == BENCH_INIT_DUMB;
}

static int check_tools(struct bench_ctx *ctx, struct wh_err *err)
{
        const char *need[16];
        size_t n = 0;
        need[n++] = "tar";
        need[n++] = "gzip";
        need[n++] = "zstd";
        need[n++] = "skopeo";
        need[n++] = "docker-registry";
        need[n++] = "gnuplot";
        for (size_t i = 0; i < ctx->n_vars; i++) {
                const struct bench_variant *v = &ctx->vars[i];
                if (v->selected && v->rt->path[0] != '/')
                        need[n++] = v->rt->path;
                if (n >= ARRAY_SIZE(need) - 4)
                        break;
        }
        if (any_selected(ctx, uses_ostree))
                need[n++] = "ostree";
        if (any_selected(ctx, uses_tini))
                need[n++] = "tini-static";
        if (any_selected(ctx, uses_dumb))
                need[n++] = "dumb-init";
        for (size_t i = 0; i < n; i++)
                if (!have_tool(need[i]))
                        return wh_failx(err, ENOENT,
                                        "'%s' not found; run scripts/install-deps",
                                        need[i]);
        static const char *const ours[] = {"whittle", "whittle-run", "whittle-init"};
        for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", ctx->bindir, ours[i]);
                if (access(p, X_OK) != 0)
                        return wh_failx(err, ENOENT,
                                        "'%s' not found; build it with make -j2", p);
        }
        return 0;
}

static int copy_file(const char *from, const char *to, struct wh_err *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = wh_read_file_at(AT_FDCWD, from, 64 << 20, &data, &len, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd =
                open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0755);
        if (fd < 0 || wh_write_all(fd, data, len) < 0)
                return wh_fail(err, errno, "write '%s'", to);
        return 0;
}

/* Inits that are not in the image reach the container through a read-only bind mount of
 * this directory: copies, so the host's files are never the mount source. */
static int make_tools(struct bench_ctx *ctx, struct wh_err *err)
{
        if (mkdir(ctx->tools_dir, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", ctx->tools_dir);
        char from[4096], to[4200];
        snprintf(to, sizeof(to), "%s/bin", ctx->work);
        if (mkdir(to, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", to);
        snprintf(from, sizeof(from), "%s/whittle-run", ctx->bindir);
        int r0 = copy_file(from, ctx->wrun_path, err);
        if (r0 < 0)
                return r0;
        snprintf(from, sizeof(from), "%s/whittle-init", ctx->bindir);
        snprintf(to, sizeof(to), "%s/whittle-init", ctx->tools_dir);
        int r = copy_file(from, to, err);
        if (r >= 0 && any_selected(ctx, uses_tini)) {
                snprintf(to, sizeof(to), "%s/tini", ctx->tools_dir);
                r = copy_file("/usr/bin/tini-static", to, err);
        }
        if (r >= 0 && any_selected(ctx, uses_dumb)) {
                snprintf(to, sizeof(to), "%s/dumb-init", ctx->tools_dir);
                r = copy_file("/usr/bin/dumb-init", to, err);
        }
        return r;
}

/* `whittle build --init` puts whittle-init into the image; older builders do not know it.
 */
static int builder_has_init(const struct bench_ctx *ctx)
{
        char p[4096];
        snprintf(p, sizeof(p), "%s/whittle", ctx->bindir);
        char *argv[] = {p, (char *)"build", (char *)"--help", NULL};
        _cleanup_free_ char *out = NULL;
        if (bench_run(argv, 30000, &out, NULL) < 0 || !out)
                return 0;
        return strstr(out, "--init") != NULL;
}

static int build_whittled(struct bench_ctx *ctx, const struct bench_src *s, const char *from,
                          const char *profile, struct wh_err *err)
{
        char whittle[4096];
        snprintf(whittle, sizeof(whittle), "%s/whittle", ctx->bindir);
        char *argv[16];
        size_t n = 0;
        argv[n++] = whittle;
        argv[n++] = (char *)"build";
        argv[n++] = (char *)"-q";
        argv[n++] = (char *)"--profile";
        argv[n++] = (char *)profile;
        if (ctx->image_has_init)
                argv[n++] = (char *)"--init";
        argv[n++] = (char *)"--compression";
        argv[n++] = (char *)s->comp;
        argv[n++] = (char *)from;
        argv[n++] = s->ref;
        argv[n] = NULL;
        if (!ctx->quiet)
                fprintf(stderr,
                        "whittle-bench: whittle build --profile %s%s --compression %s %s\n",
                        profile, ctx->image_has_init ? " --init" : "", s->comp, from);
        int r = bench_run_ok(argv, BUILD_TIMEOUT_MS, err);
        return r < 0 ? wh_fail_ctx(err, r, "build the whittled image %s", s->key) : 0;
}

static int check_src(const struct bench_src *s, struct wh_err *err)
{
        _cleanup_free_ char *dir = NULL, *ref = NULL;
        if (bench_oci_ref_split(s->ref, &dir, &ref) < 0)
                return wh_failx(err, EINVAL, "image '%s': only oci:DIR[:REF] is supported",
                                s->ref);
        struct bench_image img;
        int r = bench_image_load(dir, ref, &img, err);
        if (r < 0)
                return wh_fail_ctx(err, r,
                                   "image %s (build the samples with "
                                   "benchmarks/make-samples)",
                                   s->ref);
        bench_image_release(&img);
        return 0;
}

/* Push, then pull once: what the registry serves (digests, bytes) is what runs fetch. */
static int publish(struct bench_ctx *ctx, struct bench_src *s, struct wh_err *err)
{
        int r = bench_registry_push(&ctx->reg, s->ref, s->repo, err);
        if (r < 0)
                return r;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/probe-%s", ctx->work, s->key);
        struct bench_fetch f;
        if ((r = bench_fetch(ctx->reg.port, s->repo, dir, &f, err)) < 0 ||
            (r = bench_image_load(dir, "bench", &s->reg, err)) < 0)
                return wh_fail_ctx(err, r, "pull %s back", s->repo);
        s->bytes_fetched = f.bytes;
        return bench_rm_rf(dir, err);
}

int bench_prepare(struct bench_ctx *ctx, struct wh_err *err)
{
        if (geteuid() != 0)
                return wh_failx(err, EPERM,
                                "must run as root (page cache drops, mounts, "
                                "containers)");
        int r = check_tools(ctx, err);
        if (r >= 0)
                r = make_tools(ctx, err);
        if (r < 0)
                return r;
        if (!ctx->whittle_from)
                ctx->whittle_from = ctx->srcs[1].ref;
        ctx->image_has_init = builder_has_init(ctx);
        char images[4096];
        snprintf(images, sizeof(images), "%s/images", ctx->work);
        if (mkdir(images, 0755) < 0)
                return wh_fail(err, errno, "mkdir '%s'", images);
        for (size_t i = 0; i < ctx->n_srcs; i++) {
                struct bench_src *s = &ctx->srcs[i];
                if (!s->used)
                        continue;
                if (s->comp) {
                        const char *from = s->service ? ctx->service_from : ctx->whittle_from;
                        const char *profile = s->service ? "native" : ctx->profile;
                        if ((r = check_src(&(struct bench_src){.ref = (char *)from}, err)) < 0 ||
                            (r = build_whittled(ctx, s, from, profile, err)) < 0)
                                return r;
                }
                if ((r = check_src(s, err)) < 0)
                        return r;
        }
        if ((r = bench_registry_start(&ctx->reg, ctx->work, ctx->registry_timeout_ms,
                                      err)) < 0)
                return r;
        for (size_t i = 0; i < ctx->n_srcs; i++) {
                struct bench_src *s = &ctx->srcs[i];
                if (!s->used)
                        continue;
                if (!ctx->quiet)
                        fprintf(stderr, "whittle-bench: push %s as %s\n", s->ref, s->repo);
                if ((r = publish(ctx, s, err)) < 0)
                        return r;
        }
        return 0;
}

/* Unmounts whatever is still mounted below the work directory (deepest first). */
static void umount_below(const char *dir)
{
        size_t dl = strlen(dir);
        for (int pass = 0; pass < 8; pass++) {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
                if (!f)
                        return;
                char line[8192], target[4096], last[4096] = "";
                while (fgets(line, sizeof(line), f)) {
                        /* id parent major:minor root mount-point ... */
                        if (sscanf(line, "%*s %*s %*s %*s %4095s", target) == 1 &&
                            !strncmp(target, dir, dl) && (target[dl] == '/' || !target[dl]))
                                snprintf(last, sizeof(last), "%s", target);
                }
                if (!*last)
                        return;
                umount2(last, MNT_DETACH);
        }
}

void bench_ctx_cleanup(struct bench_ctx *ctx, int keep_work)
{
        bench_registry_stop(&ctx->reg);
        for (size_t i = 0; ctx->vars && i < ctx->n_vars; i++) {
                struct bench_variant *v = &ctx->vars[i];
                if (v->img_loaded)
                        bench_image_release(&v->img);
                bench_series_release(&v->res.cold);
                bench_series_release(&v->res.warm);
                free(v->dir);
        }
        for (size_t i = 0; ctx->srcs && i < ctx->n_srcs; i++) {
                bench_image_release(&ctx->srcs[i].reg);
                free(ctx->srcs[i].ref);
        }
        if (ctx->work) {
                umount_below(ctx->work);
                if (!keep_work)
                        bench_rm_rf(ctx->work, NULL);
        }
        for (size_t i = 0; i < 3; i++)
                free(ctx->rt_roots[i]);
        free(ctx->wrun_path);
        free(ctx->service_from);
        free(ctx->vars);
        free(ctx->srcs);
        free(ctx->work);
        free(ctx->tools_dir);
        free(ctx->top);
        free(ctx->bindir);
        memset(ctx, 0, sizeof(*ctx));
}
