/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "cgroups.h"
#include "cleanup.h"
#include "container.h"
#include "fs_util.h"
#include "hooks.h"
#include "json_util.h"
#include "log.h"
#include "parse_num.h"
#include "run_cmd.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"

int wh_run_write_pid_file(const char *path, pid_t pid, struct wh_err *err)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        int r = wh_write_file_atomic_ex(AT_FDCWD, path, buf, (size_t)n, 0644, WH_WRITE_NOSYNC,
                                        err);
        return r < 0 ? wh_fail_ctx(err, r, "--pid-file") : 0;
}

static int fill_state(struct wh_state *st, const struct wh_spec *spec, const char *id,
                      int foreground, const struct wh_cgroup *cg)
{
        char now[40];
        wh_state_now_rfc3339(now);
        st->id = strdup(id);
        st->bundle = strdup(spec->bundle);
        st->rootfs = strdup(spec->root_path);
        st->created = strdup(now);
        st->owner = strdup("");
        if (!st->id || !st->bundle || !st->rootfs || !st->created || !st->owner)
                return -ENOMEM;
        st->annotations = spec->annotations ? json_object_get(spec->annotations) : NULL;
        st->hooks = spec->hooks ? json_object_get(spec->hooks) : NULL;
        st->seccomp = spec->seccomp ? json_object_get(spec->seccomp) : NULL;
        json_object *proc = NULL;
        if (json_object_object_get_ex(spec->json, "process", &proc) && proc)
                st->process = json_object_get(proc);
        st->no_new_privileges = spec->process.no_new_privileges;
        st->use_fifo = !foreground;
        if (cg && !(st->cgroup = wh_cgroup_to_json(cg)))
                return -ENOMEM;
        return 0;
}

static int resolve_bundle(const char *bundle, char **ret, struct wh_err *err)
{
        char buf[PATH_MAX];
        if (!realpath(bundle ? bundle : ".", buf))
                return wh_fail(err, errno, "bundle '%s'", bundle ? bundle : ".");
        *ret = strdup(buf);
        return *ret ? 0 : wh_fail(err, ENOMEM, "bundle");
}

/*
 * Everything that can fail on the config alone, before anything exists.
 * The network namespace is started as soon as the spec says it is wanted,
 * so it is made while the seccomp filter is compiled.
 */
static int load_checked(const struct wh_create_args *a, int foreground,
                        struct wh_netns_ahead *netns, struct wh_spec **ret,
                        struct wh_caps *caps, struct wh_seccomp **sc, struct wh_err *err)
{
        if (!wh_state_id_valid(a->id))
                return wh_failx(err, EINVAL, "invalid container id '%s'", a->id);
        _cleanup_free_ char *bundle = NULL;
        int r = resolve_bundle(a->bundle, &bundle, err);
        if (r < 0)
                return r;
        _cleanup_spec_ struct wh_spec *spec = NULL;
        if ((r = wh_spec_load(bundle, &spec, err)) < 0)
                return r;
        if (!spec->has_process)
                return wh_failx(err, EINVAL, "config.json: process: missing");
        if (spec->process.terminal && !a->console_socket && (a->detach || !foreground))
                return wh_failx(err, EINVAL,
                                "config.json: process.terminal: a terminal needs "
                                "--console-socket when the container is detached");
        if ((r = wh_hooks_validate(spec->hooks, err)) < 0)
                return r;
        wh_netns_ahead_start(spec, netns);
        if ((r = wh_caps_parse(spec->process.capabilities, caps, err)) < 0 ||
            (r = wh_seccomp_compile(spec->seccomp, sc, err)) < 0)
                return r;
        *ret = TAKE_PTR(spec);
        return 0;
}

struct clone_data {
        int dir_fd;
        const char *pid_file;
        int pid_file_written;
};

/* state.json and the pid file, written while the container sets itself up. */
static int on_clone(void *data, const struct wh_state *st, struct wh_err *err)
{
        struct clone_data *d = data;
        int r = wh_state_save(d->dir_fd, st, err);
        if (r < 0 || !d->pid_file)
                return r;
        r = wh_run_write_pid_file(d->pid_file, st->pid, err);
        d->pid_file_written = r >= 0;
        return r;
}

int wh_run_create(const struct wh_run_ctx *ctx, const struct wh_create_args *a,
                  int foreground, pid_t *ret_pid, int *ret_pidfd, int *ret_sync_fd,
                  struct wh_state *ret_state, struct wh_err *err)
{
        _cleanup_spec_ struct wh_spec *spec = NULL;
        _cleanup_seccomp_ struct wh_seccomp *sc = NULL;
        _cleanup_cgroup_ struct wh_cgroup *cg = NULL;
        struct wh_caps caps = { 0 };
        _cleanup_(wh_netns_ahead_finish) struct wh_netns_ahead netns = { .sock = { -1, -1 } };
        int r = load_checked(a, foreground, &netns, &spec, &caps, &sc, err);
        if (r < 0)
                return r;
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 1, err);
        if (root_fd < 0)
                return root_fd;
        _cleanup_close_ int dir_fd = wh_state_create_dir(root_fd, a->id, err);
        if (dir_fd < 0)
                return dir_fd;

        struct wh_state st = { 0 };
        int pidfd = -1, sync_fd = -1;
        /* "slice:prefix:name" (--systemd-cgroup's form) is mapped by
         * wh_cgroup_create, with or without the flag. */
        if (!ctx->cgroup_manager || strcmp(ctx->cgroup_manager, "disabled") != 0) {
                r = wh_cgroup_create(spec->cgroups_path, a->id, spec->resources, &cg, err);
                if (r < 0)
                        goto fail;
        }
        if (fill_state(&st, spec, a->id, foreground, cg) < 0) {
                r = wh_fail(err, ENOMEM, "state");
                goto fail;
        }
        struct clone_data cd = { .dir_fd = dir_fd, .pid_file = a->pid_file };
        struct wh_create_opts opts = {
                .on_clone = on_clone,
                .on_clone_data = &cd,
                .console_socket = a->console_socket,
                .preserve_fds = a->preserve_fds,
                .no_pivot = a->no_pivot,
                .no_new_keyring = a->no_new_keyring,
                .use_fifo = !foreground,
                .state_dir_fd = dir_fd,
                .netns = &netns,
        };
        r = wh_container_spawn(spec, &opts, &caps, sc, cg, &st, &pidfd, &sync_fd, err);
        if (r < 0) {
                if (cd.pid_file_written)
                        unlink(a->pid_file);
                goto fail;
        }
        *ret_pid = st.pid;
        *ret_pidfd = pidfd;
        *ret_sync_fd = sync_fd;
        if (ret_state)
                *ret_state = st;
        else
                wh_state_release(&st);
        return 0;
fail:
        if (pidfd >= 0)
                close(pidfd);
        if (sync_fd >= 0)
                close(sync_fd);
        if (cg) {
                struct wh_err e2 = { 0 };
                if (wh_cgroup_destroy(cg, &e2) < 0)
                        wh_warn("%s", e2.msg);
        }
        wh_state_remove(root_fd, a->id);
        wh_state_release(&st);
        return r;
}

int wh_run_parse_create_args(int argc, char **argv, struct wh_create_args *a, int is_run,
                             struct wh_err *err)
{
        enum { O_PIDFILE = 256, O_CONSOLE, O_PRESERVE, O_NOPIVOT, O_NOKEYRING, O_IGNORED,
               O_IGNORED_ARG };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, O_PIDFILE },
                { "console-socket", required_argument, NULL, O_CONSOLE },
                { "preserve-fds", required_argument, NULL, O_PRESERVE },
                { "no-pivot", no_argument, NULL, O_NOPIVOT },
                { "no-new-keyring", no_argument, NULL, O_NOKEYRING },
                { "detach", no_argument, NULL, 'd' },
                { "keep", no_argument, NULL, O_IGNORED },
                { "no-subreaper", no_argument, NULL, O_IGNORED },
                { "pidfd-socket", required_argument, NULL, O_IGNORED_ARG },
                { 0 },
        };
        int c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, is_run ? "+b:d" : "+b:", opts, NULL)) != -1) {
                int v;
                switch (c) {
                case 'b':
                        a->bundle = optarg;
                        break;
                case O_PIDFILE:
                        a->pid_file = optarg;
                        break;
                case O_CONSOLE:
                        a->console_socket = optarg;
                        break;
                case O_PRESERVE:
                        if (wh_parse_int(optarg, 0, 65536, &v) < 0)
                                return wh_failx(err, EINVAL, "--preserve-fds: '%s'", optarg);
                        a->preserve_fds = v;
                        break;
                case O_NOPIVOT:
                        a->no_pivot = 1;
                        break;
                case O_NOKEYRING:
                        a->no_new_keyring = 1;
                        break;
                case 'd':
                        a->detach = 1;
                        break;
                case O_IGNORED:
                case O_IGNORED_ARG:
                        break;
                default:
                        return wh_failx(err, EINVAL, "%s: unknown option '%s'", argv[0],
                                        argv[optind - 1]);
                }
        }
        if (optind != argc - 1)
                return wh_failx(err, EINVAL, "%s: expected exactly one container ID", argv[0]);
        a->id = argv[optind];
        return 0;
}

int wh_cmd_create(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        struct wh_create_args a = { 0 };
        int r = wh_run_parse_create_args(argc, argv, &a, 0, err);
        if (r < 0)
                return r;
        pid_t pid;
        int pidfd, sync_fd;
        r = wh_run_create(ctx, &a, 0, &pid, &pidfd, &sync_fd, NULL, err);
        if (r < 0)
                return r;
        close(pidfd);
        close(sync_fd);
        return 0;
}
