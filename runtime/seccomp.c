/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_util.h"
#include "json_util.h"
#include "log.h"

struct wh_seccomp {
        struct sock_filter *prog;
        unsigned len;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* passed to seccomp(2) */
};

static void ctx_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

struct wh_seccomp *wh_seccomp_free(struct wh_seccomp *sc)
{
        if (sc) {
                free(sc->prog);
                free(sc);
        }
        return NULL;
}

unsigned wh_seccomp_bpf_len(const struct wh_seccomp *sc)
{
        return sc ? sc->len : 0;
}

/* "SCMP_ACT_ERRNO" plus errnoRet -> libseccomp action. */
static int parse_action(const char *name, int has_errno, int64_t errno_ret,
                        const char *what, uint32_t *ret, struct wh_err *err)
{
        uint32_t e = has_errno ? (uint32_t)errno_ret : EPERM;
        static const struct {
                const char *name;
                uint32_t act;
        } acts[] = {
                {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
                {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
                {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
                {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
                {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
                {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        };
        if (strcmp(name, "SCMP_ACT_ERRNO") == 0) {
                *ret = SCMP_ACT_ERRNO(e);
                return 0;
        }
        if (strcmp(name, "SCMP_ACT_TRACE") == 0) {
                *ret = SCMP_ACT_TRACE(e);
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(acts); i++)
                if (strcmp(name, acts[i].name) == 0) {
                        *ret = acts[i].act;
                        return 0;
                }
        if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
                return wh_failx(err, EOPNOTSUPP, "%s: SCMP_ACT_NOTIFY is not supported",
                                what);
        return wh_failx(err, EINVAL, "%s: unknown action '%s'", what, name);
}

/* action + errnoRet members of obj (the default or one rule). */
static int get_action(json_object *obj, const char *what, const char *act_key,
                      const char *errno_key, uint32_t *ret, struct wh_err *err)
{
        const char *name = NULL;
        int64_t e = -1;
        int r = wh_json_get_string(obj, what, act_key, 1, &name, err);
        if (r < 0)
                return r;
        r = wh_json_get_int64(obj, what, errno_key, 0, 0, 4095, &e, err);
        if (r < 0)
                return r;
        char field[256];
        snprintf(field, sizeof(field), "%s.%s", what, act_key);
        return parse_action(name, e >= 0, e, field, ret, err);
}

static int parse_op(const char *s, enum scmp_compare *ret)
{
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {
                {"SCMP_CMP_NE", SCMP_CMP_NE},
                {"SCMP_CMP_LT", SCMP_CMP_LT},
                {"SCMP_CMP_LE", SCMP_CMP_LE},
                {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                {"SCMP_CMP_GE", SCMP_CMP_GE},
                {"SCMP_CMP_GT", SCMP_CMP_GT},
                {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
        };
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (strcmp(s, ops[i].name) == 0) {
                        *ret = ops[i].op;
                        return 0;
                }
        return -EINVAL;
}

#define WH_SECCOMP_MAX_ARGS 6

static int parse_args(json_object *rule, const char *what, struct scmp_arg_cmp *cmps,
                      unsigned *ret_n, int *ret_same_index, struct wh_err *err)
{
        json_object *args = NULL;
        int r = wh_json_get_array(rule, what, "args", 0, &args, err);
        if (r < 0)
                return r;
        size_t n = args ? json_object_array_length(args) : 0;
        if (n > WH_SECCOMP_MAX_ARGS)
                return wh_failx(err, E2BIG, "%s.args: at most %d conditions", what,
                                WH_SECCOMP_MAX_ARGS);
        unsigned seen = 0;
        *ret_same_index = 0;
        for (size_t i = 0; i < n; i++) {
                char w[300];
                snprintf(w, sizeof(w), "%s.args[%zu]", what, i);
                json_object *a = json_object_array_get_idx(args, i);
                if (!json_object_is_type(a, json_type_object))
                        return wh_failx(err, EINVAL, "%s: expected an object", w);
                int64_t index = 0;
                uint64_t value = 0, value2 = 0;
                const char *op = NULL;
                enum scmp_compare cmp;
                if ((r = wh_json_get_int64(a, w, "index", 1, 0, 5, &index, err)) < 0 ||
                    (r = wh_json_get_uint64(a, w, "value", 1, &value, err)) < 0 ||
                    (r = wh_json_get_uint64(a, w, "valueTwo", 0, &value2, err)) < 0 ||
                    (r = wh_json_get_string(a, w, "op", 1, &op, err)) < 0)
                        return r;
                if (parse_op(op, &cmp) < 0)
                        return wh_failx(err, EINVAL, "%s.op: unknown operator '%s'", w, op);
                if (seen & (1u << index))
                        *ret_same_index = 1;
                seen |= 1u << index;
                cmps[i] = (struct scmp_arg_cmp){.arg = (unsigned)index,
                                                .op = cmp,
                                                .datum_a = value,
                                                .datum_b = value2};
        }
        *ret_n = (unsigned)n;
        return 0;
}

/*
 * One syscalls[] entry. Conditions on different arguments are ANDed in one
 * rule; several conditions on the same argument become one rule each (OR),
 * which is what profiles written for runc mean by them.
 */
static int add_rule(scmp_filter_ctx ctx, json_object *rule, size_t idx, uint32_t def_act,
                    struct wh_err *err)
{
        char what[64];
        snprintf(what, sizeof(what), "linux.seccomp.syscalls[%zu]", idx);
        if (!json_object_is_type(rule, json_type_object))
                return wh_failx(err, EINVAL, "%s: expected an object", what);
        uint32_t act;
        int r = get_action(rule, what, "action", "errnoRet", &act, err);
        if (r < 0)
                return r;
        struct scmp_arg_cmp cmps[WH_SECCOMP_MAX_ARGS];
        unsigned ncmp = 0;
        int same_index = 0;
        r = parse_args(rule, what, cmps, &ncmp, &same_index, err);
        if (r < 0)
                return r;
        json_object *names = NULL;
        r = wh_json_get_array(rule, what, "names", 1, &names, err);
        if (r < 0)
                return r;
        /* libseccomp refuses rules that repeat the default action. */
        if (act == def_act)
                return 0;
        size_t n = json_object_array_length(names);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(names, i);
                if (!json_object_is_type(v, json_type_string))
                        return wh_failx(err, EINVAL, "%s.names[%zu]: expected a string",
                                        what, i);
                const char *name = json_object_get_string(v);
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR) {
                        wh_debug("seccomp: unknown syscall '%s' skipped", name);
                        continue;
                }
                if (same_index) {
                        for (unsigned k = 0; k < ncmp && r >= 0; k++)
                                r = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[k]);
                } else {
                        r = seccomp_rule_add_array(ctx, act, nr, ncmp, cmps);
                }
                if (r < 0)
                        return wh_fail(err, -r, "%s.names[%zu]: add rule for '%s'", what, i,
                                       name);
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx, json_object *sc, struct wh_err *err)
{
        json_object *arches = NULL;
        int r = wh_json_get_array(sc, "linux.seccomp", "architectures", 0, &arches, err);
        if (r < 0 || !arches)
                return r;
        size_t n = json_object_array_length(arches);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(arches, i);
                const char *name = json_object_get_string(v);
                if (!json_object_is_type(v, json_type_string) ||
                    strncmp(name, "SCMP_ARCH_", 10) != 0)
                        return wh_failx(err, EINVAL,
                                        "linux.seccomp.architectures[%zu]: expected "
                                        "SCMP_ARCH_<name>",
                                        i);
                char lower[32];
                size_t k = 0;
                for (const char *p = name + 10; *p && k < sizeof(lower) - 1; p++)
                        lower[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                lower[k] = '\0';
                uint32_t arch = seccomp_arch_resolve_name(lower);
                if (arch == 0)
                        return wh_failx(err, EINVAL,
                                        "linux.seccomp.architectures[%zu]: unknown "
                                        "architecture '%s'",
                                        i, name);
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return wh_fail(err, -r,
                                       "linux.seccomp.architectures[%zu]: add '%s'", i,
                                       name);
        }
        return 0;
}

static int parse_flags(json_object *sc, unsigned *ret, struct wh_err *err)
{
        _cleanup_strv_ char **flags = NULL;
        int r = wh_json_get_strv(sc, "linux.seccomp", "flags", 0, &flags, err);
        if (r < 0)
                return r;
        unsigned f = 0;
        for (size_t i = 0; flags && flags[i]; i++) {
                if (strcmp(flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
                        f |= SECCOMP_FILTER_FLAG_LOG;
                else if (strcmp(flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                        f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                else if (strcmp(flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                        f |= SECCOMP_FILTER_FLAG_TSYNC;
                else
                        return wh_failx(err, EINVAL,
                                        "linux.seccomp.flags[%zu]: unknown flag '%s'", i,
                                        flags[i]);
        }
        *ret = f;
        return 0;
}

/* Renders the filter to BPF through a memfd (libseccomp 2.5 has no
 * export-to-memory call). */
static int render(scmp_filter_ctx ctx, struct wh_seccomp *sc, struct wh_err *err)
{
        _cleanup_close_ int fd = memfd_create("whittle-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return wh_fail(err, -r, "seccomp: generate BPF");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return wh_fail(err, errno, "seccomp: fstat");
        size_t size = (size_t)st.st_size;
        if (size == 0 || size % sizeof(struct sock_filter) != 0)
                return wh_failx(err, EINVAL, "seccomp: libseccomp wrote %zu bytes of BPF",
                                size);
        if (size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return wh_failx(
                        err, E2BIG,
                        "linux.seccomp: the filter compiles to %zu BPF instructions, "
                        "over the kernel's limit of %d",
                        size / sizeof(struct sock_filter), BPF_MAXINSNS);
        sc->prog = malloc(size);
        if (!sc->prog)
                return wh_fail(err, ENOMEM, "seccomp");
        ssize_t n = pread(fd, sc->prog, size, 0);
        if (n != (ssize_t)size)
                return wh_fail(err, n < 0 ? errno : EIO, "seccomp: read BPF");
        sc->len = (unsigned)(size / sizeof(struct sock_filter));
        return 0;
}

int wh_seccomp_compile(json_object *linux_seccomp, struct wh_seccomp **ret,
                       struct wh_err *err)
{
        if (!linux_seccomp) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(linux_seccomp, json_type_object))
                return wh_failx(err, EINVAL, "linux.seccomp: expected an object");
        uint32_t def_act;
        int r = get_action(linux_seccomp, "linux.seccomp", "defaultAction",
                           "defaultErrnoRet", &def_act, err);
        if (r < 0)
                return r;
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def_act);
        if (!ctx)
                return wh_failx(err, EINVAL,
                                "linux.seccomp.defaultAction: refused by libseccomp");
        /* no_new_privs is the config's decision (process.noNewPrivileges). */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        /* A binary tree keeps long allowlists cheap per system call. */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

        _cleanup_free_ struct wh_seccomp *sc = calloc(1, sizeof(*sc));
        if (!sc)
                return wh_fail(err, ENOMEM, "seccomp");
        if ((r = parse_flags(linux_seccomp, &sc->flags, err)) < 0 ||
            (r = add_arches(ctx, linux_seccomp, err)) < 0)
                return r;
        json_object *rules = NULL;
        r = wh_json_get_array(linux_seccomp, "linux.seccomp", "syscalls", 0, &rules, err);
        if (r < 0)
                return r;
        size_t n = rules ? json_object_array_length(rules) : 0;
        for (size_t i = 0; i < n; i++) {
                r = add_rule(ctx, json_object_array_get_idx(rules, i), i, def_act, err);
                if (r < 0)
                        return r;
        }
        r = render(ctx, sc, err);
        if (r < 0) {
                free(sc->prog);
                return r;
        }
        *ret = TAKE_PTR(sc);
        return 0;
}

int wh_seccomp_load(const struct wh_seccomp *sc, struct wh_err *err)
{
        if (!sc)
                return 0;
        struct sock_fprog prog = {.len = (unsigned short)sc->len, .filter = sc->prog};
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sc->flags, &prog);
        if (r < 0 && errno == ENOSYS && sc->flags == 0)
                r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
        if (r < 0) {
                if (errno == EACCES)
                        return wh_fail(err, errno,
                                       "load seccomp filter (needs noNewPrivileges or "
                                       "CAP_SYS_ADMIN)");
                return wh_fail(err, errno, "load seccomp filter");
        }
        return 0;
}

int wh_seccomp_export_bpf(const struct wh_seccomp *sc, int fd, struct wh_err *err)
{
        if (!sc)
                return wh_failx(err, EINVAL, "seccomp: no filter to export");
        int r = wh_write_all(fd, sc->prog, sc->len * sizeof(struct sock_filter));
        return r < 0 ? wh_fail(err, -r, "seccomp: write BPF") : 0;
}
