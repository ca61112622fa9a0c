/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/: numbers, paths, errors, digests, JSON and string-vector helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "err.h"
#include "fs_util.h"
#include "json_util.h"
#include "parse_num.h"
#include "path_safe.h"
#include "sha256.h"
#include "strv.h"
#include "tap.h"

static void test_parse_num(void)
{
        int64_t v = 7;
        is_int(wh_parse_i64("42", 0, 100, &v), 0, "parse 42");
        is_int(v, 42, "value 42");
        is_int(wh_parse_i64("", 0, 100, &v), -EINVAL, "empty refused");
        is_int(wh_parse_i64("12x", 0, 100, &v), -EINVAL, "trailing junk refused");
        is_int(wh_parse_i64(" 1", 0, 100, &v), -EINVAL, "leading space refused");
        is_int(wh_parse_i64("101", 0, 100, &v), -ERANGE, "over max refused");
        is_int(wh_parse_i64("99999999999999999999", INT64_MIN, INT64_MAX, &v), -ERANGE,
               "overflow refused");
        is_int(v, 42, "value untouched on failure");
        uint64_t u;
        is_int(wh_parse_u64("-1", UINT64_MAX, &u), -EINVAL, "negative unsigned refused");
        unsigned m;
        is_int(wh_parse_mode("1777", &m), 0, "mode 1777");
        is_int(m, 01777, "mode value");
        is_int(wh_parse_mode("8", &m), -EINVAL, "non-octal mode refused");
        is_int(wh_parse_mode("17777", &m), -ERANGE, "mode too large");
}

static void clean_case(const char *in, unsigned flags, int want_r, const char *want)
{
        _cleanup_free_ char *out = NULL;
        int r = wh_path_clean(in, flags, &out);
        is_int(r, want_r, "clean '%s' returns %d", in, want_r);
        if (want_r == 0)
                is_str(out, want, "clean '%s' = '%s'", in, want);
}

static void test_path_clean(void)
{
        clean_case("usr/bin/sh", 0, 0, "usr/bin/sh");
        clean_case("./usr//bin/./sh/", 0, 0, "usr/bin/sh");
        clean_case("./", 0, 0, "");
        clean_case("/etc/passwd", 0, -EINVAL, NULL);
        clean_case("/etc/passwd", WH_PATH_ALLOW_ABS, 0, "etc/passwd");
        clean_case("a/../../etc", 0, -EINVAL, NULL);
        clean_case("a/../../etc", WH_PATH_ALLOW_DOTDOT, 0, "etc");
        clean_case("/../../..", WH_PATH_ALLOW_ABS | WH_PATH_ALLOW_DOTDOT, 0, "");
        clean_case("a/..b/c", 0, 0, "a/..b/c");
        ok(wh_path_has_prefix("usr/lib/x", "usr/lib"), "prefix dir");
        ok(!wh_path_has_prefix("usr/lib64/x", "usr/lib"), "prefix needs a separator");
        ok(wh_path_has_prefix("usr/lib", "usr/lib"), "prefix equal");
        ok(wh_path_has_prefix("x", ""), "root is prefix of all");
}

/* Writes text to dir/rel (whose parent exists). */
static int put(int dir, const char *rel, const char *text)
{
        _cleanup_close_ int f = openat(dir, rel, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        return f >= 0 && write(f, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * A tree with symlinks escaping the root: both resolvers must stay inside
 * it, and rm -rf must not follow them. The directory link points at a
 * decoy of our own, never at the host's /.
 */
static void test_open_in_root(void)
{
        char tmpl[] = "/tmp/wh-test-XXXXXX", decoy[] = "/tmp/wh-decoy-XXXXXX";
        ok(mkdtemp(tmpl) != NULL && mkdtemp(decoy) != NULL, "mkdtemp");
        _cleanup_close_ int root = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int out = open(decoy, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ok(root >= 0 && out >= 0, "open root and decoy");
        ok(mkdirat(out, "etc", 0755) == 0 && put(out, "etc/passwd", "outside\n") == 0,
           "decoy etc/passwd");
        /* The decoy's path, recreated inside the root: /tmp/wh-decoy-X/etc. */
        char inner[64];
        snprintf(inner, sizeof(inner), "%s/etc", decoy + 1);
        ok(mkdirat(root, "etc", 0755) == 0 && mkdirat(root, "tmp", 0755) == 0 &&
                   mkdirat(root, decoy + 1, 0755) == 0 && mkdirat(root, inner, 0755) == 0,
           "mkdir etc and the decoy's path inside");
        snprintf(inner, sizeof(inner), "%s/etc/passwd", decoy + 1);
        ok(put(root, "etc/passwd", "inside\n") == 0 && put(root, inner, "inside\n") == 0,
           "write etc/passwd inside");
        ok(symlinkat("/etc/passwd", root, "abs") == 0, "abs symlink");
        ok(symlinkat("../../../../etc/passwd", root, "rel") == 0, "dotdot symlink");
        ok(symlinkat(decoy, root, "rootlink") == 0, "directory symlink out of the root");

        const char *paths[] = {"abs", "rel", "rootlink/etc/passwd", "/etc/../../etc/passwd"};
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
                for (int walk = 0; walk < 2; walk++) {
                        int fd = walk ? wh_open_in_root_walk(root, paths[i], O_RDONLY, 0)
                                      : wh_open_in_root(root, paths[i], O_RDONLY, 0);
                        char buf[16] = {0};
                        ok(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 7 &&
                                   !strcmp(buf, "inside\n"),
                           "%s '%s' stays inside the root", walk ? "walk" : "openat2",
                           paths[i]);
                        if (fd >= 0)
                                close(fd);
                }
        }
        int fd = wh_open_in_root_walk(root, "abs", O_RDONLY | O_NOFOLLOW, 0);
        ok(fd == -ELOOP, "walk with O_NOFOLLOW refuses a final symlink (%d)", fd);
        if (fd >= 0)
                close(fd);
        _cleanup_close_ int parent = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        const char *base = strrchr(tmpl, '/') + 1;
        is_int(wh_rm_rf_at(parent, base), 0, "rm -rf the tree");
        struct stat st;
        ok(stat(tmpl, &st) < 0 && errno == ENOENT, "tree gone");
        char buf[16] = {0};
        _cleanup_close_ int d = openat(out, "etc/passwd", O_RDONLY | O_CLOEXEC);
        ok(d >= 0 && read(d, buf, sizeof(buf) - 1) == 8 && !strcmp(buf, "outside\n"),
           "rm -rf did not follow the link: the decoy is untouched");
        is_int(wh_rm_rf_at(AT_FDCWD, decoy), 0, "remove the decoy");
}

static void test_err(void)
{
        struct wh_err err = {0};
        int r = wh_fail(&err, ENOENT, "open '%s'", "x");
        is_int(r, -ENOENT, "wh_fail returns -errno");
        r = wh_fail_ctx(&err, r, "layer %s", "sha256:ab");
        is_str(err.msg, "layer sha256:ab: open 'x': No such file or directory",
               "context is prepended");
        wh_failx(&err, EINVAL, "bad %d", 3);
        is_str(err.msg, "bad 3", "failx has no errno text");
        is_int(wh_fail(NULL, EIO, "x"), -EIO, "NULL err still returns the code");
        /* Contexts that outgrow the message end in "..." instead of being cut silently. */
        char part[400];
        memset(part, 'a', sizeof(part) - 1);
        part[sizeof(part) - 1] = '\0';
        wh_failx(&err, EINVAL, "deep");
        for (int i = 0; i < 8; i++)
                wh_fail_ctx(&err, -EINVAL, "%s", part);
        ok(strlen(err.msg) == WH_ERR_MAX - 1 && !strcmp(err.msg + WH_ERR_MAX - 4, "..."),
           "an overlong chain of contexts ends in '...'");
}

static void test_sha256(void)
{
        char d[WH_DIGEST_STR];
        wh_sha256_digest("abc", 3, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "sha256(abc)");
        ok(wh_digest_valid(d), "digest valid");
        ok(!wh_digest_valid("sha256:BA78"), "short/uppercase digest invalid");
        ok(!wh_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
           "other algorithm refused");
}

static void test_json(void)
{
        struct wh_err err = {0};
        json_object *o = NULL;
        const char *txt = "{\n  \"a\": 1,\n  \"b\": [\"x\", 2]\n  \"c\": 3}";
        ok(wh_json_parse(txt, strlen(txt), "doc", &o, &err) < 0, "syntax error refused");
        ok(strstr(err.msg, "line 4") != NULL, "syntax error names the line: %s", err.msg);
        txt = "{\"a\": 1} x";
        ok(wh_json_parse(txt, strlen(txt), "doc", &o, &err) < 0 &&
                   strstr(err.msg, "column 10"),
           "trailing data refused at its column: %s", err.msg);
        txt = "{\"a\": 1, \"b\": [\"x\", 2], \"s\": \"t\"}";
        ok(wh_json_parse(txt, strlen(txt), "doc", &o, &err) == 0, "valid doc parses");
        char **v = NULL;
        ok(wh_json_get_strv(o, "doc", "b", 1, &v, &err) < 0 && strstr(err.msg, "doc.b[1]"),
           "wrong element type names the index: %s", err.msg);
        const char *s = NULL;
        ok(wh_json_get_string(o, "doc", "a", 1, &s, &err) < 0 && strstr(err.msg, "doc.a"),
           "wrong type names the field");
        ok(wh_json_get_string(o, "doc", "s", 1, &s, &err) == 0 && !strcmp(s, "t"),
           "string field");
        ok(wh_json_get_string(o, "doc", "zz", 1, &s, &err) < 0 && strstr(err.msg, "missing"),
           "missing required field");
        json_object_put(o);

        txt = "{\"big\": 18446744073709551615, \"neg\": -1, \"f\": 1.5}";
        ok(wh_json_parse(txt, strlen(txt), "doc", &o, &err) == 0, "uint64 doc parses");
        uint64_t u = 7;
        ok(wh_json_get_uint64(o, "doc", "big", 1, &u, &err) == 0 && u == UINT64_MAX,
           "uint64: UINT64_MAX");
        ok(wh_json_get_uint64(o, "doc", "neg", 1, &u, &err) < 0 &&
                   strstr(err.msg, "doc.neg: must not be negative"),
           "uint64: negative refused: %s", err.msg);
        ok(wh_json_get_uint64(o, "doc", "f", 1, &u, &err) < 0 &&
                   strstr(err.msg, "expected an unsigned integer"),
           "uint64: a fraction refused: %s", err.msg);
        u = 7;
        ok(wh_json_get_uint64(o, "doc", "none", 0, &u, &err) == 0 && u == 7,
           "uint64: missing optional key leaves the value");
        json_object_put(o);
}

static void test_strv(void)
{
        _cleanup_strv_ char **v = NULL;
        ok(wh_strv_len(v) == 0, "strv: NULL is empty");
        ok(wh_strv_push_dup(&v, "b") == 0 && wh_strv_push_n(&v, "axyz", 1) == 0 &&
                   wh_strv_push(&v, strdup("c")) == 0,
           "strv: push a copy, a prefix and an owned string");
        ok(wh_strv_len(v) == 3 && !strcmp(v[1], "a") && v[3] == NULL, "strv: 3, terminated");
        ok(wh_strv_add(&v, "a") == 0 && wh_strv_len(v) == 3, "strv: add skips a duplicate");
        ok(wh_strv_add(&v, "d") == 1 && !strcmp(v[3], "d"), "strv: add appends a new one");
        wh_strv_sort(v);
        ok(!strcmp(v[0], "a") && !strcmp(v[1], "b") && !strcmp(v[3], "d"), "strv: sorted");
        _cleanup_strv_ char **c = NULL;
        ok(wh_strv_dup(v, &c) == 0 && c != v && wh_strv_len(c) == 4 && c[0] != v[0] &&
                   !strcmp(c[2], "c"),
           "strv: dup copies strings");
        ok(wh_strv_replace(&c, NULL) == 0 && wh_strv_len(c) == 4, "strv: replace by NULL keeps");
        char *one[] = {(char *)"x", NULL};
        ok(wh_strv_replace(&c, one) == 0 && wh_strv_len(c) == 1 && !strcmp(c[0], "x"),
           "strv: replace");
        _cleanup_strv_ char **e = NULL;
        ok(wh_strv_dup(NULL, &e) == 0 && e && !e[0], "strv: dup of NULL is an empty vector");
}

int main(void)
{
        test_parse_num();
        test_path_clean();
        test_open_in_root();
        test_err();
        test_sha256();
        test_json();
        test_strv();
        return done_testing();
}
