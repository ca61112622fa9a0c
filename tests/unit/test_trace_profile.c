/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for turning a trace into a profile: the string set, path
 * normalisation, glob collapsing of fully read directories, feature
 * inference and merging several runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "../../builder/index.h"
#include "../../builder/profile.h"
#include "../../builder/trace_profile.h"
#include "tap.h"

static void put(struct wh_index *idx, const char *path, enum wh_ftype type,
                const char *link)
{
        struct wh_err err = {0};
        struct wh_entry *e = wh_entry_new(path, type);
        e->mode = type == WH_F_DIR ? 0755 : 0644;
        if (link)
                e->link = strdup(link);
        if (wh_index_put(idx, e, &err) < 0) {
                wh_entry_free(e);
                diag("put %s: %s", path, err.msg);
        }
}

/* The list joined with spaces, for one is_str per case. Caller owns. */
static char *joined(char **v)
{
        size_t n = 1, off = 0;
        for (char **p = v; p && *p; p++)
                n += strlen(*p) + 1;
        char *s = calloc(n, 1);
        for (char **p = v; p && *p; p++) {
                if (p != v)
                        s[off++] = ' ';
                memcpy(s + off, *p, strlen(*p) + 1);
                off += strlen(*p);
        }
        return s;
}

static void test_strset(void)
{
        struct wh_strset s = {0};
        is_int(wh_strset_add(&s, "b"), 0, "first string gets index 0");
        is_int(wh_strset_add(&s, "a"), 1, "second string gets index 1");
        is_int(wh_strset_add(&s, "b"), 0, "a duplicate returns the existing index");
        is_int((int)s.n, 2, "duplicates are not stored");
        is_int((int)wh_strset_find(&s, "a"), 1, "find a");
        is_int((int)wh_strset_find(&s, "c"), -1, "find a missing string");
        char buf[16];
        for (int i = 0; i < 1000; i++) {
                snprintf(buf, sizeof(buf), "k%d", i);
                wh_strset_add(&s, buf);
        }
        is_int((int)s.n, 1002, "the set grows past its first table");
        is_int((int)wh_strset_find(&s, "k999"), 1001, "and still finds what it holds");
        _cleanup_strv_ char **v = wh_strset_sorted(&s);
        is_str(v[0], "a", "sorted copy starts with the smallest");
        is_str(v[1], "b", "then the next");
        wh_strset_release(&s);
        is_int((int)s.n, 0, "release empties the set");
}

static void join_case(const char *base, const char *path, int want_r, const char *want)
{
        char *out = NULL;
        int r = wh_trace_join(base, path, &out);
        is_int(r, want_r, "join(%s, %s) returns %d", base ? base : "NULL", path, want_r);
        if (want)
                is_str(out, want, "join(%s, %s) is %s", base ? base : "NULL", path, want);
        free(out);
}

static void image_case(const char *abs, int want_r, const char *want)
{
        char *out = NULL;
        int r = wh_trace_image_path(abs, &out);
        is_int(r, want_r, "image path of '%s': %d", abs, want_r);
        if (want)
                is_str(out, want, "image path of '%s' is '%s'", abs, want);
        free(out);
}

static void test_paths(void)
{
        join_case("/app", "conf/a", 0, "/app/conf/a");
        join_case("/app", "x/../y", 0, "/app/y");
        join_case("/", "../../etc/passwd", 0, "/etc/passwd");
        join_case("/ignored", "/etc//hosts/", 0, "/etc/hosts");
        join_case(NULL, "relative", -EINVAL, NULL);
        join_case("/app", "", -EINVAL, NULL);

        image_case("/etc/passwd", 1, "etc/passwd");
        image_case("/usr//lib/./x", 1, "usr/lib/x");
        image_case("/proc/self/maps", 0, NULL);
        image_case("/proc", 0, NULL);
        image_case("/sys/fs/cgroup", 0, NULL);
        image_case("/dev/null", 0, NULL);
        image_case("/devices/x", 1, "devices/x");
        image_case("/", 0, NULL);
        image_case("pipe:[1234]", 0, NULL);
        image_case("anon_inode:[eventfd]", 0, NULL);
        image_case("/tmp/x (deleted)", 0, NULL);

        _cleanup_free_ char *e = wh_glob_escape("/a*b[c]?d\\e");
        is_str(e, "/a\\*b\\[c\\]\\?d\\\\e", "glob characters are escaped");
}

static struct wh_index *fixture(void)
{
        struct wh_index *idx = wh_index_new();
        put(idx, "app", WH_F_DIR, NULL);
        put(idx, "app/run.sh", WH_F_REG, NULL);
        put(idx, "app/conf", WH_F_DIR, NULL);
        put(idx, "app/conf/a", WH_F_REG, NULL);
        put(idx, "app/conf/b", WH_F_REG, NULL);
        put(idx, "app/conf/sub", WH_F_DIR, NULL);
        put(idx, "app/conf/sub/c", WH_F_REG, NULL);
        put(idx, "app/data", WH_F_DIR, NULL);
        put(idx, "app/data/greeting", WH_F_REG, NULL);
        put(idx, "app/data/unused", WH_F_REG, NULL);
        put(idx, "app/we*rd", WH_F_REG, NULL);
        put(idx, "app/one", WH_F_DIR, NULL);
        put(idx, "app/one/only", WH_F_REG, NULL);
        put(idx, "app/empty", WH_F_DIR, NULL);
        put(idx, "usr/bin/dash", WH_F_REG, NULL);
        put(idx, "usr/bin/sh", WH_F_SYMLINK, "dash");
        put(idx, "usr/bin/other", WH_F_REG, NULL);
        put(idx, "bin", WH_F_SYMLINK, "usr/bin");
        return idx;
}

static char *keep_of(struct wh_index *idx, const char *const *used, size_t min)
{
        struct wh_strset set = {0};
        for (size_t i = 0; used[i]; i++)
                wh_strset_add(&set, used[i]);
        struct wh_trace_keep_opts ko = {.min_collapse = min};
        struct wh_err err = {0};
        char **keep = NULL;
        int r = wh_trace_keep_list(idx, &set, &ko, &keep, &err);
        wh_strset_release(&set);
        if (r < 0) {
                diag("keep list: %s", err.msg);
                return strdup("(error)");
        }
        char *s = joined(keep);
        wh_strv_free(keep);
        return s;
}

static void test_keep_list(void)
{
        struct wh_index *idx = fixture();
        const char *const used1[] = {"app/run.sh",
                                     "app/conf/a",
                                     "app/conf/b",
                                     "app/conf/sub/c",
                                     "app/data/greeting",
                                     "bin/sh",
                                     "usr/bin/dash",
                                     "app/we*rd",
                                     "app/one/only",
                                     "app/empty",
                                     "app/new/file",
                                     "nowhere/x",
                                     NULL};
        _cleanup_free_ char *k1 = keep_of(idx, used1, 2);
        is_str(k1,
               "/app /app/conf/** /app/data/greeting /app/empty /app/one/only /app/run.sh "
               "/app/we\\*rd /bin/sh /usr/bin/dash /usr/bin/sh",
               "a fully read tree collapses, partial ones and single files stay exact, "
               "a path through a symlink is kept as named, a new file keeps its directory");

        const char *const used5[] = {"app/data", "app/conf/sub", "app/empty", "usr", NULL};
        _cleanup_free_ char *k5 = keep_of(idx, used5, 2);
        is_str(k5, "/app/empty",
               "a listed directory is kept only when nothing but directories is below it "
               "(keeping a directory keeps its tree)");

        const char *const used2[] = {"app/one/only", NULL};
        _cleanup_free_ char *k2 = keep_of(idx, used2, 1);
        is_str(k2, "/app/one/**",
               "with min_collapse 1 a single read file collapses its directory");

        const char *const used3[] = {"usr/bin/dash", "usr/bin/sh", "usr/bin/other", NULL};
        _cleanup_free_ char *k3 = keep_of(idx, used3, 2);
        is_str(k3, "/usr/**", "the topmost fully read directory is the one written");

        const char *const used4[] = {"app/data/greeting", "app/data/unused", "app/conf/a",
                                     NULL};
        _cleanup_free_ char *k4 = keep_of(idx, used4, 2);
        is_str(k4, "/app/conf/a /app/data/**",
               "a directory is not collapsed while a subdirectory's file was not read");
        wh_index_free(idx);
}

static void needs_case(const char *const *used, const char *want, const char *what)
{
        struct wh_strset set = {0};
        for (size_t i = 0; used[i]; i++)
                wh_strset_add(&set, used[i]);
        char **needs = NULL;
        is_int(wh_trace_infer_needs(&set, &needs), 0, "infer needs: %s", what);
        _cleanup_free_ char *s = joined(needs);
        is_str(s, want, "needs: %s", what);
        wh_strv_free(needs);
        wh_strset_release(&set);
}

static void test_needs(void)
{
        const char *const u1[] = {"etc/nsswitch.conf",
                                  "usr/share/zoneinfo/Europe/Paris",
                                  "usr/share/zoneinfo/posixrules",
                                  "usr/lib/locale/C.utf8/LC_CTYPE",
                                  "etc/ssl/certs/ca-certificates.crt",
                                  "usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
                                  "usr/bin/python3",
                                  NULL};
        needs_case(u1, "ca-certificates gconv locale:C.utf8 nss tzdata:Europe/Paris",
                   "each feature from its files, one zone named");
        const char *const u2[] = {"usr/share/zoneinfo/UTC", "usr/share/zoneinfo/Asia/Tokyo",
                                  "lib/x86_64-linux-gnu/libnss_files.so.2", NULL};
        needs_case(u2, "nss tzdata",
                   "two zones keep tzdata whole; an NSS module means nss");
        const char *const u3[] = {"usr/lib/locale/locale-archive", "etc/hosts", NULL};
        needs_case(u3, "", "the locale archive names no locale; plain files no feature");
}

static struct wh_profile *prof(const char *name, const char *const *keep,
                               const char *const *syscalls)
{
        struct wh_profile *p = wh_profile_new();
        p->name = strdup(name);
        for (size_t i = 0; keep[i]; i++)
                wh_strv_add(&p->keep, keep[i]);
        for (size_t i = 0; syscalls && syscalls[i]; i++)
                wh_strv_add(&p->syscalls, syscalls[i]);
        return p;
}

static void test_merge(void)
{
        const char *const k1[] = {"/usr/lib/x", "/app/conf/a", "/app/conf/\\*", "/opt/*.so",
                                  NULL};
        const char *const s1[] = {"read", "openat", NULL};
        const char *const k2[] = {"/app/conf/**", "/b", "/usr/lib/**", NULL};
        const char *const s2[] = {"write", "read", NULL};
        const char *const k3[] = {"/usr/**", NULL};
        struct wh_profile *dst = prof("run1", k1, s1), *src = prof("run2", k2, s2);
        struct wh_profile *third = prof("run3", k3, NULL);
        struct wh_err err = {0};
        is_int(wh_trace_profile_merge(dst, src, &err), 0, "merge two runs");
        _cleanup_free_ char *k = joined(dst->keep);
        is_str(k, "/app/conf/** /b /opt/*.so /usr/lib/**",
               "exact paths (escaped ones too) under a tree glob go; other globs stay");
        _cleanup_free_ char *s = joined(dst->syscalls);
        is_str(s, "openat read write", "syscalls are joined and sorted");
        is_str(dst->name, "run2", "the later run's name wins");
        is_int(wh_trace_profile_merge(dst, third, &err), 0, "merge a third run");
        _cleanup_free_ char *k3s = joined(dst->keep);
        is_str(k3s, "/app/conf/** /b /opt/*.so /usr/**",
               "a wider tree glob absorbs a narrower one");
        wh_profile_free(dst);
        wh_profile_free(src);
        wh_profile_free(third);
}

int main(void)
{
        test_strset();
        test_paths();
        test_keep_list();
        test_needs();
        test_merge();
        return done_testing();
}
