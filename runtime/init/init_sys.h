/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * whittle-init's whole C library: raw system calls, a few string helpers and
 * an output buffer. whittle-init links no libc (-nostdlib): a static glibc
 * costs ~680 KB and a page-fault-heavy start-up before main, while what PID 1
 * needs is two dozen system calls. The libc headers are used for constants
 * and types only.
 *
 * Every wrapper returns the kernel's value: >= 0, or -errno. There is no
 * errno and no heap.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "whittle-init supports x86_64 and aarch64"
#endif

static inline long wi_sys6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
#else
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;
        register long x5 __asm__("x5") = f;
        __asm__ volatile("svc 0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                         : "memory");
        return x0;
#endif
}

#define wi_sys(n, a, b, c, d, e, f)                                                        \
        wi_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Signal sets as the kernel sees them: one bit per signal, 64 signals. */
typedef uint64_t wi_sigset;
#define WI_SIGBIT(s) ((wi_sigset)1 << ((s)-1))

static inline long wi_read(int fd, void *buf, size_t n)
{
        return wi_sys(__NR_read, fd, buf, n, 0, 0, 0);
}
static inline long wi_write(int fd, const void *buf, size_t n)
{
        return wi_sys(__NR_write, fd, buf, n, 0, 0, 0);
}
static inline int wi_openat(int dirfd, const char *path, int flags, unsigned mode)
{
        return (int)wi_sys(__NR_openat, dirfd, path, flags, mode, 0, 0);
}
static inline int wi_close(int fd)
{
        return (int)wi_sys(__NR_close, fd, 0, 0, 0, 0, 0);
}
static inline int wi_close_range(unsigned first, unsigned last)
{
        return (int)wi_sys(__NR_close_range, first, last, 0, 0, 0, 0);
}
static inline int wi_fcntl(int fd, int cmd, long arg)
{
        return (int)wi_sys(__NR_fcntl, fd, cmd, arg, 0, 0, 0);
}
static inline int wi_ioctl(int fd, unsigned long req, void *arg)
{
        return (int)wi_sys(__NR_ioctl, fd, req, arg, 0, 0, 0);
}
static inline int wi_chdir(const char *path)
{
        return (int)wi_sys(__NR_chdir, path, 0, 0, 0, 0, 0);
}
static inline pid_t wi_getpid(void)
{
        return (pid_t)wi_sys(__NR_getpid, 0, 0, 0, 0, 0, 0);
}
static inline int wi_setpgid(pid_t pid, pid_t pgid)
{
        return (int)wi_sys(__NR_setpgid, pid, pgid, 0, 0, 0, 0);
}
static inline int wi_kill(pid_t pid, int sig)
{
        return (int)wi_sys(__NR_kill, pid, sig, 0, 0, 0, 0);
}
/* fork(): clone with only the exit signal; the same call on both arches. */
static inline pid_t wi_fork(void)
{
        return (pid_t)wi_sys(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0, 0, 0);
}
static inline pid_t wi_wait4(pid_t pid, int *status, int options)
{
        return (pid_t)wi_sys(__NR_wait4, pid, status, options, 0, 0, 0);
}
static inline int wi_execve(const char *path, char *const argv[], char *const envp[])
{
        return (int)wi_sys(__NR_execve, path, argv, envp, 0, 0, 0);
}
static inline int wi_prctl(int op, unsigned long a, unsigned long b)
{
        return (int)wi_sys(__NR_prctl, op, a, b, 0, 0, 0);
}
static inline int wi_sigprocmask(int how, const wi_sigset *set, wi_sigset *old)
{
        return (int)wi_sys(__NR_rt_sigprocmask, how, set, old, sizeof(wi_sigset), 0, 0);
}
static inline int wi_signalfd(int fd, const wi_sigset *set, int flags)
{
        return (int)wi_sys(__NR_signalfd4, fd, set, sizeof(wi_sigset), flags, 0, 0);
}
struct timespec;
static inline int wi_sigtimedwait(const wi_sigset *set, void *info,
                                  const struct timespec *ts)
{
        return (int)wi_sys(__NR_rt_sigtimedwait, set, info, ts, sizeof(wi_sigset), 0, 0);
}
static inline int wi_clock_gettime(int clk, struct timespec *ts)
{
        return (int)wi_sys(__NR_clock_gettime, clk, ts, 0, 0, 0, 0);
}
static inline __attribute__((noreturn)) void wi_exit(int code)
{
        for (;;)
                wi_sys(__NR_exit_group, code, 0, 0, 0, 0, 0);
}

/* Strings and numbers. */
size_t wi_strlen(const char *s);
int wi_streq(const char *a, const char *b);
/* Does s start with prefix? Returns the rest, or NULL. */
const char *wi_skip_prefix(const char *s, const char *prefix);
/* Decimal, the whole string, 0..max. Returns 0 or -1. */
int wi_parse_uint(const char *s, unsigned long max, unsigned long *ret);
/* "TERM", "SIGTERM" or a number; 0 when unknown. */
int wi_signal_from_name(const char *s);
/* "SIGTERM" or NULL. */
const char *wi_signal_name(int sig);
/* Short error text for the errnos init can meet; "errno N" otherwise. */
const char *wi_strerror(int e, char buf[static 16]);

/* A line being formatted on the stack; flushed to an fd in one write. */
struct wi_line {
        size_t n;
        char b[512];
};
void wi_put(struct wi_line *l, const char *s);
void wi_put_u(struct wi_line *l, unsigned long v);
void wi_put_i(struct wi_line *l, long v);
/* Zero-padded to width digits. */
void wi_put_u_pad(struct wi_line *l, unsigned long v, int width);
void wi_flush(struct wi_line *l, int fd);

/* "whittle-init: <a><b>[: <errno text>]\n" on stderr; e > 0 adds the text. */
void wi_say(const char *a, const char *b, int e);

/* Provided by init_main.c. */
int wi_main(int argc, char **argv, char **envp);
