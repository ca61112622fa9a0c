/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * linux.seccomp of an OCI config.json, compiled with libseccomp.
 *
 * wh_seccomp_compile() does all the work that can fail or allocate, in the
 * runtime before the container process exists: it parses the JSON, builds
 * the libseccomp filter and renders it to a BPF program held in the handle.
 * wh_seccomp_load() then installs that program with one seccomp(2) call and
 * allocates nothing, so it is safe in a child after clone()/fork().
 *
 * Order in the container process (as runc does it):
 *   - noNewPrivileges true: prctl(PR_SET_NO_NEW_PRIVS), drop privileges
 *     (caps, setuid), then wh_seccomp_load() right before exec, so the
 *     filter need not allow the runtime's own set-up calls.
 *   - noNewPrivileges false: loading needs CAP_SYS_ADMIN, so call
 *     wh_seccomp_load() before wh_caps_apply() drops it.
 * The filter never sets no_new_privs by itself (libseccomp's default
 * is turned off): that stays the config's decision.
 *
 * Errors name the field: "linux.seccomp.syscalls[3].action: unknown action
 * 'SCMP_ACT_FOO'". Unknown syscall names are skipped (with a debug note),
 * like runc, so one profile serves several kernels and architectures.
 */
#include <json-c/json.h>

#include "cleanup.h"
#include "err.h"

struct wh_seccomp;

/*
 * linux_seccomp is the "linux.seccomp" object (borrowed); NULL gives
 * *ret == NULL and returns 0 (no filter). Caller owns *ret.
 */
int wh_seccomp_compile(json_object *linux_seccomp, struct wh_seccomp **ret,
                       struct wh_err *err);

/* Installs the compiled filter in the calling process. No allocation. */
int wh_seccomp_load(const struct wh_seccomp *sc, struct wh_err *err);

/*
 * Writes the raw BPF program (an array of struct sock_filter, host byte
 * order: what whittle-init --seccomp reads) to fd.
 */
int wh_seccomp_export_bpf(const struct wh_seccomp *sc, int fd, struct wh_err *err);

/* Number of BPF instructions in the compiled program. */
unsigned wh_seccomp_bpf_len(const struct wh_seccomp *sc);

/* Accepts NULL; returns NULL. */
struct wh_seccomp *wh_seccomp_free(struct wh_seccomp *sc);
WH_DEFINE_CLEANUP(struct wh_seccomp *, wh_seccomp_free)
#define _cleanup_seccomp_ _cleanup_(wh_seccomp_freep)
