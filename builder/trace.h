/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The tracer: runs a bundle's container under ptrace and fanotify and
 * records what the workload used (see trace.c for how). Needs root.
 */
#include "container_run.h"
#include "err.h"
#include "trace_profile.h"

struct wh_trace_opts {
        double duration;        /* seconds; <= 0 means 60 */
        const char *probe;      /* host command (/bin/sh -c), or NULL */
        int probe_verbose;      /* the probe's output goes to stderr instead of /dev/null */
        const char *ready_line; /* the trace ends when the workload prints this, or NULL */
};

struct wh_trace_result {
        struct wh_strset
                used; /* image paths opened, executed, mapped or found by a lookup */
        struct wh_strset missing;  /* image paths looked up and not found (ENOENT) */
        struct wh_strset syscalls; /* system call names the workload made */
        int exited;                /* the workload ended by itself ... */
        int status;                /* ... with this status (128+signal when killed) */
        int probe_ok;              /* the probe command succeeded */
        int ready;                 /* the workload printed the ready line */
        int timed_out;             /* the duration ended first */
        int start_failed;          /* `whittle-run start` failed */
        int interrupted;           /* SIGINT or SIGTERM ended the trace */
        double seconds;            /* from start until the end of the trace */
        unsigned long events;      /* fanotify events and syscall stops handled */
};

void wh_trace_result_release(struct wh_trace_result *r);

/*
 * "whittle trace needs root (ptrace/fanotify)" unless this process may
 * trace; what names the command in the message.
 */
int wh_trace_check_privileges(const char *what, struct wh_err *err);

/*
 * Creates the container, attaches the tracer to its init before the
 * workload starts, starts it and records until it exits, the probe
 * succeeds or the duration ends; then kills what is left. The container
 * is deleted by wh_bundle_release (or wh_container_destroy). ret is
 * filled also when the workload failed; only errors of the tracing itself
 * return < 0.
 */
int wh_trace_run(struct wh_bundle *b, const struct wh_trace_opts *o,
                 struct wh_trace_result *ret, struct wh_err *err);
