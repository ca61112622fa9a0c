/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle-run: an OCI runtime with runc's command line.
 *
 * Exit codes follow runc (engines read them): 0 success, 1 for every
 * failure including usage errors; `run` and foreground `exec` exit with the
 * container process's status (128+signal when it was killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "log.h"
#include "run_cmd.h"
#include "state.h"

static const struct {
        const char *name;
        int (*fn)(const struct wh_run_ctx *, int, char **, struct wh_err *);
        const char *help;
} commands[] = {
        { "create", wh_cmd_create, "create a container (the process waits for start)" },
        { "start", wh_cmd_start, "start the user process of a created container" },
        { "run", wh_cmd_run, "create and start a container" },
        { "state", wh_cmd_state, "print the state of a container as JSON" },
        { "kill", wh_cmd_kill, "send a signal to the container's init" },
        { "delete", wh_cmd_delete, "delete a container and what it holds" },
        { "list", wh_cmd_list, "list containers" },
        { "exec", wh_cmd_exec, "run a process in a running container" },
        { "ps", wh_cmd_ps, "list the processes of a container" },
        { "spec", wh_cmd_spec, "write a default config.json" },
        { "features", wh_cmd_features, "print the runtime's features as JSON" },
};

static int log_fd = -1;
static int log_json;

static void usage(FILE *f)
{
        fprintf(f, "usage: whittle-run [global options] COMMAND [options] [ID]\n\n"
                   "An OCI runtime with runc's command line.\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR             state directory (default " WH_STATE_ROOT_DEFAULT
                   ")\n"
                   "  --log FILE             write errors to FILE (default stderr)\n"
                   "  --log-format text|json format of --log (json: level, msg, time)\n"
                   "  --debug                verbose notes on stderr\n"
                   "  --systemd-cgroup       accepted; the systemd driver is not supported,\n"
                   "                         'slice:prefix:name' maps to a cgroupfs path\n"
                   "  --cgroup-manager M     cgroupfs (default) or disabled; systemd as above\n"
                   "  --rootless BOOL        accepted; rootless mode is not supported\n"
                   "  -v, --version          print the version\n"
                   "  -h, --help             this text\n");
}

static void log_line(const char *level, const char *msg)
{
        if (log_fd < 0)
                return;
        char t[40];
        wh_state_now_rfc3339(t);
        _cleanup_free_ char *line = NULL;
        if (log_json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                if (!o || wh_json_add_string(o, "level", level) < 0 ||
                    wh_json_add_string(o, "msg", msg) < 0 || wh_json_add_string(o, "time", t) < 0)
                        return;
                _cleanup_free_ char *s = wh_json_to_string(o, 0);
                if (!s || asprintf(&line, "%s\n", s) < 0)
                        return;
        } else if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg) < 0) {
                return;
        }
        (void)wh_write_all(log_fd, line, strlen(line));
}

static int parse_global(struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        enum { O_ROOT = 256, O_LOG, O_LOGFMT, O_DEBUG, O_SYSTEMD, O_CGMGR, O_ROOTLESS, O_CRIU };
        static const struct option opts[] = {
                { "root", required_argument, NULL, O_ROOT },
                { "log", required_argument, NULL, O_LOG },
                { "log-format", required_argument, NULL, O_LOGFMT },
                { "debug", no_argument, NULL, O_DEBUG },
                { "systemd-cgroup", no_argument, NULL, O_SYSTEMD },
                { "cgroup-manager", required_argument, NULL, O_CGMGR },
                { "rootless", optional_argument, NULL, O_ROOTLESS },
                { "criu", required_argument, NULL, O_CRIU },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *log_path = NULL;
        int c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (c) {
                case O_ROOT:
                        ctx->root = optarg;
                        break;
                case O_LOG:
                        log_path = optarg;
                        break;
                case O_LOGFMT:
                        if (strcmp(optarg, "json") && strcmp(optarg, "text"))
                                return wh_failx(err, EINVAL,
                                                "--log-format: expected text or json, not '%s'",
                                                optarg);
                        log_json = !strcmp(optarg, "json");
                        break;
                case O_DEBUG:
                        ctx->debug = 1;
                        break;
                case O_SYSTEMD:
                        /* slice:prefix:name paths are mapped with or without it */
                        break;
                case O_CGMGR:
                        if (strcmp(optarg, "cgroupfs") && strcmp(optarg, "systemd") &&
                            strcmp(optarg, "disabled"))
                                return wh_failx(err, EINVAL,
                                                "--cgroup-manager: expected cgroupfs, systemd "
                                                "or disabled, not '%s'",
                                                optarg);
                        ctx->cgroup_manager = optarg;
                        break;
                case O_ROOTLESS:
                case O_CRIU:
                        break;
                case 'v':
                        printf("whittle-run version %s\nspec: %s\n", WH_VERSION, WH_OCI_VERSION);
                        return 1;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        return wh_failx(err, EINVAL, "unknown global option '%s' (see --help)",
                                        argv[optind - 1]);
                }
        }
        if (log_path) {
                log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (log_fd < 0)
                        return wh_fail(err, errno, "--log '%s'", log_path);
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct wh_run_ctx ctx = { .root = WH_STATE_ROOT_DEFAULT };
        struct wh_err err = { 0 };
        int r = parse_global(&ctx, argc, argv, &err);
        wh_log_init("whittle-run", ctx.debug ? WH_LOG_DEBUG : WH_LOG_WARN);
        if (r == 0 && optind >= argc) {
                usage(stderr);
                return 1;
        }
        if (r > 0)
                return 0;
        if (r == 0) {
                const char *name = argv[optind];
                r = -1;
                for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                        if (!strcmp(name, commands[i].name)) {
                                /* Commands parse their own options with
                                 * argv[0] = the command's name; optind 0
                                 * makes getopt start afresh. */
                                int ci = optind;
                                optind = 0;
                                r = commands[i].fn(&ctx, argc - ci, argv + ci, &err);
                                break;
                        }
                if (r == -1 && !err.msg[0])
                        r = wh_failx(&err, EINVAL, "unknown command '%s' (see --help)", name);
        }
        if (r >= 0)
                return r;
        wh_err_print(&err, "whittle-run");
        log_line("error", err.msg);
        return 1;
}
