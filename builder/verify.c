/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify: run the whittled image under the tracer and judge the run. A
 * path counts as missing when the workload looked it up and got ENOENT,
 * the original image resolves it (symlinks followed inside the image) and
 * the whittled one does not. /proc, /sys and /dev never count (the
 * runtime provides them), nor do paths the original lacks too (a program
 * probing for optional files is not a regression).
 */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "container_run.h"
#include "image_read.h"
#include "image_ref.h"
#include "log.h"
#include "trace.h"

static int exists(struct wh_index *idx, const char *path)
{
        struct wh_entry *e = NULL;
        return wh_index_resolve(idx, path, 1, NULL, NULL, &e, NULL) == 0;
}

/*
 * The dynamic loader probes platform and hwcap subdirectories of every
 * library directory ($ORIGIN/x86_64, .../tls, .../haswell). When the
 * original has a non-directory there (Debian's /usr/bin/x86_64 is setarch),
 * the loader skipped it: its absence in the result changes nothing.
 */
static int loader_probe_of_file(struct wh_index *orig, const char *path)
{
        static const char *const probes[] = {"tls",        "x86_64",   "haswell", "xeon_phi",
                                             "avx512_1",   "aarch64",  "i686",    "i586",
                                             "glibc-hwcaps"};
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t i = 0;
        while (i < ARRAY_SIZE(probes) && strcmp(base, probes[i]) != 0)
                i++;
        if (i == ARRAY_SIZE(probes))
                return 0;
        struct wh_entry *e = NULL;
        return wh_index_resolve(orig, path, 1, NULL, NULL, &e, NULL) == 0 && e &&
               e->type != WH_F_DIR;
}

static int index_original(const char *ref_text, struct wh_source **ret_src,
                          struct wh_index **ret_idx, struct wh_err *err)
{
        struct wh_image_ref ref = {0};
        struct wh_index_stats stats;
        int r = wh_image_ref_parse(ref_text, 0, &ref, err);
        if (r >= 0 && (r = wh_source_open(&ref, ret_src, err)) >= 0) {
                if (!(*ret_idx = wh_index_new()))
                        r = wh_fail(err, ENOMEM, "index");
                else
                        r = wh_source_index(*ret_src, *ret_idx, &stats, NULL, NULL, err);
        }
        wh_image_ref_release(&ref);
        return r < 0 ? wh_fail_ctx(err, r, "%s", ref_text) : 0;
}

/* 1 when the workload's output holds text. */
static int output_has(const struct wh_bundle *b, const char *text, struct wh_err *err)
{
        _cleanup_close_ int fd = open(b->out_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open '%s'", b->out_path);
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return wh_fail(err, errno, "read output");
        _cleanup_free_ char *buf = NULL;
        if (!(buf = malloc((size_t)size + 1)))
                return wh_fail(err, ENOMEM, "read output");
        ssize_t n = pread(fd, buf, (size_t)size, 0);
        if (n < 0)
                return wh_fail(err, errno, "read output");
        for (ssize_t i = 0; i < n; i++)
                if (!buf[i])
                        buf[i] = ' ';
        buf[n] = '\0';
        return strstr(buf, text) != NULL;
}

__attribute__((format(printf, 2, 3))) static void problem(int *n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "whittle: verify: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        (*n)++;
}

/* Judges one run; returns the number of problems found (printed). */
static int judge(const struct wh_verify_opts *o, const char *expect, struct wh_bundle *b,
                 struct wh_index *orig, const struct wh_trace_result *res,
                 struct wh_err *err)
{
        int n = 0;
        if (res->start_failed)
                problem(&n, "the container did not start");
        if (res->interrupted)
                problem(&n, "interrupted");
        if (res->exited && res->status != 0 && !res->probe_ok)
                problem(&n, "the workload exited with status %d", res->status);
        if (o->probe && !res->probe_ok)
                problem(&n, "the probe never succeeded");
        if (expect && *expect) {
                int has = output_has(b, expect, err);
                if (has < 0)
                        return has;
                if (!has)
                        problem(&n, "the output lacks '%s'", expect);
        }
        _cleanup_strv_ char **missing = wh_strset_sorted(&res->missing);
        if (!missing)
                return wh_fail(err, ENOMEM, "verify");
        for (char **m = missing; *m; m++)
                if (exists(orig, *m) && !exists(b->idx, *m) && !loader_probe_of_file(orig, *m))
                        problem(&n,
                                "/%s: looked up by the workload, in the original image "
                                "but not in the whittled one",
                                *m);
        return n;
}

/* Runs the whittled image and judges the run against orig; as wh_verify_run. */
static int run_and_judge(const struct wh_verify_opts *o, struct wh_index *orig,
                         struct wh_err *err)
{
        /* The smoke test is the default workload, as the profile format says. */
        char **args = o->args;
        const char *expect = o->expect;
        if (!args && !o->probe && o->profile && o->profile->smoke_cmd) {
                args = o->profile->smoke_cmd;
                if (!expect)
                        expect = o->profile->smoke_expect;
        }
        _cleanup_(wh_bundle_release) struct wh_bundle b = {0};
        _cleanup_(wh_trace_result_release) struct wh_trace_result res = {0};
        struct wh_prepare_opts bo = {
                .runtime = o->runtime,
                .profile = o->profile,
                .args = args,
                .syscalls = o->no_seccomp || !o->profile ? NULL : o->profile->syscalls,
                .seccomp_action = o->seccomp_action,
                .seccomp_errno = o->seccomp_errno,
        };
        if (bo.syscalls)
                wh_info("verify: the profile's syscalls are enforced (--no-seccomp: not)");
        int r = wh_bundle_prepare(o->whittled, &bo, &b, err);
        if (r < 0)
                return r;
        struct wh_trace_opts to = {.duration = o->duration, .probe = o->probe};
        if ((r = wh_trace_run(&b, &to, &res, err)) < 0)
                return r;
        r = judge(o, expect, &b, orig, &res, err);
        if (r > 0) {
                wh_container_print_output(&b, stderr, 20);
                fprintf(stderr, "whittle: verify: %s: %d problem%s\n",
                        o->name ? o->name : o->whittled, r, r == 1 ? "" : "s");
                return 0;
        }
        if (r == 0)
                wh_info("verify: %s: %zu lookups, %zu paths used, %.2f s: verified",
                        o->whittled, res.missing.n, res.used.n, res.seconds);
        return r == 0 ? 1 : r;
}

int wh_verify_run(const struct wh_verify_opts *o, struct wh_err *err)
{
        int r = wh_trace_check_privileges("whittle verify", err);
        if (r < 0)
                return r;
        struct wh_source *osrc = NULL;
        struct wh_index *oidx_owned = NULL, *oidx = o->original_idx;
        if (!oidx && (r = index_original(o->original, &osrc, &oidx_owned, err)) >= 0)
                oidx = oidx_owned;
        if (r >= 0)
                r = run_and_judge(o, oidx, err);
        wh_index_free(oidx_owned);
        wh_source_free(osrc);
        return r;
}

int wh_verify_before_write(const char *original, struct wh_index *idx,
                           const struct wh_write_opts *wo, const struct wh_verify_opts *vo,
                           struct wh_err *err)
{
        _cleanup_free_ char *dir = NULL, *layout = NULL, *ref_text = NULL;
        if (asprintf(&dir, "%s/whittle-verify.XXXXXX", wh_tmp_dir()) < 0)
                return wh_fail(err, ENOMEM, "verify");
        if (!mkdtemp(dir))
                return wh_fail(err, errno, "temporary directory");
        if (asprintf(&layout, "%s/image", dir) < 0 ||
            asprintf(&ref_text, "oci:%s:verify", layout) < 0) {
                rmdir(dir);
                return wh_fail(err, ENOMEM, "verify");
        }
        struct wh_image_ref ref = {
                .transport = WH_T_OCI, .path = layout, .ref = (char *)"verify"};
        struct wh_write_opts o = *wo;
        o.compression = WH_COMP_NONE; /* read back at once: no point in compressing */
        o.compression_explicit = 0;
        struct wh_write_result res;
        int r = wh_image_write(&ref, idx, &o, &res, err);
        if (r >= 0) {
                struct wh_verify_opts v = *vo;
                v.original = original;
                v.original_idx = idx;
                v.whittled = ref_text;
                v.name = "the result";
                r = wh_verify_run(&v, err);
                if (r == 0)
                        r = wh_failx(err, EPROTO, "verify failed (see above)");
                else if (r > 0)
                        r = 0;
        }
        _cleanup_close_ int tfd =
                open(wh_tmp_dir(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tfd >= 0)
                wh_rm_rf_at(tfd, strrchr(dir, '/') + 1);
        return r;
}
