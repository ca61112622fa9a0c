/* SPDX-License-Identifier: Apache-2.0 */
/* whittle profile check|show|list: validate and inspect workload profiles. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cmd.h"
#include "err.h"
#include "log.h"
#include "profile.h"

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

static void profile_usage(FILE *f)
{
        fprintf(f,
                "Usage: whittle profile check [-q] FILE|NAME...\n"
                "       whittle profile show FILE|NAME\n"
                "       whittle profile list\n"
                "\n"
                "check  validate profiles (with everything they extend); exit 1 if any\n"
                "       is invalid. -q prints errors only.\n"
                "show   print the merged profile as JSON\n"
                "list   list the profiles in the search path with their descriptions\n"
                "\n"
                "A value with a '/' or ending in .json is a file; otherwise NAME.json is\n"
                "looked up in $WHITTLE_PROFILE_PATH (colon-separated), next to the "
                "whittle\n"
                "binary (../profiles, ../../profiles), then in " WH_PROFILE_DIR ".\n"
                "The format is described in profiles/README.md.\n");
}

static void print_err(const struct wh_err *err)
{
        wh_err_print(err, wh_log_prog());
}

static void print_list(const char *label, char *const *v)
{
        printf(", %s ", label);
        for (size_t i = 0; v[i]; i++)
                printf("%s%s", i ? ", " : "", v[i]);
}

static size_t count(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static int check_one(const char *arg, const char *const *dirs, int quiet)
{
        struct wh_err err = {0};
        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
        if (wh_profile_load(arg, dirs, &p, &err) < 0) {
                print_err(&err);
                return WH_EXIT_FAIL;
        }
        if (quiet)
                return WH_EXIT_OK;
        printf("%s: ok (%zu keep, %zu needs", arg, count(p->keep), count(p->needs));
        if (p->extends[0])
                print_list("extends", p->extends);
        printf(")\n");
        return WH_EXIT_OK;
}

static int do_check(int argc, char **argv, const char *const *dirs)
{
        static const struct option opts[] = {
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int quiet = 0, c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
                switch (c) {
                case 'q':
                        quiet = 1;
                        break;
                case 'h':
                        profile_usage(stdout);
                        return WH_EXIT_OK;
                default:
                        profile_usage(stderr);
                        return WH_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "%s: profile check: no profile given\n", wh_log_prog());
                profile_usage(stderr);
                return WH_EXIT_USAGE;
        }
        int rc = WH_EXIT_OK;
        for (int i = optind; i < argc; i++)
                if (check_one(argv[i], dirs, quiet) != WH_EXIT_OK)
                        rc = WH_EXIT_FAIL;
        return rc;
}

static int do_show(int argc, char **argv, const char *const *dirs)
{
        if (argc != 2) {
                profile_usage(stderr);
                return WH_EXIT_USAGE;
        }
        struct wh_err err = {0};
        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
        if (wh_profile_load(argv[1], dirs, &p, &err) < 0) {
                print_err(&err);
                return WH_EXIT_FAIL;
        }
        _cleanup_free_ char *s = wh_profile_to_string(p, 1);
        if (!s) {
                wh_fail(&err, ENOMEM, "%s", argv[1]);
                print_err(&err);
                return WH_EXIT_FAIL;
        }
        printf("%s\n", s);
        return WH_EXIT_OK;
}

static int is_json_name(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* Prints one line per NAME.json in dir that an earlier directory did not shadow. */
static int list_dir(const char *dir, char ***seen, const char *const *dirs)
{
        struct dirent **ents = NULL;
        int n = scandir(dir, &ents, is_json_name, alphasort);
        if (n < 0)
                return 0;
        int rc = WH_EXIT_OK;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *name =
                        strndup(ents[i]->d_name, strlen(ents[i]->d_name) - 5);
                _cleanup_free_ char *path = NULL;
                if (!name || asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0)
                        rc = WH_EXIT_FAIL;
                else if (wh_strv_add(seen, name) > 0) {
                        struct wh_err err = {0};
                        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
                        if (wh_profile_load(path, dirs, &p, &err) < 0)
                                printf("%-16s (invalid: %s)\n", name, err.msg);
                        else
                                printf("%-16s %s\n", name,
                                       p->description ? p->description : "");
                }
        }
        for (int i = 0; i < n; i++)
                free(ents[i]);
        free(ents);
        return rc;
}

static int do_list(int argc, const char *const *dirs)
{
        if (argc != 1) {
                profile_usage(stderr);
                return WH_EXIT_USAGE;
        }
        _cleanup_strv_ char **seen = NULL;
        int rc = WH_EXIT_OK;
        for (size_t i = 0; dirs[i]; i++)
                if (list_dir(dirs[i], &seen, dirs) != WH_EXIT_OK)
                        rc = WH_EXIT_FAIL;
        if (!seen)
                fprintf(stderr, "%s: no profiles found in the search path\n",
                        wh_log_prog());
        return rc;
}

int cmd_profile(int argc, char **argv)
{
        if (argc < 2) {
                profile_usage(stderr);
                return WH_EXIT_USAGE;
        }
        const char *sub = argv[1];
        if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
                profile_usage(stdout);
                return WH_EXIT_OK;
        }
        _cleanup_strv_ char **dirs = NULL;
        int r = wh_profile_search_dirs(&dirs);
        if (r < 0) {
                struct wh_err err = {0};
                wh_fail(&err, -r, "profile search path");
                print_err(&err);
                return WH_EXIT_FAIL;
        }
        const char *const *d = (const char *const *)dirs;
        if (!strcmp(sub, "check"))
                return do_check(argc - 1, argv + 1, d);
        if (!strcmp(sub, "show"))
                return do_show(argc - 1, argv + 1, d);
        if (!strcmp(sub, "list"))
                return do_list(argc - 1, d);
        fprintf(stderr, "%s: profile: unknown subcommand '%s'\n", wh_log_prog(), sub);
        profile_usage(stderr);
        return WH_EXIT_USAGE;
}
