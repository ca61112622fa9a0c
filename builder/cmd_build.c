/* SPDX-License-Identifier: Apache-2.0 */
/* whittle build: SOURCE -> the minimal image a workload profile needs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "closure.h"
#include "compress.h"
#include "cmd.h"
#include "image_config.h"
#include "image_read.h"
#include "image_ref.h"
#include "image_write.h"
#include "index.h"
#include "init_inject.h"
#include "log.h"
#include "parse_num.h"
#include "profile.h"
#include "report.h"
#include "spool.h"
#include "verify.h"

struct build_opts {
        char **profiles;
        char **keep;
        char **needs;
        char **entrypoint; /* NULL: not given */
        char **cmd;
        enum wh_compression compression;
        int compression_explicit;
        int level;
        const char *report;
        int dry_run;
        int verify; /* --verify: DEST is written only when the result passes */
        int no_seccomp; /* --no-seccomp: verify without the profile's syscall allowlist */
        int64_t epoch; /* -1: not given */
        const char *source;
        const char *dest;
        struct wh_inject_opts inject; /* --init, --seccomp */
};

static void build_usage(FILE *f)
{
        fprintf(f,
                "Usage: whittle build [OPTIONS] SOURCE DEST\n"
                "\n"
                "Keep only what a workload needs from SOURCE and write it to DEST as one\n"
                "deterministic layer.\n"
                "\n"
                "SOURCE: oci:DIR[:REF] oci-archive:FILE[:REF] docker-archive:FILE dir:DIR tar:FILE\n"
                "DEST:   oci:DIR:REF oci-archive:FILE[:REF] docker-archive:FILE[:NAME:TAG] dir:DIR\n"
#ifdef WITH_OSTREE
                "        ostree:REPO:REF (commit into an OSTree repository, made if missing;\n"
                "        see whittle checkout)\n"
#endif
                "\n"
                "Options:\n"
                "  -p, --profile NAME|FILE   workload profile (repeatable, merged in order)\n"
                "  -k, --keep PATH|GLOB      also keep PATH or GLOB (repeatable)\n"
                "  -n, --need FEATURE        also keep a feature: nss, ca-certificates, tzdata[:ZONE],\n"
                "                            locale[:NAME], gconv, users, tmp, shell, os-release\n"
                "      --entrypoint ARGS     JSON array or one word; overrides image and profile\n"
                "      --cmd ARGS            JSON array or one word\n"
                "  -c, --compression ALGO    zstd (default), gzip or none\n"
                "  -l, --level N             compression level\n"
                "  -r, --report FILE         write a JSON report (what was kept, and why)\n"
                "      --dry-run             list what would be kept and dropped; write nothing\n"
                "      --verify              run the result's smoke test (or workload) under the\n"
                "                            tracer first; DEST is not written when it fails\n"
                "      --no-seccomp          with --verify, do not enforce the profile's\n"
                "                            syscalls while verifying\n"
                "      --source-date-epoch N timestamps (default: $SOURCE_DATE_EPOCH, else the\n"
                "                            source image's creation time)\n"
                "      --init                add the static /whittle-init as PID 1 in front of\n"
                "                            the entrypoint (signals go to the process group)\n"
                "      --init-path FILE      the whittle-init to add (default: next to whittle)\n"
                "      --seccomp             compile the profile's syscalls (or the default list)\n"
                "                            to /etc/whittle/seccomp.bpf; with --init, load it\n"
                "      --seccomp-action A    for other syscalls: errno (EPERM, default),\n"
                "                            errno:N, kill or log\n"
                "  -q, --quiet               no summary, no warnings\n"
                "  -v, --verbose             more detail on stderr\n"
                "  -h, --help                this text\n"
                "      --version             print the version\n");
}

/* What can be known wrong without reading anything is a usage error (exit 2). */
static int check_usage(const struct build_opts *o, struct wh_err *err)
{
        struct wh_image_ref ref = {0};
        int r = wh_image_ref_parse(o->source, 0, &ref, err);
        wh_image_ref_release(&ref);
        if (r < 0)
                return wh_fail_ctx(err, r, "source");
        r = wh_image_ref_parse(o->dest, 1, &ref, err);
        wh_image_ref_release(&ref);
        if (r < 0)
                return wh_fail_ctx(err, r, "destination");
        for (char **k = o->keep; k && *k; k++)
                if (**k != '/')
                        return wh_failx(err, EINVAL,
                                        "--keep '%s': expected an absolute path or glob", *k);
        for (char **n = o->needs; n && *n; n++)
                if ((r = wh_feature_check(*n, err)) < 0)
                        return wh_fail_ctx(err, r, "--need");
        return 0;
}

enum {
        OPT_ENTRYPOINT = 256,
        OPT_CMD,
        OPT_DRY_RUN,
        OPT_EPOCH,
        OPT_VERSION,
        OPT_INIT,
        OPT_INIT_PATH,
        OPT_SECCOMP,
        OPT_SECCOMP_ACTION,
        OPT_VERIFY,
        OPT_NO_SECCOMP,
};

static int parse_build_args(int argc, char **argv, struct build_opts *o, struct wh_err *err)
{
        static const struct option longopts[] = {
                {"profile", required_argument, NULL, 'p'},
                {"keep", required_argument, NULL, 'k'},
                {"need", required_argument, NULL, 'n'},
                {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
                {"cmd", required_argument, NULL, OPT_CMD},
                {"compression", required_argument, NULL, 'c'},
                {"level", required_argument, NULL, 'l'},
                {"report", required_argument, NULL, 'r'},
                {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                {"source-date-epoch", required_argument, NULL, OPT_EPOCH},
                {"quiet", no_argument, NULL, 'q'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {"init", no_argument, NULL, OPT_INIT},
                {"init-path", required_argument, NULL, OPT_INIT_PATH},
                {"seccomp", no_argument, NULL, OPT_SECCOMP},
                {"seccomp-action", required_argument, NULL, OPT_SECCOMP_ACTION},
                {"verify", no_argument, NULL, OPT_VERIFY},
                {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
                {0},
        };
        int c, r;
        enum wh_log_level level = WH_LOG_WARN;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+p:k:n:c:l:r:qvh", longopts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        if (wh_strv_add(&o->profiles, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--profile");
                        break;
                case 'k':
                        if (wh_strv_add(&o->keep, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--keep");
                        break;
                case 'n':
                        if (wh_strv_add(&o->needs, optarg) < 0)
                                return wh_fail(err, ENOMEM, "--need");
                        break;
                case OPT_ENTRYPOINT:
                        wh_strv_free(o->entrypoint);
                        o->entrypoint = NULL;
                        if ((r = wh_argv_parse(optarg, "--entrypoint", &o->entrypoint, err)) < 0)
                                return r;
                        break;
                case OPT_CMD:
                        wh_strv_free(o->cmd);
                        o->cmd = NULL;
                        if ((r = wh_argv_parse(optarg, "--cmd", &o->cmd, err)) < 0)
                                return r;
                        break;
                case 'c':
                        if (wh_compression_parse(optarg, &o->compression) < 0)
                                return wh_failx(err, EINVAL,
                                                "--compression: '%s': expected zstd, gzip or none",
                                                optarg);
                        o->compression_explicit = 1;
                        break;
                case 'l':
                        if (wh_parse_int(optarg, -7, 22, &o->level) < 0)
                                return wh_failx(err, EINVAL, "--level: '%s': expected a number "
                                                "(zstd -7..22, gzip 1..9)", optarg);
                        break;
                case 'r':
                        o->report = optarg;
                        break;
                case OPT_DRY_RUN:
                        o->dry_run = 1;
                        break;
                case OPT_VERIFY:
                        o->verify = 1;
                        break;
                case OPT_NO_SECCOMP:
                        o->no_seccomp = 1;
                        break;
                case OPT_EPOCH:
                        if (wh_parse_i64(optarg, 0, INT64_MAX / 2, &o->epoch) < 0)
                                return wh_failx(err, EINVAL,
                                                "--source-date-epoch: '%s': expected seconds "
                                                "since 1970", optarg);
                        break;
                case 'q':
                case 'v':
                        wh_cli_verbosity(c, &level);
                        break;
                case 'h':
                        build_usage(stdout);
                        return 1;
                case OPT_VERSION:
                        printf("whittle %s\n", WH_VERSION);
                        return 1;
                case OPT_INIT:
                        o->inject.init = 1;
                        break;
                case OPT_INIT_PATH:
                        o->inject.init_path = optarg;
                        break;
                case OPT_SECCOMP:
                        o->inject.seccomp = 1;
                        break;
                case OPT_SECCOMP_ACTION:
                        if ((r = wh_seccomp_action_parse(optarg, &o->inject.action,
                                                         &o->inject.errno_ret, err)) < 0)
                                return wh_fail_ctx(err, r, "--seccomp-action");
                        break;
                default:
                        return wh_cli_bad_option(argv, err);
                }
        }
        wh_log_init("whittle", level);
        if (argc - optind != 2)
                return wh_failx(err, EINVAL, "expected SOURCE and DEST, got %d argument%s",
                                argc - optind, argc - optind == 1 ? "" : "s");
        o->source = argv[optind];
        o->dest = argv[optind + 1];
        if (o->compression == WH_COMP_GZIP && o->level != WH_COMP_LEVEL_DEFAULT &&
            (o->level < 0 || o->level > 9))
                return wh_failx(err, EINVAL, "--level: gzip levels are 0..9");
        return check_usage(o, err);
}

/* Loads and merges the profiles, then the command line's --keep/--need. */
static int load_profile(const struct build_opts *o, struct wh_profile **ret, struct wh_err *err)
{
        struct wh_profile *merged = NULL;
        int r = wh_profile_load_merged(o->profiles, &merged, err);
        if (r < 0)
                return r;
        for (char **k = o->keep; k && *k; k++)
                if (wh_strv_add(&merged->keep, *k) < 0)
                        goto nomem;
        for (char **n = o->needs; n && *n; n++)
                if (wh_strv_add(&merged->needs, *n) < 0)
                        goto nomem;
        *ret = merged;
        return 0;
nomem:
        wh_profile_free(merged);
        return wh_fail(err, ENOMEM, "profile");
}

struct progress {
        int enabled;
        time_t last;
};

static void show_progress(const char *phase, uint64_t done, uint64_t total, void *userdata)
{
        struct progress *p = userdata;
        if (!p->enabled)
                return;
        time_t now = time(NULL);
        if (now == p->last && done < total)
                return;
        p->last = now;
        if (total)
                fprintf(stderr, "\rwhittle: %s %llu / %llu MiB (%d%%)\033[K", phase,
                        (unsigned long long)(done >> 20), (unsigned long long)(total >> 20),
                        (int)(100.0 * (double)done / (double)total));
        else
                fprintf(stderr, "\rwhittle: %s %llu MiB\033[K", phase,
                        (unsigned long long)(done >> 20));
        if (done >= total && total)
                fprintf(stderr, "\r\033[K");
}

static int64_t pick_epoch(const struct build_opts *o, json_object *src_config)
{
        if (o->epoch >= 0)
                return o->epoch;
        const char *env = getenv("SOURCE_DATE_EPOCH");
        int64_t v;
        if (env && *env) {
                if (wh_parse_i64(env, 0, INT64_MAX / 2, &v) == 0)
                        return v;
                wh_warn("SOURCE_DATE_EPOCH='%s' is not a number of seconds; ignored", env);
        }
        v = wh_config_created(src_config);
        return v >= 0 ? v : 0;
}

struct build_state {
        struct wh_image_ref src_ref, dest_ref;
        struct wh_source *src;
        struct wh_index *idx;
        struct wh_profile *profile;
        struct wh_effective eff;
        struct wh_index_stats src_stats;
        struct wh_closure_stats cstats;
        struct wh_spool spool;
        json_object *out_config;
        struct progress progress;
        struct wh_inject inject;
};

static void build_state_release(struct build_state *s)
{
        wh_image_ref_release(&s->src_ref);
        wh_image_ref_release(&s->dest_ref);
        wh_source_free(s->src);
        wh_index_free(s->idx);
        wh_profile_free(s->profile);
        wh_effective_release(&s->eff);
        wh_spool_close(&s->spool);
        wh_inject_release(&s->inject);
        if (s->out_config)
                json_object_put(s->out_config);
}

/* Pass 2 and writing: stream kept contents to the spool, then write DEST. */
static int write_result(struct build_state *s, const struct build_opts *o, int64_t epoch,
                        struct wh_write_result *res, struct wh_err *err)
{
        int r = wh_spool_open(&s->spool, err);
        if (r < 0)
                return r;
        r = wh_source_read_kept(s->src, s->idx, wh_spool_sink, &s->spool, show_progress,
                                &s->progress, err);
        if (r < 0)
                return r;
        /* Files the source does not have go in after pass 2, which would look for them. */
        if ((r = wh_inject_put(&s->inject, s->idx, &s->spool, epoch, &s->cstats, err)) < 0)
                return r;
        s->out_config = wh_output_config(s->src->config, &s->eff);
        if (!s->out_config)
                return wh_fail(err, ENOMEM, "image config");
        char created_by[512];
        snprintf(created_by, sizeof(created_by), "whittle build%s%s", o->profiles ? " --profile " : "",
                 o->profiles ? o->profiles[0] : "");
        struct wh_write_opts wo = {
                .compression = o->compression,
                .compression_explicit = o->compression_explicit,
                .level = o->level,
                .epoch = epoch,
                .config = s->out_config,
                .history_created_by = created_by,
                .base_digest = s->src->manifest_digest,
                /* The reference name only: a local path would make the digest
                 * depend on where the source happens to be stored. */
                .base_name = s->src_ref.transport == WH_T_DIR ? NULL : s->src_ref.ref,
                .spool_fd = s->spool.fd,
        };
        /* Under the allowlist --seccomp would compile, with the same action. */
        struct wh_verify_opts vo = {
                .profile = s->profile,
                .no_seccomp = o->no_seccomp,
                .seccomp_action = o->inject.action,
                .seccomp_errno = o->inject.errno_ret,
        };
        if (o->verify && (r = wh_verify_before_write(o->source, s->idx, &wo, &vo, err)) < 0)
                return wh_fail_ctx(err, r, "not written");
        return wh_image_write(&s->dest_ref, s->idx, &wo, res, err);
}

static int run_build(const struct build_opts *o, struct wh_err *err)
{
        _cleanup_(build_state_release) struct build_state s = {.spool.fd = -1};
        s.progress.enabled = isatty(STDERR_FILENO) && wh_log_level() >= WH_LOG_WARN;
        int r = wh_image_ref_parse(o->source, 0, &s.src_ref, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "source");
        r = wh_image_ref_parse(o->dest, 1, &s.dest_ref, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "destination");
        if ((r = load_profile(o, &s.profile, err)) < 0)
                return r;
        if ((r = wh_inject_load(&s.inject, &o->inject, err)) < 0)
                return r;
        if ((r = wh_source_open(&s.src_ref, &s.src, err)) < 0)
                return wh_fail_ctx(err, r, "%s", o->source);
        if (s.src_ref.transport == WH_T_DIR && s.dest_ref.transport == WH_T_DIR)
                s.src->exclude_path = s.dest_ref.path;
        int64_t epoch = pick_epoch(o, s.src->config);

        if (!(s.idx = wh_index_new()))
                return wh_fail(err, ENOMEM, "index");
        r = wh_source_index(s.src, s.idx, &s.src_stats, show_progress, &s.progress, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s", o->source);
        r = wh_effective_compute(s.src->config, s.profile, o->entrypoint, o->cmd, &s.eff, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s", o->source);
        struct wh_closure_input ci = {
                .profile = s.profile,
                .entrypoint = s.eff.entrypoint,
                .cmd = s.eff.cmd,
                .env = s.eff.env,
                .user = s.eff.user,
                .workdir = s.eff.workdir,
        };
        if ((r = wh_closure_run(s.idx, &ci, &s.cstats, err)) < 0)
                return wh_fail_ctx(err, r, "closure");
        r = wh_inject_prepare(&s.inject, &o->inject, s.src->config, s.profile, &s.eff, err);
        if (r < 0)
                return r;

        struct wh_write_result res = {0};
        struct wh_report_input ri = {
                .source_ref = o->source,
                .dest_ref = o->dest,
                .src = s.src,
                .src_stats = &s.src_stats,
                .closure = &s.cstats,
                .compression = wh_compression_name(s.dest_ref.transport == WH_T_DOCKER_ARCHIVE
                                                           ? WH_COMP_GZIP
                                                           : o->compression),
                .profiles = o->profiles,
                .eff = &s.eff,
        };
        if (o->dry_run) {
                if ((r = wh_inject_put(&s.inject, s.idx, NULL, epoch, &s.cstats, err)) < 0)
                        return r;
                if ((r = wh_report_dry_run(stdout, s.idx)) < 0)
                        return wh_fail(err, -r, "write listing");
        } else {
                if ((r = write_result(&s, o, epoch, &res, err)) < 0)
                        return wh_fail_ctx(err, r, "%s", o->dest);
                ri.result = &res;
        }
        if (o->report && (r = wh_report_write(o->report, s.idx, &ri, err)) < 0)
                return r;
        if (wh_log_level() >= WH_LOG_WARN)
                wh_report_summary(stderr, &ri);
        return 0;
}

int cmd_build(int argc, char **argv)
{
        struct build_opts o = {.compression = WH_COMP_ZSTD, .level = WH_COMP_LEVEL_DEFAULT,
                               .epoch = -1};
        struct wh_err err = {0};
        int r = parse_build_args(argc, argv, &o, &err);
        int status = wh_cli_parse_status("build", r, &err);
        if (status < 0) {
                r = run_build(&o, &err);
                if (r < 0)
                        wh_err_print(&err, "whittle");
                status = r < 0 ? WH_EXIT_FAIL : WH_EXIT_OK;
        }
        wh_strv_free(o.profiles);
        wh_strv_free(o.keep);
        wh_strv_free(o.needs);
        wh_strv_free(o.entrypoint);
        wh_strv_free(o.cmd);
        return status;
}
