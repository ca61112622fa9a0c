/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.json from bundle_spec: without syscalls there is no
 * linux.seccomp; with them, linux.seccomp allows exactly the expanded list
 * (wh_seccomp_names) on the image's architectures, answers clone3 with
 * ENOSYS unless listed, gives the rest the chosen action, and the process
 * gets noNewPrivileges so the filter is loaded right before exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../builder/bundle_spec.h"
#include "cleanup.h"
#include "json_util.h"
#include "tap.h"

static int rootfs_fd = -1;

/* The config.json for an image of arch (NULL: none given) under opts. */
static json_object *spec(const char *arch, const struct wh_bundle_opts *o, int *ret_r,
                         struct wh_err *err)
{
        json_object *img =
                json_tokener_parse("{\"config\": {\"Entrypoint\": [\"/bin/true\"]}}");
        if (arch)
                json_object_object_add(img, "architecture", json_object_new_string(arch));
        char *text = NULL;
        *ret_r = wh_bundle_config(img, rootfs_fd, o, &text, err);
        json_object_put(img);
        json_object *s = text ? json_tokener_parse(text) : NULL;
        free(text);
        return s;
}

static json_object *path(json_object *o, const char *a, const char *b, const char *c)
{
        const char *keys[] = {a, b, c};
        for (size_t i = 0; o && i < 3 && keys[i]; i++)
                if (!json_object_object_get_ex(o, keys[i], &o))
                        return NULL;
        return o;
}

static char *joined(json_object *a)
{
        size_t len = 1;
        for (size_t i = 0; a && i < json_object_array_length(a); i++)
                len += strlen(json_object_get_string(json_object_array_get_idx(a, i))) + 1;
        char *s = calloc(1, len), *p = s;
        for (size_t i = 0; s && a && i < json_object_array_length(a); i++) {
                const char *e = json_object_get_string(json_object_array_get_idx(a, i));
                p += snprintf(p, len - (size_t)(p - s), "%s%s", i ? "," : "", e);
        }
        return s;
}

static int nnp(json_object *s)
{
        return json_object_get_boolean(path(s, "process", "noNewPrivileges", NULL));
}

static void test_no_filter(void)
{
        struct wh_err err = {0};
        struct wh_bundle_opts o = {.relaxed = 1};
        int r;
        json_object *s = spec("amd64", &o, &r, &err);
        is_int(r, 0, "a config without syscalls");
        ok(s && path(s, "linux", NULL, NULL), "has a linux section");
        ok(path(s, "linux", "seccomp", NULL) == NULL, "and no linux.seccomp");
        ok(!nnp(s), "relaxed: new privileges allowed");
        json_object_put(s);
}

static void test_allowlist(void)
{
        struct wh_err err = {0};
        static const char *const list[] = {"socket", "mkdir", "socket", NULL};
        struct wh_bundle_opts o = {.relaxed = 1, .syscalls = (char *const *)list};
        int r;
        json_object *s = spec("amd64", &o, &r, &err);
        is_int(r, 0, "a config with syscalls");
        json_object *sc = path(s, "linux", "seccomp", NULL);
        ok(sc != NULL, "has linux.seccomp");
        is_str(json_object_get_string(path(sc, "defaultAction", NULL, NULL)),
               "SCMP_ACT_ERRNO", "the rest fails ...");
        is_int(json_object_get_int(path(sc, "defaultErrnoRet", NULL, NULL)), EPERM,
               "... with EPERM");
        _cleanup_free_ char *arches = joined(path(sc, "architectures", NULL, NULL));
        is_str(arches, "SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32",
               "amd64's architectures");
        json_object *rules = path(sc, "syscalls", NULL, NULL);
        is_int(rules ? json_object_array_length(rules) : 0, 2,
               "two rules: the allowlist and clone3");
        json_object *allow = json_object_array_get_idx(rules, 0);
        is_str(json_object_get_string(path(allow, "action", NULL, NULL)), "SCMP_ACT_ALLOW",
               "the first allows");
        char **want = NULL;
        is_int(wh_seccomp_names(list, NULL, &want, &err), 0, "the expanded list");
        _cleanup_free_ char *got_names = joined(path(allow, "names", NULL, NULL));
        json_object *wj = wh_json_from_strv(want);
        _cleanup_free_ char *want_names = joined(wj);
        json_object_put(wj);
        wh_strv_free(want);
        is_str(got_names, want_names, "the names are the expanded, sorted list");
        ok(got_names && strstr(got_names, "mkdir") && strstr(got_names, "execve,") &&
                   strstr(got_names, "socket"),
           "with the list's names and the always-allowed ones");
        ok(got_names && !strstr(got_names, "socket,socket"), "each once");
        json_object *c3 = json_object_array_get_idx(rules, 1);
        _cleanup_free_ char *c3_names = joined(path(c3, "names", NULL, NULL));
        is_str(c3_names, "clone3", "the second rule is for clone3");
        is_str(json_object_get_string(path(c3, "action", NULL, NULL)), "SCMP_ACT_ERRNO",
               "clone3 fails ...");
        is_int(json_object_get_int(path(c3, "errnoRet", NULL, NULL)), ENOSYS,
               "... with ENOSYS, so glibc falls back to clone");
        ok(nnp(s), "a filter sets noNewPrivileges even when relaxed");
        json_object_put(s);
}

static void test_variants(void)
{
        struct wh_err err = {0};
        static const char *const with_clone3[] = {"clone3", NULL};
        static const char *const def[] = {"default", NULL};
        static const char *const bad[] = {"getpid", "no_such_call", NULL};
        struct wh_bundle_opts o = {.relaxed = 1, .syscalls = (char *const *)with_clone3};
        int r;

        json_object *s = spec("arm64", &o, &r, &err);
        _cleanup_free_ char *arches = joined(path(s, "linux", "seccomp", "architectures"));
        is_str(arches, "SCMP_ARCH_AARCH64,SCMP_ARCH_ARM", "arm64's architectures");
        json_object *rules = path(s, "linux", "seccomp", "syscalls");
        is_int(rules ? json_object_array_length(rules) : 0, 1,
               "clone3 listed: no ENOSYS rule for it");
        json_object_put(s);

        s = spec(NULL, &o, &r, &err);
        is_int(r, 0, "an image without architecture");
        ok(path(s, "linux", "seccomp", "architectures") == NULL,
           "gets no architectures (the runtime's own)");
        json_object_put(s);

        o = (struct wh_bundle_opts){.syscalls = (char *const *)def,
                                    .seccomp_action = WH_SECCOMP_KILL};
        s = spec("amd64", &o, &r, &err);
        json_object *sc = path(s, "linux", "seccomp", NULL);
        is_str(json_object_get_string(path(sc, "defaultAction", NULL, NULL)),
               "SCMP_ACT_KILL_PROCESS", "kill: the rest kills the process");
        ok(path(sc, "defaultErrnoRet", NULL, NULL) == NULL, "without an errno");
        json_object *names =
                path(json_object_array_get_idx(path(sc, "syscalls", NULL, NULL), 0),
                     "names", NULL, NULL);
        ok(names && json_object_array_length(names) > 250, "default expands (%zu names)",
           names ? json_object_array_length(names) : 0);
        json_object_put(s);

        o = (struct wh_bundle_opts){.syscalls = (char *const *)def,
                                    .seccomp_action = WH_SECCOMP_ERRNO,
                                    .seccomp_errno = ENOSYS};
        s = spec("amd64", &o, &r, &err);
        sc = path(s, "linux", "seccomp", NULL);
        is_int(json_object_get_int(path(sc, "defaultErrnoRet", NULL, NULL)), ENOSYS,
               "errno:38 is the default errno");
        rules = path(sc, "syscalls", NULL, NULL);
        is_int(rules ? json_object_array_length(rules) : 0, 1,
               "and clone3 needs no rule of its own then");
        json_object_put(s);

        o = (struct wh_bundle_opts){.syscalls = (char *const *)def,
                                    .seccomp_action = WH_SECCOMP_LOG};
        s = spec("amd64", &o, &r, &err);
        is_str(json_object_get_string(path(s, "linux", "seccomp", "defaultAction")),
               "SCMP_ACT_LOG", "log: the rest is logged");
        json_object_put(s);

        o = (struct wh_bundle_opts){.syscalls = (char *const *)bad};
        s = spec("amd64", &o, &r, &err);
        is_int(r, -EINVAL, "an unknown syscall is an error");
        ok(strstr(err.msg, "'no_such_call'") != NULL, "naming it: %s", err.msg);
        ok(s == NULL, "and no config is returned");
}

int main(void)
{
        char dir[] = "/tmp/test_bundle_spec.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        rootfs_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        test_no_filter();
        test_allowlist();
        test_variants();
        close(rootfs_fd);
        rmdir(dir);
        return done_testing();
}
