/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle-init: a PID 1 for containers. It starts one program, forwards
 * signals to it, reaps every zombie, and exits with the program's status.
 *
 * All signals but the synchronous ones are blocked before fork, so a child
 * that exits at once cannot lose its SIGCHLD; the init then sleeps in read()
 * on a signalfd and wakes only when something happened (no periodic tick).
 *
 * Life cycle (one switch in main_loop):
 *   RUNNING   signals are forwarded, zombies reaped, until the program exits
 *   DRAINING  with -k: SIGTERM went to what is left; wait up to the grace time
 *   KILLING   SIGKILL went to what is left; wait a bounded time
 *   DONE      exit with the program's status
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#define WI_EXIT_USAGE   2
#define WI_EXIT_FAIL    1
#define WI_KILL_WAIT_MS 2000

enum wi_state { ST_RUNNING, ST_DRAINING, ST_KILLING, ST_DONE };

struct wi_opts {
        int pgroup;
        int kill_on_exit;
        int verbose;
        unsigned long grace_ms;
        int pdeathsig;
        const char *seccomp_path;
        const char *ready_file;
        int ready_fd;
        uint64_t remap[4]; /* exit codes reported as 0 */
};

static struct wi_opts opt = {.grace_ms = 3000, .ready_fd = -1};
static pid_t child;
static int child_status = -1; /* wait status once reaped */
static int is_pid1;

static void vlog(const char *what, long a, const char *b)
{
        if (!opt.verbose)
                return;
        struct wi_line l = {0};
        wi_put(&l, "whittle-init: ");
        wi_put(&l, what);
        wi_put_i(&l, a);
        if (b) {
                wi_put(&l, " ");
                wi_put(&l, b);
        }
        wi_put(&l, "\n");
        wi_flush(&l, 2);
}

static void usage(int fd)
{
        struct wi_line l = {0};
        static const char *const text[] = {
                "Usage: whittle-init [OPTIONS] [--] PROGRAM [ARGS...]\n",
                "Runs PROGRAM as the child of a minimal init: reaps zombies, forwards\n",
                "signals, exits with PROGRAM's status (128+N if killed by signal N,\n",
                "127 if not found, 126 if it cannot be executed).\n\n",
                "  -g, --pgroup          forward signals to the child's process group\n",
                "  -k, --kill-on-exit    when the child exits, SIGTERM what is left,\n",
                "                        wait the grace time, then SIGKILL\n",
                "  -t, --grace MS        grace time for -k (default 3000)\n",
                "  -s, --subreaper       accepted; automatic when not PID 1\n",
                "  -p, --pdeathsig SIG   signal to get when the parent dies\n",
                "  -e, --remap-exit N    report exit code N as 0 (repeatable)\n",
                "      --seccomp FILE    load this BPF filter (seccomp_export_bpf "
                "output)\n",
                "                        in the child before exec; sets no_new_privs\n",
                "      --ready-fd N      write CLOCK_MONOTONIC \"sec.nsec\" to fd N just\n",
                "                        before exec\n",
                "      --ready-file PATH the same, to a file\n",
                "  -v, --verbose         log spawns, signals and reaps on stderr\n",
                "  -V, --version         print the version\n",
                "  -h, --help            print this help\n",
        };
        for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
                if (l.n + wi_strlen(text[i]) > sizeof(l.b))
                        wi_flush(&l, fd);
                wi_put(&l, text[i]);
        }
        wi_flush(&l, fd);
}

static __attribute__((noreturn)) void usage_error(const char *what, const char *arg)
{
        wi_say(what, arg, 0);
        wi_say("try 'whittle-init --help'", NULL, 0);
        wi_exit(WI_EXIT_USAGE);
}

enum { O_SECCOMP = 256, O_READY_FD, O_READY_FILE };

static const struct {
        const char *name;
        int id;
        int has_arg;
} options[] = {
        {"pgroup", 'g', 0},
        {"kill-on-exit", 'k', 0},
        {"grace", 't', 1},
        {"subreaper", 's', 0},
        {"pdeathsig", 'p', 1},
        {"remap-exit", 'e', 1},
        {"verbose", 'v', 0},
        {"version", 'V', 0},
        {"help", 'h', 0},
        {"seccomp", O_SECCOMP, 1},
        {"ready-fd", O_READY_FD, 1},
        {"ready-file", O_READY_FILE, 1},
};

static void apply_option(int id, const char *val)
{
        unsigned long n;
        switch (id) {
        case 'g':
                opt.pgroup = 1;
                break;
        case 'k':
                opt.kill_on_exit = 1;
                break;
        case 't':
                if (wi_parse_uint(val, 3600000, &opt.grace_ms) < 0)
                        usage_error("invalid grace time (milliseconds): ", val);
                break;
        case 's':
                break;
        case 'p':
                opt.pdeathsig = wi_signal_from_name(val);
                if (opt.pdeathsig <= 0)
                        usage_error("invalid signal: ", val);
                break;
        case 'e':
                if (wi_parse_uint(val, 255, &n) < 0)
                        usage_error("invalid exit code: ", val);
                opt.remap[n / 64] |= (uint64_t)1 << (n % 64);
                break;
        case 'v':
                opt.verbose = 1;
                break;
        case 'V':
                wi_write(1, "whittle-init " WH_VERSION "\n",
                         sizeof("whittle-init " WH_VERSION));
                wi_exit(0);
        case 'h':
                usage(1);
                wi_exit(0);
        case O_SECCOMP:
                opt.seccomp_path = val;
                break;
        case O_READY_FD:
                if (wi_parse_uint(val, 1 << 30, &n) < 0)
                        usage_error("invalid file descriptor: ", val);
                opt.ready_fd = (int)n;
                break;
        case O_READY_FILE:
                opt.ready_file = val;
                break;
        }
}

/* Long options (--name VALUE, --name=VALUE). Returns argv index consumed. */
static int parse_long(int argc, char **argv, int i)
{
        const char *a = argv[i] + 2;
        for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
                const char *rest = wi_skip_prefix(a, options[k].name);
                if (!rest || (*rest && *rest != '='))
                        continue;
                const char *val = NULL;
                if (options[k].has_arg) {
                        if (*rest == '=')
                                val = rest + 1;
                        else if (i + 1 < argc)
                                val = argv[++i];
                        else
                                usage_error("option needs a value: ", argv[i]);
                } else if (*rest) {
                        usage_error("option takes no value: ", argv[i]);
                }
                apply_option(options[k].id, val);
                return i;
        }
        usage_error("unknown option: ", argv[i]);
}

/* Clustered short options (-gk, -t500, -t 500). */
static int parse_short(int argc, char **argv, int i)
{
        for (const char *c = argv[i] + 1; *c; c++) {
                size_t k = 0;
                while (k < sizeof(options) / sizeof(options[0]) && options[k].id != *c)
                        k++;
                if (k == sizeof(options) / sizeof(options[0])) {
                        char s[3] = {'-', *c, '\0'};
                        usage_error("unknown option: ", s);
                }
                if (!options[k].has_arg) {
                        apply_option(*c, NULL);
                        continue;
                }
                if (c[1]) {
                        apply_option(*c, c + 1);
                } else if (i + 1 < argc) {
                        apply_option(*c, argv[++i]);
                } else {
                        char s[3] = {'-', *c, '\0'};
                        usage_error("option needs a value: ", s);
                }
                break;
        }
        return i;
}

/* Like getopt with '+': options end at "--" or at the first non-option,
 * so the program's own options are never taken for ours. */
static int parse_args(int argc, char **argv)
{
        int i = 1;
        while (i < argc) {
                const char *a = argv[i];
                if (wi_streq(a, "--"))
                        return i + 1;
                if (a[0] != '-' || a[1] == '\0')
                        return i;
                i = (a[1] == '-' ? parse_long(argc, argv, i) : parse_short(argc, argv, i)) +
                    1;
        }
        return i;
}

/* Reaps every zombie; notes the main child's status. */
static void reap(void)
{
        for (;;) {
                int st = 0;
                pid_t p = wi_wait4(-1, &st, WNOHANG | __WALL);
                if (p == -EINTR)
                        continue;
                if (p <= 0)
                        return;
                vlog("reaped pid ", p, p == child ? "(the program)" : NULL);
                if (p == child)
                        child_status = st;
        }
}

static int no_children_left(void)
{
        reap();
        int st;
        return wi_wait4(-1, &st, WNOHANG | __WALL) == -ECHILD;
}

static void forward(int sig)
{
        pid_t target = opt.pgroup ? -child : child;
        int r = wi_kill(target, sig);
        if (r < 0 && r != -ESRCH)
                wi_say("forward signal", NULL, -r);
        vlog("forwarded signal ", sig, wi_signal_name(sig));
}

/* Direct children, from /proc/self/task/<pid>/children (orphans adopted by
 * a subreaper show up here). Absent /proc just means fewer targets. */
static void signal_adopted(int sig)
{
        struct wi_line path = {0};
        wi_put(&path, "/proc/self/task/");
        wi_put_u(&path, (unsigned long)wi_getpid());
        wi_put(&path, "/children");
        path.b[path.n < sizeof(path.b) ? path.n : sizeof(path.b) - 1] = '\0';
        int fd = wi_openat(AT_FDCWD, path.b, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
                return;
        char buf[1024];
        unsigned long pid = 0;
        int in_num = 0;
        long n;
        while ((n = wi_read(fd, buf, sizeof(buf))) > 0) {
                for (long i = 0; i < n; i++) {
                        if (buf[i] >= '0' && buf[i] <= '9') {
                                pid = pid * 10 + (unsigned long)(buf[i] - '0');
                                in_num = 1;
                        } else if (in_num) {
                                wi_kill((pid_t)pid, sig);
                                pid = 0;
                                in_num = 0;
                        }
                }
        }
        if (in_num)
                wi_kill((pid_t)pid, sig);
        wi_close(fd);
}

static void signal_rest(int sig)
{
        vlog("signalling what is left: ", sig, wi_signal_name(sig));
        if (is_pid1) {
                /* Everything in the pid namespace but ourselves. */
                wi_kill(-1, sig);
                return;
        }
        wi_kill(-child, sig);
        signal_adopted(sig);
}

static long now_ms(void)
{
        struct timespec ts;
        wi_clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits for the last child to go, at most ms. Signals that arrive meanwhile
 * are taken and dropped: the program is gone, there is no one to forward to.
 * resend re-signals newly adopted orphans in subreaper mode.
 */
static int wait_gone(const wi_sigset *mask, long ms, int resend)
{
        long deadline = now_ms() + ms;
        while (!no_children_left()) {
                long left = deadline - now_ms();
                if (left <= 0)
                        return 0;
                struct timespec ts = {.tv_sec = left / 1000,
                                      .tv_nsec = (left % 1000) * 1000000};
                siginfo_t si;
                int sig = wi_sigtimedwait(mask, &si, &ts);
                if (sig == SIGCHLD && resend && !is_pid1)
                        signal_adopted(resend);
        }
        return 1;
}

static int exit_code(void)
{
        int code;
        if (WIFEXITED(child_status))
                code = WEXITSTATUS(child_status);
        else if (WIFSIGNALED(child_status))
                code = 128 + WTERMSIG(child_status);
        else
                code = WI_EXIT_FAIL;
        code &= 0xff;
        if (opt.remap[code / 64] & ((uint64_t)1 << (code % 64)))
                code = 0;
        return code;
}

static enum wi_state running(int sfd)
{
        struct signalfd_siginfo si[8];
        long n = wi_read(sfd, si, sizeof(si));
        if (n == -EINTR || n == -EAGAIN)
                return ST_RUNNING;
        if (n < 0) {
                /* Cannot happen with a valid signalfd; do not spin. */
                wi_say("read signalfd", NULL, (int)-n);
                wi_kill(child, SIGKILL);
                wi_wait4(child, &child_status, __WALL);
                return ST_DONE;
        }
        for (long i = 0; i < n / (long)sizeof(si[0]); i++) {
                int sig = (int)si[i].ssi_signo;
                if (sig == SIGCHLD)
                        reap();
                else
                        forward(sig);
        }
        if (child_status < 0)
                return ST_RUNNING;
        return opt.kill_on_exit ? ST_DRAINING : ST_DONE;
}

static int main_loop(int sfd, const wi_sigset *mask)
{
        enum wi_state st = ST_RUNNING;
        for (;;) {
                switch (st) {
                case ST_RUNNING:
                        st = running(sfd);
                        break;
                case ST_DRAINING:
                        signal_rest(SIGTERM);
                        st = wait_gone(mask, (long)opt.grace_ms, SIGTERM) ? ST_DONE
                                                                          : ST_KILLING;
                        break;
                case ST_KILLING:
                        signal_rest(SIGKILL);
                        if (!wait_gone(mask, WI_KILL_WAIT_MS, SIGKILL))
                                wi_say("processes survived SIGKILL; exiting anyway", NULL,
                                       0);
                        st = ST_DONE;
                        break;
                case ST_DONE:
                        return exit_code();
                }
        }
}

/* Checks and opens what the child will need, so mistakes are reported by
 * the init before anything runs. */
static int prepare(struct wi_plan *plan)
{
        if (opt.seccomp_path) {
                int r = wi_bpf_read(opt.seccomp_path, &plan->bpf_len);
                if (r < 0) {
                        wi_say("--seccomp ", opt.seccomp_path, -r);
                        if (r == -EINVAL || r == -EFBIG)
                                wi_say("expected a raw BPF program (seccomp_export_bpf), "
                                       "at most 4096 instructions",
                                       NULL, 0);
                        return -1;
                }
        }
        plan->ready_fd = -1;
        if (opt.ready_file) {
                plan->ready_fd = wi_openat(AT_FDCWD, opt.ready_file,
                                           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (plan->ready_fd < 0) {
                        wi_say("--ready-file ", opt.ready_file, -plan->ready_fd);
                        return -1;
                }
        } else if (opt.ready_fd >= 0) {
                int r = wi_fcntl(opt.ready_fd, F_GETFD, 0);
                if (r < 0) {
                        wi_say("--ready-fd", NULL, -r);
                        return -1;
                }
                /* Not the program's business, unless it is one of stdio. */
                if (opt.ready_fd > 2)
                        wi_fcntl(opt.ready_fd, F_SETFD, r | FD_CLOEXEC);
                plan->ready_fd = opt.ready_fd;
        }
        struct termios tio;
        plan->tty = wi_ioctl(0, TCGETS, &tio) == 0;
        return 0;
}

int wi_main(int argc, char **argv, char **envp)
{
        int first = parse_args(argc, argv);
        if (first >= argc)
                usage_error("no program given", NULL);

        struct wi_plan plan = {.argv = argv + first, .envp = envp};
        /* Before any fd of our own exists, so --ready-fd cannot name one. */
        if (prepare(&plan) < 0)
                return WI_EXIT_FAIL;
        is_pid1 = wi_getpid() == 1;
        if (!is_pid1 && wi_prctl(PR_SET_CHILD_SUBREAPER, 1, 0) < 0)
                wi_say("cannot become a child subreaper; orphans will not be reaped", NULL,
                       0);
        if (opt.pdeathsig &&
            wi_prctl(PR_SET_PDEATHSIG, (unsigned long)opt.pdeathsig, 0) < 0)
                wi_say("--pdeathsig", NULL, EINVAL);

        /* Synchronous signals stay unblocked: blocking them would turn a
         * fault in the init into a hang. SIGTTIN/SIGTTOU are blocked, which
         * keeps the init from being stopped by terminal I/O. */
        wi_sigset mask = ~(WI_SIGBIT(SIGFPE) | WI_SIGBIT(SIGILL) | WI_SIGBIT(SIGSEGV) |
                           WI_SIGBIT(SIGBUS) | WI_SIGBIT(SIGABRT) | WI_SIGBIT(SIGTRAP) |
                           WI_SIGBIT(SIGSYS) | WI_SIGBIT(SIGKILL) | WI_SIGBIT(SIGSTOP));
        if (wi_sigprocmask(SIG_SETMASK, &mask, &plan.orig_mask) < 0)
                return WI_EXIT_FAIL;
        int sfd = wi_signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                wi_say("signalfd", NULL, -sfd);
                return WI_EXIT_FAIL;
        }
        child = wi_fork();
        if (child < 0) {
                wi_say("fork", NULL, -child);
                return WI_EXIT_FAIL;
        }
        if (child == 0)
                wi_child_run(&plan);

        wi_setpgid(child, child);
        vlog("started pid ", child, plan.argv[0]);
        /* The init holds nothing the program's peers might wait on (pipes,
         * sockets, the ready fd), nor a directory that pins a mount. */
        if (sfd > 3)
                wi_close_range(3, (unsigned)sfd - 1);
        wi_close_range((unsigned)sfd + 1, ~0U);
        wi_chdir("/");
        return main_loop(sfd, &mask);
}
