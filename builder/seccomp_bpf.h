/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Syscall allowlists compiled ahead of time into a raw seccomp BPF program
 * (what seccomp_export_bpf writes), so whittle-init can load it with one
 * system call and no libseccomp in the image.
 *
 * The program allows the listed syscalls, plus the few that exec, the
 * dynamic loader, libc start-up and signal handling cannot do without
 * (wh_seccomp_base); everything else gets the action. clone3, unless listed,
 * fails with ENOSYS so that glibc falls back to clone (as Docker's profile
 * does). A syscall of a foreign architecture (e.g. i386 calls on amd64)
 * gets the action too.
 */
#include <stddef.h>

#include "err.h"

enum wh_seccomp_action {
        WH_SECCOMP_ERRNO = 0, /* fail with errno_ret (default EPERM) */
        WH_SECCOMP_KILL,      /* kill the process */
        WH_SECCOMP_LOG,       /* allow, but log to the audit log (to try a list out) */
};

struct wh_seccomp_opts {
        const char *arch; /* image config architecture: amd64, arm64, ... */
        enum wh_seccomp_action action;
        int errno_ret;     /* for WH_SECCOMP_ERRNO; 0 means EPERM */
        const char *field; /* names the list in errors, e.g. "profile syscalls" */
};

struct wh_bpf {
        void *prog;        /* owned; raw struct sock_filter array */
        size_t len;        /* bytes (8 per instruction) */
        size_t n_syscalls; /* distinct syscalls allowed on the architecture */
};

/*
 * Compiles syscalls (NULL-terminated; "default" anywhere expands to
 * wh_seccomp_default) into *ret. A name libseccomp does not know is an
 * error naming opts->field and the name; a known name that does not exist
 * on the architecture (open on arm64) is skipped. On success the caller
 * owns ret->prog (wh_bpf_release).
 */
int wh_seccomp_bpf_compile(const char *const *syscalls, const struct wh_seccomp_opts *opts,
                           struct wh_bpf *ret, struct wh_err *err);
void wh_bpf_release(struct wh_bpf *b);

/*
 * The names the filter for syscalls allows, for no particular
 * architecture (a runtime's linux.seccomp takes them so): wh_seccomp_base
 * plus syscalls with "default" expanded, sorted, each once. Unknown names
 * are treated as wh_seccomp_bpf_compile treats them (field names the list
 * in the error). clone3's ENOSYS is not in the list: it is a rule of its
 * own. Caller owns *ret (NULL-terminated, wh_strv_free).
 */
int wh_seccomp_names(const char *const *syscalls, const char *field, char ***ret,
                     struct wh_err *err);

/* "errno", "kill", "log" (also "errno:N" for another errno number). */
int wh_seccomp_action_parse(const char *s, enum wh_seccomp_action *ret_action,
                            int *ret_errno, struct wh_err *err);

/* The libseccomp architecture token for an OCI architecture name, or 0. */
unsigned wh_seccomp_arch_token(const char *oci_arch);

/*
 * Built-in lists (NULL-terminated, static): "default" is close to Docker's
 * (moby's) default profile for x86_64 and aarch64, names for other
 * architectures included; "base" is always allowed.
 */
extern const char *const wh_seccomp_default[];
extern const char *const wh_seccomp_base[];
