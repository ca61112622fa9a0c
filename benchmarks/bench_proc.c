/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_sample.h"
#include "cleanup.h"

#define OUT_MAX (64 * 1024)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        (void)sig;
        interrupted = 1;
}

void bench_signals_init(void)
{
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int bench_interrupted(void)
{
        return interrupted;
}

/* In the child: only async-signal-safe calls until exec. */
static void child_setup_fd(int fd, int target)
{
        if (fd == BENCH_FD_NULL) {
                int n = open("/dev/null", O_RDWR);
                if (n >= 0 && n != target) {
                        dup2(n, target);
                        close(n);
                }
                return;
        }
        if (fd == target) {
                int fl = fcntl(fd, F_GETFD);
                fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
                return;
        }
        dup2(fd, target);
}

static __attribute__((noreturn)) void child_exec(const struct bench_spawn *sp)
{
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGHUP, &dfl, NULL);
        sigaction(SIGPIPE, &dfl, NULL);
        if (sp->new_pgrp)
                setpgid(0, 0);
        if (sp->die_with_parent)
                prctl(PR_SET_PDEATHSIG, SIGTERM);
        child_setup_fd(sp->stdin_fd, 0);
        child_setup_fd(sp->stdout_fd, 1);
        child_setup_fd(sp->stderr_fd, 2);
        if (sp->cgroup2_ns) {
                /* crun 1.8 refuses hybrid cgroup hosts; in a mount namespace of its
                 * own it sees a pure cgroup2 hierarchy and the host keeps its own. */
                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
                        static const char msg[] =
                                "whittle-bench: cgroup2 namespace setup failed\n";
                        (void)!write(2, msg, sizeof(msg) - 1);
                        _exit(126);
                }
        }
        if (sp->workdir && chdir(sp->workdir) < 0)
                _exit(126);
        execvp(sp->argv[0], sp->argv);
        int e = errno;
        dprintf(2, "whittle-bench: exec '%s': %s\n", sp->argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

static int child_main(void *arg)
{
        child_exec(arg);
}

/*
 * The child shares the harness's memory and runs on a stack of its own
 * until it execs (CLONE_VM | CLONE_VFORK, as posix_spawn and Go's os/exec
 * start programs): no copy of the harness's page tables, whose cost (ms for
 * a harness holding images in memory) would otherwise land in every phase
 * the harness times, the runtimes' create, start and delete among them.
 * child_exec only makes system calls and writes nothing the harness reads.
 */
int bench_spawn(const struct bench_spawn *sp, pid_t *ret_pid, struct wh_err *err)
{
        static _Alignas(64) char stack[64 << 10];
        pid_t pid = clone(child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
                          (void *)sp);
        if (pid < 0)
                return wh_fail(err, errno, "start '%s'", sp->argv[0]);
        /* Both sides set the group, so a kill right after spawn reaches it. */
        if (sp->new_pgrp)
                setpgid(pid, pid);
        *ret_pid = pid;
        return 0;
}

void bench_kill_group(pid_t pgid)
{
        if (pgid <= 0)
                return;
        kill(-pgid, SIGKILL);
        kill(pgid, SIGKILL);
        while (waitpid(pgid, NULL, 0) < 0 && errno == EINTR)
                ;
}

int bench_pidfd_open(pid_t pid)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int bench_wait(pid_t pid, int timeout_ms, int *ret_status, struct wh_err *err)
{
        return bench_wait_ex(pid, timeout_ms, 0, ret_status, err);
}

int bench_wait_ex(pid_t pid, int timeout_ms, int ignore_intr, int *ret_status,
                  struct wh_err *err)
{
        _cleanup_close_ int pfd = bench_pidfd_open(pid);
        int64_t deadline =
                timeout_ms < 0 ? -1 : bench_now_ns() + (int64_t)timeout_ms * 1000000;
        for (;;) {
                int st;
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid) {
                        *ret_status = st;
                        return 0;
                }
                if (r < 0 && errno != EINTR)
                        return wh_fail(err, errno, "wait for pid %d", (int)pid);
                if (interrupted && !ignore_intr) {
                        bench_kill_group(pid);
                        return wh_failx(err, EINTR, "interrupted");
                }
                int left = -1;
                if (deadline >= 0) {
                        int64_t ns = deadline - bench_now_ns();
                        if (ns <= 0) {
                                bench_kill_group(pid);
                                return wh_failx(err, ETIMEDOUT,
                                                "pid %d: no exit after %d ms, killed",
                                                (int)pid, timeout_ms);
                        }
                        left = (int)(ns / 1000000) + 1;
                }
                if (pfd >= 0) {
                        struct pollfd p = {.fd = pfd, .events = POLLIN};
                        poll(&p, 1, left);
                } else {
                        usleep(1000);
                }
        }
}

/* Reads the pipe until EOF or the deadline; keeps the first OUT_MAX bytes. */
static int drain(int fd, int ignore_intr, int64_t deadline, char *buf, size_t *len)
{
        for (;;) {
                int left = -1;
                if (deadline >= 0) {
                        int64_t ns = deadline - bench_now_ns();
                        if (ns <= 0)
                                return -ETIMEDOUT;
                        left = (int)(ns / 1000000) + 1;
                }
                if (interrupted && !ignore_intr)
                        return -EINTR;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0)
                        continue;
                char tmp[8192];
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                size_t keep = (size_t)n;
                if (*len + keep > OUT_MAX)
                        keep = OUT_MAX - *len;
                memcpy(buf + *len, tmp, keep);
                *len += keep;
        }
}

int bench_run(char *const *argv, int timeout_ms, char **ret_out, struct wh_err *err)
{
        return bench_run_ex(argv, 0, timeout_ms, ret_out, err);
}

int bench_run_ex(char *const *argv, unsigned flags, int timeout_ms, char **ret_out,
                 struct wh_err *err)
{
        int ign = !!(flags & BENCH_RUN_CLEANUP);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return wh_fail(err, errno, "pipe");
        _cleanup_close_ int rd = p[0];
        _cleanup_close_ int wr = p[1];
        struct bench_spawn sp = {.argv = argv,
                                 .stdin_fd = BENCH_FD_NULL,
                                 .stdout_fd = wr,
                                 .stderr_fd = wr,
                                 .new_pgrp = 1,
                                 .cgroup2_ns = !!(flags & BENCH_RUN_CGROUP2_NS)};
        pid_t pid;
        int r = bench_spawn(&sp, &pid, err);
        if (r < 0)
                return r;
        close(TAKE_FD(wr));
        _cleanup_free_ char *buf = malloc(OUT_MAX + 1);
        if (!buf) {
                bench_kill_group(pid);
                return wh_fail(err, ENOMEM, "run '%s'", argv[0]);
        }
        size_t len = 0;
        int64_t deadline =
                timeout_ms < 0 ? -1 : bench_now_ns() + (int64_t)timeout_ms * 1000000;
        r = drain(rd, ign, deadline, buf, &len);
        buf[len] = '\0';
        if (r < 0) {
                bench_kill_group(pid);
                if (r == -EINTR)
                        return wh_failx(err, EINTR, "'%s': interrupted", argv[0]);
                return wh_failx(err, ETIMEDOUT, "'%s': no exit after %d ms, killed",
                                argv[0], timeout_ms);
        }
        int st;
        int64_t left = deadline < 0 ? -1 : (deadline - bench_now_ns()) / 1000000;
        r = bench_wait_ex(pid, deadline < 0 ? -1 : (int)(left > 0 ? left : 1), ign, &st,
                          err);
        if (r < 0)
                return wh_fail_ctx(err, r, "'%s'", argv[0]);
        if (ret_out)
                *ret_out = TAKE_PTR(buf);
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        return wh_failx(err, ECHILD, "'%s': killed by signal %d", argv[0], WTERMSIG(st));
}

/* The last line(s) of a tool's output, for an error message. */
static const char *tail(const char *s, size_t max)
{
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                n--;
        const char *start = s;
        if (n > max)
                start = s + n - max;
        return start;
}

int bench_run_ok(char *const *argv, int timeout_ms, struct wh_err *err)
{
        return bench_run_ok_ex(argv, 0, timeout_ms, err);
}

int bench_run_ok_ex(char *const *argv, unsigned flags, int timeout_ms, struct wh_err *err)
{
        _cleanup_free_ char *out = NULL;
        int r = bench_run_ex(argv, flags, timeout_ms, &out, err);
        if (r < 0)
                return r;
        if (r == 127)
                return wh_failx(err, ENOENT, "'%s': not found; run scripts/install-deps",
                                argv[0]);
        if (r != 0) {
                /* The output ends with a newline; trim it for a one-line error. */
                const char *t = tail(out, 600);
                size_t n = strlen(t);
                while (n > 0 && t[n - 1] == '\n')
                        n--;
                return wh_failx(err, EIO, "'%s' exited with status %d: %.*s", argv[0], r,
                                (int)n, t);
        }
        return 0;
}
