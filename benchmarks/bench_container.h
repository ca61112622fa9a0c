/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * One container start, timed: `RUNTIME create`, `RUNTIME start`, then the
 * workload's output is watched until its ready line. The exec stamp comes
 * from whittle-init (--ready-fd 2: a "SEC.NSEC" CLOCK_MONOTONIC line on
 * stderr just before it execs the workload) or, for other inits, from the
 * moment the first byte of output arrives. Whatever happens, the container
 * is killed and deleted before the call returns.
 */
#include <stdint.h>

#include "err.h"

struct bench_runtime {
        const char *name;  /* "whittle-run", "runc", "crun" */
        const char *path;  /* the binary */
        const char *root;  /* --root: a state directory of the harness's own */
        int cgroup2_ns;    /* crun on a hybrid host: see bench_spawn */
        const char *extra; /* one more global option, or NULL */
};

/* Writes bundle/config.json: the runc-spec defaults with args, env and cwd; tools_dir, when
 * set, is bind-mounted read-only at /.bench (inits that are not in the image). */
int bench_config_write(const char *bundle, char *const *args, char *const *env,
                       const char *cwd, const char *tools_dir, struct wh_err *err);

struct bench_container {
        const struct bench_runtime *rt;
        const char *bundle;
        const char *id;
        const char *ready_line; /* e.g. "ready" */
        int stamp;              /* exec time from whittle-init's stamp on stderr */
        int timeout_ms;         /* create to ready, and ready to exit */
};

struct bench_container_times {
        int64_t created; /* create returned */
        int64_t exec;    /* stamp, or first output */
        int64_t ready;   /* ready line read */
};

int bench_container_run(const struct bench_container *c, struct bench_container_times *ret,
                        struct wh_err *err);

/* `RUNTIME delete --force ID`, even after an interrupt; errors are ignored. */
void bench_container_delete(const struct bench_runtime *rt, const char *id);

/* Scans text for the first whittle-init stamp line; -ENOENT when there is none. */
int bench_find_stamp(const char *text, int64_t *ret_ns);
