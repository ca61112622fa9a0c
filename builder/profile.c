/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workload profiles: parsing and validation of one document, merging, and
 * the JSON form. Loading files and "extends" is in profile_load.c. The format is documented
 * in profiles/README.md; keep the two in step.
 */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"
#include "path_safe.h"
#include "strv.h"

/* Profiles are small hand-written files; the caps keep hostile ones cheap. */
#define PROFILE_MAX_LIST 4096
#define PROFILE_NAME_MAX 64
#define SYSCALL_NAME_MAX 64

static const char *const profile_fields[] = {
        "name",  "description", "extends", "entrypoint", "cmd",      "keep",  "drop",
        "needs", "env",         "user",    "workdir",    "syscalls", "smoke", NULL,
};
static const char *const smoke_fields[] = {"cmd", "expect", NULL};

struct wh_profile *wh_profile_new(void)
{
        struct wh_profile *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->keep = calloc(1, sizeof(char *));
        p->drop = calloc(1, sizeof(char *));
        p->needs = calloc(1, sizeof(char *));
        p->env = calloc(1, sizeof(char *));
        p->extends = calloc(1, sizeof(char *));
        p->sources = calloc(1, sizeof(char *));
        if (!p->keep || !p->drop || !p->needs || !p->env || !p->extends || !p->sources)
                return wh_profile_free(p);
        return p;
}

struct wh_profile *wh_profile_free(struct wh_profile *p)
{
        if (!p)
                return NULL;
        free(p->name);
        free(p->description);
        wh_strv_free(p->entrypoint);
        wh_strv_free(p->cmd);
        wh_strv_free(p->keep);
        wh_strv_free(p->drop);
        wh_strv_free(p->needs);
        wh_strv_free(p->env);
        free(p->user);
        free(p->workdir);
        wh_strv_free(p->syscalls);
        wh_strv_free(p->smoke_cmd);
        free(p->smoke_expect);
        wh_strv_free(p->extends);
        wh_strv_free(p->sources);
        free(p);
        return NULL;
}

WH_DEFINE_CLEANUP(struct wh_profile *, wh_profile_free)

/* Edit distance, for "did you mean" hints; long inputs get no hint. */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        size_t row[65];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = tolower((unsigned char)a[i - 1]) !=
                                      tolower((unsigned char)b[j - 1]);
                        size_t best = diag + cost;
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

/*
 * The known word closest to s: within an edit distance of a third of its
 * length (at least 1), else the only word s is a prefix of. NULL if none.
 */
static const char *nearest(const char *s, const char *const *words)
{
        size_t len = strlen(s), best = SIZE_MAX;
        size_t limit = len / 3 > 1 ? len / 3 : 1;
        const char *hit = NULL, *prefix_hit = NULL;
        int prefixes = 0;
        for (size_t i = 0; words[i]; i++) {
                size_t d = edit_distance(s, words[i]);
                if (d <= limit && d < best) {
                        best = d;
                        hit = words[i];
                }
                if (len >= 2 && strncmp(words[i], s, len) == 0) {
                        prefixes++;
                        prefix_hit = words[i];
                }
        }
        if (hit)
                return hit;
        return prefixes == 1 ? prefix_hit : NULL;
}

/* "did you mean 'x'?" or the list of known words, for an error message. */
static void hint(const char *s, const char *const *words, char *buf, size_t size)
{
        const char *n = nearest(s, words);
        if (n) {
                snprintf(buf, size, "did you mean '%s'?", n);
                return;
        }
        size_t o = (size_t)snprintf(buf, size, "known:");
        for (size_t i = 0; words[i] && o < size; i++)
                o += (size_t)snprintf(buf + o, size - o, "%s %s", i ? "," : "", words[i]);
}

static int has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return 1;
        return 0;
}

int wh_feature_check(const char *spec, struct wh_err *err)
{
        const char *colon = strchr(spec, ':');
        size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
        char name[64];
        if (n == 0)
                return wh_failx(err, EINVAL, "empty feature name");
        if (n >= sizeof(name))
                return wh_failx(err, EINVAL, "unknown feature '%.40s...'", spec);
        memcpy(name, spec, n);
        name[n] = '\0';
        int found = 0;
        for (size_t i = 0; wh_feature_names[i]; i++)
                if (strcmp(wh_feature_names[i], name) == 0)
                        found = 1;
        if (!found) {
                char h[512];
                hint(name, (const char *const *)wh_feature_names, h, sizeof(h));
                return wh_failx(err, EINVAL, "unknown feature '%s' (%s)", name, h);
        }
        if (!colon)
                return 0;
        /* Arguments name files inside the image (zoneinfo, locales). */
        const char *arg = colon + 1;
        if (!*arg)
                return wh_failx(err, EINVAL, "feature '%s': empty argument after ':'",
                                name);
        if (strlen(arg) > 255)
                return wh_failx(err, EINVAL, "feature '%s': argument too long", name);
        for (const char *c = arg; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("._-+@/", *c))
                        return wh_failx(err, EINVAL,
                                        "feature '%s': argument '%s': character '%c' not "
                                        "allowed (letters, digits and ._-+@/ are)",
                                        name, arg, isprint((unsigned char)*c) ? *c : '?');
        if (arg[0] == '/' || strstr(arg, "//"))
                return wh_failx(err, EINVAL,
                                "feature '%s': argument '%s' is not a relative name", name,
                                arg);
        _cleanup_free_ char *clean = NULL;
        if (wh_path_clean(arg, 0, &clean) < 0 || strcmp(clean, arg) != 0)
                return wh_failx(err, EINVAL,
                                "feature '%s': argument '%s': '.' and '..' are not allowed",
                                name, arg);
        return 0;
}

/*
 * Checks one component of a keep/drop glob: '**' only as a whole
 * component, and every '[' closed within it. The matcher would take
 * "lib**" as "lib*" and an open '[' literally; both are more likely typos
 * than intent, and a backslash says "literal" explicitly.
 */
static int check_glob_component(const char *c, size_t len, struct wh_err *err)
{
        for (size_t i = 0; i < len; i++) {
                if (c[i] == '\\') {
                        i++;
                        continue;
                }
                if (c[i] == '*' && i + 1 < len && c[i + 1] == '*' && len != 2)
                        return wh_failx(err, EINVAL, "'**' must be a whole path component");
                if (c[i] != '[')
                        continue;
                size_t j = i + 1;
                if (j < len && (c[j] == '!' || c[j] == '^'))
                        j++;
                if (j < len && c[j] == ']')
                        j++; /* a leading ']' is a member, as in fnmatch */
                while (j < len && c[j] != ']')
                        j += c[j] == '\\' ? 2 : 1;
                if (j >= len)
                        return wh_failx(
                                err, EINVAL,
                                "unterminated '[' in glob (write '\\[' for a literal '[')");
                i = j;
        }
        return 0;
}

/*
 * An absolute path (or glob), normalised to "/" + its cleaned form so that
 * "/usr//bin/" and "/usr/bin" are one entry.
 */
static int check_path(const char *s, int glob, char **ret, struct wh_err *err)
{
        if (s[0] != '/')
                return wh_failx(err, EINVAL,
                                glob ? "expected an absolute path or glob starting with '/'"
                                     : "expected an absolute path starting with '/'");
        if (has_control(s))
                return wh_failx(err, EINVAL, "control character in path");
        for (const char *p = s; *p;) {
                while (*p == '/')
                        p++;
                const char *e = strchrnul(p, '/');
                size_t len = (size_t)(e - p);
                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return wh_failx(err, EINVAL, "'..' is not allowed in paths");
                if (glob) {
                        int r = check_glob_component(p, len, err);
                        if (r < 0)
                                return r;
                }
                p = e;
        }
        _cleanup_free_ char *clean = NULL;
        int r = wh_path_clean(s, WH_PATH_ALLOW_ABS, &clean);
        if (r == -ENAMETOOLONG)
                return wh_failx(err, ENAMETOOLONG, "path or component too long");
        if (r < 0)
                return wh_failx(err, -r, "invalid path");
        char *out = NULL;
        if (asprintf(&out, "/%s", clean) < 0)
                return wh_fail(err, ENOMEM, "path");
        *ret = out;
        return 0;
}

static int is_ident(const char *s, size_t len)
{
        if (len == 0 || isdigit((unsigned char)s[0]))
                return 0;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return 0;
        return 1;
}

static int check_env(const char *s, char *const *seen, struct wh_err *err)
{
        const char *eq = strchr(s, '=');
        if (!eq)
                return wh_failx(err, EINVAL, "expected NAME=value, got '%s'", s);
        size_t n = (size_t)(eq - s);
        if (!is_ident(s, n))
                return wh_failx(err, EINVAL, "'%.*s' is not a valid variable name",
                                (int)(n > 64 ? 64 : n), s);
        for (size_t i = 0; seen && seen[i]; i++)
                if (strncmp(seen[i], s, n + 1) == 0)
                        return wh_failx(err, EINVAL, "variable '%.*s' set twice", (int)n,
                                        s);
        return 0;
}

static int check_syscall(const char *s, struct wh_err *err)
{
        size_t n = strlen(s);
        if (strcmp(s, "default") == 0)
                return wh_failx(err, EINVAL, "'default' is only valid as the whole value");
        if (n == 0 || n > SYSCALL_NAME_MAX ||
            strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
                return wh_failx(err, EINVAL, "'%.64s' is not a syscall name ([a-z0-9_]+)",
                                s);
        return 0;
}

int wh_profile_name_check(const char *s, struct wh_err *err)
{
        size_t n = strlen(s);
        if (n == 0 || n > PROFILE_NAME_MAX ||
            !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])) ||
            strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
                return wh_failx(
                        err, EINVAL,
                        "'%.64s' is not a valid name ([a-z0-9][a-z0-9._-]*, at most %d "
                        "characters)",
                        s, PROFILE_NAME_MAX);
        return 0;
}

/* "user", "uid", "user:group" or "uid:gid", as in an image config. */
static int is_user(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!*s || s[0] == ':' || has_control(s) || strpbrk(s, " \t"))
                return 0;
        return !colon || (colon[1] && !strchr(colon + 1, ':'));
}

enum elem_kind { E_ANY, E_ARG0, E_KEEP, E_DROP, E_NEEDS, E_ENV, E_SYSCALL, E_EXTENDS };

/* Validates (and maybe normalises) one list element; errors carry no prefix. */
static int check_elem(enum elem_kind kind, size_t i, const char *s, char *const *seen,
                      char **ret_norm, struct wh_err *err)
{
        switch (kind) {
        case E_ANY:
                return 0;
        case E_ARG0:
                if (i == 0 && !*s)
                        return wh_failx(err, EINVAL, "the program must not be empty");
                return 0;
        case E_KEEP:
        case E_DROP:
                return check_path(s, 1, ret_norm, err);
        case E_NEEDS:
                return wh_feature_check(s, err);
        case E_ENV:
                return check_env(s, seen, err);
        case E_SYSCALL:
                return check_syscall(s, err);
        case E_EXTENDS:
                if (!*s || has_control(s))
                        return wh_failx(err, EINVAL, "expected a profile name or file");
                return 0;
        }
        return 0;
}

/*
 * A JSON array of strings into a strv, each element validated. Errors name
 * "<what>: <field>[i]". Duplicates are dropped.
 */
static int get_list(json_object *v, const char *what, const char *field,
                    enum elem_kind kind, char ***ret, struct wh_err *err)
{
        if (!json_object_is_type(v, json_type_array))
                return wh_failx(err, EINVAL, "%s: %s: expected an array of strings", what,
                                field);
        size_t n = json_object_array_length(v);
        if (n > PROFILE_MAX_LIST)
                return wh_failx(err, E2BIG, "%s: %s: too many entries (%zu, limit %d)",
                                what, field, n, PROFILE_MAX_LIST);
        _cleanup_strv_ char **out = calloc(1, sizeof(char *));
        if (!out)
                return wh_fail(err, ENOMEM, "%s: %s", what, field);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return wh_failx(err, EINVAL, "%s: %s[%zu]: expected a string", what,
                                        field, i);
                const char *s = json_object_get_string(e);
                if ((size_t)json_object_get_string_len(e) != strlen(s))
                        return wh_failx(err, EINVAL,
                                        "%s: %s[%zu]: string contains a NUL byte", what,
                                        field, i);
                _cleanup_free_ char *norm = NULL;
                int r = check_elem(kind, i, s, out, &norm, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "%s: %s[%zu]", what, field, i);
                /* Program arguments keep duplicates; sets do not. */
                if (kind == E_ANY || kind == E_ARG0) {
                        if (wh_strv_push_dup(&out, s) < 0)
                                return wh_fail(err, ENOMEM, "%s: %s", what, field);
                } else if (wh_strv_add(&out, norm ? norm : s) < 0) {
                        return wh_fail(err, ENOMEM, "%s: %s", what, field);
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static int get_str(json_object *v, const char *what, const char *field, char **ret,
                   struct wh_err *err)
{
        if (!json_object_is_type(v, json_type_string))
                return wh_failx(err, EINVAL, "%s: %s: expected a string", what, field);
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s))
                return wh_failx(err, EINVAL, "%s: %s: string contains a NUL byte", what,
                                field);
        char *c = strdup(s);
        if (!c)
                return wh_fail(err, ENOMEM, "%s: %s", what, field);
        free(*ret);
        *ret = c;
        return 0;
}

static int unknown_field(const char *what, const char *parent, const char *key,
                         const char *const *known, struct wh_err *err)
{
        char h[512];
        hint(key, known, h, sizeof(h));
        if (parent)
                return wh_failx(err, EINVAL, "%s: %s: unknown field '%.64s' (%s)", what,
                                parent, key, h);
        return wh_failx(err, EINVAL, "%s: unknown field '%.64s' (%s)", what, key, h);
}

static int parse_smoke(json_object *v, const char *what, struct wh_profile *p,
                       struct wh_err *err)
{
        int r;
        if (!json_object_is_type(v, json_type_object))
                return wh_failx(err, EINVAL,
                                "%s: smoke: expected an object with cmd and expect", what);
        json_object_object_foreach(v, key, val)
        {
                if (strcmp(key, "cmd") == 0) {
                        wh_strv_free(p->smoke_cmd);
                        p->smoke_cmd = NULL;
                        r = get_list(val, what, "smoke.cmd", E_ARG0, &p->smoke_cmd, err);
                        if (r < 0)
                                return r;
                } else if (strcmp(key, "expect") == 0) {
                        r = get_str(val, what, "smoke.expect", &p->smoke_expect, err);
                        if (r < 0)
                                return r;
                } else {
                        return unknown_field(what, "smoke", key, smoke_fields, err);
                }
        }
        if (!p->smoke_cmd)
                return wh_failx(err, EINVAL, "%s: smoke.cmd: missing", what);
        return 0;
}

static int parse_syscalls(json_object *v, const char *what, struct wh_profile *p,
                          struct wh_err *err)
{
        wh_strv_free(p->syscalls);
        p->syscalls = NULL;
        if (json_object_is_type(v, json_type_string)) {
                if (strcmp(json_object_get_string(v), "default") != 0)
                        return wh_failx(err, EINVAL,
                                        "%s: syscalls: expected \"default\" or an array of "
                                        "syscall names",
                                        what);
                return wh_strv_add(&p->syscalls, "default") < 0
                               ? wh_fail(err, ENOMEM, "%s: syscalls", what)
                               : 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return wh_failx(
                        err, EINVAL,
                        "%s: syscalls: expected \"default\" or an array of syscall names",
                        what);
        return get_list(v, what, "syscalls", E_SYSCALL, &p->syscalls, err);
}

static int parse_extends(json_object *v, const char *what, struct wh_profile *p,
                         struct wh_err *err)
{
        wh_strv_free(p->extends);
        p->extends = NULL;
        if (json_object_is_type(v, json_type_string)) {
                _cleanup_json_ json_object *arr = json_object_new_array();
                if (!arr || json_object_array_add(arr, json_object_get(v)) < 0)
                        return wh_fail(err, ENOMEM, "%s: extends", what);
                return get_list(arr, what, "extends", E_EXTENDS, &p->extends, err);
        }
        if (!json_object_is_type(v, json_type_array))
                return wh_failx(err, EINVAL,
                                "%s: extends: expected a profile name or an array of names",
                                what);
        return get_list(v, what, "extends", E_EXTENDS, &p->extends, err);
}

/* A strv field: frees the old value (a key given twice: the last wins). */
static int parse_strv_field(json_object *v, const char *what, const char *key,
                            enum elem_kind kind, char ***field, struct wh_err *err)
{
        wh_strv_free(*field);
        *field = NULL;
        return get_list(v, what, key, kind, field, err);
}

static int parse_field(const char *key, json_object *v, const char *what,
                       struct wh_profile *p, struct wh_err *err)
{
        int r;
        if (strcmp(key, "name") == 0) {
                r = get_str(v, what, key, &p->name, err);
                if (r >= 0 && (r = wh_profile_name_check(p->name, err)) < 0)
                        return wh_fail_ctx(err, r, "%s: name", what);
                return r;
        }
        if (strcmp(key, "description") == 0)
                return get_str(v, what, key, &p->description, err);
        if (strcmp(key, "user") == 0) {
                r = get_str(v, what, key, &p->user, err);
                if (r >= 0 && !is_user(p->user))
                        return wh_failx(err, EINVAL,
                                        "%s: user: expected USER or USER:GROUP", what);
                return r;
        }
        if (strcmp(key, "workdir") == 0) {
                _cleanup_free_ char *raw = NULL;
                r = get_str(v, what, key, &raw, err);
                if (r < 0)
                        return r;
                free(p->workdir);
                p->workdir = NULL;
                r = check_path(raw, 0, &p->workdir, err);
                return r < 0 ? wh_fail_ctx(err, r, "%s: workdir", what) : 0;
        }
        if (strcmp(key, "extends") == 0)
                return parse_extends(v, what, p, err);
        if (strcmp(key, "entrypoint") == 0)
                return parse_strv_field(v, what, key, E_ARG0, &p->entrypoint, err);
        if (strcmp(key, "cmd") == 0)
                return parse_strv_field(v, what, key, E_ANY, &p->cmd, err);
        if (strcmp(key, "keep") == 0)
                return parse_strv_field(v, what, key, E_KEEP, &p->keep, err);
        if (strcmp(key, "drop") == 0)
                return parse_strv_field(v, what, key, E_DROP, &p->drop, err);
        if (strcmp(key, "needs") == 0)
                return parse_strv_field(v, what, key, E_NEEDS, &p->needs, err);
        if (strcmp(key, "env") == 0)
                return parse_strv_field(v, what, key, E_ENV, &p->env, err);
        if (strcmp(key, "syscalls") == 0)
                return parse_syscalls(v, what, p, err);
        if (strcmp(key, "smoke") == 0)
                return parse_smoke(v, what, p, err);
        return unknown_field(what, NULL, key, profile_fields, err);
}

int wh_profile_parse(const char *text, size_t len, const char *what,
                     struct wh_profile **ret, char ***ret_extends, struct wh_err *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = wh_json_parse(text, len, what, &doc, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(doc, json_type_object))
                return wh_failx(err, EINVAL, "%s: expected a JSON object", what);
        _cleanup_(wh_profile_freep) struct wh_profile *p = wh_profile_new();
        if (!p)
                return wh_fail(err, ENOMEM, "%s", what);
        json_object_object_foreach(doc, key, val)
        {
                r = parse_field(key, val, what, p, err);
                if (r < 0)
                        return r;
        }
        if (!p->name)
                return wh_failx(err, EINVAL,
                                "%s: name: missing (every profile needs a name)", what);
        if (!p->extends) {
                p->extends = calloc(1, sizeof(char *));
                if (!p->extends)
                        return wh_fail(err, ENOMEM, "%s", what);
        }
        if (ret_extends && wh_strv_dup(p->extends, ret_extends) < 0)
                return wh_fail(err, ENOMEM, "%s", what);
        *ret = TAKE_PTR(p);
        return 0;
}

static int strv_add_all(char ***dst, char *const *src)
{
        for (size_t i = 0; src && src[i]; i++)
                if (wh_strv_add(dst, src[i]) < 0)
                        return -ENOMEM;
        return 0;
}

static int replace_str(char **dst, const char *src)
{
        if (!src)
                return 0;
        char *c = strdup(src);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

/* NAME=value entries of src replace those of dst with the same NAME. */
static int merge_env(char ***dst, char *const *src)
{
        for (size_t i = 0; src && src[i]; i++) {
                size_t n = strcspn(src[i], "=") + 1;
                char *c = strdup(src[i]);
                if (!c)
                        return -ENOMEM;
                size_t j = 0;
                for (; *dst && (*dst)[j]; j++)
                        if (strncmp((*dst)[j], src[i], n) == 0)
                                break;
                if (*dst && (*dst)[j]) {
                        free((*dst)[j]);
                        (*dst)[j] = c;
                } else if (wh_strv_push(dst, c) < 0) {
                        return -ENOMEM;
                }
        }
        return 0;
}

static int is_default_syscalls(char *const *v)
{
        return v && v[0] && strcmp(v[0], "default") == 0 && !v[1];
}

static int merge_syscalls(char ***dst, char *const *src)
{
        if (!src)
                return 0;
        if (is_default_syscalls(src) || !*dst || is_default_syscalls(*dst))
                return wh_strv_replace(dst, src);
        return strv_add_all(dst, src);
}

int wh_profile_merge(struct wh_profile *dst, const struct wh_profile *src,
                     struct wh_err *err)
{
        int r = 0;
        if (replace_str(&dst->name, src->name) < 0 ||
            replace_str(&dst->description, src->description) < 0 ||
            replace_str(&dst->user, src->user) < 0 ||
            replace_str(&dst->workdir, src->workdir) < 0 ||
            wh_strv_replace(&dst->entrypoint, src->entrypoint) < 0 ||
            wh_strv_replace(&dst->cmd, src->cmd) < 0 ||
            strv_add_all(&dst->keep, src->keep) < 0 ||
            strv_add_all(&dst->drop, src->drop) < 0 ||
            strv_add_all(&dst->needs, src->needs) < 0 ||
            merge_env(&dst->env, src->env) < 0 ||
            merge_syscalls(&dst->syscalls, src->syscalls) < 0 ||
            strv_add_all(&dst->sources, src->sources) < 0)
                r = -ENOMEM;
        if (r >= 0 && src->smoke_cmd) {
                free(dst->smoke_expect);
                dst->smoke_expect = NULL;
                if (wh_strv_replace(&dst->smoke_cmd, src->smoke_cmd) < 0 ||
                    replace_str(&dst->smoke_expect, src->smoke_expect) < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                return wh_fail(err, -r, "merge profile '%s'", src->name ? src->name : "?");
        return 0;
}

static int add_strv_member(json_object *o, const char *key, char *const *v, int skip_empty)
{
        if (!v || (skip_empty && !v[0]))
                return 0;
        json_object *a = wh_json_from_strv(v);
        if (!a)
                return -ENOMEM;
        if (json_object_object_add(o, key, a) < 0) {
                json_object_put(a);
                return -ENOMEM;
        }
        return 0;
}

static int add_str_member(json_object *o, const char *key, const char *s)
{
        return s ? wh_json_add_string(o, key, s) : 0;
}

static int add_smoke(json_object *o, const struct wh_profile *p)
{
        if (!p->smoke_cmd)
                return 0;
        json_object *s = json_object_new_object();
        if (!s)
                return -ENOMEM;
        if (json_object_object_add(o, "smoke", s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        if (add_strv_member(s, "cmd", p->smoke_cmd, 0) < 0 ||
            add_str_member(s, "expect", p->smoke_expect) < 0)
                return -ENOMEM;
        return 0;
}

char *wh_profile_to_string(const struct wh_profile *p, int pretty)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        if (add_str_member(o, "name", p->name) < 0 ||
            add_str_member(o, "description", p->description) < 0 ||
            add_strv_member(o, "entrypoint", p->entrypoint, 0) < 0 ||
            add_strv_member(o, "cmd", p->cmd, 0) < 0 ||
            add_str_member(o, "user", p->user) < 0 ||
            add_str_member(o, "workdir", p->workdir) < 0 ||
            add_strv_member(o, "env", p->env, 1) < 0 ||
            add_strv_member(o, "needs", p->needs, 1) < 0 ||
            add_strv_member(o, "keep", p->keep, 1) < 0 ||
            add_strv_member(o, "drop", p->drop, 1) < 0)
                return NULL;
        if (is_default_syscalls(p->syscalls)) {
                if (wh_json_add_string(o, "syscalls", "default") < 0)
                        return NULL;
        } else if (add_strv_member(o, "syscalls", p->syscalls, 0) < 0) {
                return NULL;
        }
        if (add_smoke(o, p) < 0)
                return NULL;
        return wh_json_to_string(o, pretty);
}
