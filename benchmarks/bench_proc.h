/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Child processes of the harness: spawn with chosen stdio, wait with a
 * time-out (a child that overstays is killed with its process group), run
 * and capture output. Also the harness's interrupt flag: SIGINT/SIGTERM set
 * it, and every wait returns -EINTR once it is set, so main() can clean up.
 */
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define BENCH_FD_NULL (-1) /* /dev/null */

struct bench_spawn {
        char *const *argv; /* argv[0] is looked up in PATH when it has no '/' */
        int stdin_fd;      /* an fd to dup, or BENCH_FD_NULL */
        int stdout_fd;
        int stderr_fd;
        int new_pgrp;        /* own process group, so a kill reaches its children */
        int cgroup2_ns;      /* private mount namespace with cgroup2 at /sys/fs/cgroup */
        int die_with_parent; /* SIGTERM when the harness dies, even by SIGKILL */
        const char *workdir; /* chdir before exec, or NULL */
};

/* Installs the SIGINT/SIGTERM handler (no SA_RESTART) and ignores SIGPIPE. */
void bench_signals_init(void);
/* Non-zero once SIGINT or SIGTERM arrived. */
int bench_interrupted(void);

/* Starts a child; *ret_pid is its pid (and process group id with new_pgrp). */
int bench_spawn(const struct bench_spawn *sp, pid_t *ret_pid, struct wh_err *err);

/*
 * Waits up to timeout_ms (< 0: no limit) for pid. On time-out or interrupt
 * the child (its group, when it has its own) is killed and reaped, and the
 * result is -ETIMEDOUT / -EINTR. *ret_status is a waitpid status.
 */
int bench_wait(pid_t pid, int timeout_ms, int *ret_status, struct wh_err *err);
/* The same; with ignore_intr an interrupt does not end the wait (clean-up paths). */
int bench_wait_ex(pid_t pid, int timeout_ms, int ignore_intr, int *ret_status,
                  struct wh_err *err);

/* Flags of bench_run_ex. */
enum {
        BENCH_RUN_CGROUP2_NS = 1 << 0, /* as bench_spawn.cgroup2_ns */
        BENCH_RUN_CLEANUP = 1 << 1,    /* keeps running after an interrupt: for clean-up */
};

/*
 * Runs argv with stdin from /dev/null and stdout+stderr captured (at most
 * 64 KiB kept; caller owns *ret_out, may be NULL to discard). Returns the
 * exit code (0..255), or -errno; a signal death is -ECHILD.
 */
int bench_run(char *const *argv, int timeout_ms, char **ret_out, struct wh_err *err);
int bench_run_ex(char *const *argv, unsigned flags, int timeout_ms, char **ret_out,
                 struct wh_err *err);

/* bench_run that also fails (naming argv[0] and the output's tail) on a non-zero exit. */
int bench_run_ok(char *const *argv, int timeout_ms, struct wh_err *err);
int bench_run_ok_ex(char *const *argv, unsigned flags, int timeout_ms, struct wh_err *err);

/* A pidfd for pid (readable when it exits), or -errno. */
int bench_pidfd_open(pid_t pid);

/* Kills a process group and reaps its leader; for cleanup paths. */
void bench_kill_group(pid_t pgid);
