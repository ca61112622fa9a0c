/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "hooks.h"
#include "json_util.h"
#include "run_cmd.h"
#include "state.h"

/*
 * Waits until the init has taken the start byte and then closed the fifo,
 * which it does by exec'ing the workload (the fd is close-on-exec) or by
 * dying: poststart hooks must run after startContainer and the exec.
 */
static void wait_exec(int dfd, int wfd)
{
        for (int i = 0; i < 50000; i++) {
                int n = 0;
                if (ioctl(wfd, FIONREAD, &n) < 0 || n == 0)
                        break;
                usleep(200);
        }
        _cleanup_close_ int rfd = openat(dfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        close(wfd);
        if (rfd < 0)
                return;
        fcntl(rfd, F_SETFL, 0);
        char b;
        while (read(rfd, &b, 1) > 0 || errno == EINTR)
                ;
}

static int release_init(int root_fd, const struct wh_state *st, int wait, struct wh_err *err)
{
        _cleanup_close_ int dfd = openat(root_fd, st->id, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "state of '%s'", st->id);
        /* Non-blocking: with no reader (the init died) this is ENXIO, not a hang. */
        _cleanup_close_ int fd = openat(dfd, "exec.fifo",
                                        O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENXIO || errno == ENOENT
                               ? wh_failx(err, ESRCH, "cannot start a container that has stopped")
                               : wh_fail(err, errno, "exec.fifo");
        char b = '0';
        if (write(fd, &b, 1) != 1)
                return wh_fail(err, errno, "exec.fifo");
        if (wait)
                wait_exec(dfd, TAKE_FD(fd));
        if (unlinkat(dfd, "exec.fifo", 0) < 0 && errno != ENOENT)
                return wh_fail(err, errno, "remove exec.fifo");
        return 0;
}

int wh_cmd_start(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        if (argc != 2)
                return wh_failx(err, EINVAL, "start: expected exactly one container ID");
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, argv[1], &st, err);
        if (r < 0)
                return r;
        switch (wh_state_status(root_fd, &st)) {
        case WH_STATUS_CREATED:
                r = release_init(root_fd, &st, wh_hooks_has(st.hooks, WH_HOOK_POSTSTART), err);
                break;
        case WH_STATUS_RUNNING:
                r = wh_failx(err, EBUSY, "cannot start an already running container");
                break;
        default:
                r = wh_failx(err, ESRCH, "cannot start a container that has stopped");
                break;
        }
        if (r >= 0 && wh_hooks_has(st.hooks, WH_HOOK_POSTSTART)) {
                _cleanup_json_ json_object *o = wh_state_to_oci(&st, WH_STATUS_RUNNING);
                _cleanup_free_ char *s = o ? wh_json_to_string(o, 0) : NULL;
                r = s ? wh_hooks_run(st.hooks, WH_HOOK_POSTSTART, s, err)
                      : wh_fail(err, ENOMEM, "poststart");
                /* runtime-spec: a poststart failure stops the container. */
                if (r < 0)
                        kill(st.pid, SIGKILL);
        }
        wh_state_release(&st);
        return r < 0 ? r : 0;
}
