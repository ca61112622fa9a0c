/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syscall allowlists compiled to BPF: names are checked (errors name the
 * field and the syscall), "default" expands, the program is built for the
 * image's architecture, and a compiled program loaded in a child allows
 * what is listed, denies the rest with the chosen action, and answers
 * clone3 with ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../builder/seccomp_bpf.h"
#include "cleanup.h"
#include "tap.h"

static int seccomp_known(const char *name)
{
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

#if defined(__x86_64__)
#define HOST_ARCH   "amd64"
#define OTHER_ARCH  "arm64"
#define HOST_AUDIT  AUDIT_ARCH_X86_64
#define OTHER_AUDIT AUDIT_ARCH_AARCH64
#elif defined(__aarch64__)
#define HOST_ARCH   "arm64"
#define OTHER_ARCH  "amd64"
#define HOST_AUDIT  AUDIT_ARCH_AARCH64
#define OTHER_AUDIT AUDIT_ARCH_X86_64
#else
#error "tests run on amd64 or arm64"
#endif

static int compile(const char *const *list, const char *arch, enum wh_seccomp_action action,
                   int errno_ret, struct wh_bpf *b, struct wh_err *err)
{
        struct wh_seccomp_opts o = {.arch = arch,
                                    .action = action,
                                    .errno_ret = errno_ret,
                                    .field = "profile syscalls"};
        *b = (struct wh_bpf){0};
        return wh_seccomp_bpf_compile(list, &o, b, err);
}

/* 1 if some instruction of the program loads the constant k. */
static int has_k(const struct wh_bpf *b, uint32_t k)
{
        const struct sock_filter *f = b->prog;
        for (size_t i = 0; i < b->len / sizeof(*f); i++)
                if (f[i].k == k)
                        return 1;
        return 0;
}

static void test_actions(void)
{
        enum wh_seccomp_action a = WH_SECCOMP_LOG;
        int e = 0;
        struct wh_err err = {0};
        is_int(wh_seccomp_action_parse("errno", &a, &e, &err), 0, "errno parses");
        ok(a == WH_SECCOMP_ERRNO && e == EPERM, "errno means EPERM");
        is_int(wh_seccomp_action_parse("errno:38", &a, &e, &err), 0, "errno:N parses");
        is_int(e, 38, "errno:38 gives 38");
        is_int(wh_seccomp_action_parse("kill", &a, NULL, &err), 0, "kill parses");
        ok(a == WH_SECCOMP_KILL, "kill is kill");
        is_int(wh_seccomp_action_parse("log", &a, NULL, &err), 0, "log parses");
        ok(a == WH_SECCOMP_LOG, "log is log");
        is_int(wh_seccomp_action_parse("trap", &a, NULL, &err), -EINVAL, "trap is refused");
        ok(strstr(err.msg, "'trap'") != NULL, "the error names the value: %s", err.msg);
        is_int(wh_seccomp_action_parse("errno:0", &a, NULL, &err), -EINVAL,
               "errno:0 is refused");
        ok(wh_seccomp_arch_token("amd64") == AUDIT_ARCH_X86_64, "amd64 token");
        ok(wh_seccomp_arch_token("arm64") == AUDIT_ARCH_AARCH64, "arm64 token");
        ok(wh_seccomp_arch_token("mips") == 0, "unknown architecture has no token");
}

static void test_lists(void)
{
        struct wh_err err = {0};
        struct wh_bpf none, one, dup, ab, ba, def;
        static const char *const empty[] = {NULL};
        static const char *const mk[] = {"mkdir", NULL};
        static const char *const pid[] = {"getpid", NULL};
        static const char *const l_ab[] = {"mkdir", "socket", "mkdir", NULL};
        static const char *const l_ba[] = {"socket", "mkdir", NULL};
        static const char *const bad[] = {"getpid", "no_such_call", NULL};
        static const char *const d[] = {"default", NULL};

        is_int(compile(empty, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &none, &err), 0,
               "an empty list compiles (base only)");
        ok(none.len > 0 && none.len % sizeof(struct sock_filter) == 0,
           "the program is whole instructions (%zu bytes)", none.len);
        const struct sock_filter *last = (const struct sock_filter *)none.prog +
                                         none.len / sizeof(struct sock_filter) - 1;
        ok(BPF_CLASS(last->code) == BPF_RET, "the program ends in a return");
        ok(none.n_syscalls >= 30 && none.n_syscalls < 80, "base allows %zu syscalls",
           none.n_syscalls);
        ok(has_k(&none, HOST_AUDIT), "the program checks for the host's architecture");

        is_int(compile(mk, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &one, &err), 0,
               "mkdir compiles");
        is_int(one.n_syscalls, none.n_syscalls + 1, "mkdir adds one syscall");
        is_int(compile(pid, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &dup, &err), 0,
               "getpid compiles");
        is_int(dup.n_syscalls, none.n_syscalls, "getpid is in the base already");

        is_int(compile(l_ab, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &ab, &err), 0,
               "list compiles");
        is_int(compile(l_ba, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &ba, &err), 0,
               "reordered compiles");
        ok(ab.len == ba.len && memcmp(ab.prog, ba.prog, ab.len) == 0,
           "order and duplicates do not change the program");

        struct wh_bpf b = {0};
        is_int(compile(bad, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &b, &err), -EINVAL,
               "an unknown name is an error");
        ok(strstr(err.msg, "profile syscalls") && strstr(err.msg, "'no_such_call'"),
           "the error names the field and the name: %s", err.msg);
        ok(b.prog == NULL, "nothing is returned on error");

        is_int(compile(d, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &def, &err), 0,
               "default compiles");
        ok(def.n_syscalls > 250 && def.n_syscalls < 400, "default allows %zu syscalls",
           def.n_syscalls);
        ok(def.len / sizeof(struct sock_filter) <= 4096,
           "default fits whittle-init's cap (%zu)", def.len / sizeof(struct sock_filter));

        is_int(compile(mk, "mips", WH_SECCOMP_ERRNO, 0, &b, &err), -EINVAL,
               "an unsupported architecture is an error");
        ok(strstr(err.msg, "'mips'") != NULL, "it names the architecture: %s", err.msg);

        wh_bpf_release(&none);
        wh_bpf_release(&one);
        wh_bpf_release(&dup);
        wh_bpf_release(&ab);
        wh_bpf_release(&ba);
        wh_bpf_release(&def);
}

static void test_foreign_arch(void)
{
        struct wh_err err = {0};
        struct wh_bpf b, d;
        static const char *const l[] = {"open", "mkdir", "mkdirat", NULL};
        static const char *const def[] = {"default", NULL};
        is_int(compile(l, OTHER_ARCH, WH_SECCOMP_ERRNO, 0, &b, &err), 0,
               "a list compiles for " OTHER_ARCH);
        ok(has_k(&b, OTHER_AUDIT), "the program checks for " OTHER_ARCH);
        ok(!has_k(&b, HOST_AUDIT), "and not for the host's architecture");
        is_int(compile(def, OTHER_ARCH, WH_SECCOMP_ERRNO, 0, &d, &err), 0,
               "default compiles for " OTHER_ARCH);
        ok(d.n_syscalls > 250, "default on " OTHER_ARCH " allows %zu", d.n_syscalls);
        wh_bpf_release(&b);
        wh_bpf_release(&d);
}

static size_t strv_len(char **v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static int strv_has(char **v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return 1;
        return 0;
}

/* Sorted by strcmp and each name once. */
static int strv_sorted_unique(char **v)
{
        for (size_t i = 1; v && v[i]; i++)
                if (strcmp(v[i - 1], v[i]) >= 0)
                        return 0;
        return 1;
}

/* The list a runtime's linux.seccomp gets: the same expansion as the BPF. */
static void test_names(void)
{
        struct wh_err err = {0};
        static const char *const empty[] = {NULL};
        static const char *const l[] = {"socket", "mkdir", "getpid", "socket", NULL};
        static const char *const d[] = {"default", "mkdir", NULL};
        static const char *const bad[] = {"getpid", "no_such_call", NULL};
        char **base = NULL, **v = NULL, **dv = NULL, **b = NULL;

        is_int(wh_seccomp_names(empty, "profile syscalls", &base, &err), 0,
               "an empty list expands");
        ok(strv_sorted_unique(base), "the base names are sorted, each once");
        ok(strv_has(base, "execve") && strv_has(base, "rt_sigreturn") &&
                   strv_has(base, "exit_group"),
           "they hold what exec and signals need");
        ok(!strv_has(base, "mkdir") && !strv_has(base, "clone3"),
           "and nothing else (no mkdir, no clone3: that one is a rule of its own)");

        is_int(wh_seccomp_names(l, "profile syscalls", &v, &err), 0, "a list expands");
        ok(strv_sorted_unique(v), "sorted and without the duplicate socket");
        ok(strv_has(v, "socket") && strv_has(v, "mkdir") && strv_has(v, "execve"),
           "the list's names and the base");
        is_int(strv_len(v), strv_len(base) + 2,
               "socket and mkdir are new, getpid is in the base already");

        is_int(wh_seccomp_names(d, NULL, &dv, &err), 0, "default expands");
        ok(strv_sorted_unique(dv), "sorted, each once, though mkdir is in default too");
        ok(strv_len(dv) > 250 && strv_len(dv) < 500, "default has %zu names", strv_len(dv));
        ok(strv_has(dv, "mkdir") && strv_has(dv, "accept4") && strv_has(dv, "execve") &&
                   !strv_has(dv, "default"),
           "default's names and the base, not the word default");
        ok(!strv_has(dv, "mount") && !strv_has(dv, "kexec_load"),
           "what default leaves out stays out");
        /* Every name default lists is one the BPF allows: no copy of the list. */
        size_t missing = 0;
        for (size_t i = 0; wh_seccomp_default[i]; i++)
                if (seccomp_known(wh_seccomp_default[i]) &&
                    !strv_has(dv, wh_seccomp_default[i]))
                        missing++;
        is_int(missing, 0, "every known name of wh_seccomp_default is there");

        is_int(wh_seccomp_names(bad, "profile syscalls", &b, &err), -EINVAL,
               "an unknown name is an error");
        ok(strstr(err.msg, "profile syscalls") && strstr(err.msg, "'no_such_call'"),
           "naming the field and the name: %s", err.msg);
        ok(b == NULL, "nothing is returned on error");
        wh_strv_free(base);
        wh_strv_free(v);
        wh_strv_free(dv);
}

/*
 * Runs probe() in a child under the filter; returns its wait status.
 * _exit only: the child must not run atexit handlers (sanitizers) under a
 * filter built for a program that is not this test.
 */
static int run_filtered(const struct wh_bpf *b, int (*probe)(void))
{
        pid_t pid = fork();
        if (pid == 0) {
                struct sock_fprog prog = {.len = (unsigned short)(b->len / 8),
                                          .filter = b->prog};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        _exit(100);
                _exit(probe());
        }
        int st = 0;
        waitpid(pid, &st, 0);
        return st;
}

static char dir_path[64];

/* 0: mkdir failed with EPERM, getpid works, clone3 says ENOSYS. */
static int probe_mkdir(void)
{
        if (syscall(__NR_mkdirat, AT_FDCWD, dir_path, 0700) == 0)
                return 1;
        if (errno != EPERM)
                return 2;
        if (syscall(__NR_getpid) <= 0)
                return 3;
#ifdef __NR_clone3
        if (syscall(__NR_clone3, NULL, 0) != -1 || errno != ENOSYS)
                return 4;
#endif
        return 0;
}

static int probe_mkdir_works(void)
{
        return syscall(__NR_mkdirat, AT_FDCWD, dir_path, 0700) == 0 ? 0 : 1;
}

static void test_enforced(void)
{
        /* default without mkdir and mkdirat: what t65 does end to end. */
        const char *list[512];
        size_t n = 0;
        for (size_t i = 0; wh_seccomp_default[i] && n < 511; i++)
                if (strcmp(wh_seccomp_default[i], "mkdir") != 0 &&
                    strcmp(wh_seccomp_default[i], "mkdirat") != 0)
                        list[n++] = wh_seccomp_default[i];
        list[n] = NULL;
        snprintf(dir_path, sizeof(dir_path), "/tmp/test_seccomp_bpf.%d", (int)getpid());

        struct wh_err err = {0};
        struct wh_bpf b, k, ok_b;
        is_int(compile(list, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &b, &err), 0,
               "default minus mkdir compiles");
        int st = run_filtered(&b, probe_mkdir);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "under the filter mkdirat fails with EPERM, getpid works, clone3 is ENOSYS "
           "(status %#x)",
           st);
        struct stat sb;
        ok(stat(dir_path, &sb) < 0 && errno == ENOENT, "and the directory was not made");

        is_int(compile(list, HOST_ARCH, WH_SECCOMP_KILL, 0, &k, &err), 0, "kill compiles");
        st = run_filtered(&k, probe_mkdir);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
           "kill: mkdirat kills with SIGSYS (%#x)", st);

        static const char *const d[] = {"default", NULL};
        is_int(compile(d, HOST_ARCH, WH_SECCOMP_ERRNO, 0, &ok_b, &err), 0,
               "default compiles");
        st = run_filtered(&ok_b, probe_mkdir_works);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "default allows mkdirat (%#x)", st);
        rmdir(dir_path);
        wh_bpf_release(&b);
        wh_bpf_release(&k);
        wh_bpf_release(&ok_b);
}

int main(void)
{
        test_actions();
        test_lists();
        test_foreign_arch();
        test_names();
        test_enforced();
        return done_testing();
}
