/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading profiles: resolving names and files, following "extends" depth
 * first with cycle detection, and the directories names are looked up in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "profile.h"

#define PROFILE_MAX_BYTES (1024 * 1024)
#define EXTENDS_MAX_DEPTH 16

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

struct load_frame {
        char *display; /* the path as shown in messages */
        char *real;    /* realpath, the identity for cycles */
};

struct load_state {
        const char *const *search_dirs;
        struct load_frame stack[EXTENDS_MAX_DEPTH];
        size_t depth;
        char **done; /* realpaths already merged: a diamond merges its base once */
};

static int is_file_ref(const char *s)
{
        size_t n = strlen(s);
        return strchr(s, '/') || (n >= 5 && strcmp(s + n - 5, ".json") == 0);
}

/* 0 for a regular file (symlinks followed: profiles are the user's files), else -errno. */
static int stat_regular(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

static int is_regular(const char *path)
{
        return stat_regular(path) == 0;
}

/* The directory part of a display path, or NULL for a bare file name. */
static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

static int join(const char *dir, const char *name, const char *suffix, char **ret)
{
        if (!dir || name[0] == '/' || strcmp(dir, ".") == 0)
                return asprintf(ret, "%s%s", name, suffix) < 0 ? -ENOMEM : 0;
        return asprintf(ret, "%s%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name, suffix) < 0
                       ? -ENOMEM
                       : 0;
}

/*
 * Finds the file for ref: a file reference is taken relative to base_dir
 * (the extending file's directory, or the cwd at the top); a name is
 * NAME.json in base_dir, then in each search dir.
 */
static int resolve_ref(const char *ref, const char *base_dir, const char *const *dirs,
                       char **ret, struct wh_err *err)
{
        _cleanup_free_ char *path = NULL;
        if (is_file_ref(ref)) {
                if (join(base_dir, ref, "", &path) < 0)
                        return wh_fail(err, ENOMEM, "profile '%s'", ref);
                int r = stat_regular(path);
                if (r < 0)
                        return wh_fail(err, -r, "profile '%s'", path);
                *ret = TAKE_PTR(path);
                return 0;
        }
        int r = wh_profile_name_check(ref, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "profile '%.64s'", ref);
        if (base_dir) {
                if (join(base_dir, ref, ".json", &path) < 0)
                        return wh_fail(err, ENOMEM, "profile '%s'", ref);
                if (is_regular(path)) {
                        *ret = TAKE_PTR(path);
                        return 0;
                }
        }
        char searched[1024] = "";
        size_t o = 0;
        for (size_t i = 0; dirs && dirs[i]; i++) {
                free(path);
                path = NULL;
                if (join(dirs[i], ref, ".json", &path) < 0)
                        return wh_fail(err, ENOMEM, "profile '%s'", ref);
                if (is_regular(path)) {
                        *ret = TAKE_PTR(path);
                        return 0;
                }
                if (o < sizeof(searched))
                        o += (size_t)snprintf(searched + o, sizeof(searched) - o, "%s%s",
                                              i ? ", " : "", dirs[i]);
        }
        if (base_dir)
                return wh_failx(err, ENOENT, "profile '%s' not found (searched %s%s%s)",
                                ref, base_dir, o ? ", " : "", searched);
        return wh_failx(err, ENOENT, "profile '%s' not found (searched %s)", ref,
                        o ? searched : "no directories");
}

static int cycle_error(const struct load_state *st, size_t from, const char *display,
                       struct wh_err *err)
{
        char buf[1024];
        size_t o = 0;
        for (size_t i = from; i < st->depth && o < sizeof(buf); i++)
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s -> ",
                                      st->stack[i].display);
        if (o < sizeof(buf))
                snprintf(buf + o, sizeof(buf) - o, "%s", display);
        return wh_failx(err, ELOOP, "extends cycle: %s", buf);
}

static int load_rec(struct load_state *st, const char *display, struct wh_profile *acc,
                    struct wh_profile **ret_top, struct wh_err *err);

static int load_parents(struct load_state *st, const struct wh_profile *p,
                        const char *display, struct wh_profile *acc, struct wh_err *err)
{
        _cleanup_free_ char *dir = dir_of(display);
        if (!dir)
                return wh_fail(err, ENOMEM, "%s", display);
        for (size_t i = 0; p->extends[i]; i++) {
                _cleanup_free_ char *path = NULL;
                int r = resolve_ref(p->extends[i], dir, st->search_dirs, &path, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "%s: extends[%zu]", display, i);
                r = load_rec(st, path, acc, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_rec(struct load_state *st, const char *display, struct wh_profile *acc,
                    struct wh_profile **ret_top, struct wh_err *err)
{
        _cleanup_free_ char *real = realpath(display, NULL);
        if (!real)
                return wh_fail(err, errno, "%s", display);
        for (size_t i = 0; i < st->depth; i++)
                if (strcmp(st->stack[i].real, real) == 0)
                        return cycle_error(st, i, display, err);
        for (size_t i = 0; st->done && st->done[i]; i++)
                if (strcmp(st->done[i], real) == 0)
                        return 0;
        if (st->depth >= EXTENDS_MAX_DEPTH)
                return wh_failx(err, ELOOP, "%s: extends nested more than %d deep", display,
                                EXTENDS_MAX_DEPTH);

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = wh_read_file_at(AT_FDCWD, real, PROFILE_MAX_BYTES, &text, &len, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "%s", display);
        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
        r = wh_profile_parse(text, len, display, &p, NULL, err);
        if (r < 0)
                return r;

        st->stack[st->depth].display = (char *)display;
        st->stack[st->depth].real = real;
        st->depth++;
        r = load_parents(st, p, display, acc, err);
        st->depth--;
        if (r < 0)
                return r;

        if (wh_strv_add(&p->sources, display) < 0 || wh_strv_add(&st->done, real) < 0)
                return wh_fail(err, ENOMEM, "%s", display);
        r = wh_profile_merge(acc, p, err);
        if (r < 0)
                return r;
        if (ret_top)
                *ret_top = TAKE_PTR(p);
        return 0;
}

int wh_profile_load(const char *name_or_file, const char *const *search_dirs,
                    struct wh_profile **ret, struct wh_err *err)
{
        _cleanup_free_ char *path = NULL;
        int r = resolve_ref(name_or_file, NULL, search_dirs, &path, err);
        if (r < 0)
                return r;
        _cleanup_(wh_profile_freep) struct wh_profile *acc = wh_profile_new();
        if (!acc)
                return wh_fail(err, ENOMEM, "%s", path);
        struct load_state st = {.search_dirs = search_dirs};
        _cleanup_(wh_profile_freep) struct wh_profile *top = NULL;
        r = load_rec(&st, path, acc, &top, err);
        wh_strv_free(st.done);
        if (r < 0)
                return r;
        wh_strv_free(acc->extends);
        acc->extends = TAKE_PTR(top->extends);
        *ret = TAKE_PTR(acc);
        return 0;
}

/* ---- search directories ---- */

static int add_dir(char ***dirs, const char *dir)
{
        _cleanup_free_ char *real = realpath(dir, NULL);
        struct stat st;
        if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        return wh_strv_add(dirs, real) < 0 ? -ENOMEM : 0;
}

int wh_profile_search_dirs(char ***ret)
{
        _cleanup_strv_ char **dirs = calloc(1, sizeof(char *));
        if (!dirs)
                return -ENOMEM;
        const char *env = getenv("WHITTLE_PROFILE_PATH");
        if (env) {
                _cleanup_free_ char *copy = strdup(env);
                if (!copy)
                        return -ENOMEM;
                char *save = NULL;
                for (char *d = strtok_r(copy, ":", &save); d;
                     d = strtok_r(NULL, ":", &save))
                        if (add_dir(&dirs, d) < 0)
                                return -ENOMEM;
        }
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        if (exe) {
                _cleanup_free_ char *bindir = dir_of(exe);
                _cleanup_free_ char *a = NULL, *b = NULL;
                if (!bindir || join(bindir, "../profiles", "", &a) < 0 ||
                    join(bindir, "../../profiles", "", &b) < 0)
                        return -ENOMEM;
                if (add_dir(&dirs, a) < 0 || add_dir(&dirs, b) < 0)
                        return -ENOMEM;
        }
#ifdef WH_PROFILE_DIR
        if (add_dir(&dirs, WH_PROFILE_DIR) < 0)
                return -ENOMEM;
#endif
        int n = 0;
        while (dirs[n])
                n++;
        *ret = TAKE_PTR(dirs);
        return n;
}

int wh_profile_load_merged(char *const *names, struct wh_profile **ret, struct wh_err *err)
{
        _cleanup_strv_ char **dirs = NULL;
        int r = wh_profile_search_dirs(&dirs);
        if (r < 0)
                return wh_fail(err, -r, "profile search path");
        _cleanup_(wh_profile_freep) struct wh_profile *merged = wh_profile_new();
        if (!merged)
                return wh_fail(err, ENOMEM, "profile");
        for (char *const *p = names; p && *p; p++) {
                _cleanup_(wh_profile_freep) struct wh_profile *one = NULL;
                if ((r = wh_profile_load(*p, (const char *const *)dirs, &one, err)) < 0 ||
                    (r = wh_profile_merge(merged, one, err)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(merged);
        return 0;
}
