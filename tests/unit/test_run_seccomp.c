/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: compile errors name the field; a compiled filter loaded in
 * a child denies what it should with the configured errno and allows the
 * rest; the exported BPF is what whittle-init loads. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/seccomp.h"
#include "json_util.h"
#include "tap.h"

static json_object *parse(const char *text)
{
        json_object *o = NULL;
        struct wh_err err = {0};
        if (wh_json_parse(text, strlen(text), "test", &o, &err) < 0)
                diag("bad test JSON: %s", err.msg);
        return o;
}

/* Compiles text; returns the error message ("" on success). */
static int compile_err(const char *text, char *msg, size_t size)
{
        _cleanup_json_ json_object *o = parse(text);
        struct wh_err err = {0};
        struct wh_seccomp *sc = NULL;
        int r = wh_seccomp_compile(o, &sc, &err);
        snprintf(msg, size, "%s", r < 0 ? err.msg : "");
        wh_seccomp_free(sc);
        return r;
}

static void test_errors(void)
{
        char msg[WH_ERR_MAX];
        static const struct {
                const char *json;
                const char *want;
        } cases[] = {
                {"{}", "linux.seccomp.defaultAction: missing"},
                {"{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                 "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_NOPE'"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]"
                 ","
                 "\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"mkdir\"],\"action\":\"BAD\"}"
                 "]}",
                 "linux.seccomp.syscalls[1].action: unknown action 'BAD'"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]"
                 ","
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
                 "\"op\":\"SCMP_CMP_WEIRD\"}]}]}",
                 "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_WEIRD'"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]"
                 ","
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,"
                 "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                 "linux.seccomp.syscalls[0].args[0].index: 6 out of range [0, 5]"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]"
                 ","
                 "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":-1,"
                 "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                 "linux.seccomp.syscalls[0].args[0].value: must not be negative"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_"
                 "ACT_LOG\"}]}",
                 "linux.seccomp.syscalls[0].names: missing"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_"
                 "Z80\"]}",
                 "linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_Z80'"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_"
                 "X\"]}",
                 "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_X'"},
                {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}",
                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":99999}",
                 "linux.seccomp.defaultErrnoRet: 99999 out of range [0, 4095]"},
                {"[]", "linux.seccomp: expected an object"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int r = compile_err(cases[i].json, msg, sizeof(msg));
                ok(r < 0, "bad config %zu refused", i);
                if (!ok(strstr(msg, cases[i].want) != NULL, "error names the field: %s",
                        cases[i].want))
                        diag("got: %s", msg);
        }
        is_int(compile_err("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                           "[\"no_such_syscall_ever\",\"mkdir\"],\"action\":\"SCMP_ACT_"
                           "ERRNO\"}]}",
                           msg, sizeof(msg)),
               0, "unknown syscall names are skipped");

        struct wh_seccomp *sc = (struct wh_seccomp *)1;
        is_int(wh_seccomp_compile(NULL, &sc, NULL), 0, "no linux.seccomp: no filter");
        ok(sc == NULL, "no filter handle");
        is_int(wh_seccomp_load(NULL, NULL), 0, "loading no filter is a no-op");
}

/* The filter under test: mkdir(at) -> EACCES, fchmod(fd, 0777) -> EPERM
 * (condition on args[1]), personality(0xffffffff) or (8) -> ENODATA (two
 * conditions on one index mean OR), everything else allowed. */
static const char *filter_json =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_AARCH64\"],"
        "\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
        "\"syscalls\":["
        "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
        "{\"names\":[\"fchmod\"],\"action\":\"SCMP_ACT_ERRNO\","
        " \"args\":[{\"index\":1,\"value\":511,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":61,"
        " \"args\":[{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"},"
        "           {\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}"
        "]}";

/* Runs in the child after the filter is loaded; the exit code is a bitmask
 * of failed checks (0 = all as expected). */
static int probe(const char *dir)
{
        int bad = 0;
        char path[256];
        snprintf(path, sizeof(path), "%s/denied", dir);
        if (mkdir(path, 0755) == 0 || errno != EACCES)
                bad |= 1;
        if (getpid() <= 0)
                bad |= 2;
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fchmod(fd, 0777) == 0 || errno != EPERM)
                bad |= 4;
        if (fchmod(fd, 0755) != 0)
                bad |= 8;
        if (personality(0xffffffff) != -1 || errno != ENODATA)
                bad |= 16;
        if (personality(8) != -1 || errno != ENODATA)
                bad |= 32;
        if (personality(0xffffffff) == -1 && personality(0) == -1)
                bad |= 64; /* personality(0) must pass the filter */
        return bad;
}

static void test_load(void)
{
        _cleanup_json_ json_object *o = parse(filter_json);
        struct wh_err err = {0};
        _cleanup_seccomp_ struct wh_seccomp *sc = NULL;
        int r = wh_seccomp_compile(o, &sc, &err);
        if (!ok(r == 0, "compile the test filter"))
                diag("%s", err.msg);
        if (r < 0)
                return;
        ok(wh_seccomp_bpf_len(sc) > 4, "BPF program has %u instructions",
           wh_seccomp_bpf_len(sc));

        char dir[] = "/tmp/test_seccomp.XXXXXX";
        if (!mkdtemp(dir))
                return;
        for (int nnp = 0; nnp <= 1; nnp++) {
                pid_t pid = fork();
                if (pid == 0) {
                        struct wh_err e = {0};
                        if (nnp)
                                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                        if (wh_seccomp_load(sc, &e) < 0) {
                                fprintf(stderr, "%s\n", e.msg);
                                _exit(255);
                        }
                        _exit(probe(dir));
                }
                int st;
                waitpid(pid, &st, 0);
                is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
                       "child with filter (%s): denied calls get their errno, others work",
                       nnp ? "no_new_privs" : "CAP_SYS_ADMIN");
        }
        char path[256];
        snprintf(path, sizeof(path), "%s/allowed", dir);
        ok(mkdir(path, 0755) == 0, "the parent is not filtered");
        rmdir(path);
        rmdir(dir);

        /* Export: a whole number of sock_filter instructions ending in RET. */
        int fd = memfd_create("bpf", MFD_CLOEXEC);
        is_int(wh_seccomp_export_bpf(sc, fd, &err), 0, "export BPF");
        struct stat st;
        fstat(fd, &st);
        is_int(st.st_size, (long long)wh_seccomp_bpf_len(sc) * 8, "exported size");
        struct sock_filter last;
        ok(pread(fd, &last, sizeof(last), st.st_size - (off_t)sizeof(last)) ==
                           sizeof(last) &&
                   BPF_CLASS(last.code) == BPF_RET,
           "program ends with a return");
        close(fd);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses; the
 * message says why. */
static void test_load_unprivileged(void)
{
        _cleanup_json_ json_object *o = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
        _cleanup_seccomp_ struct wh_seccomp *sc = NULL;
        struct wh_err err = {0};
        if (wh_seccomp_compile(o, &sc, &err) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                if (setuid(65534) < 0)
                        _exit(2);
                struct wh_err e = {0};
                int r = wh_seccomp_load(sc, &e);
                _exit(r == -EACCES && strstr(e.msg, "noNewPrivileges") ? 0 : 1);
        }
        int st;
        waitpid(pid, &st, 0);
        is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
               "unprivileged load refused, explained");
}

int main(void)
{
        test_errors();
        if (geteuid() == 0) {
                test_load();
                test_load_unprivileged();
        } else {
                ok(1, "# SKIP loading needs root");
        }
        return done_testing();
}
