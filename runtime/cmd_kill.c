/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups.h"
#include "cleanup.h"
#include "parse_num.h"
#include "run_cmd.h"
#include "state.h"

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },   { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

int wh_run_parse_signal(const char *s)
{
        int n;
        if (wh_parse_int(s, 1, SIGRTMAX, &n) == 0)
                return n;
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (!strcasecmp(s, signals[i].name))
                        return signals[i].sig;
        if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
                int off = 0;
                if (s[5] && wh_parse_int(s + 5, -32, 32, &off) < 0)
                        return -EINVAL;
                n = (toupper((unsigned char)s[4]) == 'N' ? SIGRTMIN : SIGRTMAX) + off;
                return n >= SIGRTMIN && n <= SIGRTMAX ? n : -EINVAL;
        }
        return -EINVAL;
}

static int signal_init(const struct wh_state *st, int sig, struct wh_err *err)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        /* Checked after pidfd_open, which pins the pid against reuse. */
        if (pidfd < 0 || wh_state_proc_start_time(st->pid) != st->start_time)
                return wh_failx(err, ESRCH, "container not running");
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return errno == ESRCH ? wh_failx(err, ESRCH, "container not running")
                                      : wh_fail(err, errno, "kill");
        return 0;
}

int wh_cmd_kill(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
        int all = 0, c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
                if (c != 'a')
                        return wh_failx(err, EINVAL, "kill: unknown option '%s'",
                                        argv[optind - 1]);
                all = 1;
        }
        if (optind != argc - 1 && optind != argc - 2)
                return wh_failx(err, EINVAL, "kill: usage: kill [--all] ID [SIGNAL]");
        const char *id = argv[optind];
        int sig = SIGTERM;
        if (optind == argc - 2 && (sig = wh_run_parse_signal(argv[optind + 1])) < 0)
                return wh_failx(err, EINVAL, "kill: unknown signal '%s'", argv[optind + 1]);
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, id, &st, err);
        if (r < 0)
                return r;
        enum wh_status s = wh_state_status(root_fd, &st);
        if (all && st.cgroup) {
                _cleanup_cgroup_ struct wh_cgroup *cg = NULL;
                r = wh_cgroup_from_json(st.cgroup, &cg, err);
                if (r >= 0)
                        r = wh_cgroup_kill_all(cg, sig, err);
        } else if (s == WH_STATUS_STOPPED) {
                /* runc ignores "not running" with --all. */
                r = all ? 0 : wh_failx(err, ESRCH, "container not running");
        } else {
                r = signal_init(&st, sig, err);
                if (r == -ESRCH && all)
                        r = 0;
        }
        wh_state_release(&st);
        return r < 0 ? r : 0;
}
