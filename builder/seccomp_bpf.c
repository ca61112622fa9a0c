/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp_bpf.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "parse_num.h"

/* whittle-init (and the kernel) take at most this many instructions. */
#define BPF_MAX_INSNS 4096

static const struct {
        const char *oci;
        unsigned token;
} arches[] = {
        {"amd64", SCMP_ARCH_X86_64},    {"arm64", SCMP_ARCH_AARCH64},
        {"386", SCMP_ARCH_X86},         {"arm", SCMP_ARCH_ARM},
        {"ppc64le", SCMP_ARCH_PPC64LE}, {"s390x", SCMP_ARCH_S390X},
        {"riscv64", SCMP_ARCH_RISCV64},
};

unsigned wh_seccomp_arch_token(const char *oci_arch)
{
        for (size_t i = 0; oci_arch && i < ARRAY_SIZE(arches); i++)
                if (strcmp(arches[i].oci, oci_arch) == 0)
                        return arches[i].token;
        return 0;
}

int wh_seccomp_action_parse(const char *s, enum wh_seccomp_action *ret_action,
                            int *ret_errno, struct wh_err *err)
{
        int e = EPERM;
        if (strcmp(s, "kill") == 0) {
                *ret_action = WH_SECCOMP_KILL;
        } else if (strcmp(s, "log") == 0) {
                *ret_action = WH_SECCOMP_LOG;
        } else if (strcmp(s, "errno") == 0) {
                *ret_action = WH_SECCOMP_ERRNO;
        } else if (strncmp(s, "errno:", 6) == 0 && wh_parse_int(s + 6, 1, 4095, &e) == 0) {
                *ret_action = WH_SECCOMP_ERRNO;
        } else {
                return wh_failx(err, EINVAL, "'%s': expected errno, errno:N, kill or log",
                                s);
        }
        if (ret_errno)
                *ret_errno = e;
        return 0;
}

static void ctx_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

/*
 * The list to compile: base + the given names with "default" expanded,
 * sorted and without duplicates, so that the program (and the count in the
 * report) does not depend on the order of a profile's list. The strings are
 * borrowed. strict marks which names came from the caller (an unknown one
 * is an error) rather than from the built-in lists (skipped: the library
 * may be older than the list).
 */
struct name {
        const char *s;
        int strict;
};

static int cmp_name(const void *a, const void *b)
{
        const struct name *x = a, *y = b;
        int c = strcmp(x->s, y->s);
        return c ? c : y->strict - x->strict; /* a strict duplicate sorts first */
}

static size_t count(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static struct name *collect(const char *const *syscalls, size_t *ret_n)
{
        size_t n = count(wh_seccomp_base) + count(syscalls), k = 0;
        for (size_t i = 0; syscalls && syscalls[i]; i++)
                if (strcmp(syscalls[i], "default") == 0)
                        n += count(wh_seccomp_default);
        struct name *v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; wh_seccomp_base[i]; i++)
                v[k++] = (struct name){wh_seccomp_base[i], 0};
        for (size_t i = 0; syscalls && syscalls[i]; i++) {
                if (strcmp(syscalls[i], "default") != 0) {
                        v[k++] = (struct name){syscalls[i], 1};
                        continue;
                }
                for (size_t j = 0; wh_seccomp_default[j]; j++)
                        v[k++] = (struct name){wh_seccomp_default[j], 0};
        }
        qsort(v, k, sizeof(*v), cmp_name);
        size_t out = 0;
        for (size_t i = 0; i < k; i++)
                if (out == 0 || strcmp(v[out - 1].s, v[i].s) != 0)
                        v[out++] = v[i];
        *ret_n = out;
        return v;
}

int wh_seccomp_names(const char *const *syscalls, const char *field, char ***ret,
                     struct wh_err *err)
{
        size_t n = 0, k = 0;
        _cleanup_free_ struct name *names = collect(syscalls, &n);
        if (!names)
                return wh_fail(err, ENOMEM, "seccomp");
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return wh_fail(err, ENOMEM, "seccomp");
        for (size_t i = 0; i < n; i++) {
                if (seccomp_syscall_resolve_name(names[i].s) == __NR_SCMP_ERROR) {
                        if (names[i].strict)
                                return wh_failx(err, EINVAL, "%s: unknown syscall '%s'",
                                                field ? field : "syscalls", names[i].s);
                        continue; /* the library is older than the built-in list */
                }
                if (!(v[k++] = strdup(names[i].s)))
                        return wh_fail(err, ENOMEM, "seccomp");
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static uint32_t scmp_action(const struct wh_seccomp_opts *o)
{
        switch (o->action) {
        case WH_SECCOMP_KILL:
                return SCMP_ACT_KILL_PROCESS;
        case WH_SECCOMP_LOG:
                return SCMP_ACT_LOG;
        case WH_SECCOMP_ERRNO:
        default:
                return SCMP_ACT_ERRNO(o->errno_ret > 0 ? (uint32_t)o->errno_ret : EPERM);
        }
}

/* A filter for the image's architecture only: the host's is removed. */
static int new_ctx(const struct wh_seccomp_opts *o, uint32_t token, scmp_filter_ctx *ret,
                   struct wh_err *err)
{
        uint32_t act = scmp_action(o);
        scmp_filter_ctx ctx = seccomp_init(act);
        if (!ctx)
                return wh_fail(err, ENOMEM, "seccomp filter");
        int r = 0;
        if (token != seccomp_arch_native()) {
                r = seccomp_arch_add(ctx, token);
                if (r == 0)
                        r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
        }
        if (r == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);
        /* A binary search over the syscall numbers: every system call of the
         * workload runs the filter, a linear chain costs ~300 compares. */
        if (r == 0 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                wh_debug("seccomp: libseccomp cannot build a binary tree; linear filter");
        if (r < 0) {
                seccomp_release(ctx);
                return wh_fail(err, -r, "seccomp filter for %s", o->arch);
        }
        *ret = ctx;
        return 0;
}

/* Adds the allow rules; returns the number of syscalls that exist on token. */
static int add_rules(scmp_filter_ctx ctx, uint32_t token, const struct name *v, size_t n,
                     const struct wh_seccomp_opts *o, struct wh_err *err)
{
        int allowed = 0, have_clone3 = 0;
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(v[i].s);
                if (nr == __NR_SCMP_ERROR) {
                        if (v[i].strict)
                                return wh_failx(err, EINVAL, "%s: unknown syscall '%s'",
                                                o->field ? o->field : "syscalls", v[i].s);
                        wh_debug("seccomp: libseccomp does not know '%s'; skipped", v[i].s);
                        continue;
                }
                if (seccomp_syscall_resolve_name_arch(token, v[i].s) < 0)
                        continue; /* not a syscall of this architecture */
                int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        return wh_fail(err, -r, "seccomp rule for '%s'", v[i].s);
                have_clone3 |= strcmp(v[i].s, "clone3") == 0;
                allowed++;
        }
        /* Equal to the default action is refused by libseccomp (-EACCES). */
        int enosys_default = o->action == WH_SECCOMP_ERRNO && o->errno_ret == ENOSYS;
        if (!have_clone3 && o->action != WH_SECCOMP_LOG && !enosys_default &&
            seccomp_syscall_resolve_name_arch(token, "clone3") >= 0) {
                int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
                                         seccomp_syscall_resolve_name("clone3"), 0);
                if (r < 0)
                        return wh_fail(err, -r, "seccomp rule for 'clone3'");
        }
        return allowed;
}

/* libseccomp 2.5 exports to a file descriptor only. */
static int export_mem(scmp_filter_ctx ctx, struct wh_bpf *ret, struct wh_err *err)
{
        _cleanup_close_ int fd = memfd_create("whittle-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "seccomp export: memfd");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return wh_fail(err, -r, "seccomp export");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_fail(err, errno, "seccomp export");
        size_t len = (size_t)st.st_size;
        if (len == 0 || len % sizeof(struct sock_filter) != 0)
                return wh_failx(err, EIO, "seccomp export: %zu bytes is not a BPF program",
                                len);
        if (len / sizeof(struct sock_filter) > BPF_MAX_INSNS)
                return wh_failx(err, E2BIG, "seccomp filter: %zu instructions, at most %d",
                                len / sizeof(struct sock_filter), BPF_MAX_INSNS);
        _cleanup_free_ void *buf = malloc(len);
        if (!buf)
                return wh_fail(err, ENOMEM, "seccomp export");
        ssize_t got = pread(fd, buf, len, 0);
        if (got != (ssize_t)len)
                return wh_fail(err, got < 0 ? errno : EIO, "seccomp export: read back");
        ret->prog = TAKE_PTR(buf);
        ret->len = len;
        return 0;
}

int wh_seccomp_bpf_compile(const char *const *syscalls, const struct wh_seccomp_opts *opts,
                           struct wh_bpf *ret, struct wh_err *err)
{
        uint32_t token = wh_seccomp_arch_token(opts->arch);
        if (!token)
                return wh_failx(
                        err, EINVAL,
                        "seccomp: architecture '%s' is not supported (amd64, arm64, "
                        "386, arm, ppc64le, s390x, riscv64)",
                        opts->arch ? opts->arch : "(none)");
        size_t n = 0;
        _cleanup_free_ struct name *names = collect(syscalls, &n);
        if (!names)
                return wh_fail(err, ENOMEM, "seccomp");
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        int r = new_ctx(opts, token, &ctx, err);
        if (r < 0)
                return r;
        int allowed = add_rules(ctx, token, names, n, opts, err);
        if (allowed < 0)
                return allowed;
        struct wh_bpf b = {.n_syscalls = (size_t)allowed};
        if ((r = export_mem(ctx, &b, err)) < 0)
                return r;
        *ret = b;
        return 0;
}

void wh_bpf_release(struct wh_bpf *b)
{
        free(b->prog);
        *b = (struct wh_bpf){0};
}
