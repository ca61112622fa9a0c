/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Starting a container's init and exec'd processes.
 *
 * One clone3() with every new namespace flag (and CLONE_PIDFD) makes the
 * container process (the network namespace may come from a thread, see
 * struct wh_netns_ahead); there is no re-exec of the runtime and no
 * intermediate process. The child is a copy of the runtime that sets up
 * the container from the already parsed spec and then execve()s the
 * workload. The runtime (parent) writes uid/gid maps, puts the child in
 * its cgroup, applies rlimits and oomScoreAdj, and runs the runtime-side
 * hooks; the two talk over a SOCK_SEQPACKET socketpair (message per step,
 * errors travel back as text, so the parent prints the child's error).
 *
 * Why the container cannot overwrite the runtime binary (CVE-2019-5736
 * class): the runtime never execs itself (no /proc/self/exe, no re-exec
 * into the container), the container process only ever execs the
 * workload's binary resolved inside the container's root, and until that
 * execve() it is non-dumpable (PR_SET_DUMPABLE 0), so processes in the
 * container cannot open its /proc/<pid>/exe, /proc/<pid>/fd or ptrace it
 * while it still is the runtime's image.
 *
 * Why no runtime fd reaches the container (CVE-2024-21626 class): every fd
 * the runtime opens is O_CLOEXEC, everything from fd 3 (+ --preserve-fds)
 * up is marked close-on-exec with close_range() right before execve(), and
 * process.cwd is resolved after pivot_root inside the new root with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so it cannot name
 * /proc/self/fd/N of a host directory.
 */
#include <pthread.h>
#include <sys/types.h>

#include "caps.h"
#include "cgroups.h"
#include "err.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"

/*
 * A new network namespace is the dearest namespace to make (~0.5 ms of
 * kernel time here: the loopback device, sysctl tables, every protocol's
 * per-namespace state). When the container gets a new one and no user
 * namespace is to own it, a thread of the runtime makes it on another CPU
 * while the init sets up its mounts, and the init joins it before it mounts
 * sysfs (which shows the mounting process's network devices), so before
 * any hook that enters it by the init's pid runs. The namespace's
 * memory is charged to the runtime's cgroup, not the container's.
 */
struct wh_netns_ahead {
        int started, joined;
        pthread_t thread;
        /* The thread sends the namespace's fd (SCM_RIGHTS) or an errno on
         * sock[1]; the init receives it on sock[0]. */
        int sock[2];
};

/* Starts the thread when spec allows it and there is another CPU
 * (na->started says so). */
void wh_netns_ahead_start(const struct wh_spec *spec, struct wh_netns_ahead *na);
/* Waits for the thread to end (its message stays queued for the init). */
void wh_netns_ahead_join(struct wh_netns_ahead *na);
/* Joins the thread and closes the sockets (the init holds its own fd). */
void wh_netns_ahead_finish(struct wh_netns_ahead *na);

struct wh_create_opts {
        const char *console_socket; /* NULL: inherit stdio */
        int preserve_fds;
        int no_pivot;
        int no_new_keyring;
        int use_fifo;     /* create: the init waits in exec.fifo until `start` */
        int state_dir_fd; /* <root>/<id> (holds exec.fifo) */
        /* Called in the runtime right after clone (st->pid and start_time
         * set) while the child sets up, to overlap the runtime's own
         * writes with it. A failure aborts the spawn. May be NULL. */
        int (*on_clone)(void *data, const struct wh_state *st, struct wh_err *err);
        void *on_clone_data;
        struct wh_netns_ahead *netns; /* NULL or started: join it, not CLONE_NEWNET */
};

/*
 * Creates the container's init for spec. st is the container's state being
 * built: id, bundle and created are read (for hooks); pid and start_time
 * are filled in. On success the init is ready (blocked on exec.fifo with
 * use_fifo, else about to exec) and *ret_sync_fd is the parent's end of the
 * sync socket: it reads EOF once the init has exec'd (or died). On failure
 * the init is killed and reaped; cgroup and state are the caller's.
 */
int wh_container_spawn(const struct wh_spec *spec, const struct wh_create_opts *opts,
                       const struct wh_caps *caps, const struct wh_seccomp *seccomp,
                       const struct wh_cgroup *cg, struct wh_state *st, int *ret_pidfd,
                       int *ret_sync_fd, struct wh_err *err);

struct wh_exec_opts {
        const char *console_socket;
        int preserve_fds;
};

/*
 * Starts proc inside the running container st (joins the init's
 * namespaces through a pidfd and its cgroup). Returns the new process's
 * host pid in *ret_pid and a pidfd in *ret_pidfd, once it is about to
 * execve (errors before that come back in err).
 */
int wh_container_exec(const struct wh_state *st, const struct wh_process_spec *proc,
                      const struct wh_caps *caps, const struct wh_seccomp *seccomp,
                      const struct wh_cgroup *cg, const struct wh_exec_opts *opts,
                      pid_t *ret_pid, int *ret_pidfd, struct wh_err *err);

/* Waits for the sync socket's EOF: the process exec'd (or exited). */
void wh_container_wait_exec(int sync_fd);

/* 128+signal or the exit status, as a shell reports it. */
int wh_container_exit_code(int wait_status);
