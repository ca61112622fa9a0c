/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Results: the samples of every variant in both cache states, turned into
 * report.json (statistics, ratios with bootstrap intervals, raw samples),
 * report.md (a table for a pull request) and gnuplot plots; and the CI gate
 * that compares a report's ratios with a baseline's.
 *
 * Every ratio is "something else over whittle's way", so higher is better for
 * whittle, and a regression is a ratio that dropped.
 */
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "bench_sample.h"
#include "err.h"

enum bench_metric {
        /* BENCH_FETCH .. BENCH_READY are the phases */
        BENCH_M_TO_EXEC = BENCH_PHASES,
        BENCH_M_TO_READY,
        BENCH_M_RUNTIME,
        BENCH_METRICS,
};

const char *bench_metric_name(enum bench_metric m);
double bench_metric_value(const struct bench_sample *s, enum bench_metric m);

struct bench_series {
        struct bench_sample *s;
        size_t n, cap;
        int failures;
};

/* Appends a copy of one sample; -ENOMEM. */
int bench_series_add(struct bench_series *se, const struct bench_sample *s);
void bench_series_release(struct bench_series *se);

struct bench_result {
        const char *name;
        const char *description;
        const char *image;       /* sample name, e.g. "al2-style" */
        const char *compression; /* of its layers */
        const char *runtime;
        const char *init;
        const char *rootfs;
        const char *exec_source; /* "init_stamp" or "first_output" */
        int layers;
        int64_t bytes_fetched, files, bytes;
        struct bench_series cold, warm;
};

struct bench_ratio_def {
        const char *name;
        const char *num, *den; /* variant names */
        enum bench_metric metric;
        int warm;
};

/* The ratios the harness reports (the first four are the required ones). */
extern const struct bench_ratio_def bench_ratio_defs[];
extern const size_t bench_n_ratio_defs;

struct bench_report_in {
        const char *mode;         /* "full", "quick" */
        const char *created;      /* ISO 8601 UTC */
        json_object *environment; /* machine, kernel, tools...: borrowed, copied in */
        json_object *settings;    /* borrowed, copied in */
        const struct bench_result *v;
        size_t n;
        unsigned resamples;
        uint64_t seed;
};

/* Builds the report (caller owns). Ratios whose variants lack samples are left out. */
int bench_report_build(const struct bench_report_in *in, json_object **ret,
                       struct wh_err *err);

/* Writes the Markdown summary of a report built above. */
int bench_report_markdown(json_object *report, FILE *out, struct wh_err *err);

/*
 * CI gate: prints one line per ratio of the baseline, and returns how many are worse than
 * the baseline's value by more than tolerance_pct percent, or are missing; -errno on a
 * report without ratios.
 */
int bench_compare(json_object *report, json_object *baseline, double tolerance_pct,
                  FILE *out, struct wh_err *err);

/* Writes gnuplot data and scripts into dir and runs gnuplot: phases-{cold,warm}.svg and
 * ready-{cold,warm}.svg. */
int bench_plots_write(json_object *report, const char *dir, struct wh_err *err);
