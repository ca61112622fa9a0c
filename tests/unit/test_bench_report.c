/* SPDX-License-Identifier: Apache-2.0 */
/* whittle-bench's report writers and CI gate, on synthetic samples. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"
#include "../../benchmarks/bench_report.h"
#include "tap.h"

static json_object *path(json_object *o, const char *const *keys)
{
        for (; o && *keys; keys++) {
                json_object *v = NULL;
                if (json_object_is_type(o, json_type_array)) {
                        o = json_object_array_get_idx(o, (size_t)(**keys - '0'));
                        continue;
                }
                if (!json_object_object_get_ex(o, *keys, &v))
                        return NULL;
                o = v;
        }
        return o;
}

static double num_at(json_object *o, const char *const *keys)
{
        json_object *v = path(o, keys);
        return v ? json_object_get_double(v) : NAN;
}

/* n samples whose phases are scale * (1, 2, 3, 4, 5, 6) + i. */
static void fill(struct bench_series *se, int n, double scale)
{
        for (int i = 0; i < n; i++) {
                struct bench_stamps st = {.t0 = 0};
                int64_t t = 0;
                for (int p = 0; p < BENCH_PHASES; p++) {
                        t += (int64_t)((scale * (p + 1) + i) * 1e6);
                        st.end[p] = t;
                }
                struct bench_sample s;
                bench_sample_from_stamps(&st, &s);
                bench_series_add(se, &s);
        }
}

static struct bench_result mk(const char *name, double scale, int cold, int warm)
{
        struct bench_result r = {.name = name,
                                 .description = "d",
                                 .image = "img",
                                 .compression = "zstd",
                                 .runtime = "rt",
                                 .init = "in",
                                 .rootfs = "overlay",
                                 .exec_source = "init_stamp",
                                 .layers = 1,
                                 .bytes_fetched = 1000000,
                                 .files = 10,
                                 .bytes = 2000};
        fill(&r.cold, cold, scale);
        fill(&r.warm, warm, scale / 10);
        return r;
}

static json_object *build(struct bench_result *v, size_t n)
{
        _cleanup_json_ json_object *env = json_object_new_object();
        _cleanup_json_ json_object *set = json_object_new_object();
        json_object *m = json_object_new_object();
        wh_json_add_string(m, "kernel", "6.1-test");
        json_object_object_add(env, "machine", m);
        wh_json_add_int64(set, "seed", 1);
        struct bench_report_in in = {.mode = "quick",
                                     .created = "2026-01-01T00:00:00Z",
                                     .environment = env,
                                     .settings = set,
                                     .v = v,
                                     .n = n,
                                     .resamples = 500,
                                     .seed = 1};
        json_object *rep = NULL;
        struct wh_err err;
        if (bench_report_build(&in, &rep, &err) < 0)
                return NULL;
        return rep;
}

static void test_json(void)
{
        struct bench_result v[4] = {
                mk("al2-gzip-runc", 100, 5, 11),
                mk("whittled-zstd-wrun-winit", 10, 5, 11),
                mk("whittled-zstd-runc-winit", 12, 5, 11),
                mk("whittled-zstd-crun-winit", 11, 0, 11),
        };
        _cleanup_json_ json_object *rep = build(v, 4);
        ok(rep != NULL, "report builds");
        is_str(json_object_get_string(path(rep, (const char *[]){"schema", NULL})),
               "whittle-bench/1", "schema name");
        is_str(json_object_get_string(path(
                       rep, (const char *[]){"environment", "machine", "kernel", NULL})),
               "6.1-test", "environment copied in");
        /* al2 cold: phases 100..600 + i, i = 0..4: ready total = 2100 + 6i, median i = 2.
         */
        ok(fabs(num_at(rep, (const char *[]){"variants", "0", "cold", "time_to_ready_ms",
                                             "median", NULL}) -
                2112) < 1e-6,
           "cold time_to_ready median");
        ok(fabs(num_at(rep, (const char *[]){"variants", "0", "cold", "time_to_ready_ms",
                                             "p95", NULL}) -
                2122.8) < 1e-6,
           "cold time_to_ready p95 (2100 + 6 * 3.8)");
        ok(fabs(num_at(rep, (const char *[]){"variants", "0", "cold", "phases_ms", "unpack",
                                             NULL}) -
                202) < 1e-6,
           "per-phase median");
        json_object *raw = path(rep, (const char *[]){"variants", "0", "warm", "samples",
                                                      "time_to_ready", NULL});
        is_int(raw ? json_object_array_length(raw) : 0, 11, "raw warm samples kept");
        json_object *v3 = path(rep, (const char *[]){"variants", "3", NULL}), *v3cold = v3;
        ok(v3 && json_object_object_get_ex(v3, "cold", &v3cold) && v3cold == NULL,
           "a state without runs is null");
        double r = num_at(rep, (const char *[]){"ratios", "al2_over_whittled_ready_cold",
                                                "value", NULL});
        ok(fabs(r - 2112.0 / 222.0) < 1e-3, "al2/whittled cold ratio of medians (%.4f)", r);
        json_object *ci =
                path(rep, (const char *[]){"ratios", "al2_over_whittled_ready_cold", "ci95",
                                           NULL});
        ok(ci && json_object_array_length(ci) == 2, "ratio has a 95%% interval");
        ok(path(rep, (const char *[]){"ratios", "al2_over_whittled_ready_warm", NULL}) !=
                   NULL,
           "warm ratio present");
        ok(path(rep, (const char *[]){"ratios", "runc_over_whittle_run", NULL}) != NULL,
           "runc ratio present");
        ok(path(rep, (const char *[]){"ratios", "crun_over_whittle_run", NULL}) != NULL,
           "crun ratio (warm only) present");
        ok(path(rep, (const char *[]){"ratios", "al2023_gzip_over_zstd_ready_cold",
                                      NULL}) == NULL,
           "a ratio of variants that did not run is left out");
        json_object *met =
                path(rep, (const char *[]){"targets", "al2_over_whittled_ready_cold", "met",
                                           NULL});
        ok(met && !json_object_get_boolean(met),
           "a 9.5x cold ratio does not meet the 10x target");

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct wh_err err;
        is_int(bench_report_markdown(rep, f, &err), 0, "markdown written");
        fclose(f);
        ok(buf && strstr(buf, "| `al2-gzip-runc` |"), "markdown has a row per variant");
        ok(buf && strstr(buf, "`al2_over_whittled_ready_cold` | **9.51**"),
           "markdown has the ratio");
        ok(buf && strstr(buf, "not met"), "markdown states the target");
        ok(buf && strstr(buf, "kernel 6.1-test"), "markdown names the kernel");
        free(buf);
        for (size_t i = 0; i < 4; i++) {
                bench_series_release(&v[i].cold);
                bench_series_release(&v[i].warm);
        }
}

static json_object *ratios_doc(const char *name, double val)
{
        json_object *d = json_object_new_object(), *rs = json_object_new_object();
        json_object *r = json_object_new_object();
        json_object_object_add(r, "value", json_object_new_double(val));
        json_object_object_add(rs, name, r);
        json_object_object_add(d, "ratios", rs);
        return d;
}

static void test_compare(void)
{
        struct wh_err err;
        _cleanup_json_ json_object *base = ratios_doc("x_over_whittle", 10.0);
        _cleanup_json_ json_object *same = ratios_doc("x_over_whittle", 9.0);
        _cleanup_json_ json_object *worse = ratios_doc("x_over_whittle", 8.4);
        _cleanup_json_ json_object *better = ratios_doc("x_over_whittle", 30.0);
        _cleanup_json_ json_object *other = ratios_doc("y_over_whittle", 30.0);
        _cleanup_json_ json_object *empty = json_object_new_object();
        FILE *devnull = fopen("/dev/null", "w");
        is_int(bench_compare(same, base, 15, devnull, &err), 0,
               "10%% lower is within 15%%");
        is_int(bench_compare(worse, base, 15, devnull, &err), 1,
               "16%% lower fails at 15%%");
        is_int(bench_compare(worse, base, 20, devnull, &err), 0, "but passes at 20%%");
        is_int(bench_compare(better, base, 0, devnull, &err), 0, "higher always passes");
        is_int(bench_compare(other, base, 15, devnull, &err), 1, "a missing ratio fails");
        is_int(bench_compare(same, empty, 15, devnull, &err), -EINVAL,
               "baseline without ratios");
        fclose(devnull);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bench_compare(worse, base, 15, f, &err);
        fclose(f);
        ok(buf && strstr(buf, "FAIL x_over_whittle: 8.400, baseline 10.000"),
           "the failure names the ratio");
        free(buf);
}

int main(void)
{
        test_json();
        test_compare();
        return done_testing();
}
