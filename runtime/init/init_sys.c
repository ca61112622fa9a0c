/* SPDX-License-Identifier: Apache-2.0 */
#include "init_sys.h"

#include <errno.h>
#include <signal.h>

/*
 * The process entry: the kernel leaves argc, argv[], NULL, envp[], NULL at
 * the stack pointer. There is no libc start-up to run: no TLS, no IRELATIVE
 * relocations (nothing here uses ifuncs), no atexit.
 */
__attribute__((used, noreturn)) void wi_start_c(long *sp);
__attribute__((used, noreturn)) void wi_start_c(long *sp)
{
        int argc = (int)sp[0];
        char **argv = (char **)(sp + 1);
        char **envp = argv + argc + 1;
        wi_exit(wi_main(argc, argv, envp));
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "        xor %rbp, %rbp\n"
        "        mov %rsp, %rdi\n"
        "        and $-16, %rsp\n"
        "        call wi_start_c\n"
        "        hlt\n");
#else
__asm__(".text\n"
        ".global _start\n"
        ".type _start,%function\n"
        "_start:\n"
        "        mov x29, #0\n"
        "        mov x30, #0\n"
        "        mov x0, sp\n"
        "        bl wi_start_c\n"
        "        brk #0\n");
#endif

/*
 * The compiler may emit calls to these four for struct copies and
 * initialisers. The attribute stops it from turning the loops back into
 * calls to themselves.
 */
#define NO_LOOP_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LOOP_CALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;
        while (n--)
                *d++ = *s++;
        return dst;
}

NO_LOOP_CALLS void *memmove(void *dst, const void *src, size_t n)
{
        unsigned char *d = dst;
        const unsigned char *s = src;
        if (d < s) {
                while (n--)
                        *d++ = *s++;
        } else {
                while (n--)
                        d[n] = s[n];
        }
        return dst;
}

NO_LOOP_CALLS void *memset(void *dst, int c, size_t n)
{
        unsigned char *d = dst;
        while (n--)
                *d++ = (unsigned char)c;
        return dst;
}

NO_LOOP_CALLS int memcmp(const void *a, const void *b, size_t n)
{
        const unsigned char *x = a, *y = b;
        for (; n; n--, x++, y++)
                if (*x != *y)
                        return *x - *y;
        return 0;
}

NO_LOOP_CALLS size_t wi_strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

int wi_streq(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

const char *wi_skip_prefix(const char *s, const char *prefix)
{
        while (*prefix)
                if (*s++ != *prefix++)
                        return NULL;
        return s;
}

int wi_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        unsigned long v = 0;
        if (!*s)
                return -1;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -1;
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (unsigned long)(*s - '0'), &v))
                        return -1;
        }
        if (v > max)
                return -1;
        *ret = v;
        return 0;
}

/* Index = signal number; only the standard signals have names. */
static const char *const sig_names[] = {
        [SIGHUP] = "HUP",       [SIGINT] = "INT",       [SIGQUIT] = "QUIT",
        [SIGILL] = "ILL",       [SIGTRAP] = "TRAP",     [SIGABRT] = "ABRT",
        [SIGBUS] = "BUS",       [SIGFPE] = "FPE",       [SIGKILL] = "KILL",
        [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE",     [SIGALRM] = "ALRM",     [SIGTERM] = "TERM",
        [SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD",     [SIGCONT] = "CONT",
        [SIGSTOP] = "STOP",     [SIGTSTP] = "TSTP",     [SIGTTIN] = "TTIN",
        [SIGTTOU] = "TTOU",     [SIGURG] = "URG",       [SIGXCPU] = "XCPU",
        [SIGXFSZ] = "XFSZ",     [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",
        [SIGWINCH] = "WINCH",   [SIGIO] = "IO",         [SIGPWR] = "PWR",
        [SIGSYS] = "SYS",
};

int wi_signal_from_name(const char *s)
{
        unsigned long n;
        if (wi_parse_uint(s, 64, &n) == 0)
                return (int)n;
        const char *rest = wi_skip_prefix(s, "SIG");
        if (rest)
                s = rest;
        for (int i = 1; i < (int)(sizeof(sig_names) / sizeof(sig_names[0])); i++)
                if (sig_names[i] && wi_streq(s, sig_names[i]))
                        return i;
        return 0;
}

const char *wi_signal_name(int sig)
{
        static char buf[8] = "SIG";
        if (sig <= 0 || sig >= (int)(sizeof(sig_names) / sizeof(sig_names[0])) ||
            !sig_names[sig])
                return NULL;
        /* Single-threaded; the name is used before the next call. */
        const char *s = sig_names[sig];
        size_t i = 3;
        while (*s && i < sizeof(buf) - 1)
                buf[i++] = *s++;
        buf[i] = '\0';
        return buf;
}

static const struct {
        int e;
        const char *text;
} errtab[] = {
        {EPERM, "Operation not permitted"},
        {ENOENT, "No such file or directory"},
        {ESRCH, "No such process"},
        {EINTR, "Interrupted system call"},
        {EIO, "Input/output error"},
        {E2BIG, "Argument list too long"},
        {ENOEXEC, "Exec format error"},
        {EBADF, "Bad file descriptor"},
        {ECHILD, "No child processes"},
        {EAGAIN, "Resource temporarily unavailable"},
        {ENOMEM, "Cannot allocate memory"},
        {EACCES, "Permission denied"},
        {EFAULT, "Bad address"},
        {ENOTDIR, "Not a directory"},
        {EISDIR, "Is a directory"},
        {EINVAL, "Invalid argument"},
        {EMFILE, "Too many open files"},
        {ENOTTY, "Inappropriate ioctl for device"},
        {ETXTBSY, "Text file busy"},
        {EFBIG, "File too large"},
        {ENOSPC, "No space left on device"},
        {EROFS, "Read-only file system"},
        {EPIPE, "Broken pipe"},
        {ENAMETOOLONG, "File name too long"},
        {ENOSYS, "Function not implemented"},
        {ELOOP, "Too many levels of symbolic links"},
        {ELIBBAD, "Accessing a corrupted shared library"},
};

const char *wi_strerror(int e, char buf[static 16])
{
        for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
                if (errtab[i].e == e)
                        return errtab[i].text;
        struct wi_line l = {0};
        wi_put(&l, "errno ");
        wi_put_u(&l, (unsigned long)e);
        memcpy(buf, l.b, l.n < 15 ? l.n : 15);
        buf[l.n < 15 ? l.n : 15] = '\0';
        return buf;
}

void wi_put(struct wi_line *l, const char *s)
{
        while (*s && l->n < sizeof(l->b))
                l->b[l->n++] = *s++;
}

void wi_put_u_pad(struct wi_line *l, unsigned long v, int width)
{
        char tmp[24];
        int i = 0;
        do {
                tmp[i++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (i < width && i < (int)sizeof(tmp))
                tmp[i++] = '0';
        while (i > 0 && l->n < sizeof(l->b))
                l->b[l->n++] = tmp[--i];
}

void wi_put_u(struct wi_line *l, unsigned long v)
{
        wi_put_u_pad(l, v, 1);
}

void wi_put_i(struct wi_line *l, long v)
{
        if (v < 0) {
                wi_put(l, "-");
                wi_put_u(l, 0UL - (unsigned long)v);
        } else {
                wi_put_u(l, (unsigned long)v);
        }
}

void wi_flush(struct wi_line *l, int fd)
{
        size_t off = 0;
        while (off < l->n) {
                long w = wi_write(fd, l->b + off, l->n - off);
                if (w == -EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        l->n = 0;
}

void wi_say(const char *a, const char *b, int e)
{
        struct wi_line l = {0};
        char ebuf[16];
        wi_put(&l, "whittle-init: ");
        wi_put(&l, a);
        if (b)
                wi_put(&l, b);
        if (e > 0) {
                wi_put(&l, ": ");
                wi_put(&l, wi_strerror(e, ebuf));
        }
        wi_put(&l, "\n");
        wi_flush(&l, 2);
}
