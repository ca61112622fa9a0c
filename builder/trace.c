/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tracer. Two kernel interfaces, each for what it sees best:
 *
 * fanotify (FAN_CLASS_NOTIF, FAN_MARK_MOUNT on the container's root mount,
 * FAN_OPEN | FAN_OPEN_EXEC | FAN_ONDIR) reports every file and directory
 * opened through the container's root, including what the kernel opens by
 * itself (the ELF interpreter, a #! interpreter). The mark is placed
 * through /proc/INIT/root after `whittle-run create` has pivoted, so it
 * names the container's own mount and nothing the host does. Each event's
 * fd is turned into a path with readlink(/proc/self/fd/N): for a mount of
 * another namespace the kernel gives the path from that namespace's root,
 * i.e. the path inside the container. FAN_ACCESS is left out: it fires on
 * every read(), and an open already says the file is needed; mmap'd
 * libraries are opened first too.
 *
 * ptrace (PTRACE_SEIZE of the init between create and start, with
 * TRACESYSGOOD and the fork/clone/exec options, EXITKILL) sees every system
 * call: the names go to the syscall list, and path calls (open*, stat
 * family, access, exec*, readlink*, chdir, mkdir*) give the path as the
 * program named it (so a symlink such as /bin/sh is kept as a name) and,
 * when they fail with ENOENT, what was looked for and not found: the
 * evidence verify needs. Arguments are read at syscall entry
 * (PTRACE_GET_SYSCALL_INFO, process_vm_readv), made absolute with the
 * tracee's cwd or dirfd (/proc/TID/cwd, /proc/TID/fd/N), and judged at
 * exit. Names come from libseccomp for the tracee's architecture.
 *
 * One thread, one loop: SIGCHLD through a signalfd, the fanotify fd and a
 * timer (probe retries, the duration) in poll(); waitpid(-1, __WALL) sorts
 * tracee stops from this process's own children (start, probe). The
 * caller is the init's subreaper, so the workload's exit status arrives
 * here. Cost: every system call of the workload stops twice, so system
 * call heavy start-ups run several times slower while traced (see
 * benchmarks/bench-trace).
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define PROBE_INTERVAL 0.25
#define MAX_NR         1024

struct path_call {
        const char *name;
        int dirfd_arg; /* -1: relative to the cwd */
        int path_arg;
};

static const struct path_call path_calls[] = {
        {"open", -1, 0},      {"creat", -1, 0},    {"openat", 0, 1},
        {"openat2", 0, 1},    {"stat", -1, 0},     {"lstat", -1, 0},
        {"newfstatat", 0, 1}, {"fstatat64", 0, 1}, {"statx", 0, 1},
        {"access", -1, 0},    {"faccessat", 0, 1}, {"faccessat2", 0, 1},
        {"execve", -1, 0},    {"execveat", 0, 1},  {"readlink", -1, 0},
        {"readlinkat", 0, 1}, {"chdir", -1, 0},    {"mkdir", -1, 0},
        {"mkdirat", 0, 1},    {"statfs", -1, 0},   {"getxattr", -1, 0},
        {"lgetxattr", -1, 0}, {"chmod", -1, 0},    {"fchmodat", 0, 1},
        {"chown", -1, 0},     {"lchown", -1, 0},   {"fchownat", 0, 1},
        {"utimensat", 0, 1},  {"truncate", -1, 0}, {"uselib", -1, 0},
};

/* What libseccomp says about one architecture's numbers, looked up once. */
struct arch_cache {
        uint32_t arch;
        uint8_t seen[MAX_NR];     /* the workload made this call */
        int16_t path_idx[MAX_NR]; /* index in path_calls, -1 none, -2 not looked up */
};

struct pending {
        pid_t tid;
        char *path; /* absolute, inside the container; NULL: nothing to judge */
};

struct tracer {
        struct wh_bundle *b;
        const struct wh_trace_opts *o;
        struct wh_trace_result *res;
        int fan_fd, sig_fd;
        pid_t init_pid, start_pid, probe_pid;
        int init_gone;
        struct arch_cache arch[2];
        struct pending *pend;
        size_t n_pend;
        struct timespec t0;
        double deadline, next_probe;
        int done;
        int out_fd;     /* the workload's output, read for the ready line */
        char *out_tail; /* the last bytes seen, so a line split across reads matches */
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wh_trace_result_release(struct wh_trace_result *r)
{
        wh_strset_release(&r->used);
        wh_strset_release(&r->missing);
        wh_strset_release(&r->syscalls);
}

int wh_trace_check_privileges(const char *what, struct wh_err *err)
{
        if (geteuid() != 0)
                return wh_failx(err, EPERM, "%s needs root (ptrace/fanotify)", what);
        return 0;
}

/* ---- paths ---- */

/* A path as the container sees it: the host's view of the rootfs is cut off. */
static int container_path(const struct tracer *t, const char *p, char **ret)
{
        size_t n = strlen(t->b->rootfs);
        if (!strncmp(p, t->b->rootfs, n) && (p[n] == '/' || !p[n]))
                p = p[n] ? p + n : "/";
        return wh_trace_join(NULL, p, ret);
}

static void note_path(struct tracer *t, struct wh_strset *set, const char *abs)
{
        _cleanup_free_ char *c = NULL, *img = NULL;
        if (container_path(t, abs, &c) < 0)
                return;
        if (wh_trace_image_path(c, &img) == 1)
                (void)wh_strset_add(set, img);
}

static int readlink_str(const char *link, char *buf, size_t len)
{
        ssize_t n = readlink(link, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static void drain_fanotify(struct tracer *t)
{
        char buf[8192]
                __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
        for (;;) {
                ssize_t len = read(t->fan_fd, buf, sizeof(buf));
                if (len <= 0)
                        return;
                struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
                for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
                        t->res->events++;
                        if (m->mask & FAN_Q_OVERFLOW)
                                wh_warn("trace: fanotify queue overflowed; some files may "
                                        "be "
                                        "missing from the profile");
                        if (m->fd < 0)
                                continue;
                        char link[64], path[PATH_MAX];
                        snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
                        if (readlink_str(link, path, sizeof(path)) == 0)
                                note_path(t, &t->res->used, path);
                        close(m->fd);
                }
        }
}

/* ---- ptrace ---- */

static struct arch_cache *arch_of(struct tracer *t, uint32_t arch)
{
        for (size_t i = 0; i < ARRAY_SIZE(t->arch); i++) {
                if (t->arch[i].arch == arch)
                        return &t->arch[i];
                if (t->arch[i].arch == 0) {
                        t->arch[i].arch = arch;
                        for (size_t j = 0; j < MAX_NR; j++)
                                t->arch[i].path_idx[j] = -2;
                        return &t->arch[i];
                }
        }
        return NULL;
}

static int path_call_of(struct arch_cache *a, unsigned nr)
{
        if (a->path_idx[nr] != -2)
                return a->path_idx[nr];
        a->path_idx[nr] = -1;
        _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(a->arch, (int)nr);
        for (size_t i = 0; name && i < ARRAY_SIZE(path_calls); i++)
                if (!strcmp(name, path_calls[i].name))
                        a->path_idx[nr] = (int16_t)i;
        return a->path_idx[nr];
}

static struct pending *pending_of(struct tracer *t, pid_t tid, int create)
{
        for (size_t i = 0; i < t->n_pend; i++)
                if (t->pend[i].tid == tid)
                        return &t->pend[i];
        if (!create)
                return NULL;
        struct pending *p = realloc(t->pend, (t->n_pend + 1) * sizeof(*p));
        if (!p)
                return NULL;
        t->pend = p;
        t->pend[t->n_pend] = (struct pending){.tid = tid};
        return &t->pend[t->n_pend++];
}

static void pending_drop(struct tracer *t, pid_t tid)
{
        for (size_t i = 0; i < t->n_pend; i++)
                if (t->pend[i].tid == tid) {
                        free(t->pend[i].path);
                        t->pend[i] = t->pend[--t->n_pend];
                        return;
                }
}

/* A NUL-terminated string from the tracee, page by page (a string may end
 * right before an unmapped page). */
static int read_string(pid_t tid, unsigned long long addr, char *buf, size_t len)
{
        size_t got = 0;
        while (got < len - 1) {
                size_t page_left = 4096 - ((addr + got) & 4095);
                size_t want = len - 1 - got < page_left ? len - 1 - got : page_left;
                struct iovec l = {buf + got, want};
                struct iovec r = {(void *)(uintptr_t)(addr + got), want};
                ssize_t n = process_vm_readv(tid, &l, 1, &r, 1, 0);
                if (n <= 0)
                        return -EFAULT;
                if (memchr(buf + got, '\0', (size_t)n))
                        return 0;
                got += (size_t)n;
        }
        return -ENAMETOOLONG;
}

/* The absolute container path a path argument names, or NULL. */
static char *syscall_path(struct tracer *t, pid_t tid, const struct path_call *pc,
                          const uint64_t *args)
{
        char path[PATH_MAX], base[PATH_MAX], link[64];
        if (read_string(tid, args[pc->path_arg], path, sizeof(path)) < 0 || !path[0])
                return NULL;
        char *out = NULL;
        if (path[0] == '/') {
                if (wh_trace_join(NULL, path, &out) < 0)
                        return NULL;
                return out;
        }
        int dfd = pc->dirfd_arg < 0 ? AT_FDCWD : (int)args[pc->dirfd_arg];
        if (dfd == AT_FDCWD)
                snprintf(link, sizeof(link), "/proc/%d/cwd", tid);
        else
                snprintf(link, sizeof(link), "/proc/%d/fd/%d", tid, dfd);
        _cleanup_free_ char *cbase = NULL;
        if (readlink_str(link, base, sizeof(base)) < 0 ||
            container_path(t, base, &cbase) < 0)
                return NULL;
        if (wh_trace_join(cbase, path, &out) < 0)
                return NULL;
        return out;
}

static void on_syscall(struct tracer *t, pid_t tid)
{
        struct __ptrace_syscall_info si;
        long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si);
        if (n <= 0)
                return;
        if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
                struct arch_cache *a = arch_of(t, si.arch);
                if (!a || si.entry.nr >= MAX_NR)
                        return;
                a->seen[si.entry.nr] = 1;
                int pc = path_call_of(a, (unsigned)si.entry.nr);
                struct pending *p = pending_of(t, tid, 1);
                if (!p)
                        return;
                free(p->path);
                p->path = pc >= 0 ? syscall_path(t, tid, &path_calls[pc],
                                                 (const uint64_t *)si.entry.args)
                                  : NULL;
        } else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
                struct pending *p = pending_of(t, tid, 0);
                if (!p || !p->path)
                        return;
                if (!si.exit.is_error)
                        note_path(t, &t->res->used, p->path);
                else if (si.exit.rval == -ENOENT)
                        note_path(t, &t->res->missing, p->path);
                free(p->path);
                p->path = NULL;
        }
}

static void on_stop(struct tracer *t, pid_t pid, int st)
{
        int sig = WSTOPSIG(st), event = st >> 16, inject = 0;
        t->res->events++;
        if (sig == (SIGTRAP | 0x80))
                on_syscall(t, pid);
        else if (event == PTRACE_EVENT_EXEC)
                pending_drop(t, pid); /* the old image's pending call is gone */
        else if (event == 0)
                inject = sig; /* a signal for the tracee: deliver it */
        /* Other events (fork, clone, the seize interrupt, group stops) just go on. */
        ptrace(PTRACE_SYSCALL, pid, 0, (void *)(uintptr_t)inject);
}

/* ---- the loop ---- */

/* Reads what the workload printed since the last call and looks for the ready line. */
static void check_ready(struct tracer *t)
{
        const char *want = t->o->ready_line;
        size_t wl = strlen(want), keep = wl ? wl - 1 : 0;
        char buf[4096];
        ssize_t n;
        while ((n = read(t->out_fd, buf, sizeof(buf))) > 0) {
                size_t tl = t->out_tail ? strlen(t->out_tail) : 0;
                char *all = malloc(tl + (size_t)n + 1);
                if (!all)
                        return;
                memcpy(all, t->out_tail ? t->out_tail : "", tl);
                memcpy(all + tl, buf, (size_t)n);
                all[tl + (size_t)n] = '\0';
                /* NULs in the output would hide text from strstr: make them blanks. */
                for (size_t i = 0; i < tl + (size_t)n; i++)
                        if (!all[i])
                                all[i] = ' ';
                if (strstr(all, want)) {
                        t->res->ready = 1;
                        t->done = 1;
                }
                size_t len = tl + (size_t)n;
                free(t->out_tail);
                t->out_tail = strdup(len > keep ? all + len - keep : all);
                free(all);
        }
}

static void spawn_probe(struct tracer *t)
{
        char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)t->o->probe, NULL};
        pid_t pid = wh_spawn(argv, t->o->probe_verbose ? STDERR_FILENO : -1);
        if (pid < 0) {
                wh_warn("trace: probe: %s", strerror((int)-pid));
                t->next_probe = now_s() + PROBE_INTERVAL;
                return;
        }
        t->probe_pid = pid;
}

static void on_exit_of(struct tracer *t, pid_t pid, int st)
{
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (pid == t->init_pid) {
                t->init_gone = 1;
                t->res->exited = 1;
                t->res->status = code;
                t->done = 1;
        } else if (pid == t->start_pid) {
                t->start_pid = 0;
                if (code != 0) {
                        t->res->start_failed = 1;
                        t->done = 1;
                }
        } else if (pid == t->probe_pid) {
                t->probe_pid = 0;
                if (code == 0) {
                        t->res->probe_ok = 1;
                        t->done = 1;
                } else {
                        t->next_probe = now_s() + PROBE_INTERVAL;
                }
        }
        pending_drop(t, pid);
}

static void reap(struct tracer *t, int block)
{
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, __WALL | (block ? 0 : WNOHANG))) > 0) {
                if (WIFSTOPPED(st))
                        on_stop(t, pid, st);
                else if (WIFEXITED(st) || WIFSIGNALED(st))
                        on_exit_of(t, pid, st);
                if (block && t->init_gone && !t->probe_pid && !t->start_pid)
                        block = 0; /* what is left are tracees dying with the namespace */
        }
}

static void loop(struct tracer *t)
{
        while (!t->done) {
                double now = now_s(), wake = t->deadline;
                if (t->o->probe && !t->probe_pid && t->next_probe < wake)
                        wake = t->next_probe;
                int ms = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
                if (t->out_fd >= 0 && ms > 100)
                        ms = 100;
                struct pollfd pf[2] = {{t->sig_fd, POLLIN, 0}, {t->fan_fd, POLLIN, 0}};
                if (poll(pf, 2, ms) < 0 && errno != EINTR)
                        break;
                struct signalfd_siginfo si;
                while (read(t->sig_fd, &si, sizeof(si)) == sizeof(si))
                        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
                                t->res->interrupted = 1;
                                t->done = 1;
                        }
                drain_fanotify(t);
                reap(t, 0);
                /* Also in the round the workload exits in: its last output
                 * may hold the ready line. */
                if (t->out_fd >= 0)
                        check_ready(t);
                now = now_s();
                if (!t->done && t->o->probe && !t->probe_pid && now >= t->next_probe)
                        spawn_probe(t);
                if (!t->done && now >= t->deadline) {
                        t->res->timed_out = 1;
                        break;
                }
        }
}

/* Ends everything the trace started and collects the last events. */
static void stop_all(struct tracer *t)
{
        if (t->probe_pid > 0)
                kill(t->probe_pid, SIGKILL);
        if (!t->init_gone && t->init_pid > 0)
                kill(t->init_pid, SIGKILL);
        while (!t->init_gone || t->probe_pid || t->start_pid) {
                int st;
                pid_t pid = waitpid(-1, &st, __WALL);
                if (pid < 0)
                        break;
                if (WIFSTOPPED(st))
                        on_stop(t, pid, st);
                else if (pid == t->init_pid)
                        t->init_gone = 1;
                else if (pid == t->probe_pid)
                        t->probe_pid = 0;
                else if (pid == t->start_pid)
                        t->start_pid = 0;
        }
        reap(t, 0);
        drain_fanotify(t);
}

static int attach(struct tracer *t, struct wh_err *err)
{
        long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
        if (ptrace(PTRACE_SEIZE, t->init_pid, 0, (void *)opts) < 0)
                return wh_fail(err, errno, "ptrace seize %d", t->init_pid);
        if (ptrace(PTRACE_INTERRUPT, t->init_pid, 0, 0) < 0)
                return wh_fail(err, errno, "ptrace interrupt %d", t->init_pid);
        t->fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
                                          FAN_UNLIMITED_QUEUE,
                                  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        if (t->fan_fd < 0)
                return errno == EPERM
                               ? wh_failx(err, EPERM, "trace needs root (ptrace/fanotify)")
                               : wh_fail(err, errno, "fanotify_init");
        char root[64];
        snprintf(root, sizeof(root), "/proc/%d/root", t->init_pid);
        _cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return wh_fail(err, errno, "open %s", root);
        if (fanotify_mark(t->fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT,
                          FAN_OPEN | FAN_OPEN_EXEC | FAN_ONDIR, rfd, NULL) < 0)
                return wh_fail(err, errno, "fanotify_mark %s", root);
        return 0;
}

static int collect_syscalls(struct tracer *t)
{
        for (size_t i = 0; i < ARRAY_SIZE(t->arch) && t->arch[i].arch; i++)
                for (int nr = 0; nr < MAX_NR; nr++) {
                        if (!t->arch[i].seen[nr])
                                continue;
                        _cleanup_free_ char *name =
                                seccomp_syscall_resolve_num_arch(t->arch[i].arch, nr);
                        if (name && wh_strset_add(&t->res->syscalls, name) < 0)
                                return -ENOMEM;
                }
        return 0;
}

static void tracer_release(struct tracer *t, const sigset_t *old)
{
        for (size_t i = 0; i < t->n_pend; i++)
                free(t->pend[i].path);
        free(t->pend);
        if (t->fan_fd >= 0)
                close(t->fan_fd);
        if (t->sig_fd >= 0)
                close(t->sig_fd);
        if (t->out_fd >= 0)
                close(t->out_fd);
        free(t->out_tail);
        sigprocmask(SIG_SETMASK, old, NULL);
}

int wh_trace_run(struct wh_bundle *b, const struct wh_trace_opts *o,
                 struct wh_trace_result *ret, struct wh_err *err)
{
        int r = wh_trace_check_privileges("whittle trace", err);
        if (r < 0)
                return r;
        struct tracer t = {
                .b = b, .o = o, .res = ret, .fan_fd = -1, .sig_fd = -1, .out_fd = -1};
        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        /* An interrupted trace still stops the container and removes the bundle. */
        sigaddset(&chld, SIGINT);
        sigaddset(&chld, SIGTERM);
        sigprocmask(SIG_BLOCK, &chld, &old);
        t.sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        if (t.sig_fd < 0) {
                r = wh_fail(err, errno, "signalfd");
                goto out;
        }
        if ((r = wh_container_create(b, &t.init_pid, err)) < 0)
                goto out;
        if (o->ready_line && *o->ready_line &&
            (t.out_fd = open(b->out_path, O_RDONLY | O_CLOEXEC)) < 0) {
                r = wh_fail(err, errno, "open '%s'", b->out_path);
                kill(t.init_pid, SIGKILL);
                stop_all(&t);
                goto out;
        }
        if ((r = attach(&t, err)) < 0) {
                kill(t.init_pid, SIGKILL);
                t.done = 1;
                stop_all(&t);
                goto out;
        }
        double start = now_s();
        t.deadline = start + (o->duration > 0 ? o->duration : 60);
        t.next_probe = start;
        if ((r = wh_container_start(b, &t.start_pid, err)) < 0) {
                stop_all(&t);
                goto out;
        }
        loop(&t);
        ret->seconds = now_s() - start;
        stop_all(&t);
        if (collect_syscalls(&t) < 0)
                r = wh_fail(err, ENOMEM, "syscalls");
out:
        tracer_release(&t, &old);
        return r;
}
