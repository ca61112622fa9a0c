/* SPDX-License-Identifier: Apache-2.0 */
#include "image_config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "json_util.h"
#include "strv.h"

/* Sets NAME=value in env, replacing an existing NAME. */
static int env_set(char ***env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        size_t n = 0;
        for (; (*env)[n]; n++) {
                if (!strncmp((*env)[n], kv, klen) && (*env)[n][klen] == '=') {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free((*env)[n]);
                        (*env)[n] = d;
                        return 0;
                }
        }
        return wh_strv_push_dup(env, kv);
}

static json_object *inner_config(json_object *src)
{
        json_object *c = NULL;
        if (src && json_object_object_get_ex(src, "config", &c) &&
            json_object_is_type(c, json_type_object))
                return c;
        return NULL;
}

static int dup_str_field(json_object *c, const char *key, char **ret, struct wh_err *err)
{
        const char *s = NULL;
        int r = wh_json_get_string(c, "config.config", key, 0, &s, err);
        if (r < 0)
                return r;
        if (s && *s && !(*ret = strdup(s)))
                return wh_fail(err, ENOMEM, "config");
        return 0;
}

int wh_effective_compute(json_object *src_config, const struct wh_profile *profile,
                         char **cli_entrypoint, char **cli_cmd, struct wh_effective *ret,
                         struct wh_err *err)
{
        struct wh_effective e = {0};
        json_object *c = inner_config(src_config);
        int r = 0;

        if (c) {
                json_object *v = NULL;
                /* null is a valid value for these in image configs. */
                if (json_object_object_get_ex(c, "Entrypoint", &v) && v)
                        r = wh_json_get_strv(c, "config.config", "Entrypoint", 0, &e.entrypoint, err);
                if (r >= 0 && json_object_object_get_ex(c, "Cmd", &v) && v)
                        r = wh_json_get_strv(c, "config.config", "Cmd", 0, &e.cmd, err);
                if (r >= 0 && json_object_object_get_ex(c, "Env", &v) && v)
                        r = wh_json_get_strv(c, "config.config", "Env", 0, &e.env, err);
                if (r >= 0)
                        r = dup_str_field(c, "User", &e.user, err);
                if (r >= 0)
                        r = dup_str_field(c, "WorkingDir", &e.workdir, err);
                if (r < 0)
                        goto fail;
        }
        if (!e.env && !(e.env = calloc(1, sizeof(char *))))
                goto nomem;

        char **ep = cli_entrypoint ? cli_entrypoint : profile ? profile->entrypoint : NULL;
        char **cmd = cli_cmd ? cli_cmd : profile ? profile->cmd : NULL;
        if (ep) {
                wh_strv_free(e.entrypoint);
                e.entrypoint = NULL;
                if (wh_strv_dup(ep, &e.entrypoint) < 0)
                        goto nomem;
                if (!cmd) {
                        wh_strv_free(e.cmd);
                        e.cmd = NULL;
                }
        }
        if (cmd) {
                wh_strv_free(e.cmd);
                e.cmd = NULL;
                if (wh_strv_dup(cmd, &e.cmd) < 0)
                        goto nomem;
        }
        if (profile) {
                for (char **kv = profile->env; kv && *kv; kv++)
                        if (env_set(&e.env, *kv) < 0)
                                goto nomem;
                if (profile->user) {
                        free(e.user);
                        if (!(e.user = strdup(profile->user)))
                                goto nomem;
                }
                if (profile->workdir) {
                        free(e.workdir);
                        if (!(e.workdir = strdup(profile->workdir)))
                                goto nomem;
                }
        }
        *ret = e;
        return 0;
nomem:
        r = wh_fail(err, ENOMEM, "image config");
fail:
        wh_effective_release(&e);
        return r;
}

void wh_effective_release(struct wh_effective *eff)
{
        wh_strv_free(eff->entrypoint);
        wh_strv_free(eff->cmd);
        wh_strv_free(eff->env);
        free(eff->user);
        free(eff->workdir);
        memset(eff, 0, sizeof(*eff));
}

static int copy_member(json_object *from, json_object *to, const char *key)
{
        json_object *v = NULL;
        if (!from || !json_object_object_get_ex(from, key, &v) || !v)
                return 0;
        json_object *d = NULL;
        if (json_object_deep_copy(v, &d, NULL) < 0)
                return -ENOMEM;
        if (json_object_object_add(to, key, d) < 0) {
                json_object_put(d);
                return -ENOMEM;
        }
        return 0;
}

static int add_strv(json_object *o, const char *key, char **v)
{
        if (!v)
                return 0;
        json_object *a = wh_json_from_strv(v);
        if (!a || json_object_object_add(o, key, a) < 0) {
                json_object_put(a);
                return -ENOMEM;
        }
        return 0;
}

static int add_src_string(json_object *src, json_object *out, const char *key, const char *dflt)
{
        json_object *v = NULL;
        if (src && json_object_object_get_ex(src, key, &v) &&
            json_object_is_type(v, json_type_string))
                return wh_json_add_string(out, key, json_object_get_string(v));
        return dflt ? wh_json_add_string(out, key, dflt) : 0;
}

json_object *wh_output_config(json_object *src_config, const struct wh_effective *eff)
{
        _cleanup_json_ json_object *out = json_object_new_object();
        json_object *c = json_object_new_object();
        if (!out || !c) {
                json_object_put(c);
                return NULL;
        }
        /* Key order is fixed (it feeds the config digest). */
        if (add_src_string(src_config, out, "architecture", "amd64") < 0 ||
            add_src_string(src_config, out, "os", "linux") < 0 ||
            add_src_string(src_config, out, "variant", NULL) < 0) {
                json_object_put(c);
                return NULL;
        }
        json_object *sc = inner_config(src_config);
        int r = 0;
        if (eff->user)
                r = wh_json_add_string(c, "User", eff->user);
        if (r >= 0)
                r = copy_member(sc, c, "ExposedPorts");
        if (r >= 0)
                r = add_strv(c, "Env", eff->env);
        if (r >= 0)
                r = add_strv(c, "Entrypoint", eff->entrypoint);
        if (r >= 0)
                r = add_strv(c, "Cmd", eff->cmd);
        if (r >= 0 && eff->workdir)
                r = wh_json_add_string(c, "WorkingDir", eff->workdir);
        if (r >= 0)
                r = copy_member(sc, c, "Labels");
        if (r >= 0)
                r = copy_member(sc, c, "StopSignal");
        if (r < 0 || json_object_object_add(out, "config", c) < 0) {
                json_object_put(c);
                return NULL;
        }
        return TAKE_PTR(out);
}

int64_t wh_config_created(json_object *src_config)
{
        json_object *v = NULL;
        if (!src_config || !json_object_object_get_ex(src_config, "created", &v) ||
            !json_object_is_type(v, json_type_string))
                return -1;
        struct tm tm = {0};
        const char *s = json_object_get_string(v);
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -1;
        /* Fractional seconds and a zone: only Z and +/-HH:MM matter here. */
        if (*end == '.')
                while (*++end >= '0' && *end <= '9')
                        ;
        int64_t off = 0;
        if (*end == '+' || *end == '-') {
                int hh = 0, mm = 0;
                if (sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2)
                        return -1;
                off = (hh * 3600 + mm * 60) * (*end == '+' ? 1 : -1);
        } else if (*end != 'Z' && *end != '\0') {
                return -1;
        }
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
                return -1;
        return (int64_t)t - off;
}

int wh_argv_parse(const char *text, const char *what, char ***ret, struct wh_err *err)
{
        const char *p = text;
        while (*p == ' ' || *p == '\t')
                p++;
        if (*p != '[') {
                char *v[2] = {(char *)text, NULL};
                if (!*text)
                        return wh_failx(err, EINVAL, "%s: empty", what);
                if (wh_strv_dup(v, ret) < 0)
                        return wh_fail(err, ENOMEM, "%s", what);
                return 0;
        }
        _cleanup_json_ json_object *arr = NULL;
        int r = wh_json_parse(text, strlen(text), what, &arr, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *wrap = json_object_new_object();
        if (!wrap)
                return wh_fail(err, ENOMEM, "%s", what);
        json_object_object_add(wrap, what, json_object_get(arr));
        return wh_json_get_strv(wrap, "option", what, 1, ret, err);
}

void wh_config_time(int64_t epoch, char out[32])
{
        time_t t = (time_t)(epoch < 0 ? 0 : epoch);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
