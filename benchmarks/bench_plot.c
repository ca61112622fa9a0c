/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plots with gnuplot, from report.json: per cache state, the median phases of
 * every variant as stacked bars, and the distribution of time to ready as
 * empirical CDFs. The data files and scripts stay next to the SVGs, so a plot
 * can be restyled and redrawn without running the benchmark again.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proc.h"
#include "bench_report.h"
#include "cleanup.h"
#include "json_util.h"

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v))
                return NULL;
        return v;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static const char *const phases[] = {"fetch",  "unpack", "rootfs",
                                     "create", "exec",   "ready"};

static const char svg_head[] = "set terminal svg size 1100,600 dynamic enhanced font "
                               "'sans,11' background rgb 'white'\n";

static FILE *open_in(const char *dir, const char *name, char *path, size_t len)
{
        snprintf(path, len, "%s/%s", dir, name);
        return fopen(path, "we");
}

/* phases-STATE.dat and .gp; returns the number of variants plotted. */
static int phase_files(json_object *vs, const char *state, const char *dir,
                       struct wh_err *err)
{
        char path[4096], name[64];
        snprintf(name, sizeof(name), "phases-%s.dat", state);
        _cleanup_fclose_ FILE *d = open_in(dir, name, path, sizeof(path));
        if (!d)
                return wh_fail(err, errno, "write '%s'", path);
        fputs("variant", d);
        for (size_t k = 0; k < ARRAY_SIZE(phases); k++)
                fprintf(d, " %s", phases[k]);
        fputc('\n', d);
        int rows = 0;
        for (size_t i = 0; i < json_object_array_length(vs); i++) {
                json_object *v = json_object_array_get_idx(vs, i);
                json_object *p = get(get(v, state), "phases_ms");
                if (!p)
                        continue;
                fprintf(d, "%s", json_object_get_string(get(v, "name")));
                for (size_t k = 0; k < ARRAY_SIZE(phases); k++)
                        fprintf(d, " %.3f", json_object_get_double(get(p, phases[k])));
                fputc('\n', d);
                rows++;
        }
        if (fflush(d) != 0)
                return wh_fail(err, errno, "write '%s'", path);
        if (!rows)
                return 0;
        snprintf(name, sizeof(name), "phases-%s.gp", state);
        _cleanup_fclose_ FILE *g = open_in(dir, name, path, sizeof(path));
        if (!g)
                return wh_fail(err, errno, "write '%s'", path);
        fprintf(g,
                "%sset output '%s/phases-%s.svg'\n"
                "set title 'Time to ready, %s: median of each phase (ms)' noenhanced\n"
                "set style data histograms\nset style histogram rowstacked\n"
                "set style fill solid 0.85 border -1\nset boxwidth 0.7\n"
                "set key outside right top noenhanced\nset ylabel 'ms'\nset grid ytics\n"
                "set xtics rotate by -35 noenhanced\nset bmargin 10\n"
                "plot for [c=2:7] '%s/phases-%s.dat' using c:xtic(1) title "
                "columnheader(c)\n",
                svg_head, dir, state, state, dir, state);
        if (fflush(g) != 0)
                return wh_fail(err, errno, "write '%s'", path);
        return rows;
}

/* ready-STATE.dat (one block per variant: sorted ms, fraction of runs) and .gp. */
static int ready_files(json_object *vs, const char *state, const char *dir,
                       struct wh_err *err)
{
        char path[4096], name[64];
        snprintf(name, sizeof(name), "ready-%s.dat", state);
        _cleanup_fclose_ FILE *d = open_in(dir, name, path, sizeof(path));
        snprintf(name, sizeof(name), "ready-%s.gp", state);
        char gpath[4096];
        _cleanup_fclose_ FILE *g = open_in(dir, name, gpath, sizeof(gpath));
        if (!d || !g)
                return wh_fail(err, errno, "write '%s'", d ? gpath : path);
        fprintf(g,
                "%sset output '%s/ready-%s.svg'\n"
                "set title 'Time to ready, %s: distribution over runs' noenhanced\n"
                "set logscale x\nset xlabel 'time to ready (ms, log scale)'\n"
                "set ylabel 'fraction of runs'\nset yrange [0:1.02]\nset grid\n"
                "set key outside right top noenhanced\nplot",
                svg_head, dir, state, state);
        int block = 0;
        for (size_t i = 0; i < json_object_array_length(vs); i++) {
                json_object *v = json_object_array_get_idx(vs, i);
                json_object *s = get(get(get(v, state), "samples"), "time_to_ready");
                size_t n = s ? json_object_array_length(s) : 0;
                if (!n)
                        continue;
                _cleanup_free_ double *x = malloc(n * sizeof(*x));
                if (!x)
                        return wh_fail(err, ENOMEM, "plot");
                for (size_t k = 0; k < n; k++)
                        x[k] = json_object_get_double(json_object_array_get_idx(s, k));
                qsort(x, n, sizeof(*x), cmp_double);
                fprintf(d, "%s# %s\n", block ? "\n\n" : "",
                        json_object_get_string(get(v, "name")));
                for (size_t k = 0; k < n; k++)
                        fprintf(d, "%.3f %.5f\n", x[k], (double)(k + 1) / (double)n);
                fprintf(g,
                        "%s '%s/ready-%s.dat' index %d using 1:2 with steps lw 2 title "
                        "'%s'",
                        block ? ", \\\n    " : "", dir, state, block,
                        json_object_get_string(get(v, "name")));
                block++;
        }
        fputc('\n', g);
        if (fflush(d) != 0 || fflush(g) != 0)
                return wh_fail(err, errno, "write plot files in '%s'", dir);
        return block;
}

static int gnuplot(const char *dir, const char *name, struct wh_err *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        char *argv[] = {(char *)"gnuplot", path, NULL};
        return bench_run_ok_ex(argv, BENCH_RUN_CLEANUP, 60000, err);
}

int bench_plots_write(json_object *report, const char *dir, struct wh_err *err)
{
        json_object *vs = get(report, "variants");
        if (!vs || !json_object_is_type(vs, json_type_array))
                return wh_failx(err, EINVAL, "report: no variants");
        static const char *const states[] = {"cold", "warm"};
        for (size_t s = 0; s < 2; s++) {
                char name[64];
                int r = phase_files(vs, states[s], dir, err);
                if (r > 0) {
                        snprintf(name, sizeof(name), "phases-%s.gp", states[s]);
                        r = gnuplot(dir, name, err);
                }
                if (r < 0)
                        return wh_fail_ctx(err, r, "plot");
                r = ready_files(vs, states[s], dir, err);
                if (r > 0) {
                        snprintf(name, sizeof(name), "ready-%s.gp", states[s]);
                        r = gnuplot(dir, name, err);
                }
                if (r < 0)
                        return wh_fail_ctx(err, r, "plot");
        }
        return 0;
}
