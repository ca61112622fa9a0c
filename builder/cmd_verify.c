/* SPDX-License-Identifier: Apache-2.0 */
/* whittle verify: does the whittled image still run its workload? */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "cmd.h"
#include "container_run.h"
#include "log.h"
#include "profile.h"
#include "verify.h"

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

struct verify_cli {
        char **profiles;
        const char *probe;
        const char *expect;
        const char *runtime;
        double duration;
        int no_seccomp;
        const char *original, *whittled;
        char **args; /* borrowed from argv */
};

static void verify_usage(FILE *f)
{
        fprintf(f, "Usage: whittle verify [OPTIONS] ORIGINAL WHITTLED [-- ARGS...]\n"
                   "\n"
                   "Run the workload (ARGS, the profile's smoke command, or the image's "
                   "entrypoint\n"
                   "and cmd) in WHITTLED under the tracer. Fails, naming the paths, when "
                   "it exits\n"
                   "with an error, its output lacks the expected text, the probe never "
                   "succeeds, or\n"
                   "it looks up a path that ORIGINAL has and WHITTLED lacks. Needs root.\n"
                   "\n"
                   "Options:\n"
                   "  -p, --profile NAME|FILE  the profile WHITTLED was built with (smoke "
                   "test,\n"
                   "                           syscall allowlist)\n"
                   "      --probe CMD          host command (sh -c) that must succeed\n"
                   "      --duration S         give up after S seconds (default 60)\n"
                   "      --expect TEXT        the workload's output must contain TEXT\n"
                   "      --runtime PATH       the whittle-run binary\n"
                   "      --no-seccomp         do not enforce the profile's syscalls (they "
                   "are by\n"
                   "                           default, as whittle-init would in the "
                   "image)\n"
                   "  -q, --quiet / -v, --verbose / -h, --help\n"
                   "\n"
                   "Exit status: 0 verified, 1 not verified, 2 usage.\n");
}

enum { OPT_PROBE = 256, OPT_DURATION, OPT_EXPECT, OPT_RUNTIME, OPT_NO_SECCOMP };

static int parse_verify_args(int argc, char **argv, struct verify_cli *o,
                             struct wh_err *err)
{
        static const struct option longopts[] = {
                {"profile", required_argument, NULL, 'p'},
                {"probe", required_argument, NULL, OPT_PROBE},
                {"duration", required_argument, NULL, OPT_DURATION},
                {"expect", required_argument, NULL, OPT_EXPECT},
                {"runtime", required_argument, NULL, OPT_RUNTIME},
                {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        enum wh_log_level level = WH_LOG_WARN;
        int c;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "p:qvh", longopts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (wh_strv_add(&o->profiles, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--profile");
                        break;
                case OPT_PROBE:
                        o->probe = optarg;
                        break;
                case OPT_DURATION:
                        if (wh_cli_duration(optarg, &o->duration, err) < 0)
                                return -EINVAL;
                        break;
                case OPT_EXPECT:
                        o->expect = optarg;
                        break;
                case OPT_RUNTIME:
                        o->runtime = optarg;
                        break;
                case OPT_NO_SECCOMP:
                        o->no_seccomp = 1;
                        break;
                case 'q':
                case 'v':
                        wh_cli_verbosity(c, &level);
                        break;
                case 'h':
                        verify_usage(stdout);
                        return 1;
                default:
                        return wh_cli_bad_option(argv, err);
                }
        }
        wh_log_init("whittle", level);
        /* getopt moved the operands to the end; what follows WHITTLED ran after "--". */
        int n = argc - optind;
        if (n < 2)
                return wh_failx(err, EINVAL,
                                "expected ORIGINAL and WHITTLED, got %d argument%s", n,
                                n == 1 ? "" : "s");
        o->original = argv[optind];
        o->whittled = argv[optind + 1];
        if (n > 2)
                o->args = argv + optind + 2;
        return 0;
}

static int run_verify(const struct verify_cli *c, struct wh_err *err)
{
        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
        int r = wh_profile_load_merged(c->profiles, &p, err);
        if (r < 0)
                return r;
        struct wh_verify_opts vo = {
                .original = c->original,
                .whittled = c->whittled,
                .profile = p,
                .args = c->args,
                .probe = c->probe,
                .expect = c->expect,
                .duration = c->duration,
                .runtime = c->runtime,
                .no_seccomp = c->no_seccomp,
        };
        r = wh_verify_run(&vo, err);
        if (r > 0 && wh_log_level() >= WH_LOG_WARN)
                fprintf(stderr, "whittle: verify: %s: verified\n", c->whittled);
        return r;
}

int cmd_verify(int argc, char **argv)
{
        struct verify_cli c = {0};
        struct wh_err err = {0};
        int r = parse_verify_args(argc, argv, &c, &err);
        int status = wh_cli_parse_status("verify", r, &err);
        if (status < 0) {
                r = run_verify(&c, &err);
                if (r < 0)
                        wh_err_print(&err, "whittle");
                status = r > 0 ? WH_EXIT_OK : WH_EXIT_FAIL;
        }
        wh_strv_free(c.profiles);
        return status;
}
