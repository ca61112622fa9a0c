/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cgroups.h"
#include "cleanup.h"
#include "container.h"
#include "json_util.h"
#include "parse_num.h"
#include "run_cmd.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"

#define PROCESS_MAX (1u << 20)
#define MAX_MULTI 256

struct exec_args {
        const char *process_file, *pid_file, *console_socket, *cwd, *user;
        const char *env[MAX_MULTI], *caps[MAX_MULTI];
        size_t n_env, n_caps;
        int detach, tty, no_new_privs, preserve_fds;
};

static int parse_args(int argc, char **argv, struct exec_args *a, struct wh_err *err)
{
        enum { O_PIDFILE = 256, O_CONSOLE, O_CWD, O_CAP, O_NNP, O_PRESERVE, O_IGN, O_IGN_ARG };
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },
                { "detach", no_argument, NULL, 'd' },
                { "pid-file", required_argument, NULL, O_PIDFILE },
                { "console-socket", required_argument, NULL, O_CONSOLE },
                { "cwd", required_argument, NULL, O_CWD },
                { "env", required_argument, NULL, 'e' },
                { "tty", no_argument, NULL, 't' },
                { "user", required_argument, NULL, 'u' },
                { "cap", required_argument, NULL, O_CAP },
                { "no-new-privs", no_argument, NULL, O_NNP },
                { "preserve-fds", required_argument, NULL, O_PRESERVE },
                { "apparmor", required_argument, NULL, O_IGN_ARG },
                { "process-label", required_argument, NULL, O_IGN_ARG },
                { "cgroup", required_argument, NULL, O_IGN_ARG },
                { "pidfd-socket", required_argument, NULL, O_IGN_ARG },
                { "ignore-paused", no_argument, NULL, O_IGN },
                { 0 },
        };
        int c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+p:de:tu:", opts, NULL)) != -1) {
                switch (c) {
                case 'p': a->process_file = optarg; break;
                case 'd': a->detach = 1; break;
                case 't': a->tty = 1; break;
                case 'u': a->user = optarg; break;
                case O_PIDFILE: a->pid_file = optarg; break;
                case O_CONSOLE: a->console_socket = optarg; break;
                case O_CWD: a->cwd = optarg; break;
                case O_NNP: a->no_new_privs = 1; break;
                case O_IGN:
                case O_IGN_ARG: break;
                case 'e':
                        if (a->n_env == MAX_MULTI)
                                return wh_failx(err, E2BIG, "exec: too many --env");
                        a->env[a->n_env++] = optarg;
                        break;
                case O_CAP:
                        if (a->n_caps == MAX_MULTI)
                                return wh_failx(err, E2BIG, "exec: too many --cap");
                        a->caps[a->n_caps++] = optarg;
                        break;
                case O_PRESERVE:
                        if (wh_parse_int(optarg, 0, 65536, &a->preserve_fds) < 0)
                                return wh_failx(err, EINVAL, "--preserve-fds: '%s'", optarg);
                        break;
                default:
                        return wh_failx(err, EINVAL, "exec: unknown option '%s'",
                                        argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return wh_failx(err, EINVAL, "exec: expected a container ID");
        if (!a->process_file && optind + 1 >= argc)
                return wh_failx(err, EINVAL, "exec: expected --process or a command");
        return optind;
}

static int set_strv(json_object *o, const char *key, char **v, int append)
{
        json_object *arr = NULL;
        if (!append || !json_object_object_get_ex(o, key, &arr) ||
            !json_object_is_type(arr, json_type_array)) {
                arr = json_object_new_array();
                if (!arr || json_object_object_add(o, key, arr) < 0)
                        return -ENOMEM;
        }
        for (; *v; v++)
                if (json_object_array_add(arr, json_object_new_string(*v)) < 0)
                        return -ENOMEM;
        return 0;
}

/* process.json from the init's process, with the command line's changes. */
static int build_process(const struct wh_state *st, const struct exec_args *a, char **cmd,
                         json_object **ret, struct wh_err *err)
{
        json_object *p = NULL;
        if (a->process_file) {
                int r = wh_json_parse_file(AT_FDCWD, a->process_file, PROCESS_MAX, &p, err);
                if (r < 0)
                        return r;
                *ret = p;
                return 0;
        }
        if (st->process && json_object_deep_copy(st->process, &p, NULL) < 0)
                return wh_fail(err, ENOMEM, "exec");
        if (!p && !(p = json_object_new_object()))
                return wh_fail(err, ENOMEM, "exec");
        *ret = p;
        int r = set_strv(p, "args", cmd, 0);
        char *env[MAX_MULTI + 1] = { 0 }, *caps[MAX_MULTI + 1] = { 0 };
        memcpy(env, a->env, a->n_env * sizeof(char *));
        memcpy(caps, a->caps, a->n_caps * sizeof(char *));
        r |= set_strv(p, "env", env, 1);
        r |= json_object_object_add(p, "terminal", json_object_new_boolean(a->tty));
        if (a->cwd)
                r |= wh_json_add_string(p, "cwd", a->cwd);
        if (a->no_new_privs)
                r |= json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
        json_object *capo = NULL;
        if (a->n_caps && json_object_object_get_ex(p, "capabilities", &capo) && capo) {
                static const char *const sets[] = { "bounding", "effective", "permitted",
                                                    "inheritable", "ambient" };
                for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
                        r |= set_strv(capo, sets[i], caps, 1);
        }
        if (a->user) {
                int64_t uid, gid = 0;
                _cleanup_free_ char *u = strdup(a->user);
                char *colon = u ? strchr(u, ':') : NULL;
                if (colon)
                        *colon++ = '\0';
                if (!u || wh_parse_i64(u, 0, UINT32_MAX, &uid) < 0 ||
                    (colon && wh_parse_i64(colon, 0, UINT32_MAX, &gid) < 0))
                        return wh_failx(err, EINVAL, "exec: --user: expected UID[:GID]");
                json_object *user = json_object_new_object();
                r |= json_object_object_add(p, "user", user);
                r |= wh_json_add_int64(user, "uid", uid);
                r |= wh_json_add_int64(user, "gid", gid);
        }
        return r ? wh_fail(err, ENOMEM, "exec") : 0;
}

int wh_cmd_exec(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        struct exec_args a = { 0 };
        int idx = parse_args(argc, argv, &a, err);
        if (idx < 0)
                return idx;
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, argv[idx], &st, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *pj = NULL;
        struct wh_process_spec proc = { 0 };
        struct wh_caps caps = { 0 };
        _cleanup_seccomp_ struct wh_seccomp *sc = NULL;
        _cleanup_cgroup_ struct wh_cgroup *cg = NULL;
        pid_t pid = 0;
        int pidfd = -1;
        if (wh_state_status(root_fd, &st) == WH_STATUS_STOPPED) {
                r = wh_failx(err, ESRCH, "cannot exec in a stopped container");
                goto out;
        }
        if ((r = build_process(&st, &a, argv + idx + 1, &pj, err)) < 0 ||
            (r = wh_spec_parse_process(pj, "process", &proc, err)) < 0 ||
            (r = wh_caps_parse(proc.capabilities, &caps, err)) < 0 ||
            (r = wh_seccomp_compile(st.seccomp, &sc, err)) < 0 ||
            (st.cgroup && (r = wh_cgroup_from_json(st.cgroup, &cg, err)) < 0))
                goto out;
        if (proc.terminal && !a.console_socket) {
                r = wh_failx(err, ENOTSUP, "exec: a terminal needs --console-socket");
                goto out;
        }
        struct wh_exec_opts eo = { .console_socket = a.console_socket,
                                   .preserve_fds = a.preserve_fds };
        r = wh_container_exec(&st, &proc, &caps, sc, cg, &eo, &pid, &pidfd, err);
        if (r < 0)
                goto out;
        if (a.pid_file && (r = wh_run_write_pid_file(a.pid_file, pid, err)) < 0)
                goto out;
        r = a.detach ? 0 : wh_run_wait_forward(pid, pidfd);
out:
        if (pidfd >= 0)
                close(pidfd);
        wh_spec_process_release(&proc);
        wh_state_release(&st);
        return r;
}
