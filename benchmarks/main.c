/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle-bench: cold-start harness. Pushes sample images to a loopback
 * registry, then times image-to-ready for every variant (image x runtime x init
 * x rootfs preparation), cold and warm, interleaved; writes report.json,
 * report.md and SVG plots; and, with --ci, gates on a baseline's ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_env.h"
#include "bench_proc.h"
#include "bench_runner.h"
#include "bench_stats.h"
#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "log.h"
#include "parse_num.h"

#define PROG "whittle-bench"

struct opts {
        int quick, ci, no_cold, no_warm, keep_work, quiet;
        int cold_runs, warm_runs, warmups, resamples, timeout_s, registry_timeout_s;
        int64_t seed;
        double tolerance;
        const char *baseline, *out, *work_parent, *variants, *compare, *profile,
                *ready_line;
        const char *al2, *al2023, *al2023_zstd, *whittle_from, *al2_service, *service_from;
};

static void usage(FILE *f)
{
        fputs("Usage: whittle-bench [OPTIONS]\n"
              "\n"
              "Times container cold starts, image to ready, for AL2-style, "
              "AL2023-minimal-style\n"
              "and whittled images on whittle-run, crun and runc, with several inits and "
              "rootfs\n"
              "preparations; cold and warm, interleaved. Needs root.\n"
              "\n"
              "  --quick               6 variants, 3 cold and 10 warm runs (< 3 min)\n"
              "  --cold-runs N         runs per variant, cold (default 30; quick 3)\n"
              "  --warm-runs N         runs per variant, warm (default 100; quick 10)\n"
              "  --warmups N           warm-up rounds, discarded (default 3; quick 1)\n"
              "  --no-cold, --no-warm  skip a cache state\n"
              "  --variants A,B,...    only these variants (--list-variants)\n"
              "  --seed N              run order and bootstrap seed (default 1)\n"
              "  --resamples N         bootstrap resamples (default 2000)\n"
              "  --timeout S           per container, create to ready (default 60)\n"
              "  --registry-timeout S  registry start (default 10)\n"
              "  --out DIR             results (default benchmarks/results/<UTC time>)\n"
              "  --work-dir DIR        scratch space parent (default /var/tmp)\n"
              "  --keep-work           keep the scratch directory\n"
              "  --al2 REF, --al2023 REF, --al2023-zstd REF   images (oci:DIR:REF)\n"
              "  --whittle-from REF    source of the whittled images (default: --al2023)\n"
              "  --profile NAME        whittle profile (default python3)\n"
              "  --al2-service REF     the AL2-style image of the compiled service\n"
              "  --service-from REF    source of the whittled service image (profile native)\n"
              "  --ready-line TEXT     the workload's ready line (default 'ready')\n"
              "  --ci                  exit 1 when a ratio is worse than --baseline's\n"
              "  --baseline FILE       a report.json to compare with\n"
              "  --tolerance PCT       allowed drop of a ratio (default 15)\n"
              "  --compare REPORT      no run: compare REPORT with --baseline\n"
              "  --list-variants, -q, -h, --version\n",
              f);
}

enum {
        O_QUICK = 256,
        O_COLD,
        O_WARM,
        O_WARMUPS,
        O_NO_COLD,
        O_NO_WARM,
        O_VARIANTS,
        O_SEED,
        O_RESAMPLES,
        O_TIMEOUT,
        O_REG_TIMEOUT,
        O_OUT,
        O_WORK,
        O_KEEP,
        O_AL2,
        O_AL2023,
        O_AL2023Z,
        O_FROM,
        O_AL2_SERVICE,
        O_SERVICE_FROM,
        O_PROFILE,
        O_READY,
        O_CI,
        O_BASELINE,
        O_TOL,
        O_COMPARE,
        O_LIST,
        O_VERSION,
};

static int num_arg(const char *name, const char *val, int min, int max, int *ret)
{
        if (wh_parse_int(val, min, max, ret) < 0) {
                fprintf(stderr, PROG ": %s: expected a number in %d..%d, got '%s'\n", name,
                        min, max, val);
                return -1;
        }
        return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
                {"quick", 0, 0, O_QUICK},
                {"cold-runs", 1, 0, O_COLD},
                {"warm-runs", 1, 0, O_WARM},
                {"warmups", 1, 0, O_WARMUPS},
                {"no-cold", 0, 0, O_NO_COLD},
                {"no-warm", 0, 0, O_NO_WARM},
                {"variants", 1, 0, O_VARIANTS},
                {"seed", 1, 0, O_SEED},
                {"resamples", 1, 0, O_RESAMPLES},
                {"timeout", 1, 0, O_TIMEOUT},
                {"registry-timeout", 1, 0, O_REG_TIMEOUT},
                {"out", 1, 0, O_OUT},
                {"work-dir", 1, 0, O_WORK},
                {"keep-work", 0, 0, O_KEEP},
                {"al2", 1, 0, O_AL2},
                {"al2023", 1, 0, O_AL2023},
                {"al2023-zstd", 1, 0, O_AL2023Z},
                {"whittle-from", 1, 0, O_FROM},
                {"profile", 1, 0, O_PROFILE},
                {"al2-service", 1, 0, O_AL2_SERVICE},
                {"service-from", 1, 0, O_SERVICE_FROM},
                {"ready-line", 1, 0, O_READY},
                {"ci", 0, 0, O_CI},
                {"baseline", 1, 0, O_BASELINE},
                {"tolerance", 1, 0, O_TOL},
                {"compare", 1, 0, O_COMPARE},
                {"list-variants", 0, 0, O_LIST},
                {"quiet", 0, 0, 'q'},
                {"help", 0, 0, 'h'},
                {"version", 0, 0, O_VERSION},
                {0, 0, 0, 0},
        };
        int c, t;
        while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
                switch (c) {
                case O_QUICK:
                        o->quick = 1;
                        break;
                case O_COLD:
                        if (num_arg("--cold-runs", optarg, 1, 100000, &o->cold_runs) < 0)
                                return 2;
                        break;
                case O_WARM:
                        if (num_arg("--warm-runs", optarg, 1, 100000, &o->warm_runs) < 0)
                                return 2;
                        break;
                case O_WARMUPS:
                        if (num_arg("--warmups", optarg, 0, 1000, &o->warmups) < 0)
                                return 2;
                        break;
                case O_NO_COLD:
                        o->no_cold = 1;
                        break;
                case O_NO_WARM:
                        o->no_warm = 1;
                        break;
                case O_VARIANTS:
                        o->variants = optarg;
                        break;
                case O_SEED:
                        if (wh_parse_i64(optarg, 0, INT64_MAX, &o->seed) < 0) {
                                fprintf(stderr, PROG ": --seed: bad number '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case O_RESAMPLES:
                        if (num_arg("--resamples", optarg, 100, 1000000, &o->resamples) < 0)
                                return 2;
                        break;
                case O_TIMEOUT:
                        if (num_arg("--timeout", optarg, 1, 3600, &o->timeout_s) < 0)
                                return 2;
                        break;
                case O_REG_TIMEOUT:
                        if (num_arg("--registry-timeout", optarg, 1, 600,
                                    &o->registry_timeout_s) < 0)
                                return 2;
                        break;
                case O_OUT:
                        o->out = optarg;
                        break;
                case O_WORK:
                        o->work_parent = optarg;
                        break;
                case O_KEEP:
                        o->keep_work = 1;
                        break;
                case O_AL2:
                        o->al2 = optarg;
                        break;
                case O_AL2023:
                        o->al2023 = optarg;
                        break;
                case O_AL2023Z:
                        o->al2023_zstd = optarg;
                        break;
                case O_FROM:
                        o->whittle_from = optarg;
                        break;
                case O_PROFILE:
                        o->profile = optarg;
                        break;
                case O_AL2_SERVICE:
                        o->al2_service = optarg;
                        break;
                case O_SERVICE_FROM:
                        o->service_from = optarg;
                        break;
                case O_READY:
                        o->ready_line = optarg;
                        break;
                case O_CI:
                        o->ci = 1;
                        break;
                case O_BASELINE:
                        o->baseline = optarg;
                        break;
                case O_TOL:
                        if (num_arg("--tolerance", optarg, 0, 100, &t) < 0)
                                return 2;
                        o->tolerance = t;
                        break;
                case O_COMPARE:
                        o->compare = optarg;
                        break;
                case O_LIST:
                        for (size_t i = 0; i < bench_n_variants; i++)
                                printf("%-34s %s%s\n", bench_variants[i].name,
                                       bench_variants[i].description,
                                       bench_variants[i].quick ? " [quick]" : "");
                        return 0;
                case 'q':
                        o->quiet = 1;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case O_VERSION:
                        printf(PROG " %s\n", WH_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if ((o->ci || o->compare) && !o->baseline) {
                fprintf(stderr, PROG ": --ci and --compare need --baseline FILE\n");
                return 2;
        }
        if (o->no_cold && o->no_warm) {
                fprintf(stderr, PROG ": --no-cold and --no-warm leave nothing to run\n");
                return 2;
        }
        return -1;
}

/* --- progress ----------------------------------------------------------------------------
 */

static int64_t t_start;

static void progress(const struct opts *o, const char *state, int round, int rounds,
                     const char *name, double ms)
{
        if (o->quiet)
                return;
        int64_t el = (bench_now_ns() - t_start) / 1000000000LL;
        if (isatty(2))
                fprintf(stderr,
                        "\r\033[K" PROG ": %s %d/%d  %-32s %9.1f ms  [%lldm%02llds]", state,
                        round, rounds, name, ms, (long long)(el / 60),
                        (long long)(el % 60));
        else if (ms < 0)
                fprintf(stderr, PROG ": %s round %d/%d done [%lldm%02llds]\n", state, round,
                        rounds, (long long)(el / 60), (long long)(el % 60));
}

static void progress_end(const struct opts *o)
{
        if (!o->quiet && isatty(2))
                fputc('\n', stderr);
}

/* --- the runs
 * ------------------------------------------------------------------------------ */

#define MAX_FAILURES 3

static int run_rounds(struct bench_ctx *ctx, const struct opts *o, int cold, int rounds,
                      int record, struct bench_rng *rng, struct wh_err *err)
{
        _cleanup_free_ size_t *order = malloc(ctx->n_vars * sizeof(*order));
        if (!order)
                return wh_fail(err, ENOMEM, "runs");
        const char *label = cold ? "cold" : record ? "warm" : "warm-up";
        for (int round = 1; round <= rounds; round++) {
                size_t n = 0;
                for (size_t i = 0; i < ctx->n_vars; i++)
                        if (ctx->vars[i].selected)
                                order[n++] = i;
                /* Interleaved, in a new order each round: drift in the machine's state
                 * (other load, thermal, caches) spreads over all variants alike. */
                bench_shuffle(rng, order, n);
                for (size_t k = 0; k < n; k++) {
                        struct bench_variant *v = &ctx->vars[order[k]];
                        struct bench_series *se = cold ? &v->res.cold : &v->res.warm;
                        struct bench_sample s;
                        struct wh_err e = {0};
                        int r = bench_run_once(ctx, v, cold, &s, &e);
                        if (r == -EINTR || bench_interrupted())
                                return wh_failx(err, EINTR, "interrupted");
                        if (r < 0) {
                                progress_end(o);
                                se->failures++;
                                /* A variant that never worked is an error, not a data
                                 * point; a rare failure later (warm-ups included) is
                                 * counted, reported, and the benchmark goes on. */
                                if (se->failures > MAX_FAILURES || (cold && se->n == 0)) {
                                        *err = e;
                                        return r;
                                }
                                wh_err_print(&e, PROG ": warning");
                                continue;
                        }
                        if (record && bench_series_add(se, &s) < 0)
                                return wh_fail(err, ENOMEM, "samples");
                        progress(o, label, round, rounds, v->name, s.to_ready_ms);
                }
                progress(o, label, round, rounds, "", -1);
        }
        progress_end(o);
        return 0;
}

static int run_all(struct bench_ctx *ctx, const struct opts *o, struct wh_err *err)
{
        struct bench_rng rng;
        bench_rng_seed(&rng, (uint64_t)o->seed);
        int r;
        if (!o->no_cold && (r = run_rounds(ctx, o, 1, o->cold_runs, 1, &rng, err)) < 0)
                return r;
        if (o->no_warm)
                return 0;
        for (size_t i = 0; i < ctx->n_vars; i++) {
                if (!ctx->vars[i].selected)
                        continue;
                if (bench_interrupted())
                        return wh_failx(err, EINTR, "interrupted");
                if ((r = bench_warm_prepare(ctx, &ctx->vars[i], err)) < 0)
                        return r;
        }
        if (o->warmups && (r = run_rounds(ctx, o, 0, o->warmups, 0, &rng, err)) < 0)
                return r;
        return run_rounds(ctx, o, 0, o->warm_runs, 1, &rng, err);
}

/* --- the report
 * ---------------------------------------------------------------------------- */

static void utc_stamp(char *buf, size_t len, const char *fmt)
{
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, len, fmt, &tm);
}

static json_object *settings_json(const struct bench_ctx *ctx, const struct opts *o,
                                  int argc, char **argv)
{
        json_object *s = json_object_new_object();
        char cmd[4096] = "";
        size_t len = 0;
        for (int i = 0; i < argc && len < sizeof(cmd); i++)
                len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i ? " " : "",
                                        argv[i]);
        wh_json_add_string(s, "command", cmd);
        wh_json_add_int64(s, "cold_runs", o->no_cold ? 0 : o->cold_runs);
        wh_json_add_int64(s, "warm_runs", o->no_warm ? 0 : o->warm_runs);
        wh_json_add_int64(s, "warmup_rounds", o->warmups);
        wh_json_add_int64(s, "seed", o->seed);
        wh_json_add_int64(s, "bootstrap_resamples", o->resamples);
        wh_json_add_int64(s, "timeout_s", o->timeout_s);
        wh_json_add_string(s, "order",
                           "interleaved: every round runs each variant once, in "
                           "an order shuffled per round with the seed");
        wh_json_add_string(
                s, "fetch_client",
                "whittle-bench's own HTTP/1.1 registry client (in-process, like an "
                "engine daemon; sha256 of every blob checked; no fsync)");
        wh_json_add_string(s, "registry",
                           "docker-registry (distribution 2.8) on 127.0.0.1, "
                           "filesystem storage; images pushed with skopeo copy");
        wh_json_add_string(s, "unpack",
                           "GNU tar (--gzip/--zstd) per layer into a fresh "
                           "directory, OCI whiteouts turned into overlayfs ones");
        wh_json_add_string(s, "container",
                           "runc-spec defaults (pid, net, ipc, uts, mount "
                           "namespaces; read-only root; no terminal), same "
                           "config for every runtime");
        wh_json_add_string(s, "network_namespace",
                           "new per container; readiness is a stdout line");
        wh_json_add_string(s, "ready", ctx->ready_line);
        wh_json_add_string(s, "whittle_profile", ctx->profile);
        wh_json_add_string(
                s, "whittle_init_in",
                ctx->image_has_init
                        ? "the whittled image (whittle build --init)"
                        : "a read-only bind mount at /.bench (this whittle build "
                          "has no --init)");
        wh_json_add_string(s, "other_inits",
                           "tini-static and dumb-init through a read-only "
                           "bind mount at /.bench");
        wh_json_add_string(s, "exec_stamp",
                           "whittle-init: its CLOCK_MONOTONIC stamp just before exec "
                           "(--ready-fd 2); other inits: the first byte of output");
        wh_json_add_string(
                s, "crun",
                ctx->runtimes[2].cgroup2_ns
                        ? "in a private mount namespace with cgroup2 at "
                          "/sys/fs/cgroup and --cgroup-manager=disabled (crun "
                          "1.8.1 refuses this hybrid-cgroup host): it creates no "
                          "cgroup, runc and whittle-run do"
                        : "as is");
        json_object *vs = json_object_new_array();
        for (size_t i = 0; i < ctx->n_vars; i++)
                if (ctx->vars[i].selected)
                        json_object_array_add(vs,
                                              json_object_new_string(ctx->vars[i].name));
        json_object_object_add(s, "variants", vs);
        json_object *imgs = json_object_new_object();
        for (size_t i = 0; i < ctx->n_srcs; i++)
                if (ctx->srcs[i].used)
                        wh_json_add_string(imgs, ctx->srcs[i].key, ctx->srcs[i].ref);
        json_object_object_add(s, "images", imgs);
        wh_json_add_string(s, "whittle_from", ctx->whittle_from ? ctx->whittle_from : "");
        return s;
}

static json_object *environment_json(const struct bench_ctx *ctx)
{
        char wrun[4200], whittle[4200];
        snprintf(wrun, sizeof(wrun), "%s/whittle-run", ctx->bindir);
        snprintf(whittle, sizeof(whittle), "%s/whittle", ctx->bindir);
        const char *tools[] = {"whittle",
                               whittle,
                               "whittle-run",
                               wrun,
                               "runc",
                               "runc",
                               "crun",
                               "crun",
                               "tini",
                               "tini-static",
                               "dumb-init",
                               "dumb-init",
                               "skopeo",
                               "skopeo",
                               "docker-registry",
                               "docker-registry",
                               "tar",
                               "tar",
                               "gzip",
                               "gzip",
                               "zstd",
                               "zstd",
                               "ostree",
                               "ostree",
                               "gnuplot",
                               "gnuplot",
                               NULL,
                               NULL};
        json_object *env = bench_env_collect(tools);
        json_object *cs = json_object_new_object();
        wh_json_add_string(
                cs, "cold",
                "before each run the variant's pulled image and store are removed, "
                "sync, the page cache is dropped (echo 3 > "
                "/proc/sys/vm/drop_caches), then the registry's files for that "
                "image are read back into the cache and the registry is pinged (a "
                "remote registry's cache is not the client's); fetch and unpack are "
                "measured");
        wh_json_add_string(
                cs, "warm",
                "the image was pulled and unpacked once before (fetch and unpack "
                "are 0); each run prepares a fresh rootfs (overlay mount, tar "
                "extraction or OSTree checkout) from cached files; warm-up rounds "
                "are discarded");
        json_object_object_add(env, "cache_states", cs);
        return env;
}

static void fill_results(struct bench_ctx *ctx, struct bench_result *out, size_t *n)
{
        *n = 0;
        for (size_t i = 0; i < ctx->n_vars; i++) {
                struct bench_variant *v = &ctx->vars[i];
                if (!v->selected)
                        continue;
                struct bench_result *r = &v->res;
                r->name = v->name;
                r->description = v->description;
                r->image = v->src->sample;
                r->compression = v->src->reg.n_layers
                                         ? bench_comp_name(v->src->reg.layers[0].comp)
                                         : "?";
                r->layers = (int)v->src->reg.n_layers;
                r->runtime = v->runtime;
                r->init = bench_init_name(v->init);
                r->rootfs = bench_rootfs_name(v->rootfs);
                r->exec_source =
                        v->init == BENCH_INIT_WHITTLE ? "init_stamp" : "first_output";
                if (!r->bytes_fetched)
                        r->bytes_fetched = v->src->bytes_fetched;
                out[(*n)++] = *r;
        }
}

static int write_text(const char *dir, const char *name, const char *text,
                      struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fflush(f) != 0)
                return wh_fail(err, errno, "write '%s'", path);
        return 0;
}

static int write_report(struct bench_ctx *ctx, const struct opts *o, const char *outdir,
                        int argc, char **argv, json_object **ret, struct wh_err *err)
{
        _cleanup_free_ struct bench_result *res = calloc(ctx->n_vars, sizeof(*res));
        if (!res)
                return wh_fail(err, ENOMEM, "report");
        size_t n;
        fill_results(ctx, res, &n);
        char created[64];
        utc_stamp(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ");
        _cleanup_json_ json_object *env = environment_json(ctx);
        _cleanup_json_ json_object *set = settings_json(ctx, o, argc, argv);
        struct bench_report_in in = {.mode = o->quick ? "quick" : "full",
                                     .created = created,
                                     .environment = env,
                                     .settings = set,
                                     .v = res,
                                     .n = n,
                                     .resamples = (unsigned)o->resamples,
                                     .seed = (uint64_t)o->seed};
        _cleanup_json_ json_object *rep = NULL;
        int r = bench_report_build(&in, &rep, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = wh_json_to_string(rep, 1);
        if (!text)
                return wh_fail(err, ENOMEM, "report");
        if ((r = write_text(outdir, "report.json", text, err)) < 0)
                return r;
        char path[4096];
        snprintf(path, sizeof(path), "%s/report.md", outdir);
        _cleanup_fclose_ FILE *md = fopen(path, "we");
        if (!md)
                return wh_fail(err, errno, "write '%s'", path);
        if ((r = bench_report_markdown(rep, md, err)) < 0)
                return r;
        if ((r = bench_plots_write(rep, outdir, err)) < 0)
                return r;
        *ret = TAKE_PTR(rep);
        return 0;
}

static int load_json(const char *path, json_object **ret, struct wh_err *err)
{
        int r = wh_json_parse_file(AT_FDCWD, path, 256 << 20, ret, err);
        return r < 0 ? wh_fail_ctx(err, r, "%s", path) : 0;
}

static int gate(json_object *rep, const struct opts *o, struct wh_err *err)
{
        _cleanup_json_ json_object *base = NULL;
        int r = load_json(o->baseline, &base, err);
        if (r < 0)
                return r;
        printf("CI gate against %s (tolerance %g%%):\n", o->baseline, o->tolerance);
        r = bench_compare(rep, base, o->tolerance, stdout, err);
        if (r < 0)
                return r;
        if (r > 0)
                return wh_failx(err, EDOM, "%d ratio%s worse than the baseline beyond %g%%",
                                r, r == 1 ? "" : "s", o->tolerance);
        printf("CI gate: every ratio within %g%% of the baseline\n", o->tolerance);
        return 0;
}

static void print_summary(json_object *rep, const char *outdir)
{
        json_object *ratios = NULL;
        printf("results: %s/report.json, report.md, *.svg\n", outdir);
        if (!json_object_object_get_ex(rep, "ratios", &ratios))
                return;
        static const char *const key[] = {"al2_over_whittled_ready_cold",
                                          "al2_over_whittled_ready_warm",
                                          "al2_over_whittled_ready_cold_service",
                                          "al2_over_whittled_ready_warm_service",
                                          "crun_over_whittle_run", "runc_over_whittle_run"};
        for (size_t i = 0; i < ARRAY_SIZE(key); i++) {
                json_object *r, *v, *ci;
                if (!json_object_object_get_ex(ratios, key[i], &r) ||
                    !json_object_object_get_ex(r, "value", &v) ||
                    !json_object_object_get_ex(r, "ci95", &ci))
                        continue;
                printf("%-38s %7.2f  (95%% CI %.2f - %.2f)\n", key[i],
                       json_object_get_double(v),
                       json_object_get_double(json_object_array_get_idx(ci, 0)),
                       json_object_get_double(json_object_array_get_idx(ci, 1)));
        }
}

static void set_defaults(struct opts *o)
{
        if (!o->cold_runs)
                o->cold_runs = o->quick ? 3 : 30;
        if (!o->warm_runs)
                o->warm_runs = o->quick ? 10 : 100;
        if (o->warmups < 0)
                o->warmups = o->quick ? 1 : 3;
        if (!o->resamples)
                o->resamples = 2000;
        if (!o->timeout_s)
                o->timeout_s = 60;
        if (!o->registry_timeout_s)
                o->registry_timeout_s = 10;
        if (!o->profile)
                o->profile = "python3";
        if (!o->ready_line)
                o->ready_line = "ready";
        if (!o->work_parent)
                o->work_parent = "/var/tmp";
}

static int make_outdir(const struct bench_ctx *ctx, const struct opts *o, char **ret,
                       struct wh_err *err)
{
        char *dir = NULL;
        if (o->out) {
                dir = strdup(o->out);
        } else {
                char stamp[32];
                utc_stamp(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ");
                if (asprintf(&dir, "%s/benchmarks/results/%s", ctx->top, stamp) < 0)
                        dir = NULL;
        }
        if (!dir)
                return wh_fail(err, ENOMEM, "results");
        /* wh_mkdir_p_at walks below its dirfd: "/" for an absolute path. */
        _cleanup_close_ int base =
                open(dir[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = base < 0 ? -errno : wh_mkdir_p_at(base, dir, 0755, err);
        if (fd < 0) {
                free(dir);
                return fd;
        }
        *ret = dir;
        return 0;
}

static int bench_main(struct bench_ctx *ctx, const struct opts *o, int argc, char **argv,
                      struct wh_err *err)
{
        int r = bench_ctx_init(ctx, o->work_parent, o->quick, o->variants, err);
        if (r < 0)
                return r;
        ctx->profile = o->profile;
        ctx->ready_line = o->ready_line;
        ctx->timeout_ms = o->timeout_s * 1000;
        ctx->registry_timeout_ms = o->registry_timeout_s * 1000;
        ctx->whittle_from = o->whittle_from;
        ctx->quiet = o->quiet;
        if ((o->al2 && (r = bench_ctx_set_src(ctx, "al2", o->al2, err)) < 0) ||
            (o->al2023 &&
             (r = bench_ctx_set_src(ctx, "al2023-gzip", o->al2023, err)) < 0) ||
            (o->al2023_zstd &&
             (r = bench_ctx_set_src(ctx, "al2023-zstd", o->al2023_zstd, err)) < 0) ||
            (o->al2_service &&
             (r = bench_ctx_set_src(ctx, "al2-service", o->al2_service, err)) < 0))
                return r;
        if (o->service_from) {
                free(ctx->service_from);
                if (!(ctx->service_from = strdup(o->service_from)))
                        return wh_fail(err, ENOMEM, "--service-from");
        }
        _cleanup_free_ char *outdir = NULL;
        if ((r = make_outdir(ctx, o, &outdir, err)) < 0)
                return r;
        if ((r = bench_prepare(ctx, err)) < 0)
                return r;
        if ((r = run_all(ctx, o, err)) < 0)
                return r;
        /* Nothing runs any more: stop the registry before the report's tool queries. */
        bench_registry_stop(&ctx->reg);
        _cleanup_json_ json_object *rep = NULL;
        if ((r = write_report(ctx, o, outdir, argc, argv, &rep, err)) < 0)
                return r;
        print_summary(rep, outdir);
        if (o->ci)
                return gate(rep, o, err);
        return 0;
}

int main(int argc, char **argv)
{
        struct opts o = {.warmups = -1, .tolerance = 15, .seed = 1};
        int r = parse_opts(argc, argv, &o);
        if (r >= 0)
                return r;
        set_defaults(&o);
        wh_log_init(PROG, o.quiet ? WH_LOG_QUIET : WH_LOG_WARN);
        bench_signals_init();
        t_start = bench_now_ns();
        struct wh_err err = {0};
        if (o.compare) {
                _cleanup_json_ json_object *rep = NULL;
                r = load_json(o.compare, &rep, &err);
                if (r >= 0)
                        r = gate(rep, &o, &err);
        } else {
                struct bench_ctx ctx = {0};
                r = bench_main(&ctx, &o, argc, argv, &err);
                progress_end(&o);
                bench_ctx_cleanup(&ctx, o.keep_work);
        }
        if (r < 0) {
                wh_err_print(&err, PROG);
                return 1;
        }
        return 0;
}
