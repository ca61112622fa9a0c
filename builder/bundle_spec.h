/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * An OCI runtime bundle's config.json made from an image config, as an
 * engine would: process from Entrypoint+Cmd, Env (PATH added when
 * missing), WorkingDir, User (names looked up in the rootfs's etc/passwd
 * and etc/group, read inside the root); runc's defaults for the rest:
 * namespaces pid, ipc, uts, mount, network; /proc, /dev, /dev/pts,
 * /dev/shm, /dev/mqueue, /sys; docker's default capabilities;
 * noNewPrivileges; masked and read-only /proc paths; optionally a seccomp
 * allowlist. The one place that
 * writes a config.json: checkout's bundles and the containers trace and
 * verify run.
 */
#include <json-c/json.h>
#include <stdint.h>

#include "err.h"
#include "seccomp_bpf.h"

struct wh_bundle_opts {
        int readonly;         /* root.readonly */
        int terminal;         /* process.terminal */
        const char *hostname; /* NULL: "whittle" */
        /* No network namespace: a probe on the host reaches the workload's ports. */
        int host_network;
        /*
         * As `docker run` leaves a workload (trace and verify run it so):
         * new privileges allowed, the caller's rlimits, only the most
         * sensitive /proc paths masked.
         */
        int relaxed;
        char *const *args; /* NULL: the image's Entrypoint + Cmd */
        /*
         * linux.seccomp: allow these syscalls (wh_seccomp_names: "default"
         * expanded, the always-allowed ones added) on the image's
         * architecture, clone3 ENOSYS unless listed, the rest
         * seccomp_action; NULL: no filter. With a filter noNewPrivileges is
         * true even when relaxed: whittle-run then loads it right before
         * exec, as whittle-init does, rather than before it drops
         * capabilities, which would put its own capset and prctl calls
         * under the workload's allowlist.
         */
        char *const *syscalls;
        enum wh_seccomp_action seccomp_action;
        int seccomp_errno; /* for WH_SECCOMP_ERRNO; 0 means EPERM */
};

/*
 * image_config: the image config (the object with "config" inside), may be
 * NULL. rootfs_fd: the bundle's root, for user and group names. *ret is
 * the config.json text, caller owns. Fails when the image names no
 * process (neither Entrypoint nor Cmd), a user that the rootfs lacks, or
 * a syscall libseccomp does not know.
 */
int wh_bundle_config(json_object *image_config, int rootfs_fd,
                     const struct wh_bundle_opts *o, char **ret, struct wh_err *err);

/*
 * Resolves an image's User ("", "uid", "name", "uid:gid", "name:group")
 * against the rootfs's etc/passwd and etc/group. A user without a group
 * takes its passwd entry's group, or 0.
 */
int wh_bundle_user(const char *user, int rootfs_fd, uint32_t *ret_uid, uint32_t *ret_gid,
                   struct wh_err *err);
