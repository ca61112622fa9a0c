/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups.h"
#include "cleanup.h"
#include "json_util.h"
#include "parse_num.h"
#include "run_cmd.h"
#include "state.h"

/* Without a cgroup: the processes that share the init's pid namespace. */
static int pids_by_ns(pid_t init, pid_t **ret, size_t *ret_n, struct wh_err *err)
{
        char p[64];
        struct stat want, st;
        snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)init);
        if (stat(p, &want) < 0)
                return wh_fail(err, errno, "%s", p);
        _cleanup_closedir_ DIR *d = opendir("/proc");
        if (!d)
                return wh_fail(err, errno, "/proc");
        size_t n = 0, cap = 16;
        _cleanup_free_ pid_t *v = malloc(cap * sizeof(pid_t));
        struct dirent *de;
        while (v && (de = readdir(d))) {
                int pid;
                if (wh_parse_int(de->d_name, 1, INT32_MAX, &pid) < 0)
                        continue;
                snprintf(p, sizeof(p), "/proc/%d/ns/pid", pid);
                if (stat(p, &st) < 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev)
                        continue;
                if (n == cap) {
                        pid_t *nv = realloc(v, (cap *= 2) * sizeof(pid_t));
                        if (!nv)
                                return wh_fail(err, ENOMEM, "ps");
                        v = nv;
                }
                v[n++] = pid;
        }
        if (!v)
                return wh_fail(err, ENOMEM, "ps");
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int in_set(const pid_t *v, size_t n, int pid)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == pid)
                        return 1;
        return 0;
}

/* runc's table: `ps -ef` (or the given ps options) filtered to our pids. */
static int ps_table(const pid_t *v, size_t n, char **ps_args, struct wh_err *err)
{
        _cleanup_free_ char *cmd = strdup("ps");
        for (char **a = ps_args; cmd && *a; a++) {
                char *nc = NULL;
                for (const char *q = *a; *q; q++)
                        if (!strchr("-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789,=:_%",
                                    *q))
                                return wh_failx(err, EINVAL, "ps: bad ps option '%s'", *a);
                if (asprintf(&nc, "%s %s", cmd, *a) < 0)
                        return wh_fail(err, ENOMEM, "ps");
                free(cmd);
                cmd = nc;
        }
        if (!cmd)
                return wh_fail(err, ENOMEM, "ps");
        if (!ps_args[0]) {
                free(cmd);
                cmd = strdup("ps -ef");
        }
        FILE *f = popen(cmd, "re");
        if (!f)
                return wh_fail(err, errno, "run ps");
        char line[4096];
        int pid_col = -1, first = 1;
        while (fgets(line, sizeof(line), f)) {
                char copy[4096], *save = NULL, *tok;
                memcpy(copy, line, sizeof(copy));
                int col = 0, hit = 0;
                for (tok = strtok_r(copy, " \t\n", &save); tok;
                     tok = strtok_r(NULL, " \t\n", &save), col++) {
                        int pid;
                        if (pid_col < 0 && !strcmp(tok, "PID"))
                                pid_col = col;
                        else if (col == pid_col && wh_parse_int(tok, 1, INT32_MAX, &pid) == 0)
                                hit = in_set(v, n, pid);
                }
                if (hit || first)
                        fputs(line, stdout);
                first = 0;
        }
        pclose(f);
        return pid_col < 0 ? wh_failx(err, EINVAL, "ps: no PID column in ps's output") : 0;
}

int wh_cmd_ps(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { 0 } };
        int json = 0, c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
                if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
                        json = !strcmp(optarg, "json");
                else
                        return wh_failx(err, EINVAL, "ps: bad option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return wh_failx(err, EINVAL, "ps: expected a container ID");
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, argv[optind], &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ pid_t *v = NULL;
        size_t n = 0;
        if (wh_state_status(root_fd, &st) == WH_STATUS_STOPPED) {
                r = 0;
        } else if (st.cgroup) {
                _cleanup_cgroup_ struct wh_cgroup *cg = NULL;
                r = wh_cgroup_from_json(st.cgroup, &cg, err);
                if (r >= 0)
                        r = wh_cgroup_pids(cg, &v, &n, err);
        } else {
                r = pids_by_ns(st.pid, &v, &n, err);
        }
        wh_state_release(&st);
        if (r < 0)
                return r;
        if (!json)
                return ps_table(v, n, argv + optind + 1, err);
        printf("[");
        for (size_t i = 0; i < n; i++)
                printf("%s%d", i ? "," : "", (int)v[i]);
        printf("]\n");
        return 0;
}
