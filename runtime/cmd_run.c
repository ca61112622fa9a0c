/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "hooks.h"
#include "json_util.h"
#include "log.h"
#include "run_cmd.h"
#include "state.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                                 SIGWINCH, SIGCONT };

int wh_run_wait_forward(pid_t pid, int pidfd)
{
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigprocmask(SIG_BLOCK, &set, &old);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
        for (;;) {
                int n = poll(p, sfd >= 0 ? 2 : 1, -1);
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0 && p[0].revents)
                        break;
                struct signalfd_siginfo si;
                if (n > 0 && p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si))
                        syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        sigprocmask(SIG_SETMASK, &old, NULL);
        return wh_container_exit_code(status);
}

static void poststart(const struct wh_state *st, int sync_fd)
{
        if (!wh_hooks_has(st->hooks, WH_HOOK_POSTSTART))
                return;
        wh_container_wait_exec(sync_fd);
        struct wh_err err = { 0 };
        _cleanup_json_ json_object *o = wh_state_to_oci(st, WH_STATUS_RUNNING);
        _cleanup_free_ char *s = o ? wh_json_to_string(o, 0) : NULL;
        if (s && wh_hooks_run(st->hooks, WH_HOOK_POSTSTART, s, &err) < 0)
                wh_warn("%s", err.msg);
}

static int run(const struct wh_run_ctx *ctx, const struct wh_create_args *a,
               struct wh_state *st, struct wh_err *err)
{
        pid_t pid;
        int pidfd_raw, sync_raw;
        int r = wh_run_create(ctx, a, 1, &pid, &pidfd_raw, &sync_raw, st, err);
        if (r < 0)
                return r;
        _cleanup_close_ int pidfd = pidfd_raw, sync_fd = sync_raw;
        poststart(st, sync_fd);
        if (a->detach)
                return 0;
        int code = wh_run_wait_forward(pid, pidfd);
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return root_fd;
        /* The state this process wrote: no reload of state.json. */
        r = wh_run_destroy_state(root_fd, st, err);
        return r < 0 ? r : code;
}

int wh_cmd_run(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        struct wh_create_args a = { 0 };
        int r = wh_run_parse_create_args(argc, argv, &a, 1, err);
        if (r < 0)
                return r;
        struct wh_state st = { 0 };
        r = run(ctx, &a, &st, err);
        wh_state_release(&st);
        return r;
}
