/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups.h"
#include "cleanup.h"
#include "hooks.h"
#include "json_util.h"
#include "log.h"
#include "run_cmd.h"
#include "state.h"

/* SIGKILLs the init (if it still is ours) and waits up to 10 s for it to die. */
static int kill_init(const struct wh_state *st, struct wh_err *err)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? 0 : wh_fail(err, errno, "pidfd_open %d", (int)st->pid);
        /* The pidfd pins the process: check it is still the container's. */
        if (wh_state_proc_start_time(st->pid) != st->start_time)
                return 0;
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                return wh_fail(err, errno, "kill %d", (int)st->pid);
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, 10000);
        while (n < 0 && errno == EINTR);
        return n == 0 ? wh_failx(err, ETIMEDOUT, "container init %d did not die", (int)st->pid)
                      : 0;
}

int wh_run_destroy_state(int root_fd, const struct wh_state *st, struct wh_err *err)
{
        int r;
        if (wh_state_status(root_fd, st) != WH_STATUS_STOPPED && (r = kill_init(st, err)) < 0)
                return r;
        if (st->cgroup) {
                _cleanup_cgroup_ struct wh_cgroup *cg = NULL;
                if ((r = wh_cgroup_from_json(st->cgroup, &cg, err)) < 0 ||
                    (r = wh_cgroup_destroy(cg, err)) < 0)
                        return r;
        }
        if (wh_hooks_has(st->hooks, WH_HOOK_POSTSTOP)) {
                _cleanup_json_ json_object *o = wh_state_to_oci(st, WH_STATUS_STOPPED);
                _cleanup_free_ char *s = o ? wh_json_to_string(o, 0) : NULL;
                struct wh_err e2 = { 0 };
                /* runtime-spec: a poststop failure is only a warning. */
                if (s && wh_hooks_run(st->hooks, WH_HOOK_POSTSTOP, s, &e2) < 0)
                        wh_warn("%s", e2.msg);
        }
        r = wh_state_remove(root_fd, st->id);
        return r < 0 ? wh_fail(err, -r, "remove the state of '%s'", st->id) : 0;
}

int wh_cmd_delete(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
        int force = 0, c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
                if (c != 'f')
                        return wh_failx(err, EINVAL, "delete: unknown option '%s'",
                                        argv[optind - 1]);
                force = 1;
        }
        if (optind != argc - 1)
                return wh_failx(err, EINVAL, "delete: expected exactly one container ID");
        const char *id = argv[optind];
        struct wh_err e2 = { 0 };
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, &e2);
        if (root_fd < 0)
                return force ? 0 : wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, id, &st, err);
        if (r == -ENOENT && force)
                return 0;
        if (r < 0)
                return r;
        if (wh_state_status(root_fd, &st) == WH_STATUS_RUNNING && !force)
                r = wh_failx(err, EBUSY,
                             "cannot delete container %s that is not stopped: "
                             "container still running",
                             id);
        else
                r = wh_run_destroy_state(root_fd, &st, err);
        wh_state_release(&st);
        return r < 0 ? r : 0;
}
