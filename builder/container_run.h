/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Running an image for trace and verify: the image is materialised into a
 * temporary OCI bundle (every entry of its merged tree written with the
 * dir: writer, plus a config.json made from the image config) and run with
 * whittle-run as a subprocess, with a private state root inside the
 * bundle's directory. The container shares the host's network namespace,
 * so a probe on the host reaches its loopback ports.
 */
#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "image_read.h"
#include "index.h"
#include "profile.h"
#include "seccomp_bpf.h"

struct wh_bundle {
        char *dir;             /* owned; the temporary directory, removed by _release */
        char *rootfs;          /* owned; dir + "/bundle/rootfs" */
        char *bundle;          /* owned; dir + "/bundle" */
        char *state;           /* owned; whittle-run --root */
        char *out_path;        /* owned; the workload's stdout and stderr */
        char *id;              /* owned; container id */
        char *runtime;         /* owned; the whittle-run binary */
        struct wh_source *src; /* owned */
        struct wh_index *idx;  /* owned; the image's merged tree */
        char **args;           /* owned; process.args as run */
        int created;           /* the container exists (delete on release) */
};

struct wh_prepare_opts {
        const char *runtime; /* NULL: whittle-run beside this binary, else on PATH */
        const struct wh_profile
                *profile; /* may be NULL; entrypoint, cmd, env, user, workdir */
        char **args;      /* NULL: the image's entrypoint + cmd */
        /* linux.seccomp allowing these (see wh_bundle_opts); NULL: none. */
        char *const *syscalls;
        enum wh_seccomp_action seccomp_action;
        int seccomp_errno;
};

/*
 * Opens source (a reference text), indexes it, writes the bundle. Caller
 * owns ret (wh_bundle_release, which also removes the directory).
 */
int wh_bundle_prepare(const char *source, const struct wh_prepare_opts *o,
                      struct wh_bundle *ret, struct wh_err *err);
void wh_bundle_release(struct wh_bundle *b);

/*
 * `whittle-run create`: the init is set up and waits for start. The
 * workload's stdin is /dev/null, stdout and stderr go to b->out_path.
 * *ret_pid is the init (a child of this process once create exits, since
 * the caller is made a child subreaper).
 */
int wh_container_create(struct wh_bundle *b, pid_t *ret_pid, struct wh_err *err);

/* Spawns `whittle-run start` without waiting; *ret_pid is that process. */
int wh_container_start(struct wh_bundle *b, pid_t *ret_pid, struct wh_err *err);

/* Kills what is left of the container and deletes it; quiet and idempotent. */
void wh_container_destroy(struct wh_bundle *b);

/* The last lines (at most) of what the workload printed, to f, indented. */
void wh_container_print_output(const struct wh_bundle *b, FILE *f, int lines);

/*
 * Spawns argv with stdin /dev/null, stdout/stderr to out_fd (or /dev/null
 * for -1) and the default signal mask. Returns the pid or -errno.
 */
pid_t wh_spawn(char *const *argv, int out_fd);
