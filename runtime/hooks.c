/* SPDX-License-Identifier: Apache-2.0 */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"

static const char *const hook_names[] = {
        [WH_HOOK_PRESTART] = "prestart",
        [WH_HOOK_CREATE_RUNTIME] = "createRuntime",
        [WH_HOOK_CREATE_CONTAINER] = "createContainer",
        [WH_HOOK_START_CONTAINER] = "startContainer",
        [WH_HOOK_POSTSTART] = "poststart",
        [WH_HOOK_POSTSTOP] = "poststop",
};

const char *wh_hook_name(enum wh_hook_kind kind)
{
        return hook_names[kind];
}

static json_object *hook_list(json_object *hooks, enum wh_hook_kind kind)
{
        json_object *v = NULL;
        if (!hooks || !json_object_object_get_ex(hooks, hook_names[kind], &v) ||
            !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

int wh_hooks_has(json_object *hooks, enum wh_hook_kind kind)
{
        json_object *l = hook_list(hooks, kind);
        return l && json_object_array_length(l) > 0;
}

int wh_hooks_at_setup(json_object *hooks)
{
        return wh_hooks_has(hooks, WH_HOOK_PRESTART) ||
               wh_hooks_has(hooks, WH_HOOK_CREATE_RUNTIME) ||
               wh_hooks_has(hooks, WH_HOOK_CREATE_CONTAINER) ||
               wh_hooks_has(hooks, WH_HOOK_START_CONTAINER);
}

struct hook {
        const char *path;
        char **args, **env;
        int64_t timeout; /* seconds, 0 = none */
};

static void hook_release(struct hook *h)
{
        wh_strv_free(h->args);
        wh_strv_free(h->env);
}

static int hook_parse(json_object *o, const char *what, struct hook *h, struct wh_err *err)
{
        int r;
        if ((r = wh_json_get_string(o, what, "path", 1, &h->path, err)) < 0 ||
            (r = wh_json_get_strv(o, what, "args", 0, &h->args, err)) < 0 ||
            (r = wh_json_get_strv(o, what, "env", 0, &h->env, err)) < 0 ||
            (r = wh_json_get_int64(o, what, "timeout", 0, 1, 24 * 3600, &h->timeout, err)) <
                    0)
                return r;
        if (h->path[0] != '/')
                return wh_failx(err, EINVAL, "%s.path: must be absolute", what);
        return 0;
}

int wh_hooks_validate(json_object *hooks, struct wh_err *err)
{
        if (!hooks)
                return 0;
        for (size_t k = 0; k < ARRAY_SIZE(hook_names); k++) {
                json_object *v = NULL;
                if (!json_object_object_get_ex(hooks, hook_names[k], &v))
                        continue;
                if (!json_object_is_type(v, json_type_array))
                        return wh_failx(err, EINVAL, "config.json: hooks.%s: expected an array",
                                        hook_names[k]);
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        char what[96];
                        snprintf(what, sizeof(what), "config.json: hooks.%s[%zu]",
                                 hook_names[k], i);
                        struct hook h = { 0 };
                        int r = hook_parse(json_object_array_get_idx(v, i), what, &h, err);
                        hook_release(&h);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static pid_t spawn(const struct hook *h, int stdin_fd)
{
        static char *const empty[] = { NULL };
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        if (dup2(stdin_fd, 0) < 0)
                _exit(127);
        syscall(SYS_close_range, 3, ~0U, 0);
        signal(SIGPIPE, SIG_DFL);
        char *argv0[] = { (char *)h->path, NULL };
        execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : empty);
        _exit(127);
}

/* Waits for pid, killing it after timeout seconds (0: no limit). */
static int wait_hook(pid_t pid, int64_t timeout, int *status)
{
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd >= 0 && timeout > 0) {
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                int ms = (int)(timeout * 1000);
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                for (;;) {
                        int n = poll(&p, 1, ms);
                        if (n > 0)
                                break;
                        if (n < 0 && errno == EINTR) {
                                clock_gettime(CLOCK_MONOTONIC, &t1);
                                int spent = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
                                                  (t1.tv_nsec - t0.tv_nsec) / 1000000);
                                ms = (int)(timeout * 1000) - spent;
                                if (ms > 0)
                                        continue;
                        }
                        kill(pid, SIGKILL);
                        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                                ;
                        return -ETIMEDOUT;
                }
        }
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

static int run_one(const struct hook *h, const char *what, const char *state_json,
                   struct wh_err *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return wh_fail(err, errno, "%s: pipe", what);
        pid_t pid = spawn(h, p[0]);
        close(p[0]);
        if (pid < 0) {
                close(p[1]);
                return wh_fail(err, errno, "%s: fork", what);
        }
        /* A hook that does not read its stdin is fine: ignore EPIPE. */
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        (void)wh_write_all(p[1], state_json, strlen(state_json));
        close(p[1]);
        signal(SIGPIPE, old);
        int status = 0;
        int r = wait_hook(pid, h->timeout, &status);
        if (r == -ETIMEDOUT)
                return wh_failx(err, ETIMEDOUT, "%s: '%s' timed out after %lld s", what,
                                h->path, (long long)h->timeout);
        if (r < 0)
                return wh_fail(err, -r, "%s: wait", what);
        if (WIFSIGNALED(status))
                return wh_failx(err, ECHILD, "%s: '%s' killed by signal %d", what, h->path,
                                WTERMSIG(status));
        if (WEXITSTATUS(status) != 0)
                return wh_failx(err, ECHILD, "%s: '%s' exited with status %d", what, h->path,
                                WEXITSTATUS(status));
        return 0;
}

int wh_hooks_run(json_object *hooks, enum wh_hook_kind kind, const char *state_json,
                 struct wh_err *err)
{
        json_object *l = hook_list(hooks, kind);
        size_t n = l ? json_object_array_length(l) : 0;
        for (size_t i = 0; i < n; i++) {
                char what[96];
                snprintf(what, sizeof(what), "hooks.%s[%zu]", hook_names[kind], i);
                struct hook h = { 0 };
                int r = hook_parse(json_object_array_get_idx(l, i), what, &h, err);
                if (r >= 0)
                        r = run_one(&h, what, state_json, err);
                hook_release(&h);
                if (r < 0)
                        return r;
        }
        return 0;
}
