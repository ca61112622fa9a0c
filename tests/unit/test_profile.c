/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for builder/profile.c: parsing, errors, merging, extends, shipped profiles. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "err.h"
#include "fs_util.h"
#include "../../builder/profile.h"
#include "tap.h"

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

static char tmpdir[] = "/tmp/wh-test-profile-XXXXXX";

static struct wh_profile *parse_ok(const char *text)
{
        struct wh_err err = {0};
        struct wh_profile *p = NULL;
        int r = wh_profile_parse(text, strlen(text), "t.json", &p, NULL, &err);
        if (!ok(r == 0, "parses: %.60s", text))
                diag("error: %s", err.msg);
        return p;
}

/* The full error message for a document that must fail. */
static void parse_fails(const char *text, const char *want)
{
        struct wh_err err = {0};
        struct wh_profile *p = NULL;
        int r = wh_profile_parse(text, strlen(text), "t.json", &p, NULL, &err);
        ok(r < 0 && p == NULL, "refused: %.60s", text);
        is_str(err.msg, want, "message for %.50s", text);
        wh_profile_free(p);
}

static size_t strv_count(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static void test_parse_minimal(void)
{
        _cleanup_(wh_profile_freep) struct wh_profile *p = parse_ok("{\"name\": \"x\"}");
        if (!p)
                return;
        is_str(p->name, "x", "name");
        ok(p->keep && !p->keep[0] && p->drop && !p->drop[0] && p->needs && !p->needs[0] &&
                   p->env && !p->env[0] && p->extends && !p->extends[0],
           "lists empty, not NULL");
        ok(!p->entrypoint && !p->cmd && !p->user && !p->workdir && !p->description &&
                   !p->syscalls && !p->smoke_cmd && !p->smoke_expect,
           "optional fields unset");
}

static void test_parse_full(void)
{
        const char *doc =
                "{\"name\":\"app.v2\",\"description\":\"d\",\"extends\":\"base\","
                "\"entrypoint\":[\"/bin/app\",\"-x\"],\"cmd\":[\"a\",\"a\"],"
                "\"keep\":[\"/usr//lib/\",\"/usr/lib\",\"/app/**\",\"/usr/bin/\\\\[\","
                "\"/x/[!a-c]?\"],"
                "\"drop\":[\"/app/**/*.md\"],\"needs\":[\"nss\",\"locale:en_US.UTF-8\","
                "\"tzdata:Europe/Paris\",\"nss\"],\"env\":[\"A=1\",\"B_2=x=y\",\"C=\"],"
                "\"user\":\"1000:1000\",\"workdir\":\"/srv/./app/\",\"syscalls\":[\"read\","
                "\"write\",\"read\"],\"smoke\":{\"cmd\":[\"/bin/app\"],\"expect\":\"hi\"}}";
        _cleanup_(wh_profile_freep) struct wh_profile *p = parse_ok(doc);
        if (!p)
                return;
        is_str(p->name, "app.v2", "name with . allowed");
        is_str(p->extends[0], "base", "extends as a string");
        is_int(strv_count(p->extends), 1, "one extends");
        is_int(strv_count(p->entrypoint), 2, "entrypoint");
        is_int(strv_count(p->cmd), 2, "cmd keeps duplicates");
        is_int(strv_count(p->keep), 4, "keep: normalised duplicates dropped");
        is_str(p->keep[0], "/usr/lib", "keep normalised");
        is_str(p->keep[2], "/usr/bin/\\[", "escaped '[' kept as written");
        is_int(strv_count(p->needs), 3, "needs deduplicated");
        is_str(p->needs[2], "tzdata:Europe/Paris", "feature argument with '/'");
        is_str(p->env[1], "B_2=x=y", "env value with '='");
        is_str(p->user, "1000:1000", "user");
        is_str(p->workdir, "/srv/app", "workdir normalised");
        is_int(strv_count(p->syscalls), 2, "syscalls deduplicated");
        is_str(p->smoke_cmd[0], "/bin/app", "smoke cmd");
        is_str(p->smoke_expect, "hi", "smoke expect");

        _cleanup_(wh_profile_freep) struct wh_profile *d = parse_ok(
                "{\"name\":\"d\",\"syscalls\":\"default\",\"smoke\":{\"cmd\":[]}}");
        if (d) {
                ok(d->syscalls && !strcmp(d->syscalls[0], "default") && !d->syscalls[1],
                   "syscalls default");
                ok(d->smoke_cmd && !d->smoke_cmd[0] && !d->smoke_expect,
                   "empty smoke cmd: the image's own");
        }
}

static void test_parse_errors(void)
{
        parse_fails("{\"name\":\"x\",\"kep\":[]}",
                    "t.json: unknown field 'kep' (did you mean 'keep'?)");
        parse_fails("{\"name\":\"x\",\"entrypiont\":[]}",
                    "t.json: unknown field 'entrypiont' (did you mean 'entrypoint'?)");
        parse_fails(
                "{\"name\":\"x\",\"zzz\":1}",
                "t.json: unknown field 'zzz' (known: name, description, extends, "
                "entrypoint, cmd, keep, drop, needs, env, user, workdir, syscalls, smoke)");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/a\",\"/b\",\"/c\",\"usr/lib\"]}",
                    "t.json: keep[3]: expected an absolute path or glob starting with '/'");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/usr/../etc/shadow\"]}",
                    "t.json: keep[0]: '..' is not allowed in paths");
        parse_fails("{\"name\":\"x\",\"drop\":[\"/a/..\"]}",
                    "t.json: drop[0]: '..' is not allowed in paths");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/usr/bin/[\"]}",
                    "t.json: keep[0]: unterminated '[' in glob (write '\\[' for a literal "
                    "'[')");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/usr/lib**\"]}",
                    "t.json: keep[0]: '**' must be a whole path component");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/a\\tb\"]}",
                    "t.json: keep[0]: control character in path");
        parse_fails("{\"name\":\"x\",\"keep\":\"/usr\"}",
                    "t.json: keep: expected an array of strings");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/a\",7]}",
                    "t.json: keep[1]: expected a string");
        parse_fails("{\"name\":\"x\",\"needs\":[\"nss\",\"ns\"]}",
                    "t.json: needs[1]: unknown feature 'ns' (did you mean 'nss'?)");
        parse_fails("{\"name\":\"x\",\"needs\":[\"tz\"]}",
                    "t.json: needs[0]: unknown feature 'tz' (did you mean 'tzdata'?)");
        parse_fails("{\"name\":\"x\",\"needs\":[\"tzdata:../../etc/shadow\"]}",
                    "t.json: needs[0]: feature 'tzdata': argument '../../etc/shadow': '.' "
                    "and '..' are not allowed");
        parse_fails("{\"name\":\"x\",\"needs\":[\"locale:\"]}",
                    "t.json: needs[0]: feature 'locale': empty argument after ':'");
        parse_fails(
                "{\"name\":\"x\",\"needs\":[\"tzdata:/etc/x\"]}",
                "t.json: needs[0]: feature 'tzdata': argument '/etc/x' is not a relative "
                "name");
        parse_fails("{\"name\":\"x\",\"env\":[\"A=1\",\"DEBUG\"]}",
                    "t.json: env[1]: expected NAME=value, got 'DEBUG'");
        parse_fails("{\"name\":\"x\",\"env\":[\"1A=1\"]}",
                    "t.json: env[0]: '1A' is not a valid variable name");
        parse_fails("{\"name\":\"x\",\"env\":[\"A=1\",\"A=2\"]}",
                    "t.json: env[1]: variable 'A' set twice");
        parse_fails("{\"name\":\"x\",\"workdir\":\"app\"}",
                    "t.json: workdir: expected an absolute path starting with '/'");
        parse_fails("{\"name\":\"x\",\"user\":\"a b\"}",
                    "t.json: user: expected USER or USER:GROUP");
        parse_fails("{\"name\":\"x\",\"user\":\"a:b:c\"}",
                    "t.json: user: expected USER or USER:GROUP");
        parse_fails("{\"description\":\"no name\"}",
                    "t.json: name: missing (every profile needs a name)");
        parse_fails(
                "{\"name\":\"Big\"}",
                "t.json: name: 'Big' is not a valid name ([a-z0-9][a-z0-9._-]*, at most 64 "
                "characters)");
        parse_fails("{\"name\":\"x\",\"syscalls\":\"all\"}",
                    "t.json: syscalls: expected \"default\" or an array of syscall names");
        parse_fails("{\"name\":\"x\",\"syscalls\":[\"read\",\"default\"]}",
                    "t.json: syscalls[1]: 'default' is only valid as the whole value");
        parse_fails("{\"name\":\"x\",\"syscalls\":[\"Read\"]}",
                    "t.json: syscalls[0]: 'Read' is not a syscall name ([a-z0-9_]+)");
        parse_fails("{\"name\":\"x\",\"smoke\":{\"cmd\":[\"/x\"],\"expct\":\"ok\"}}",
                    "t.json: smoke: unknown field 'expct' (did you mean 'expect'?)");
        parse_fails("{\"name\":\"x\",\"smoke\":{\"expect\":\"ok\"}}",
                    "t.json: smoke.cmd: missing");
        parse_fails("{\"name\":\"x\",\"smoke\":{\"cmd\":[\"\"]}}",
                    "t.json: smoke.cmd[0]: the program must not be empty");
        parse_fails("{\"name\":\"x\",\"smoke\":[]}",
                    "t.json: smoke: expected an object with cmd and expect");
        parse_fails("{\"name\":\"x\",\"extends\":7}",
                    "t.json: extends: expected a profile name or an array of names");
        parse_fails("{\"name\":\"x\",\"extends\":[\"\"]}",
                    "t.json: extends[0]: expected a profile name or file");
        parse_fails("[1]", "t.json: expected a JSON object");
        parse_fails("{\"name\":\"x\",\"keep\":[\"/a\\u0000b\"]}",
                    "t.json: keep[0]: string contains a NUL byte");

        /* Syntax errors carry line and column. */
        const char *bad = "{\n  \"name\": \"x\",\n  \"keep\": [\"/a\",]\n}\n";
        struct wh_err err = {0};
        struct wh_profile *p = NULL;
        ok(wh_profile_parse(bad, strlen(bad), "t.json", &p, NULL, &err) < 0,
           "trailing comma refused");
        ok(strncmp(err.msg, "t.json: invalid JSON at line 3, column ", 39) == 0,
           "syntax error names line 3: %s", err.msg);
}

static void test_feature_check(void)
{
        struct wh_err err = {0};
        for (size_t i = 0; wh_feature_names[i]; i++)
                is_int(wh_feature_check(wh_feature_names[i], &err), 0, "feature %s known",
                       wh_feature_names[i]);
        is_int(wh_feature_check("locale:C.UTF-8", &err), 0, "locale:C.UTF-8");
        is_int(wh_feature_check("nope", &err), -EINVAL, "unknown feature refused");
        ok(strstr(err.msg, "known: nss") != NULL, "unknown feature lists known ones: %s",
           err.msg);
        is_int(wh_feature_check(":x", &err), -EINVAL, "empty feature name refused");
        is_int(wh_feature_check("locale:a b", &err), -EINVAL, "space in argument refused");
}

static void test_merge(void)
{
        _cleanup_(wh_profile_freep) struct wh_profile *dst = parse_ok(
                "{\"name\":\"base\",\"description\":\"base d\",\"user\":\"root\","
                "\"keep\":[\"/a\",\"/b\"],\"needs\":[\"nss\"],\"env\":[\"A=1\",\"B=1\"],"
                "\"cmd\":[\"x\"],\"syscalls\":[\"read\"],"
                "\"smoke\":{\"cmd\":[\"/a\"],\"expect\":\"A\"}}");
        _cleanup_(wh_profile_freep) struct wh_profile *src = parse_ok(
                "{\"name\":\"child\",\"keep\":[\"/b\",\"/c\"],\"needs\":[\"tmp\",\"nss\"],"
                "\"env\":[\"B=2\",\"C=3\"],\"syscalls\":[\"write\",\"read\"],"
                "\"smoke\":{\"cmd\":[\"/c\"]}}");
        if (!dst || !src)
                return;
        struct wh_err err = {0};
        is_int(wh_profile_merge(dst, src, &err), 0, "merge");
        is_str(dst->name, "child", "name: src wins");
        is_str(dst->description, "base d", "description kept when src has none");
        is_str(dst->user, "root", "user kept when src has none");
        ok(dst->cmd && !strcmp(dst->cmd[0], "x"), "cmd kept when src has none");
        is_int(strv_count(dst->keep), 3, "keep appended without duplicates");
        is_str(dst->keep[2], "/c", "keep order: dst then src");
        is_int(strv_count(dst->needs), 2, "needs appended without duplicates");
        is_int(strv_count(dst->env), 3, "env replaced by name");
        is_str(dst->env[1], "B=2", "env B replaced in place");
        is_str(dst->env[2], "C=3", "env C appended");
        is_int(strv_count(dst->syscalls), 2, "syscall lists joined");
        is_str(dst->smoke_cmd[0], "/c", "smoke taken whole");
        ok(dst->smoke_expect == NULL, "smoke expect not inherited from another smoke");

        _cleanup_(wh_profile_freep) struct wh_profile *def =
                parse_ok("{\"name\":\"d\",\"syscalls\":\"default\",\"cmd\":[]}");
        if (!def)
                return;
        is_int(wh_profile_merge(dst, def, &err), 0, "merge default");
        ok(dst->syscalls && !strcmp(dst->syscalls[0], "default") && !dst->syscalls[1],
           "syscalls default replaces a list");
        ok(dst->cmd && !dst->cmd[0], "an empty cmd clears");
        is_int(wh_profile_merge(dst, src, &err), 0, "merge list over default");
        is_int(strv_count(dst->syscalls), 2, "a list replaces default");
        is_str(dst->syscalls[0], "write", "list order from src");
}

static void test_strv_add(void)
{
        _cleanup_strv_ char **v = NULL;
        is_int(wh_strv_add(&v, "a"), 1, "add to NULL");
        is_int(wh_strv_add(&v, "b"), 1, "add b");
        is_int(wh_strv_add(&v, "a"), 0, "duplicate not added");
        is_int(strv_count(v), 2, "two entries");
}

static void write_tmp(const char *name, const char *text)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
                abort();
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

static char *tmp_path(const char *name)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

static void load_fails(const char *what, const char *const *dirs, const char *want)
{
        struct wh_err err = {0};
        struct wh_profile *p = NULL;
        int r = wh_profile_load(what, dirs, &p, &err);
        ok(r < 0 && !p, "load %s refused", what);
        is_str(err.msg, want, "load %s message", what);
        wh_profile_free(p);
}

static void test_load(void)
{
        if (!ok(mkdtemp(tmpdir) != NULL, "temp dir"))
                return;
        _cleanup_free_ char *sub = tmp_path("sub"), *lib = tmp_path("lib");
        if (mkdir(sub, 0755) < 0 || mkdir(lib, 0755) < 0)
                abort();
        write_tmp("lib/root.json",
                  "{\"name\":\"root\",\"user\":\"nobody\",\"keep\":[\"/r\"]}");
        write_tmp("lib/left.json", "{\"name\":\"left\",\"extends\":\"root\",\"user\":"
                                   "\"left\",\"keep\":[\"/l\"]}");
        write_tmp("sub/right.json",
                  "{\"name\":\"right\",\"extends\":[\"root\"],\"keep\":[\"/rt\"]}");
        write_tmp("sub/app.json", "{\"name\":\"app\",\"extends\":[\"left\",\"right.json\"],"
                                  "\"keep\":[\"/app\"],\"needs\":[\"tmp\"]}");
        write_tmp("a.json", "{\"name\":\"a\",\"extends\":\"b\"}");
        write_tmp("b.json", "{\"name\":\"b\",\"extends\":\"./a.json\"}");
        write_tmp("self.json", "{\"name\":\"self\",\"extends\":\"self\"}");
        write_tmp("missing.json", "{\"name\":\"m\",\"extends\":[\"nss\", \"nothere\"]}");
        write_tmp("badchild.json", "{\"name\":\"bc\",\"extends\":\"bad\"}");
        write_tmp("bad.json", "{\"name\":\"bad\",\n\"keep\":[\"rel\"]}");
        write_tmp("nss.json", "{\"name\":\"nss\"}");

        const char *dirs[] = {lib, NULL};
        _cleanup_free_ char *app = tmp_path("sub/app.json");
        struct wh_err err = {0};
        _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
        int r = wh_profile_load(app, dirs, &p, &err);
        if (!ok(r == 0, "load with extends through the search path and a file"))
                diag("%s", err.msg);
        if (p) {
                is_str(p->name, "app", "merged name is the top profile's");
                is_int(strv_count(p->keep), 4, "keep from all four files");
                is_str(p->keep[0], "/r", "root merged first (once)");
                is_str(p->keep[1], "/l", "then left");
                is_str(p->keep[2], "/rt", "then right");
                is_str(p->keep[3], "/app", "then the profile itself");
                is_str(p->user, "left", "diamond: root merged once, left's user stands");
                is_int(strv_count(p->sources), 4, "four sources");
                is_int(strv_count(p->extends), 2, "extends of the top document");
                is_str(p->extends[1], "right.json", "extends as written");
        }

        /* By name, through the search path. */
        _cleanup_(wh_profile_freep) struct wh_profile *byname = NULL;
        is_int(wh_profile_load("left", dirs, &byname, &err), 0, "load by name");

        _cleanup_free_ char *a = tmp_path("a.json"), *b = tmp_path("b.json"),
                            *self = tmp_path("self.json"),
                            *missing = tmp_path("missing.json"),
                            *bc = tmp_path("badchild.json");
        _cleanup_free_ char *want = NULL;
        if (asprintf(&want, "extends cycle: %s -> %s/b.json -> %s/./a.json", a, tmpdir,
                     tmpdir) < 0)
                abort();
        load_fails(a, dirs, want);
        free(TAKE_PTR(want));
        if (asprintf(&want, "extends cycle: %s -> %s/self.json", self, tmpdir) < 0)
                abort();
        load_fails(self, dirs, want);
        free(TAKE_PTR(want));
        if (asprintf(&want, "%s: extends[1]: profile 'nothere' not found (searched %s, %s)",
                     missing, tmpdir, lib) < 0)
                abort();
        load_fails(missing, dirs, want);
        free(TAKE_PTR(want));
        if (asprintf(
                    &want,
                    "%s/bad.json: keep[0]: expected an absolute path or glob starting with "
                    "'/'",
                    tmpdir) < 0)
                abort();
        load_fails(bc, dirs, want);
        free(TAKE_PTR(want));
        if (asprintf(&want, "profile 'nothere' not found (searched %s)", lib) < 0)
                abort();
        load_fails("nothere", dirs, want);
        free(TAKE_PTR(want));
        if (asprintf(&want, "profile '%s': No such file or directory", b) < 0)
                abort();
        unlink(b);
        load_fails(b, dirs, want);
        free(TAKE_PTR(want));
        load_fails(
                "Bad Name", dirs,
                "profile 'Bad Name': 'Bad Name' is not a valid name ([a-z0-9][a-z0-9._-]*, "
                "at most 64 characters)");
}

static void test_search_dirs(void)
{
        _cleanup_free_ char *lib = tmp_path("lib");
        _cleanup_free_ char *env = NULL;
        if (asprintf(&env, "%s/nonexistent::%s", tmpdir, lib) < 0)
                abort();
        setenv("WHITTLE_PROFILE_PATH", env, 1);
        _cleanup_strv_ char **dirs = NULL;
        int n = wh_profile_search_dirs(&dirs);
        ok(n >= 1, "search dirs: %d", n);
        if (n >= 1)
                is_str(dirs[0], lib, "WHITTLE_PROFILE_PATH first, missing dirs skipped");
        /* build/tests/test_profile -> ../../profiles is the source tree's. */
        _cleanup_free_ char *top =
                realpath(getenv("WH_TOP") ? getenv("WH_TOP") : ".", NULL);
        _cleanup_free_ char *want = NULL;
        if (!top || asprintf(&want, "%s/profiles", top) < 0)
                abort();
        int found = 0;
        for (int i = 0; i < n; i++)
                found |= !strcmp(dirs[i], want);
        ok(found, "the source tree's profiles/ is in the search path");
        unsetenv("WHITTLE_PROFILE_PATH");
}

/* Every shipped profile loads, round-trips through JSON, and has a smoke test. */
static void test_shipped(void)
{
        const char *top = getenv("WH_TOP") ? getenv("WH_TOP") : ".";
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/profiles", top) < 0)
                abort();
        const char *dirs[] = {dir, NULL};
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!ok(d != NULL, "open %s", dir))
                return;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                n++;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        abort();
                struct wh_err err = {0};
                _cleanup_(wh_profile_freep) struct wh_profile *p = NULL;
                if (!ok(wh_profile_load(path, dirs, &p, &err) == 0, "shipped %s loads",
                        de->d_name)) {
                        diag("%s", err.msg);
                        continue;
                }
                ok(p->description && *p->description, "%s has a description", de->d_name);
                ok(p->smoke_cmd != NULL, "%s has a smoke test", de->d_name);
                ok(!strncmp(de->d_name, p->name, strlen(p->name)) &&
                           !strcmp(de->d_name + strlen(p->name), ".json"),
                   "%s: name matches the file name", de->d_name);
                _cleanup_free_ char *s = wh_profile_to_string(p, 1);
                _cleanup_(wh_profile_freep) struct wh_profile *q = NULL;
                ok(s && wh_profile_parse(s, strlen(s), "show", &q, NULL, &err) == 0,
                   "%s: its JSON form is a valid profile", de->d_name);
                _cleanup_free_ char *s2 = q ? wh_profile_to_string(q, 1) : NULL;
                is_str(s2, s, "%s: JSON form round-trips", de->d_name);
        }
        ok(n >= 3, "at least three shipped profiles (%d)", n);

        _cleanup_(wh_profile_freep) struct wh_profile *py = NULL;
        struct wh_err err = {0};
        if (wh_profile_load("python3", dirs, &py, &err) == 0) {
                is_str(py->smoke_expect, "ok", "python3 smoke expects ok");
                int ca = 0;
                for (size_t i = 0; py->needs[i]; i++)
                        ca |= !strcmp(py->needs[i], "ca-certificates");
                ok(ca, "python3 needs ca-certificates");
        } else {
                ok(0, "python3 by name: %s", err.msg);
        }
}

int main(void)
{
        test_parse_minimal();
        test_parse_full();
        test_parse_errors();
        test_feature_check();
        test_merge();
        test_strv_add();
        test_load();
        test_search_dirs();
        test_shipped();
        if (tmpdir[sizeof(tmpdir) - 7] != 'X')
                wh_rm_rf_at(AT_FDCWD, tmpdir);
        return done_testing();
}
