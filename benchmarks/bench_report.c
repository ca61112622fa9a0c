/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench_stats.h"
#include "cleanup.h"
#include "json_util.h"

static const char *const metric_names[BENCH_METRICS] = {
        "fetch", "unpack",       "rootfs",        "create",  "exec",
        "ready", "time_to_exec", "time_to_ready", "runtime",
};

const struct bench_ratio_def bench_ratio_defs[] = {
        {"al2_over_whittled_ready_cold", "al2-gzip-runc", "whittled-zstd-wrun-winit",
         BENCH_M_TO_READY, 0},
        {"al2_over_whittled_ready_warm", "al2-gzip-runc", "whittled-zstd-wrun-winit",
         BENCH_M_TO_READY, 1},
        {"crun_over_whittle_run", "whittled-zstd-crun-winit", "whittled-zstd-wrun-winit",
         BENCH_M_RUNTIME, 1},
        {"runc_over_whittle_run", "whittled-zstd-runc-winit", "whittled-zstd-wrun-winit",
         BENCH_M_RUNTIME, 1},
        {"al2_over_al2023_ready_cold", "al2-gzip-runc", "al2023-gzip-runc",
         BENCH_M_TO_READY, 0},
        {"al2023_over_whittled_ready_cold", "al2023-gzip-runc", "whittled-zstd-wrun-winit",
         BENCH_M_TO_READY, 0},
        {"al2023_gzip_over_zstd_ready_cold", "al2023-gzip-runc", "al2023-zstd-runc",
         BENCH_M_TO_READY, 0},
        {"whittled_gzip_over_zstd_ready_cold", "whittled-gzip-wrun-winit",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 0},
        {"crun_over_whittle_run_ready_warm", "whittled-zstd-crun-winit",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 1},
        {"runc_over_whittle_run_ready_warm", "whittled-zstd-runc-winit",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 1},
        {"tini_over_whittle_init_ready_warm", "whittled-zstd-wrun-tini",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 1},
        {"dumb_init_over_whittle_init_ready_warm", "whittled-zstd-wrun-dumbinit",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 1},
        {"no_init_over_whittle_init_ready_warm", "whittled-zstd-wrun-noinit",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 1},
        {"tar_over_overlay_rootfs_warm", "whittled-zstd-wrun-winit-tar",
         "whittled-zstd-wrun-winit", (enum bench_metric)BENCH_ROOTFS, 1},
        {"ostree_over_overlay_rootfs_warm", "whittled-zstd-wrun-winit-ostree",
         "whittled-zstd-wrun-winit", (enum bench_metric)BENCH_ROOTFS, 1},
        {"ostree_over_overlay_ready_cold", "whittled-zstd-wrun-winit-ostree",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 0},
        {"tar_over_overlay_ready_cold", "whittled-zstd-wrun-winit-tar",
         "whittled-zstd-wrun-winit", BENCH_M_TO_READY, 0},
        {"al2_over_whittled_ready_cold_service", "al2-gzip-runc-service",
         "whittled-service-zstd-wrun-winit", BENCH_M_TO_READY, 0},
        {"al2_over_whittled_ready_warm_service", "al2-gzip-runc-service",
         "whittled-service-zstd-wrun-winit", BENCH_M_TO_READY, 1},
};
const size_t bench_n_ratio_defs = ARRAY_SIZE(bench_ratio_defs);

const char *bench_metric_name(enum bench_metric m)
{
        return (unsigned)m < BENCH_METRICS ? metric_names[m] : "?";
}

double bench_metric_value(const struct bench_sample *s, enum bench_metric m)
{
        if ((int)m < BENCH_PHASES)
                return s->phase_ms[m];
        switch (m) {
        case BENCH_M_TO_EXEC:
                return s->to_exec_ms;
        case BENCH_M_TO_READY:
                return s->to_ready_ms;
        case BENCH_M_RUNTIME:
                return s->runtime_ms;
        default:
                return NAN;
        }
}

int bench_series_add(struct bench_series *se, const struct bench_sample *s)
{
        if (se->n == se->cap) {
                size_t cap = se->cap ? se->cap * 2 : 32;
                struct bench_sample *ns = realloc(se->s, cap * sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                se->s = ns;
                se->cap = cap;
        }
        se->s[se->n++] = *s;
        return 0;
}

void bench_series_release(struct bench_series *se)
{
        free(se->s);
        memset(se, 0, sizeof(*se));
}

/* Milliseconds with microsecond precision, printed as such. */
static json_object *ms(double v)
{
        if (isnan(v))
                return NULL;
        char buf[64];
        snprintf(buf, sizeof(buf), "%.3f", v);
        return json_object_new_double_s(v, buf);
}

static double *metric_values(const struct bench_series *se, enum bench_metric m)
{
        double *v = malloc((se->n ? se->n : 1) * sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < se->n; i++)
                v[i] = bench_metric_value(&se->s[i], m);
        return v;
}

static json_object *summary(const double *v, size_t n, int extremes)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "median", ms(bench_median(v, n)));
        json_object_object_add(o, "p95", ms(bench_quantile(v, n, 0.95)));
        if (extremes) {
                json_object_object_add(o, "min", ms(bench_quantile(v, n, 0)));
                json_object_object_add(o, "max", ms(bench_quantile(v, n, 1)));
        }
        return o;
}

static json_object *series_json(const struct bench_series *se)
{
        if (se->n == 0 && se->failures == 0)
                return NULL;
        json_object *o = json_object_new_object(), *phases = json_object_new_object();
        json_object *samples = json_object_new_object();
        json_object_object_add(o, "runs", json_object_new_int64((int64_t)se->n));
        json_object_object_add(o, "failures", json_object_new_int(se->failures));
        for (int m = 0; m < BENCH_METRICS; m++) {
                _cleanup_free_ double *v = metric_values(se, (enum bench_metric)m);
                if (!v)
                        continue;
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < se->n; i++)
                        json_object_array_add(arr, ms(v[i]));
                json_object_object_add(samples, metric_names[m], arr);
                if (m < BENCH_PHASES)
                        json_object_object_add(phases, metric_names[m],
                                               ms(bench_median(v, se->n)));
                else if (m == BENCH_M_TO_EXEC)
                        json_object_object_add(o, "time_to_exec_ms", summary(v, se->n, 0));
                else if (m == BENCH_M_TO_READY)
                        json_object_object_add(o, "time_to_ready_ms", summary(v, se->n, 1));
                else
                        json_object_object_add(o, "runtime_ms", summary(v, se->n, 0));
        }
        json_object_object_add(o, "phases_ms", phases);
        json_object_object_add(o, "samples", samples);
        return o;
}

static json_object *variant_json(const struct bench_result *r)
{
        json_object *o = json_object_new_object();
        wh_json_add_string(o, "name", r->name);
        wh_json_add_string(o, "description", r->description);
        wh_json_add_string(o, "image", r->image);
        wh_json_add_string(o, "compression", r->compression);
        json_object_object_add(o, "layers", json_object_new_int(r->layers));
        wh_json_add_string(o, "runtime", r->runtime);
        wh_json_add_string(o, "init", r->init);
        wh_json_add_string(o, "rootfs", r->rootfs);
        wh_json_add_string(o, "exec_source", r->exec_source);
        wh_json_add_int64(o, "bytes_fetched", r->bytes_fetched);
        wh_json_add_int64(o, "files", r->files);
        wh_json_add_int64(o, "bytes", r->bytes);
        json_object_object_add(o, "cold", series_json(&r->cold));
        json_object_object_add(o, "warm", series_json(&r->warm));
        return o;
}

static const struct bench_result *find_result(const struct bench_report_in *in,
                                              const char *name)
{
        for (size_t i = 0; i < in->n; i++)
                if (!strcmp(in->v[i].name, name))
                        return &in->v[i];
        return NULL;
}

static int ratio_json(const struct bench_report_in *in, const struct bench_ratio_def *d,
                      json_object **ret)
{
        const struct bench_result *a = find_result(in, d->num),
                                  *b = find_result(in, d->den);
        *ret = NULL;
        if (!a || !b)
                return 0;
        const struct bench_series *sa = d->warm ? &a->warm : &a->cold;
        const struct bench_series *sb = d->warm ? &b->warm : &b->cold;
        if (!sa->n || !sb->n)
                return 0;
        _cleanup_free_ double *va = metric_values(sa, d->metric);
        _cleanup_free_ double *vb = metric_values(sb, d->metric);
        if (!va || !vb)
                return -ENOMEM;
        struct bench_ratio r;
        /* A ratio of zero-length phases has no value; it is left out. */
        if (bench_ratio_ci(va, sa->n, vb, sb->n, in->resamples, in->seed, &r) < 0)
                return 0;
        json_object *o = json_object_new_object(), *ci = json_object_new_array();
        char buf[32];
        snprintf(buf, sizeof(buf), "%.4f", r.value);
        json_object_object_add(o, "value", json_object_new_double_s(r.value, buf));
        snprintf(buf, sizeof(buf), "%.4f", r.lo);
        json_object_array_add(ci, json_object_new_double_s(r.lo, buf));
        snprintf(buf, sizeof(buf), "%.4f", r.hi);
        json_object_array_add(ci, json_object_new_double_s(r.hi, buf));
        json_object_object_add(o, "ci95", ci);
        wh_json_add_string(o, "numerator", d->num);
        wh_json_add_string(o, "denominator", d->den);
        wh_json_add_string(o, "metric", metric_names[d->metric]);
        wh_json_add_string(o, "cache", d->warm ? "warm" : "cold");
        json_object_object_add(o, "resamples", json_object_new_int((int)r.resamples));
        *ret = o;
        return 0;
}

static void add_target(json_object *targets, json_object *ratios, const char *name,
                       double min)
{
        json_object *r = NULL, *v = NULL;
        json_object *t = json_object_new_object();
        json_object_object_add(t, "at_least", json_object_new_double(min));
        if (json_object_object_get_ex(ratios, name, &r) &&
            json_object_object_get_ex(r, "value", &v)) {
                double x = json_object_get_double(v);
                json_object_object_add(t, "value", json_object_get(v));
                json_object_object_add(t, "met", json_object_new_boolean(x >= min));
        } else {
                json_object_object_add(t, "value", NULL);
                json_object_object_add(t, "met", NULL);
        }
        json_object_object_add(targets, name, t);
}

static json_object *deep_copy(json_object *o)
{
        json_object *c = NULL;
        if (o && json_object_deep_copy(o, &c, NULL) < 0)
                return NULL;
        return c;
}

int bench_report_build(const struct bench_report_in *in, json_object **ret,
                       struct wh_err *err)
{
        _cleanup_json_ json_object *rep = json_object_new_object();
        if (!rep)
                return wh_fail(err, ENOMEM, "report");
        wh_json_add_string(rep, "schema", "whittle-bench/1");
        wh_json_add_string(rep, "created", in->created);
        wh_json_add_string(rep, "mode", in->mode);
        json_object_object_add(rep, "environment", deep_copy(in->environment));
        json_object_object_add(rep, "settings", deep_copy(in->settings));
        json_object *vs = json_object_new_array();
        for (size_t i = 0; i < in->n; i++)
                json_object_array_add(vs, variant_json(&in->v[i]));
        json_object_object_add(rep, "variants", vs);
        json_object *ratios = json_object_new_object();
        for (size_t i = 0; i < bench_n_ratio_defs; i++) {
                json_object *r;
                if (ratio_json(in, &bench_ratio_defs[i], &r) < 0) {
                        json_object_put(ratios);
                        return wh_fail(err, ENOMEM, "report: ratios");
                }
                if (r)
                        json_object_object_add(ratios, bench_ratio_defs[i].name, r);
        }
        json_object_object_add(rep, "ratios", ratios);
        json_object *targets = json_object_new_object();
        /* The targets, for each workload. */
        add_target(targets, ratios, "al2_over_whittled_ready_cold", 10);
        add_target(targets, ratios, "al2_over_whittled_ready_warm", 3);
        add_target(targets, ratios, "al2_over_whittled_ready_cold_service", 10);
        add_target(targets, ratios, "al2_over_whittled_ready_warm_service", 3);
        json_object_object_add(rep, "targets", targets);
        *ret = TAKE_PTR(rep);
        return 0;
}

/* --- CI gate ---------------------------------------------------------------------------
 */

static int ratio_value(json_object *rep, const char *name, double *ret)
{
        json_object *ratios, *r, *v;
        if (!json_object_object_get_ex(rep, "ratios", &ratios) ||
            !json_object_object_get_ex(ratios, name, &r) ||
            !json_object_object_get_ex(r, "value", &v))
                return -ENOENT;
        if (!json_object_is_type(v, json_type_double) &&
            !json_object_is_type(v, json_type_int))
                return -EINVAL;
        *ret = json_object_get_double(v);
        return 0;
}

int bench_compare(json_object *report, json_object *baseline, double tolerance_pct,
                  FILE *out, struct wh_err *err)
{
        json_object *bratios;
        if (!json_object_object_get_ex(baseline, "ratios", &bratios) ||
            !json_object_is_type(bratios, json_type_object))
                return wh_failx(err, EINVAL, "baseline: no \"ratios\" object");
        int bad = 0;
        json_object_object_foreach(bratios, name, val)
        {
                (void)val;
                double b, c;
                if (ratio_value(baseline, name, &b) < 0)
                        return wh_failx(err, EINVAL,
                                        "baseline: ratios.%s.value: not a number", name);
                if (ratio_value(report, name, &c) < 0) {
                        fprintf(out, "FAIL %s: missing from this run (baseline %.3f)\n",
                                name, b);
                        bad++;
                        continue;
                }
                double floor_ = b * (1.0 - tolerance_pct / 100.0);
                int worse = c < floor_;
                fprintf(out, "%s %s: %.3f, baseline %.3f, allowed down to %.3f (-%g%%)\n",
                        worse ? "FAIL" : "ok  ", name, c, b, floor_, tolerance_pct);
                bad += worse;
        }
        return bad;
}
