/* SPDX-License-Identifier: Apache-2.0 */
/* report.md: the report as tables for a pull-request comment, written from report.json. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench_report.h"
#include "json_util.h"

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                             : "-";
}

static double num(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        if (!v || !(json_object_is_type(v, json_type_double) ||
                    json_object_is_type(v, json_type_int)))
                return NAN;
        return json_object_get_double(v);
}

/* "1234.5" style for milliseconds; "-" when absent. */
static void put_ms(FILE *out, double v)
{
        if (isnan(v))
                fputs(" - |", out);
        else if (v >= 100)
                fprintf(out, " %.0f |", v);
        else
                fprintf(out, " %.1f |", v);
}

static void ready_table(json_object *vs, FILE *out)
{
        fputs("| variant | image | layers | runtime | init | rootfs | fetched MB | files | "
              "cold ready ms | cold p95 | warm ready ms | warm p95 |\n"
              "|---|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|\n",
              out);
        size_t n = json_object_array_length(vs);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(vs, i);
                fprintf(out, "| `%s` | %s (%s) | %.0f | %s | %s | %s | %.1f | %.0f |",
                        str(v, "name"), str(v, "image"), str(v, "compression"),
                        num(v, "layers"), str(v, "runtime"), str(v, "init"),
                        str(v, "rootfs"), num(v, "bytes_fetched") / 1e6, num(v, "files"));
                json_object *c = get(get(v, "cold"), "time_to_ready_ms");
                json_object *w = get(get(v, "warm"), "time_to_ready_ms");
                put_ms(out, num(c, "median"));
                put_ms(out, num(c, "p95"));
                put_ms(out, num(w, "median"));
                put_ms(out, num(w, "p95"));
                fputc('\n', out);
        }
}

static void phase_table(json_object *vs, FILE *out)
{
        fputs("\n### Phases (median ms)\n\n"
              "| variant | cache | runs | fetch | unpack | rootfs | create | exec | ready "
              "| "
              "to exec | to ready | create+exec |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
              out);
        static const char *const states[] = {"cold", "warm"};
        static const char *const ph[] = {"fetch",  "unpack", "rootfs",
                                         "create", "exec",   "ready"};
        size_t n = json_object_array_length(vs);
        for (size_t s = 0; s < 2; s++) {
                for (size_t i = 0; i < n; i++) {
                        json_object *v = json_object_array_get_idx(vs, i);
                        json_object *st = get(v, states[s]);
                        if (!st)
                                continue;
                        fprintf(out, "| `%s` | %s | %.0f |", str(v, "name"), states[s],
                                num(st, "runs"));
                        json_object *p = get(st, "phases_ms");
                        for (size_t k = 0; k < 6; k++)
                                put_ms(out, num(p, ph[k]));
                        put_ms(out, num(get(st, "time_to_exec_ms"), "median"));
                        put_ms(out, num(get(st, "time_to_ready_ms"), "median"));
                        put_ms(out, num(get(st, "runtime_ms"), "median"));
                        fputc('\n', out);
                }
        }
}

static void ratio_table(json_object *ratios, FILE *out)
{
        fputs("\n### Ratios of medians (higher: whittle's way is faster)\n\n"
              "| ratio | value | 95% CI (bootstrap) | metric | cache |\n"
              "|---|---:|---|---|---|\n",
              out);
        json_object_object_foreach(ratios, name, r)
        {
                json_object *ci = get(r, "ci95");
                double lo =
                        ci ? json_object_get_double(json_object_array_get_idx(ci, 0)) : NAN;
                double hi =
                        ci ? json_object_get_double(json_object_array_get_idx(ci, 1)) : NAN;
                fprintf(out, "| `%s` | **%.2f** | %.2f – %.2f | %s | %s |\n", name,
                        num(r, "value"), lo, hi, str(r, "metric"), str(r, "cache"));
        }
}

static void targets(json_object *t, FILE *out)
{
        if (!t)
                return;
        fputs("\n### Targets\n\n", out);
        json_object_object_foreach(t, name, v)
        {
                json_object *met = get(v, "met");
                fprintf(out, "- `%s` >= %.0f: ", name, num(v, "at_least"));
                if (!met)
                        fputs("not measured\n", out);
                else
                        fprintf(out, "%.2f, **%s**\n", num(v, "value"),
                                json_object_get_boolean(met) ? "met" : "not met");
        }
}

static void environment(json_object *rep, FILE *out)
{
        json_object *env = get(rep, "environment");
        json_object *m = get(env, "machine");
        fprintf(out, "\nMachine: %s, kernel %s, %s, %.0f CPUs, %.1f GiB. ", str(m, "os"),
                str(m, "kernel"), str(m, "cpu"), num(m, "cpus"),
                num(m, "memory_bytes") / 1073741824.0);
        json_object *tools = get(env, "tools");
        if (tools) {
                fputs("Tools:", out);
                const char *sep = " ";
                json_object_object_foreach(tools, k, v)
                {
                        fprintf(out, "%s%s %s", sep, k, json_object_get_string(v));
                        sep = "; ";
                }
                fputs(".\n", out);
        }
        json_object *cs = get(env, "cache_states");
        if (cs)
                fprintf(out, "\nCold: %s\nWarm: %s\n", str(cs, "cold"), str(cs, "warm"));
        json_object *s = get(rep, "settings");
        if (s)
                fprintf(out,
                        "\nRuns per variant: %.0f cold, %.0f warm (after %.0f warm-up "
                        "rounds); "
                        "variants interleaved, order shuffled per round (seed %.0f); "
                        "%.0f bootstrap resamples. Fetch client: %s.\n",
                        num(s, "cold_runs"), num(s, "warm_runs"), num(s, "warmup_rounds"),
                        num(s, "seed"), num(s, "bootstrap_resamples"),
                        str(s, "fetch_client"));
}

int bench_report_markdown(json_object *report, FILE *out, struct wh_err *err)
{
        json_object *vs = get(report, "variants");
        if (!vs || !json_object_is_type(vs, json_type_array))
                return wh_failx(err, EINVAL, "report: no variants");
        fprintf(out, "## whittle-bench: time to ready (%s run, %s)\n\n",
                str(report, "mode"), str(report, "created"));
        ready_table(vs, out);
        json_object *ratios = get(report, "ratios");
        if (ratios)
                ratio_table(ratios, out);
        targets(get(report, "targets"), out);
        phase_table(vs, out);
        environment(report, out);
        if (fflush(out) != 0 || ferror(out))
                return wh_fail(err, errno ? errno : EIO, "write report.md");
        return 0;
}
