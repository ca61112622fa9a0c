/* SPDX-License-Identifier: Apache-2.0 */
/*
 * whittle trace: run SOURCE's workload under the tracer and write the
 * profile it needs. A profile is written only when the run succeeded: the
 * workload exited 0, the probe succeeded, the ready line appeared, or (with
 * neither a probe nor a ready line) the workload was still running when the
 * duration ended. smoke is set to what ran when the workload exited 0 by
 * itself; a server traced with a probe gets no smoke (verify takes the
 * probe again).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cmd.h"
#include "container_run.h"
#include "fs_util.h"
#include "log.h"
#include "profile.h"
#include "strv.h"
#include "trace.h"
#include "trace_profile.h"

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

/*
 * Calls a traced run may not show but every program needs at some point:
 * returning from a signal handler, restarting an interrupted call, exiting.
 */
static const char *const baseline_syscalls[] = {"exit", "exit_group", "restart_syscall",
                                                "rt_sigreturn", NULL};

struct trace_opts {
        char **profiles;
        char **merge;
        double duration;
        const char *probe;
        const char *ready_line;
        const char *name;
        const char *output;
        const char *runtime;
        const char *source;
        char **args; /* borrowed from argv */
};

static void trace_usage(FILE *f)
{
        fprintf(f,
                "Usage: whittle trace [OPTIONS] SOURCE [-- ARGS...]\n"
                "\n"
                "Run SOURCE's workload (entrypoint and cmd, or ARGS) in a container, "
                "record the\n"
                "files it opens, executes and looks up and the system calls it makes, and "
                "write\n"
                "a profile for 'whittle build'. Needs root (ptrace and fanotify).\n"
                "\n"
                "Options:\n"
                "  -p, --profile NAME|FILE  entrypoint, cmd, env, user, workdir to run "
                "with\n"
                "      --duration S         stop after S seconds (default 60)\n"
                "      --probe CMD          host command (sh -c) retried until it "
                "succeeds; the\n"
                "                           container shares the host's network\n"
                "      --ready-line TEXT    stop when the workload prints TEXT\n"
                "      --name NAME          the profile's name (default: traced)\n"
                "  -o, --output FILE        write the profile to FILE (default: stdout)\n"
                "      --merge FILE         merge this earlier profile in (repeatable)\n"
                "      --runtime PATH       the whittle-run binary\n"
                "  -q, --quiet / -v, --verbose / -h, --help\n");
}

enum { OPT_DURATION = 256, OPT_PROBE, OPT_READY, OPT_NAME, OPT_MERGE, OPT_RUNTIME };

static int parse_trace_args(int argc, char **argv, struct trace_opts *o, struct wh_err *err)
{
        static const struct option longopts[] = {
                {"profile", required_argument, NULL, 'p'},
                {"duration", required_argument, NULL, OPT_DURATION},
                {"probe", required_argument, NULL, OPT_PROBE},
                {"ready-line", required_argument, NULL, OPT_READY},
                {"name", required_argument, NULL, OPT_NAME},
                {"output", required_argument, NULL, 'o'},
                {"merge", required_argument, NULL, OPT_MERGE},
                {"runtime", required_argument, NULL, OPT_RUNTIME},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        enum wh_log_level level = WH_LOG_WARN;
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "p:o:qvh", longopts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (wh_strv_add(&o->profiles, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--profile");
                        break;
                case OPT_MERGE:
                        if (wh_strv_add(&o->merge, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--merge");
                        break;
                case OPT_DURATION:
                        if (wh_cli_duration(optarg, &o->duration, err) < 0)
                                return -EINVAL;
                        break;
                case OPT_PROBE:
                        o->probe = optarg;
                        break;
                case OPT_READY:
                        o->ready_line = optarg;
                        break;
                case OPT_NAME:
                        if (wh_profile_name_check(optarg, err) < 0)
                                return wh_fail_ctx(err, -EINVAL, "--name");
                        o->name = optarg;
                        break;
                case 'o':
                        o->output = optarg;
                        break;
                case OPT_RUNTIME:
                        o->runtime = optarg;
                        break;
                case 'q':
                case 'v':
                        wh_cli_verbosity(c, &level);
                        break;
                case 'h':
                        trace_usage(stdout);
                        return 1;
                default:
                        return wh_cli_bad_option(argv, err);
                }
        }
        wh_log_init("whittle", level);
        if (optind >= argc)
                return wh_failx(err, EINVAL, "expected SOURCE");
        /* getopt moved the operands to the end; what follows SOURCE ran after "--". */
        o->source = argv[optind++];
        if (optind < argc)
                o->args = argv + optind;
        return 0;
}

/* The profile one run gives: how it ran, what it used, the calls it made. */
static int run_profile(const struct trace_opts *o, const struct wh_profile *in,
                       struct wh_bundle *b, struct wh_trace_result *res,
                       struct wh_profile **ret, struct wh_err *err)
{
        struct wh_profile *p = wh_profile_new();
        if (!p)
                return wh_fail(err, ENOMEM, "profile");
        char date[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(date, sizeof(date), "%Y-%m-%d", gmtime_r(&now, &tm));
        struct wh_trace_keep_opts ko = {.min_collapse = 2};
        int r = 0;
        if (!(p->name = strdup(o->name ? o->name : "traced")) ||
            asprintf(&p->description, "traced from %s on %s", o->source, date) < 0)
                r = -ENOMEM;
        if (r >= 0 && o->args) {
                r = wh_strv_replace(&p->entrypoint, o->args);
                if (r >= 0 && !(p->cmd = calloc(1, sizeof(char *))))
                        r = -ENOMEM;
        } else if (r >= 0) {
                if ((r = wh_strv_replace(&p->entrypoint, in->entrypoint)) >= 0)
                        r = wh_strv_replace(&p->cmd, in->cmd);
        }
        if (r >= 0 && (r = wh_strv_replace(&p->env, in->env)) >= 0 && in->user &&
            !(p->user = strdup(in->user)))
                r = -ENOMEM;
        if (r >= 0 && in->workdir && !(p->workdir = strdup(in->workdir)))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && baseline_syscalls[i]; i++)
                r = wh_strset_add(&res->syscalls, baseline_syscalls[i]);
        if (r >= 0 && !(p->syscalls = wh_strset_sorted(&res->syscalls)))
                r = -ENOMEM;
        if (r >= 0 && res->exited && res->status == 0 && !o->probe)
                r = wh_strv_replace(&p->smoke_cmd, b->args);
        if (r >= 0) {
                wh_strv_free(p->needs);
                p->needs = NULL;
                r = wh_trace_infer_needs(&res->used, &p->needs);
        }
        if (r < 0) {
                wh_profile_free(p);
                return wh_fail(err, ENOMEM, "profile");
        }
        wh_strv_free(p->keep);
        p->keep = NULL;
        if ((r = wh_trace_keep_list(b->idx, &res->used, &ko, &p->keep, err)) < 0) {
                wh_profile_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

/* Why the run does not count, or NULL when it does. */
static const char *run_failure(const struct trace_opts *o,
                               const struct wh_trace_result *res, char *buf, size_t len)
{
        if (res->start_failed)
                return "the container did not start";
        if (res->interrupted)
                return "interrupted";
        if (res->probe_ok || res->ready)
                return NULL;
        if (res->exited && res->status != 0) {
                snprintf(buf, len, "the workload exited with status %d", res->status);
                return buf;
        }
        if (o->probe && !res->probe_ok) {
                snprintf(buf, len, "the probe never succeeded%s",
                         res->exited ? " (the workload exited)" : " in time");
                return buf;
        }
        if (o->ready_line) {
                snprintf(buf, len, "the workload never printed '%s'", o->ready_line);
                return buf;
        }
        return NULL;
}

static int write_output(const char *path, const struct wh_profile *p, struct wh_err *err)
{
        _cleanup_free_ char *text = wh_profile_to_string(p, 1);
        if (!text)
                return wh_fail(err, ENOMEM, "profile");
        if (!path || !strcmp(path, "-")) {
                if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
                        return wh_fail(err, errno, "write profile");
                return 0;
        }
        _cleanup_free_ char *t = NULL;
        if (asprintf(&t, "%s\n", text) < 0)
                return wh_fail(err, ENOMEM, "profile");
        int r = wh_write_file_atomic_at(AT_FDCWD, path, t, strlen(t), 0644, err);
        return r < 0 ? wh_fail_ctx(err, r, "-o") : 0;
}

static int run_trace(const struct trace_opts *o, struct wh_err *err)
{
        int r = wh_trace_check_privileges("whittle trace", err);
        if (r < 0)
                return r;
        _cleanup_(wh_profile_freep) struct wh_profile *in = NULL, *out = NULL, *run = NULL;
        if ((r = wh_profile_load_merged(o->profiles, &in, err)) < 0)
                return r;
        /* Earlier runs load first, so a bad file fails before the long run. */
        if (!(out = wh_profile_new()))
                return wh_fail(err, ENOMEM, "profile");
        for (char **m = o->merge; m && *m; m++) {
                _cleanup_(wh_profile_freep) struct wh_profile *one = NULL;
                char *one_name[] = {*m, NULL};
                if ((r = wh_profile_load_merged(one_name, &one, err)) < 0 ||
                    (r = wh_trace_profile_merge(out, one, err)) < 0)
                        return wh_fail_ctx(err, r, "--merge");
        }
        _cleanup_(wh_bundle_release) struct wh_bundle b = {0};
        struct wh_prepare_opts bo = {.runtime = o->runtime, .profile = in, .args = o->args};
        if ((r = wh_bundle_prepare(o->source, &bo, &b, err)) < 0)
                return r;
        wh_info("trace: running %s in %s", b.args[0], b.bundle);
        _cleanup_(wh_trace_result_release) struct wh_trace_result res = {0};
        struct wh_trace_opts to = {
                .duration = o->duration,
                .probe = o->probe,
                .probe_verbose = wh_log_level() >= WH_LOG_DEBUG,
                .ready_line = o->ready_line,
        };
        if ((r = wh_trace_run(&b, &to, &res, err)) < 0)
                return r;
        char why[256];
        const char *fail = run_failure(o, &res, why, sizeof(why));
        if (fail) {
                wh_container_print_output(&b, stderr, 20);
                return wh_failx(err, EIO, "trace %s: %s; no profile written", o->source,
                                fail);
        }
        if ((r = run_profile(o, in, &b, &res, &run, err)) < 0)
                return r;
        if ((r = wh_trace_profile_merge(out, run, err)) < 0)
                return r;
        if ((r = write_output(o->output, out, err)) < 0)
                return r;
        size_t nkeep = 0;
        while (out->keep[nkeep])
                nkeep++;
        if (wh_log_level() >= WH_LOG_WARN)
                fprintf(stderr,
                        "whittle: traced %s in %.3f s: %zu paths used (%zu keep entries), "
                        "%zu missing lookups, %zu system calls; %s\n",
                        o->source, res.seconds, res.used.n, nkeep, res.missing.n,
                        res.syscalls.n,
                        res.probe_ok ? "the probe succeeded"
                        : res.ready  ? "the ready line appeared"
                        : res.exited ? "the workload exited 0"
                                     : "the workload ran for the whole duration");
        return 0;
}

int cmd_trace(int argc, char **argv)
{
        struct trace_opts o = {0};
        struct wh_err err = {0};
        int r = parse_trace_args(argc, argv, &o, &err);
        int status = wh_cli_parse_status("trace", r, &err);
        if (status < 0) {
                r = run_trace(&o, &err);
                if (r < 0)
                        wh_err_print(&err, "whittle");
                status = r < 0 ? WH_EXIT_FAIL : WH_EXIT_OK;
        }
        wh_strv_free(o.profiles);
        wh_strv_free(o.merge);
        return status;
}
