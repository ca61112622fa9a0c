/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The child side of whittle-init: from fork() to execve() of the program.
 * Everything that can be checked early (the BPF file, the ready file) was
 * checked by the parent before fork; what is left here can only fail for
 * reasons the program's own exec would also meet.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>

/* BPF_MAXINSNS: the kernel refuses longer programs anyway. */
#define WI_BPF_MAX 4096
static struct sock_filter bpf_prog[WI_BPF_MAX];

int wi_bpf_read(const char *path, unsigned *ret_len)
{
        int fd = wi_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
                return fd;
        unsigned char *buf = (unsigned char *)bpf_prog;
        size_t cap = sizeof(bpf_prog), got = 0;
        int r = 0;
        for (;;) {
                /* One byte beyond the cap is read into a scratch byte to
                 * tell "exactly full" from "too large". */
                unsigned char extra;
                long n = got < cap ? wi_read(fd, buf + got, cap - got)
                                   : wi_read(fd, &extra, 1);
                if (n == -EINTR)
                        continue;
                if (n < 0) {
                        r = (int)n;
                        break;
                }
                if (n == 0)
                        break;
                if (got >= cap) {
                        r = -EFBIG;
                        break;
                }
                got += (size_t)n;
        }
        wi_close(fd);
        if (r < 0)
                return r;
        if (got == 0 || got % sizeof(struct sock_filter) != 0)
                return -EINVAL;
        /* A filter that does not end in a return is not what
         * seccomp_export_bpf writes (and the kernel would refuse it). */
        if (BPF_CLASS(bpf_prog[got / sizeof(struct sock_filter) - 1].code) != BPF_RET)
                return -EINVAL;
        *ret_len = (unsigned)(got / sizeof(struct sock_filter));
        return 0;
}

static int load_bpf(unsigned len)
{
        struct sock_fprog prog = {.len = (unsigned short)len, .filter = bpf_prog};
        int r = wi_prctl(PR_SET_NO_NEW_PRIVS, 1, 0);
        if (r < 0)
                return r;
        r = (int)wi_sys(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog, 0, 0, 0);
        if (r == -ENOSYS)
                r = wi_prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (unsigned long)&prog);
        return r;
}

static void write_stamp(int fd)
{
        struct timespec ts;
        struct wi_line l = {0};
        if (wi_clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return;
        wi_put_u(&l, (unsigned long)ts.tv_sec);
        wi_put(&l, ".");
        wi_put_u_pad(&l, (unsigned long)ts.tv_nsec, 9);
        wi_put(&l, "\n");
        wi_flush(&l, fd);
}

static const char *get_env(char **envp, const char *name)
{
        for (; *envp; envp++) {
                const char *v = wi_skip_prefix(*envp, name);
                if (v && *v == '=')
                        return v + 1;
        }
        return NULL;
}

static int has_slash(const char *s)
{
        for (; *s; s++)
                if (*s == '/')
                        return 1;
        return 0;
}

/*
 * execvp() without the heap: PATH is searched the way glibc does it (an
 * empty element is the current directory; EACCES is remembered and reported
 * only when nothing else is found). Returns a positive errno.
 */
static int exec_search(char **argv, char **envp)
{
        const char *file = argv[0];
        if (has_slash(file))
                return -wi_execve(file, argv, envp);

        const char *path = get_env(envp, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        size_t flen = wi_strlen(file);
        int seen_eacces = 0;
        char buf[4096];
        for (const char *p = path;; p++) {
                const char *end = p;
                while (*end && *end != ':')
                        end++;
                size_t dlen = (size_t)(end - p);
                if (dlen + 1 + flen + 1 <= sizeof(buf)) {
                        memcpy(buf, p, dlen);
                        size_t n = dlen;
                        if (n)
                                buf[n++] = '/';
                        memcpy(buf + n, file, flen + 1);
                        int r = -wi_execve(buf, argv, envp);
                        if (r == EACCES)
                                seen_eacces = 1;
                        else if (r != ENOENT && r != ENOTDIR && r != ELOOP)
                                return r;
                }
                if (!*end)
                        break;
                p = end;
        }
        return seen_eacces ? EACCES : ENOENT;
}

void wi_child_run(const struct wi_plan *p)
{
        /* Own process group, so -g reaches the whole job and a terminal's
         * ^C goes to the program, not to the init. The parent makes the same
         * call, whichever runs first. */
        wi_setpgid(0, 0);
        if (p->tty) {
                /* SIGTTOU is still blocked here, so this works from what is
                 * (until this call) a background group. */
                pid_t me = wi_getpid();
                wi_ioctl(0, TIOCSPGRP, &me);
        }
        wi_sigprocmask(SIG_SETMASK, &p->orig_mask, NULL);

        if (p->bpf_len) {
                int r = load_bpf(p->bpf_len);
                if (r < 0) {
                        wi_say("load seccomp filter", NULL, -r);
                        wi_exit(126);
                }
        }
        /* Last thing before exec: this is where runtime time ends and the
         * program's own time begins. */
        if (p->ready_fd >= 0)
                write_stamp(p->ready_fd);

        int e = exec_search(p->argv, p->envp);
        struct wi_line l = {0};
        char ebuf[16];
        wi_put(&l, "whittle-init: exec '");
        wi_put(&l, p->argv[0]);
        wi_put(&l, "': ");
        wi_put(&l, wi_strerror(e, ebuf));
        wi_put(&l, "\n");
        wi_flush(&l, 2);
        wi_exit(e == ENOENT ? 127 : 126);
}
