/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroups_res.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "parse_num.h"

#define CG_ROOT      "/sys/fs/cgroup"
#define CG_MAX_V1    8
#define CG_MAX_DEPTH 16

struct wh_cgroup {
        enum wh_cgroup_mode mode;
        char *unified; /* cgroup2 directory, or NULL */
        size_t n;
        struct {
                char name[16];
                char *path;
        } v1[CG_MAX_V1];
};

/*
 * The v1 hierarchies a container joins. always: joined even without a
 * resource for it, because engines read statistics there (memory, cpuacct),
 * kill and list through it (pids) or pause with it (freezer). cpuset is
 * joined only when asked for: it needs its parent's cpus/mems copied in.
 */
static const struct {
        const char *name;
        unsigned need; /* WH_RES_* bits that require it; 0 = always */
} v1_controllers[] = {
        {"pids", 0},    {"memory", 0},  {"cpu", 0},
        {"cpuacct", 0}, {"freezer", 0}, {"cpuset", WH_RES_CPUSET},
};

enum wh_cgroup_mode wh_cgroup_mode_detect(void)
{
        enum wh_cgroup_mode mode;
        struct statfs fs;
        if (statfs(CG_ROOT, &fs) < 0)
                mode = WH_CGROUP_NONE;
        else if (fs.f_type == CGROUP2_SUPER_MAGIC)
                mode = WH_CGROUP_V2;
        else if (statfs(CG_ROOT "/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                mode = WH_CGROUP_HYBRID;
        else if (statfs(CG_ROOT "/pids", &fs) == 0 || statfs(CG_ROOT "/memory", &fs) == 0)
                mode = WH_CGROUP_V1;
        else
                mode = WH_CGROUP_NONE;
        return mode;
}

struct wh_cgroup *wh_cgroup_free(struct wh_cgroup *cg)
{
        if (!cg)
                return NULL;
        free(cg->unified);
        for (size_t i = 0; i < cg->n; i++)
                free(cg->v1[i].path);
        free(cg);
        return NULL;
}

const char *wh_cgroup_get_path(const struct wh_cgroup *cg, const char *controller)
{
        if (!cg)
                return NULL;
        if (!controller)
                return cg->unified;
        for (size_t i = 0; i < cg->n; i++)
                if (strcmp(cg->v1[i].name, controller) == 0)
                        return cg->v1[i].path;
        return NULL;
}

static const char *dir_of(const void *ctx, const char *controller)
{
        return wh_cgroup_get_path(ctx, controller);
}

/* "machine-app.slice" -> "machine.slice/machine-app.slice" */
static int expand_slice(const char *slice, char *out, size_t size)
{
        size_t len = strlen(slice), o = 0;
        if (len < 7 || strcmp(slice + len - 6, ".slice") != 0)
                return -EINVAL;
        for (size_t i = 0; i + 6 <= len; i++) {
                if (i + 6 < len && slice[i] != '-')
                        continue;
                int n = snprintf(out + o, size - o, "/%.*s.slice", (int)i, slice);
                if (i + 6 == len)
                        n = snprintf(out + o, size - o, "/%s", slice);
                if (n < 0 || (size_t)n >= size - o)
                        return -ENAMETOOLONG;
                o += (size_t)n;
        }
        return 0;
}

/*
 * linux.cgroupsPath -> a path below each hierarchy's root, starting with
 * '/' for absolute and without for relative ones. "slice:prefix:name" (the
 * systemd form) maps to the directories systemd would use.
 */
static int resolve_path(const char *cgroups_path, const char *id, char *out, size_t size,
                        struct wh_err *err)
{
        int n;
        const char *colon = cgroups_path ? strchr(cgroups_path, ':') : NULL;
        if (!cgroups_path || !*cgroups_path) {
                n = snprintf(out, size, "/whittle/%s", id);
        } else if (colon && !strchr(cgroups_path, '/')) {
                const char *c2 = strchr(colon + 1, ':');
                if (!c2 || strchr(c2 + 1, ':'))
                        return wh_failx(err, EINVAL,
                                        "linux.cgroupsPath: '%s' is neither a path nor "
                                        "slice:prefix:name",
                                        cgroups_path);
                char slice[256], sl_path[PATH_MAX];
                snprintf(slice, sizeof(slice), "%.*s", (int)(colon - cgroups_path),
                         cgroups_path);
                if (!*slice)
                        snprintf(slice, sizeof(slice), "system.slice");
                if (!strcmp(slice, "-.slice"))
                        sl_path[0] = '\0'; /* the root slice */
                else if (expand_slice(slice, sl_path, sizeof(sl_path)) < 0)
                        return wh_failx(err, EINVAL, "linux.cgroupsPath: bad slice '%s'",
                                        slice);
                n = snprintf(out, size, "%s/%.*s-%s.scope", sl_path, (int)(c2 - colon - 1),
                             colon + 1, c2 + 1);
        } else {
                n = snprintf(out, size, "%s", cgroups_path);
        }
        if (n < 0 || (size_t)n >= size)
                return wh_failx(err, ENAMETOOLONG, "linux.cgroupsPath: too long");
        /* Hostile paths: no "..", nothing that leaves the hierarchy. */
        for (const char *p = out; *p;) {
                const char *e = strchrnul(p, '/');
                if (e - p == 2 && p[0] == '.' && p[1] == '.')
                        return wh_failx(err, EINVAL,
                                        "linux.cgroupsPath: '..' is not allowed");
                p = *e ? e + 1 : e;
        }
        return 0;
}

/* The runtime's own cgroup in a hierarchy ("" for the cgroup2 one), for
 * relative paths. */
static int own_cgroup(const char *controller, char *out, size_t size, struct wh_err *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return wh_fail(err, errno, "open /proc/self/cgroup");
        char line[PATH_MAX + 64];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                int match = 0;
                if (!controller)
                        match = c1[1] == '\0';
                else
                        for (char *t = c1 + 1; *t;) {
                                size_t len = strcspn(t, ",");
                                if (len == strlen(controller) &&
                                    !strncmp(t, controller, len))
                                        match = 1;
                                t += len + (t[len] == ',');
                        }
                if (match) {
                        snprintf(out, size, "%s", c2 + 1);
                        return 0;
                }
        }
        return wh_failx(err, ENOENT, "no %s cgroup in /proc/self/cgroup",
                        controller ? controller : "cgroup2");
}

static int full_path(const char *root, const char *controller, const char *rel, char **ret,
                     struct wh_err *err)
{
        char own[PATH_MAX] = "";
        if (rel[0] != '/') {
                int r = own_cgroup(controller, own, sizeof(own), err);
                if (r < 0)
                        return r;
        }
        char *p = NULL;
        if (asprintf(&p, "%s%s/%s", root, strcmp(own, "/") ? own : "",
                     rel[0] == '/' ? rel + 1 : rel) < 0)
                return wh_fail(err, ENOMEM, "cgroup path");
        *ret = p;
        return 0;
}

/* Makes every missing directory of path below root; *ret_first is the
 * first one made (for clean-up), or NULL when all existed. */
static int mkdir_below(const char *root, const char *path, char **ret_first,
                       struct wh_err *err)
{
        _cleanup_free_ char *buf = strdup(path);
        if (!buf)
                return wh_fail(err, ENOMEM, "cgroup path");
        *ret_first = NULL;
        for (char *p = buf + strlen(root) + 1;; p++) {
                char *e = strchrnul(p, '/');
                char save = *e;
                *e = '\0';
                if (*p && mkdir(buf, 0755) == 0) {
                        if (!*ret_first && !(*ret_first = strdup(buf)))
                                return wh_fail(err, ENOMEM, "cgroup path");
                } else if (*p && errno != EEXIST) {
                        return wh_fail(err, errno, "mkdir %s", buf);
                }
                *e = save;
                if (!save)
                        return 0;
                p = e;
        }
}

/* A fresh v1 cpuset is empty and takes no tasks until cpus and mems are
 * copied down from its parent, level by level. */
static int cpuset_fill(const char *root, const char *leaf, struct wh_err *err)
{
        _cleanup_free_ char *buf = strdup(leaf);
        if (!buf)
                return wh_fail(err, ENOMEM, "cpuset");
        for (char *p = buf + strlen(root) + 1;; p++) {
                char *e = strchrnul(p, '/');
                char save = *e;
                *e = '\0';
                static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
                for (size_t i = 0; i < 2; i++) {
                        char path[PATH_MAX], val[512] = "";
                        snprintf(path, sizeof(path), "%s/%s", buf, files[i]);
                        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                        ssize_t n = fd >= 0 ? read(fd, val, sizeof(val) - 1) : -1;
                        if (n < 0)
                                return wh_fail(err, errno, "read %s", path);
                        if (n > 1)
                                continue;
                        /* Empty: take the parent's. */
                        char *slash = strrchr(buf, '/');
                        *slash = '\0';
                        snprintf(path, sizeof(path), "%s/%s", buf, files[i]);
                        _cleanup_close_ int pfd = open(path, O_RDONLY | O_CLOEXEC);
                        n = pfd >= 0 ? read(pfd, val, sizeof(val) - 1) : -1;
                        *slash = '/';
                        if (n <= 0)
                                return wh_fail(err, n < 0 ? errno : EINVAL, "read %s",
                                               path);
                        val[n] = '\0';
                        val[strcspn(val, "\n")] = '\0';
                        int r = wh_cg_write(buf, files[i], val, err);
                        if (r < 0)
                                return r;
                }
                *e = save;
                if (!save)
                        return 0;
                p = e;
        }
}

/* Removes dir and what is below it, deepest first; missing is fine. */
static int rmdir_tree(const char *dir, int depth)
{
        if (depth > CG_MAX_DEPTH)
                return -ELOOP;
        /* Most have no child cgroups: try before listing. */
        if (rmdir(dir) == 0 || errno == ENOENT)
                return 0;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                char sub[PATH_MAX];
                snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
                rmdir_tree(sub, depth + 1);
        }
        /* A cgroup whose last task is exiting can be busy for a moment. */
        for (int i = 0; i < 50; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        return -EBUSY;
}

/* Undoes a failed create: from the leaf up to the first directory made. */
static void remove_made(const char *leaf, const char *first)
{
        if (!first)
                return;
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", leaf);
        for (;;) {
                rmdir(buf);
                if (strcmp(buf, first) == 0 || strlen(buf) <= strlen(first))
                        return;
                *strrchr(buf, '/') = '\0';
        }
}

/* cgroup v2: controllers must be enabled in every ancestor's
 * cgroup.subtree_control before the leaf has their files. */
static int v2_enable(const char *root, const char *leaf, unsigned has, struct wh_err *err)
{
        char ctl[64] = "";
        if (has & WH_RES_MEMORY)
                strncat(ctl, "+memory ", sizeof(ctl) - strlen(ctl) - 1);
        if (has & WH_RES_CPU)
                strncat(ctl, "+cpu ", sizeof(ctl) - strlen(ctl) - 1);
        if (has & WH_RES_CPUSET)
                strncat(ctl, "+cpuset ", sizeof(ctl) - strlen(ctl) - 1);
        if (has & WH_RES_PIDS)
                strncat(ctl, "+pids ", sizeof(ctl) - strlen(ctl) - 1);
        if (!ctl[0])
                return 0;
        _cleanup_free_ char *buf = strdup(leaf);
        if (!buf)
                return wh_fail(err, ENOMEM, "cgroup path");
        char *last = strrchr(buf, '/');
        for (char *p = buf + strlen(root);; p++) {
                char *e = strchrnul(p, '/');
                if (e > last)
                        return 0;
                char save = *e;
                *e = '\0';
                int r = wh_cg_write(buf, "cgroup.subtree_control", ctl, err);
                *e = save;
                if (r < 0)
                        return wh_fail_ctx(err, r, "enable controllers");
                p = e;
        }
}

static int apply(struct wh_cgroup *cg, const struct wh_cg_res *res, struct wh_err *err)
{
        if (cg->mode == WH_CGROUP_V2) {
                int r = v2_enable(CG_ROOT, cg->unified, res->has, err);
                if (r < 0)
                        return r;
                return wh_cg_res_apply_v2(res, cg->unified, err);
        }
        return wh_cg_res_apply_v1(res, dir_of, cg, err);
}

/* Makes one hierarchy's directory; records it in cg. */
static int make_one(struct wh_cgroup *cg, const char *root, const char *controller,
                    const char *rel, char **ret_first, struct wh_err *err)
{
        _cleanup_free_ char *path = NULL;
        int r = full_path(root, controller, rel, &path, err);
        if (r < 0)
                return r;
        r = mkdir_below(root, path, ret_first, err);
        if (r < 0)
                return r;
        if (!controller) {
                cg->unified = TAKE_PTR(path);
                return 0;
        }
        if (strcmp(controller, "cpuset") == 0 && (r = cpuset_fill(root, path, err)) < 0)
                return r;
        snprintf(cg->v1[cg->n].name, sizeof(cg->v1[cg->n].name), "%s", controller);
        cg->v1[cg->n++].path = TAKE_PTR(path);
        return 0;
}

static int make_dirs(struct wh_cgroup *cg, const char *rel, unsigned has, char **first,
                     struct wh_err *err)
{
        int r;
        if (cg->mode == WH_CGROUP_V2)
                return make_one(cg, CG_ROOT, NULL, rel, &first[0], err);
        if (cg->mode == WH_CGROUP_HYBRID &&
            (r = make_one(cg, CG_ROOT "/unified", NULL, rel, &first[0], err)) < 0)
                return r;
        dev_t seen[CG_MAX_V1];
        size_t nseen = 0;
        for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
                if (v1_controllers[i].need && !(has & v1_controllers[i].need))
                        continue;
                char root[64];
                snprintf(root, sizeof(root), CG_ROOT "/%s", v1_controllers[i].name);
                struct stat st;
                if (stat(root, &st) < 0)
                        continue;
                /* Co-mounted controllers (cpu,cpuacct on AL2) are one
                 * hierarchy reached by two names: join it once. */
                size_t k = 0;
                while (k < nseen && seen[k] != st.st_dev)
                        k++;
                if (k < nseen)
                        continue;
                seen[nseen++] = st.st_dev;
                r = make_one(cg, root, v1_controllers[i].name, rel, &first[1 + cg->n], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int wh_cgroup_create(const char *cgroups_path, const char *id, json_object *linux_resources,
                     struct wh_cgroup **ret, struct wh_err *err)
{
        struct wh_cg_res res;
        int r = wh_cg_res_parse(linux_resources, &res, err);
        if (r < 0)
                return r;
        char rel[PATH_MAX];
        r = resolve_path(cgroups_path, id, rel, sizeof(rel), err);
        if (r < 0)
                return r;
        _cleanup_cgroup_ struct wh_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return wh_fail(err, ENOMEM, "cgroup");
        cg->mode = wh_cgroup_mode_detect();
        if (cg->mode == WH_CGROUP_NONE)
                return wh_failx(err, ENOENT, "no cgroup file system at " CG_ROOT);

        char *first[1 + CG_MAX_V1] = {0};
        r = make_dirs(cg, rel, res.has, first, err);
        if (r >= 0)
                r = apply(cg, &res, err);
        if (r < 0) {
                /* Leave nothing behind. first[0] is the cgroup2 one. */
                if (cg->unified)
                        remove_made(cg->unified, first[0]);
                for (size_t i = 0; i < cg->n; i++)
                        remove_made(cg->v1[i].path, first[1 + i]);
        }
        for (size_t i = 0; i < ARRAY_SIZE(first); i++)
                free(first[i]);
        if (r < 0)
                return wh_fail_ctx(err, r, "cgroup %s", rel);
        *ret = TAKE_PTR(cg);
        return 0;
}

int wh_cgroup_update(struct wh_cgroup *cg, json_object *linux_resources, struct wh_err *err)
{
        struct wh_cg_res res;
        int r = wh_cg_res_parse(linux_resources, &res, err);
        if (r < 0)
                return r;
        return apply(cg, &res, err);
}

int wh_cgroup_enter(const struct wh_cgroup *cg, pid_t pid, int v1_only, struct wh_err *err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        int r;
        if (!v1_only && cg->unified &&
            (r = wh_cg_write(cg->unified, "cgroup.procs", buf, err)) < 0)
                return r;
        const char *file = pid == 0 ? "tasks" : "cgroup.procs";
        for (size_t i = 0; i < cg->n; i++)
                if ((r = wh_cg_write(cg->v1[i].path, file, buf, err)) < 0)
                        return r;
        return 0;
}

/* The directory whose cgroup.procs lists every process of the container. */
static const char *tracking_dir(const struct wh_cgroup *cg)
{
        if (cg->unified)
                return cg->unified;
        const char *p = wh_cgroup_get_path(cg, "pids");
        return p ? p : (cg->n ? cg->v1[0].path : NULL);
}

struct pidvec {
        pid_t *v;
        size_t n, cap;
};

static int collect(const char *dir, struct pidvec *pv, int depth)
{
        if (depth > CG_MAX_DEPTH)
                return -ELOOP;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        char line[32];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                int pid;
                if (wh_parse_int(line, 1, INT_MAX, &pid) < 0)
                        continue;
                if (pv->n == pv->cap) {
                        size_t cap = pv->cap ? pv->cap * 2 : 16;
                        pid_t *nv = reallocarray(pv->v, cap, sizeof(*nv));
                        if (!nv)
                                return -ENOMEM;
                        pv->v = nv;
                        pv->cap = cap;
                }
                pv->v[pv->n++] = pid;
        }
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                int r = collect(path, pv, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

int wh_cgroup_pids(const struct wh_cgroup *cg, pid_t **ret_pids, size_t *ret_n,
                   struct wh_err *err)
{
        struct pidvec pv = {0};
        const char *dir = tracking_dir(cg);
        int r = dir ? collect(dir, &pv, 0) : 0;
        if (r < 0) {
                free(pv.v);
                return wh_fail(err, -r, "list processes of cgroup %s", dir);
        }
        if (pv.n)
                qsort(pv.v, pv.n, sizeof(pid_t), cmp_pid);
        size_t o = 0;
        for (size_t i = 0; i < pv.n; i++)
                if (o == 0 || pv.v[o - 1] != pv.v[i])
                        pv.v[o++] = pv.v[i];
        *ret_pids = pv.v;
        *ret_n = o;
        return 0;
}

int wh_cgroup_kill_all(const struct wh_cgroup *cg, int sig, struct wh_err *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = wh_cgroup_pids(cg, &pids, &n, err);
        if (r < 0)
                return r;
        /* cgroup.kill (Linux 5.14) kills every process, forks in flight
         * included, in one write. */
        if (sig == SIGKILL && cg->unified && n > 0 &&
            wh_cg_write(cg->unified, "cgroup.kill", "1", NULL) == 0)
                return (int)n;
        int count = 0;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) == 0)
                        count++;
                else if (errno != ESRCH)
                        return wh_fail(err, errno, "kill %d", (int)pids[i]);
        return count;
}

int wh_cgroup_destroy(struct wh_cgroup *cg, struct wh_err *err)
{
        if (!cg)
                return 0;
        /* The usual case: the init is gone and took its pid namespace
         * along, so the cgroup that tracks every container process is
         * empty, and rmdir says so without listing cgroup.procs. */
        const char *track = tracking_dir(cg);
        int empty = track && (rmdir(track) == 0 || errno == ENOENT);
        /* Kill until empty: a fork may race the first round (v1). */
        for (int round = 0; !empty && round < 200; round++) {
                int r = wh_cgroup_kill_all(cg, SIGKILL, err);
                if (r == 0)
                        break;
                if (r < 0 && r != -ENOENT)
                        return r;
                nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
        }
        int ret = 0;
        if (cg->unified) {
                int r = rmdir_tree(cg->unified, 0);
                if (r < 0)
                        ret = wh_fail(err, -r, "remove cgroup %s", cg->unified);
        }
        for (size_t i = 0; i < cg->n; i++) {
                int r = rmdir_tree(cg->v1[i].path, 0);
                if (r < 0 && ret == 0)
                        ret = wh_fail(err, -r, "remove cgroup %s", cg->v1[i].path);
        }
        return ret;
}

static const char *const mode_names[] = {"none", "v1", "hybrid", "v2"};

json_object *wh_cgroup_to_json(const struct wh_cgroup *cg)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *paths = json_object_new_object();
        if (!o || !paths || json_object_object_add(o, "paths", paths) < 0) {
                json_object_put(paths);
                return NULL;
        }
        if (wh_json_add_string(o, "mode", mode_names[cg->mode]) < 0)
                return NULL;
        if (cg->unified && wh_json_add_string(paths, "unified", cg->unified) < 0)
                return NULL;
        for (size_t i = 0; i < cg->n; i++)
                if (wh_json_add_string(paths, cg->v1[i].name, cg->v1[i].path) < 0)
                        return NULL;
        return TAKE_PTR(o);
}

static int check_state_path(const char *key, const char *p, struct wh_err *err)
{
        if (strncmp(p, CG_ROOT "/", sizeof(CG_ROOT)) != 0 || strstr(p, "/../") ||
            strlen(p) >= PATH_MAX)
                return wh_failx(err, EINVAL,
                                "cgroup state: paths.%s: '%s' is not under " CG_ROOT, key,
                                p);
        return 0;
}

int wh_cgroup_from_json(json_object *obj, struct wh_cgroup **ret, struct wh_err *err)
{
        const char *mode = NULL;
        json_object *paths = NULL;
        int r;
        if ((r = wh_json_get_string(obj, "cgroup state", "mode", 1, &mode, err)) < 0 ||
            (r = wh_json_get_object(obj, "cgroup state", "paths", 1, &paths, err)) < 0)
                return r;
        _cleanup_cgroup_ struct wh_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return wh_fail(err, ENOMEM, "cgroup");
        size_t m = 0;
        while (m < ARRAY_SIZE(mode_names) && strcmp(mode, mode_names[m]))
                m++;
        if (m == ARRAY_SIZE(mode_names))
                return wh_failx(err, EINVAL, "cgroup state: unknown mode '%s'", mode);
        cg->mode = (enum wh_cgroup_mode)m;
        json_object_object_foreach(paths, key, val)
        {
                const char *p = json_object_get_string(val);
                if (!json_object_is_type(val, json_type_string))
                        return wh_failx(err, EINVAL,
                                        "cgroup state: paths.%s: expected a string", key);
                if ((r = check_state_path(key, p, err)) < 0)
                        return r;
                if (strcmp(key, "unified") == 0) {
                        free(cg->unified);
                        if (!(cg->unified = strdup(p)))
                                return wh_fail(err, ENOMEM, "cgroup");
                        continue;
                }
                if (cg->n == CG_MAX_V1 || strlen(key) >= sizeof(cg->v1[0].name))
                        return wh_failx(err, EINVAL,
                                        "cgroup state: too many or odd controllers");
                snprintf(cg->v1[cg->n].name, sizeof(cg->v1[0].name), "%s", key);
                if (!(cg->v1[cg->n].path = strdup(p)))
                        return wh_fail(err, ENOMEM, "cgroup");
                cg->n++;
        }
        *ret = TAKE_PTR(cg);
        return 0;
}
