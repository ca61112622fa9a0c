/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * whittle-run's subcommands (one cmd_<name>.c each) and what they share:
 * the global options and the create path that `run` reuses.
 *
 * A command returns the process's exit status (>= 0) or -errno with err
 * filled in; main() prints err once (stderr, and --log as text or JSON).
 */
#include <sys/types.h>

#include <json-c/json.h>

#include "err.h"

struct wh_run_ctx {
        const char *root;           /* --root, default /run/whittle */
        const char *cgroup_manager; /* "cgroupfs" (default), "systemd", "disabled" */
        int debug;
};

struct wh_create_args {
        const char *id;
        const char *bundle; /* NULL: the current directory */
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        int no_pivot;
        int no_new_keyring;
        int detach; /* run -d; create is always detached */
};

/*
 * The create path shared by `create` and `run`: validate, claim the id,
 * cgroup, spawn, state.json, pid file. foreground (run without -d) skips
 * exec.fifo so the init goes straight on to exec. On success *ret_pid /
 * *ret_pidfd / *ret_sync_fd describe the init (and *ret_state, if not
 * NULL, what state.json holds: caller releases); on failure nothing is
 * left behind (no state directory, no cgroup, no process).
 */
struct wh_state;
int wh_run_create(const struct wh_run_ctx *ctx, const struct wh_create_args *a,
                  int foreground, pid_t *ret_pid, int *ret_pidfd, int *ret_sync_fd,
                  struct wh_state *ret_state, struct wh_err *err);

/* create's and run's options into a; exactly one ID must follow. */
int wh_run_parse_create_args(int argc, char **argv, struct wh_create_args *a, int is_run,
                             struct wh_err *err);

/* Undoes a container: kill what is left, cgroup, poststop hooks, state dir. */
int wh_run_destroy_state(int root_fd, const struct wh_state *st, struct wh_err *err);

/* Writes pid to path atomically (temporary file + rename). */
int wh_run_write_pid_file(const char *path, pid_t pid, struct wh_err *err);

/*
 * Waits for a child through its pidfd while forwarding the usual terminal
 * signals to it; returns its exit code (128+signal when killed).
 */
int wh_run_wait_forward(pid_t pid, int pidfd);

/* "KILL", "SIGKILL", "9" -> 9, or -EINVAL. */
int wh_run_parse_signal(const char *s);

int wh_cmd_create(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_run(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_start(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_state(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_kill(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_delete(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_list(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_exec(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_ps(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_spec(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
int wh_cmd_features(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err);
