/* SPDX-License-Identifier: Apache-2.0 */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs_util.h"
#include "json_util.h"
#include "path_safe.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define CONFIG_MAX (4u << 20)
#define LIST_MAX 4096 /* mounts, devices, rlimits... in one config */

/* "mounts[2]" style names for nested errors. */
#define ITEM(buf, fmt, ...) snprintf(buf, sizeof(buf), fmt, __VA_ARGS__)

static int get_u32(json_object *o, const char *what, const char *key, int required,
                   uint32_t *ret, struct wh_err *err)
{
        int64_t v = -1;
        int r = wh_json_get_int64(o, what, key, required, 0, UINT32_MAX, &v, err);
        if (r < 0)
                return r;
        if (v >= 0)
                *ret = (uint32_t)v;
        return v >= 0;
}

static int dup_str(const char *s, char **ret, const char *what, struct wh_err *err)
{
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : wh_fail(err, ENOMEM, "%s", what);
}

/* An absolute path inside the container, cleaned; '..' is refused. */
static int abs_path(const char *in, const char *what, char **ret, struct wh_err *err)
{
        if (in[0] != '/')
                return wh_failx(err, EINVAL, "%s: must be absolute", what);
        _cleanup_free_ char *rel = NULL;
        int r = wh_path_clean(in, WH_PATH_ALLOW_ABS, &rel);
        if (r < 0)
                return wh_failx(err, -r, "%s: invalid path '%s'%s", what, in,
                                r == -EINVAL ? " ('..' not allowed)" : "");
        size_t n = strlen(rel);
        char *out = malloc(n + 2);
        if (!out)
                return wh_fail(err, ENOMEM, "%s", what);
        out[0] = '/';
        memcpy(out + 1, rel, n + 1);
        *ret = out;
        return 0;
}

/* A host path: absolute, or relative to the bundle. */
static int host_path(const char *bundle, const char *in, char **ret)
{
        if (in[0] == '/')
                *ret = strdup(in);
        else if (asprintf(ret, "%s/%s", bundle, in) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}

static const struct {
        const char *name;
        int clear;
        unsigned long flag;
} mount_flags[] = {
        { "defaults", 0, 0 },
        { "ro", 0, MS_RDONLY },
        { "rw", 1, MS_RDONLY },
        { "nosuid", 0, MS_NOSUID },
        { "suid", 1, MS_NOSUID },
        { "nodev", 0, MS_NODEV },
        { "dev", 1, MS_NODEV },
        { "noexec", 0, MS_NOEXEC },
        { "exec", 1, MS_NOEXEC },
        { "sync", 0, MS_SYNCHRONOUS },
        { "async", 1, MS_SYNCHRONOUS },
        { "dirsync", 0, MS_DIRSYNC },
        { "remount", 0, MS_REMOUNT },
        { "mand", 0, MS_MANDLOCK },
        { "nomand", 1, MS_MANDLOCK },
        { "noatime", 0, MS_NOATIME },
        { "atime", 1, MS_NOATIME },
        { "nodiratime", 0, MS_NODIRATIME },
        { "diratime", 1, MS_NODIRATIME },
        { "relatime", 0, MS_RELATIME },
        { "norelatime", 1, MS_RELATIME },
        { "strictatime", 0, MS_STRICTATIME },
        { "nostrictatime", 1, MS_STRICTATIME },
        { "bind", 0, MS_BIND },
        { "rbind", 0, MS_BIND | MS_REC },
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_flags[] = {
        { "private", MS_PRIVATE },      { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },        { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },          { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

int wh_spec_mount_option(const char *opt, unsigned long *flags, unsigned long *clear,
                         unsigned long *propagation)
{
        for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++) {
                if (strcmp(opt, mount_flags[i].name) != 0)
                        continue;
                if (mount_flags[i].clear) {
                        *flags &= ~mount_flags[i].flag;
                        *clear |= mount_flags[i].flag;
                } else {
                        *flags |= mount_flags[i].flag;
                }
                return 1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(propagation_flags); i++)
                if (!strcmp(opt, propagation_flags[i].name)) {
                        *propagation = propagation_flags[i].flag;
                        return 1;
                }
        return 0;
}

static int append_data(char **data, const char *opt)
{
        char *n;
        if (*data) {
                if (asprintf(&n, "%s,%s", *data, opt) < 0)
                        return -ENOMEM;
                free(*data);
        } else {
                n = strdup(opt);
                if (!n)
                        return -ENOMEM;
        }
        *data = n;
        return 0;
}

static int parse_mount(json_object *o, const char *what, const char *bundle,
                       struct wh_mount_spec *m, struct wh_err *err)
{
        const char *dst = NULL, *type = NULL, *src = NULL;
        char w[128];
        int r;
        if ((r = wh_json_get_string(o, what, "destination", 1, &dst, err)) < 0 ||
            (r = wh_json_get_string(o, what, "type", 0, &type, err)) < 0 ||
            (r = wh_json_get_string(o, what, "source", 0, &src, err)) < 0)
                return r;
        ITEM(w, "%s.destination", what);
        if ((r = abs_path(dst, w, &m->destination, err)) < 0)
                return r;
        if (type && *type && (r = dup_str(type, &m->type, what, err)) < 0)
                return r;

        json_object *opts = NULL;
        if ((r = wh_json_get_array(o, what, "options", 0, &opts, err)) < 0)
                return r;
        unsigned long clear = 0;
        size_t n = opts ? json_object_array_length(opts) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(opts, i);
                if (!json_object_is_type(e, json_type_string))
                        return wh_failx(err, EINVAL, "%s.options[%zu]: expected a string",
                                        what, i);
                const char *opt = json_object_get_string(e);
                if (!strcmp(opt, "rro")) {
                        m->rro = 1;
                        continue;
                }
                if (!strcmp(opt, "idmap") || !strcmp(opt, "ridmap"))
                        return wh_failx(err, ENOTSUP,
                                        "%s.options[%zu]: '%s' mounts are not supported",
                                        what, i, opt);
                if (!strcmp(opt, "tmpcopyup"))
                        continue; /* a podman hint for tmpfs; the image dir is empty */
                if (wh_spec_mount_option(opt, &m->flags, &clear, &m->propagation))
                        continue;
                if (strchr(opt, ',') && strncmp(opt, "mode=", 5) != 0)
                        return wh_failx(err, EINVAL, "%s.options[%zu]: contains ','", what,
                                        i);
                if (append_data(&m->data, opt) < 0)
                        return wh_fail(err, ENOMEM, "%s", what);
        }
        if (m->flags & MS_BIND || (m->type && !strcmp(m->type, "bind"))) {
                m->bind = 1;
                m->flags |= MS_BIND;
                if (!src)
                        return wh_failx(err, EINVAL, "%s.source: missing for a bind mount",
                                        what);
                if (host_path(bundle, src, &m->source) < 0)
                        return wh_fail(err, ENOMEM, "%s", what);
                return 0;
        }
        if (!m->type)
                return wh_failx(err, EINVAL, "%s.type: missing (and not a bind mount)",
                                what);
        if (strchr(m->type, '/'))
                return wh_failx(err, EINVAL, "%s.type: invalid file system type '%s'", what,
                                m->type);
        return dup_str(src ? src : m->type, &m->source, what, err);
}

static int parse_mounts(struct wh_spec *s, struct wh_err *err)
{
        json_object *arr = NULL;
        int r = wh_json_get_array(s->json, "config.json", "mounts", 0, &arr, err);
        if (r < 0 || !arr)
                return r;
        size_t n = json_object_array_length(arr);
        if (n > LIST_MAX)
                return wh_failx(err, E2BIG, "config.json: mounts: more than %u", LIST_MAX);
        s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
        if (!s->mounts)
                return wh_fail(err, ENOMEM, "config.json: mounts");
        for (size_t i = 0; i < n; i++) {
                char w[64];
                ITEM(w, "config.json: mounts[%zu]", i);
                s->n_mounts = i + 1;
                r = parse_mount(json_object_array_get_idx(arr, i), w, s->bundle,
                                &s->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct {
        const char *name;
        int flag;
} ns_types[] = {
        { "pid", CLONE_NEWPID },   { "network", CLONE_NEWNET }, { "net", CLONE_NEWNET },
        { "mount", CLONE_NEWNS },  { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },
        { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

static int parse_namespaces(struct wh_spec *s, json_object *lx, struct wh_err *err)
{
        json_object *arr = NULL;
        int r = wh_json_get_array(lx, "config.json: linux", "namespaces", 0, &arr, err);
        if (r < 0 || !arr)
                return r;
        size_t n = json_object_array_length(arr);
        if (n > 16)
                return wh_failx(err, E2BIG, "config.json: linux.namespaces: too many");
        s->namespaces = calloc(n ? n : 1, sizeof(*s->namespaces));
        if (!s->namespaces)
                return wh_fail(err, ENOMEM, "config.json: linux.namespaces");
        for (size_t i = 0; i < n; i++) {
                char w[64];
                ITEM(w, "config.json: linux.namespaces[%zu]", i);
                json_object *o = json_object_array_get_idx(arr, i);
                const char *type = NULL, *path = NULL;
                if ((r = wh_json_get_string(o, w, "type", 1, &type, err)) < 0 ||
                    (r = wh_json_get_string(o, w, "path", 0, &path, err)) < 0)
                        return r;
                int flag = 0;
                for (size_t k = 0; k < ARRAY_SIZE(ns_types); k++)
                        if (!strcmp(type, ns_types[k].name))
                                flag = ns_types[k].flag;
                if (!flag)
                        return wh_failx(err, EINVAL, "%s.type: unknown namespace type '%s'",
                                        w, type);
                if ((s->clone_flags | s->join_flags) & flag)
                        return wh_failx(err, EINVAL, "%s.type: namespace '%s' given twice",
                                        w, type);
                s->namespaces[i].type = flag;
                s->n_namespaces = i + 1;
                if (path && *path) {
                        if (path[0] != '/')
                                return wh_failx(err, EINVAL, "%s.path: must be absolute", w);
                        if ((r = dup_str(path, &s->namespaces[i].path, w, err)) < 0)
                                return r;
                        s->join_flags |= flag;
                } else {
                        s->clone_flags |= flag;
                }
        }
        return 0;
}

static int parse_idmap(json_object *lx, const char *key, char **ret, struct wh_err *err)
{
        json_object *arr = NULL;
        char w[64];
        ITEM(w, "config.json: linux.%s", key);
        int r = wh_json_get_array(lx, "config.json: linux", key, 0, &arr, err);
        if (r < 0 || !arr)
                return r;
        size_t n = json_object_array_length(arr);
        if (n == 0)
                return 0;
        if (n > 340)
                return wh_failx(err, E2BIG, "%s: more than 340 entries", w);
        _cleanup_free_ char *text = calloc(n, 40);
        if (!text)
                return wh_fail(err, ENOMEM, "%s", w);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
                char wi[80];
                ITEM(wi, "%s[%zu]", w, i);
                json_object *o = json_object_array_get_idx(arr, i);
                uint32_t c = 0, h = 0, sz = 0;
                if ((r = get_u32(o, wi, "containerID", 1, &c, err)) < 0 ||
                    (r = get_u32(o, wi, "hostID", 1, &h, err)) < 0 ||
                    (r = get_u32(o, wi, "size", 1, &sz, err)) < 0)
                        return r;
                if (sz == 0)
                        return wh_failx(err, EINVAL, "%s.size: must not be 0", wi);
                off += (size_t)snprintf(text + off, 40, "%u %u %u\n", c, h, sz);
        }
        *ret = TAKE_PTR(text);
        return 0;
}

static const struct {
        const char *name;
        int res;
} rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int wh_spec_rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (!strcmp(name, rlimit_names[i].name))
                        return rlimit_names[i].res;
        return -EINVAL;
}

static int parse_rlimits(json_object *proc, const char *what, struct wh_process_spec *p,
                         struct wh_err *err)
{
        json_object *arr = NULL;
        int r = wh_json_get_array(proc, what, "rlimits", 0, &arr, err);
        if (r < 0 || !arr)
                return r;
        size_t n = json_object_array_length(arr);
        if (n > 64)
                return wh_failx(err, E2BIG, "%s.rlimits: too many", what);
        p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
        if (!p->rlimits)
                return wh_fail(err, ENOMEM, "%s.rlimits", what);
        for (size_t i = 0; i < n; i++) {
                char w[96];
                ITEM(w, "%s.rlimits[%zu]", what, i);
                json_object *o = json_object_array_get_idx(arr, i);
                const char *type = NULL;
                struct wh_rlimit_spec *rl = &p->rlimits[i];
                if ((r = wh_json_get_string(o, w, "type", 1, &type, err)) < 0 ||
                    (r = wh_json_get_uint64(o, w, "soft", 1, &rl->soft, err)) < 0 ||
                    (r = wh_json_get_uint64(o, w, "hard", 1, &rl->hard, err)) < 0)
                        return r;
                rl->resource = wh_spec_rlimit_from_name(type);
                if (rl->resource < 0)
                        return wh_failx(err, EINVAL, "%s.type: unknown rlimit '%s'", w, type);
                if (rl->soft > rl->hard)
                        return wh_failx(err, EINVAL, "%s: soft limit above the hard limit",
                                        w);
                p->n_rlimits = i + 1;
        }
        return 0;
}

static int parse_user(json_object *proc, const char *what, struct wh_process_spec *p,
                      struct wh_err *err)
{
        json_object *user = NULL;
        char w[96];
        ITEM(w, "%s.user", what);
        int r = wh_json_get_object(proc, what, "user", 0, &user, err);
        if (r < 0 || !user)
                return r;
        uint32_t v = 0;
        if ((r = get_u32(user, w, "uid", 0, &v, err)) < 0)
                return r;
        p->uid = r ? v : 0;
        if ((r = get_u32(user, w, "gid", 0, &v, err)) < 0)
                return r;
        p->gid = r ? v : 0;
        if ((r = get_u32(user, w, "umask", 0, &v, err)) < 0)
                return r;
        if (r) {
                if (v > 0777)
                        return wh_failx(err, EINVAL, "%s.umask: above 0777", w);
                p->has_umask = 1;
                p->umask = v;
        }
        json_object *gids = NULL;
        if ((r = wh_json_get_array(user, w, "additionalGids", 0, &gids, err)) < 0)
                return r;
        size_t n = gids ? json_object_array_length(gids) : 0;
        if (n > 65536)
                return wh_failx(err, E2BIG, "%s.additionalGids: too many", w);
        if (n) {
                p->additional_gids = calloc(n, sizeof(gid_t));
                if (!p->additional_gids)
                        return wh_fail(err, ENOMEM, "%s", w);
        }
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(gids, i);
                int64_t g = json_object_is_type(e, json_type_int) ? json_object_get_int64(e)
                                                                    : -1;
                if (g < 0 || g > UINT32_MAX)
                        return wh_failx(err, EINVAL, "%s.additionalGids[%zu]: expected a gid",
                                        w, i);
                p->additional_gids[i] = (gid_t)g;
                p->n_additional_gids = i + 1;
        }
        return 0;
}

int wh_spec_parse_process(json_object *proc, const char *what, struct wh_process_spec *p,
                          struct wh_err *err)
{
        int r;
        const char *cwd = NULL;
        if (!json_object_is_type(proc, json_type_object))
                return wh_failx(err, EINVAL, "%s: expected an object", what);
        if ((r = wh_json_get_bool(proc, what, "terminal", 0, &p->terminal, err)) < 0 ||
            (r = wh_json_get_strv(proc, what, "args", 0, &p->args, err)) < 0 ||
            (r = wh_json_get_strv(proc, what, "env", 0, &p->env, err)) < 0 ||
            (r = wh_json_get_string(proc, what, "cwd", 0, &cwd, err)) < 0 ||
            (r = wh_json_get_bool(proc, what, "noNewPrivileges", 0, &p->no_new_privileges,
                                  err)) < 0 ||
            (r = wh_json_get_object(proc, what, "capabilities", 0, &p->capabilities, err)) <
                    0)
                return r;
        if (!p->args || !p->args[0])
                return wh_failx(err, EINVAL, "%s.args: must name a program", what);
        if (!p->args[0][0])
                return wh_failx(err, EINVAL, "%s.args[0]: must not be empty", what);
        if (!p->env) {
                p->env = calloc(1, sizeof(char *));
                if (!p->env)
                        return wh_fail(err, ENOMEM, "%s", what);
        }
        for (size_t i = 0; p->env[i]; i++)
                if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
                        return wh_failx(err, EINVAL, "%s.env[%zu]: expected NAME=VALUE", what,
                                        i);
        char w[96];
        ITEM(w, "%s.cwd", what);
        if ((r = abs_path(cwd ? cwd : "/", w, &p->cwd, err)) < 0)
                return r;
        if ((r = parse_user(proc, what, p, err)) < 0)
                return r;
        int64_t oom = 0;
        json_object *v;
        if (json_object_object_get_ex(proc, "oomScoreAdj", &v) && v) {
                if ((r = wh_json_get_int64(proc, what, "oomScoreAdj", 1, -1000, 1000, &oom,
                                           err)) < 0)
                        return r;
                p->has_oom_score_adj = 1;
                p->oom_score_adj = (int)oom;
        }
        return parse_rlimits(proc, what, p, err);
}

void wh_spec_process_release(struct wh_process_spec *p)
{
        wh_strv_free(p->args);
        wh_strv_free(p->env);
        free(p->cwd);
        free(p->additional_gids);
        free(p->rlimits);
        memset(p, 0, sizeof(*p));
}

static int parse_devices(struct wh_spec *s, json_object *lx, struct wh_err *err)
{
        json_object *arr = NULL;
        int r = wh_json_get_array(lx, "config.json: linux", "devices", 0, &arr, err);
        if (r < 0 || !arr)
                return r;
        size_t n = json_object_array_length(arr);
        if (n > LIST_MAX)
                return wh_failx(err, E2BIG, "config.json: linux.devices: too many");
        s->devices = calloc(n ? n : 1, sizeof(*s->devices));
        if (!s->devices)
                return wh_fail(err, ENOMEM, "config.json: linux.devices");
        for (size_t i = 0; i < n; i++) {
                char w[64];
                ITEM(w, "config.json: linux.devices[%zu]", i);
                json_object *o = json_object_array_get_idx(arr, i);
                struct wh_device_spec *d = &s->devices[i];
                s->n_devices = i + 1;
                const char *path = NULL, *type = NULL;
                uint32_t v = 0;
                if ((r = wh_json_get_string(o, w, "path", 1, &path, err)) < 0 ||
                    (r = wh_json_get_string(o, w, "type", 1, &type, err)) < 0)
                        return r;
                char wp[80];
                ITEM(wp, "%s.path", w);
                if ((r = abs_path(path, wp, &d->path, err)) < 0)
                        return r;
                if (!strcmp(type, "c") || !strcmp(type, "u"))
                        d->type = S_IFCHR;
                else if (!strcmp(type, "b"))
                        d->type = S_IFBLK;
                else if (!strcmp(type, "p"))
                        d->type = S_IFIFO;
                else
                        return wh_failx(err, EINVAL, "%s.type: unknown device type '%s'", w,
                                        type);
                int need = d->type != S_IFIFO;
                if ((r = get_u32(o, w, "major", need, &d->major, err)) < 0 ||
                    (r = get_u32(o, w, "minor", need, &d->minor, err)) < 0)
                        return r;
                d->mode = 0666;
                if ((r = get_u32(o, w, "fileMode", 0, &v, err)) < 0)
                        return r;
                if (r) {
                        if (v > 07777)
                                return wh_failx(err, EINVAL, "%s.fileMode: above 07777", w);
                        d->mode = v;
                }
                if ((r = get_u32(o, w, "uid", 0, &v, err)) < 0)
                        return r;
                d->uid = r ? v : 0;
                if ((r = get_u32(o, w, "gid", 0, &v, err)) < 0)
                        return r;
                d->gid = r ? v : 0;
        }
        return 0;
}

static int parse_sysctl(struct wh_spec *s, json_object *lx, struct wh_err *err)
{
        json_object *obj = NULL;
        int r = wh_json_get_object(lx, "config.json: linux", "sysctl", 0, &obj, err);
        if (r < 0 || !obj)
                return r;
        size_t n = (size_t)json_object_object_length(obj);
        s->sysctl = calloc(n ? n : 1, sizeof(*s->sysctl));
        if (!s->sysctl)
                return wh_fail(err, ENOMEM, "config.json: linux.sysctl");
        json_object_object_foreach(obj, key, val)
        {
                if (!json_object_is_type(val, json_type_string))
                        return wh_failx(err, EINVAL,
                                        "config.json: linux.sysctl.%s: expected a string", key);
                if (!*key || strstr(key, "..") || strchr(key, '/') != NULL ||
                    key[0] == '.')
                        return wh_failx(err, EINVAL,
                                        "config.json: linux.sysctl: invalid key '%s'", key);
                struct wh_sysctl_spec *e = &s->sysctl[s->n_sysctl++];
                e->key = strdup(key);
                e->value = strdup(json_object_get_string(val));
                if (!e->key || !e->value)
                        return wh_fail(err, ENOMEM, "config.json: linux.sysctl");
        }
        return 0;
}

static int parse_pathv(json_object *lx, const char *key, char ***ret, struct wh_err *err)
{
        int r = wh_json_get_strv(lx, "config.json: linux", key, 0, ret, err);
        if (r < 0 || !*ret)
                return r;
        for (size_t i = 0; (*ret)[i]; i++) {
                char w[80], *clean = NULL;
                ITEM(w, "config.json: linux.%s[%zu]", key, i);
                if ((r = abs_path((*ret)[i], w, &clean, err)) < 0)
                        return r;
                free((*ret)[i]);
                (*ret)[i] = clean;
        }
        return 0;
}

static int parse_linux(struct wh_spec *s, struct wh_err *err)
{
        json_object *lx = NULL;
        int r = wh_json_get_object(s->json, "config.json", "linux", 0, &lx, err);
        if (r < 0 || !lx)
                return r;
        const char *prop = NULL, *cg = NULL;
        if ((r = parse_namespaces(s, lx, err)) < 0 ||
            (r = parse_idmap(lx, "uidMappings", &s->uid_map, err)) < 0 ||
            (r = parse_idmap(lx, "gidMappings", &s->gid_map, err)) < 0 ||
            (r = parse_devices(s, lx, err)) < 0 || (r = parse_sysctl(s, lx, err)) < 0 ||
            (r = parse_pathv(lx, "maskedPaths", &s->masked_paths, err)) < 0 ||
            (r = parse_pathv(lx, "readonlyPaths", &s->readonly_paths, err)) < 0 ||
            (r = wh_json_get_string(lx, "config.json: linux", "rootfsPropagation", 0,
                                    &prop, err)) < 0 ||
            (r = wh_json_get_string(lx, "config.json: linux", "cgroupsPath", 0, &cg,
                                    err)) < 0 ||
            (r = wh_json_get_object(lx, "config.json: linux", "resources", 0,
                                    &s->resources, err)) < 0 ||
            (r = wh_json_get_object(lx, "config.json: linux", "seccomp", 0, &s->seccomp,
                                    err)) < 0)
                return r;
        if (prop && *prop) {
                unsigned long f = 0, c = 0;
                if (!wh_spec_mount_option(prop, &f, &c, &s->rootfs_propagation) ||
                    !s->rootfs_propagation)
                        return wh_failx(err, EINVAL,
                                        "config.json: linux.rootfsPropagation: unknown '%s'",
                                        prop);
        }
        if ((s->uid_map || s->gid_map) && !((s->clone_flags | s->join_flags) & CLONE_NEWUSER))
                return wh_failx(err, EINVAL,
                                "config.json: linux.uidMappings: given without a user "
                                "namespace");
        if ((s->clone_flags & CLONE_NEWUSER) && (!s->uid_map || !s->gid_map))
                return wh_failx(err, EINVAL,
                                "config.json: linux.uidMappings: a new user namespace needs "
                                "uidMappings and gidMappings");
        return dup_str(cg && *cg ? cg : NULL, &s->cgroups_path, "cgroupsPath", err);
}

static int parse_root(struct wh_spec *s, struct wh_err *err)
{
        json_object *root = NULL;
        const char *path = NULL;
        int r;
        if ((r = wh_json_get_object(s->json, "config.json", "root", 1, &root, err)) < 0 ||
            (r = wh_json_get_string(root, "config.json: root", "path", 1, &path, err)) < 0 ||
            (r = wh_json_get_bool(root, "config.json: root", "readonly", 0, &s->root_readonly,
                                  err)) < 0)
                return r;
        if (!*path)
                return wh_failx(err, EINVAL, "config.json: root.path: must not be empty");
        if (host_path(s->bundle, path, &s->root_path) < 0)
                return wh_fail(err, ENOMEM, "config.json: root.path");
        struct stat st;
        if (stat(s->root_path, &st) < 0)
                return wh_fail(err, errno, "config.json: root.path: '%s'", s->root_path);
        if (!S_ISDIR(st.st_mode))
                return wh_failx(err, ENOTDIR, "config.json: root.path: '%s' is not a directory",
                                s->root_path);
        return 0;
}

static int parse_top(struct wh_spec *s, struct wh_err *err)
{
        const char *ver = NULL, *host = NULL, *dom = NULL;
        int r;
        if (!json_object_is_type(s->json, json_type_object))
                return wh_failx(err, EINVAL, "config.json: expected an object");
        if ((r = wh_json_get_string(s->json, "config.json", "ociVersion", 1, &ver, err)) < 0)
                return r;
        if (strncmp(ver, "1.", 2) != 0)
                return wh_failx(err, EINVAL,
                                "config.json: ociVersion: unsupported version '%s' (want 1.x)",
                                ver);
        if ((r = dup_str(ver, &s->oci_version, "ociVersion", err)) < 0 ||
            (r = wh_json_get_string(s->json, "config.json", "hostname", 0, &host, err)) < 0 ||
            (r = wh_json_get_string(s->json, "config.json", "domainname", 0, &dom, err)) < 0 ||
            (r = wh_json_get_object(s->json, "config.json", "hooks", 0, &s->hooks, err)) < 0 ||
            (r = wh_json_get_object(s->json, "config.json", "annotations", 0, &s->annotations,
                                    err)) < 0)
                return r;
        if (host && strlen(host) > 64)
                return wh_failx(err, EINVAL, "config.json: hostname: longer than 64 bytes");
        if (dom && strlen(dom) > 64)
                return wh_failx(err, EINVAL, "config.json: domainname: longer than 64 bytes");
        if ((r = dup_str(host, &s->hostname, "hostname", err)) < 0 ||
            (r = dup_str(dom, &s->domainname, "domainname", err)) < 0)
                return r;
        json_object *proc = NULL;
        if ((r = wh_json_get_object(s->json, "config.json", "process", 0, &proc, err)) < 0)
                return r;
        if (proc) {
                s->has_process = 1;
                if ((r = wh_spec_parse_process(proc, "config.json: process", &s->process,
                                               err)) < 0)
                        return r;
        }
        return 0;
}

static int check_consistency(const struct wh_spec *s, struct wh_err *err)
{
        if (s->hostname && !(s->clone_flags & CLONE_NEWUTS) &&
            !(s->join_flags & CLONE_NEWUTS))
                return wh_failx(err, EINVAL,
                                "config.json: hostname: set without a uts namespace");
        if (s->n_mounts && !((s->clone_flags | s->join_flags) & CLONE_NEWNS))
                return wh_failx(err, EINVAL,
                                "config.json: linux.namespaces: mounts need a mount namespace");
        /* With a joined user ns, the new namespaces stay owned by the host's
         * user ns and the process joins the user ns last (child_finish). */
        if ((s->clone_flags & CLONE_NEWUSER) && s->join_flags)
                return wh_failx(err, ENOTSUP,
                                "config.json: linux.namespaces: joining namespaces by path "
                                "together with a new user namespace is not supported");
        return 0;
}

int wh_spec_parse(const char *text, size_t len, const char *bundle, struct wh_spec **ret,
                  struct wh_err *err)
{
        _cleanup_spec_ struct wh_spec *s = calloc(1, sizeof(*s));
        if (!s)
                return wh_fail(err, ENOMEM, "config.json");
        s->bundle = strdup(bundle);
        if (!s->bundle)
                return wh_fail(err, ENOMEM, "config.json");
        int r = wh_json_parse(text, len, "config.json", &s->json, err);
        if (r < 0)
                return r;
        if ((r = parse_top(s, err)) < 0 || (r = parse_root(s, err)) < 0 ||
            (r = parse_mounts(s, err)) < 0 || (r = parse_linux(s, err)) < 0 ||
            (r = check_consistency(s, err)) < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int wh_spec_load(const char *bundle, struct wh_spec **ret, struct wh_err *err)
{
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "bundle '%s'", bundle);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct wh_err e2 = { 0 };
        int r = wh_read_file_at(dfd, "config.json", CONFIG_MAX, &text, &len, &e2);
        if (r < 0)
                return wh_fail(err, -r, "bundle '%s': config.json", bundle);
        return wh_spec_parse(text, len, bundle, ret, err);
}

struct wh_spec *wh_spec_free(struct wh_spec *s)
{
        if (!s)
                return NULL;
        if (s->json)
                json_object_put(s->json);
        free(s->bundle);
        free(s->oci_version);
        free(s->root_path);
        wh_spec_process_release(&s->process);
        free(s->hostname);
        free(s->domainname);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        for (size_t i = 0; i < s->n_namespaces; i++)
                free(s->namespaces[i].path);
        free(s->namespaces);
        free(s->uid_map);
        free(s->gid_map);
        for (size_t i = 0; i < s->n_sysctl; i++) {
                free(s->sysctl[i].key);
                free(s->sysctl[i].value);
        }
        free(s->sysctl);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        wh_strv_free(s->masked_paths);
        wh_strv_free(s->readonly_paths);
        free(s->cgroups_path);
        free(s);
        return NULL;
}

const char *wh_spec_default_config(void)
{
        return "{\n"
               "\t\"ociVersion\": \"1.1.0\",\n"
               "\t\"process\": {\n"
               "\t\t\"terminal\": true,\n"
               "\t\t\"user\": {\n\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n"
               "\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
               "\t\t\"env\": [\n"
               "\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
               "\t\t\t\"TERM=xterm\"\n\t\t],\n"
               "\t\t\"cwd\": \"/\",\n"
               "\t\t\"capabilities\": {\n"
               "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
               "\"CAP_NET_BIND_SERVICE\"],\n"
               "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
               "\"CAP_NET_BIND_SERVICE\"],\n"
               "\t\t\t\"inheritable\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
               "\"CAP_NET_BIND_SERVICE\"],\n"
               "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
               "\"CAP_NET_BIND_SERVICE\"],\n"
               "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
               "\"CAP_NET_BIND_SERVICE\"]\n"
               "\t\t},\n"
               "\t\t\"rlimits\": [\n"
               "\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n\t\t\t\t\"hard\": 1024,\n"
               "\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
               "\t\t\"noNewPrivileges\": true\n"
               "\t},\n"
               "\t\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
               "\t\"hostname\": \"whittle\",\n"
               "\t\"mounts\": [\n"
               "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
               "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
               "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
               "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": "
               "\"devpts\",\n"
               "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
               "\"mode=0620\", \"gid=5\"]},\n"
               "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
               "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", "
               "\"size=65536k\"]},\n"
               "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": "
               "\"mqueue\",\n"
               "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
               "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
               "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
               "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": "
               "\"cgroup\",\n"
               "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
               "\t],\n"
               "\t\"linux\": {\n"
               "\t\t\"resources\": {\n\t\t\t\"devices\": [\n"
               "\t\t\t\t{\"allow\": false, \"access\": \"rwm\"}\n\t\t\t]\n\t\t},\n"
               "\t\t\"namespaces\": [\n"
               "\t\t\t{\"type\": \"pid\"},\n\t\t\t{\"type\": \"network\"},\n"
               "\t\t\t{\"type\": \"ipc\"},\n\t\t\t{\"type\": \"uts\"},\n"
               "\t\t\t{\"type\": \"mount\"},\n\t\t\t{\"type\": \"cgroup\"}\n\t\t],\n"
               "\t\t\"maskedPaths\": [\n"
               "\t\t\t\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
               "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
               "\t\t\t\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"\n\t\t],\n"
               "\t\t\"readonlyPaths\": [\n"
               "\t\t\t\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
               "\t\t\t\"/proc/sysrq-trigger\"\n\t\t]\n"
               "\t}\n"
               "}\n";
}
