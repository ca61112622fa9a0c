/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"
#include "parse_num.h"

#define STATE_MAX (8u << 20)

int wh_state_id_valid(const char *id)
{
        size_t n = strlen(id);
        if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
                return 0;
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.'))
                        return 0;
        }
        return 1;
}

int wh_state_open_root(const char *root, int create, struct wh_err *err)
{
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || !create)
                return fd >= 0 ? fd : wh_fail(err, errno, "state root '%s'", root);
        if (root[0] != '/')
                return wh_failx(err, EINVAL, "state root '%s': must be absolute", root);
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof(buf), "%s", root) >= (int)sizeof(buf))
                return wh_failx(err, ENAMETOOLONG, "state root '%s'", root);
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                        return wh_fail(err, errno, "state root '%s'", buf);
                *p = c;
                if (!c)
                        break;
        }
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : wh_fail(err, errno, "state root '%s'", root);
}

int wh_state_create_dir(int root_fd, const char *id, struct wh_err *err)
{
        if (mkdirat(root_fd, id, 0700) < 0) {
                if (errno == EEXIST)
                        return wh_failx(err, EEXIST, "container with given ID already exists");
                return wh_fail(err, errno, "state directory '%s'", id);
        }
        int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 ? fd : wh_fail(err, errno, "state directory '%s'", id);
}

static int add_obj(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return 0;
        return json_object_object_add(o, key, json_object_get(v)) < 0 ? -ENOMEM : 0;
}

int wh_state_save(int dir_fd, const struct wh_state *st, struct wh_err *err)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o)
                return wh_fail(err, ENOMEM, "state");
        int r = 0;
        r |= wh_json_add_string(o, "id", st->id);
        r |= wh_json_add_int64(o, "pid", st->pid);
        r |= wh_json_add_int64(o, "start_time", (int64_t)st->start_time);
        r |= wh_json_add_string(o, "bundle", st->bundle);
        r |= wh_json_add_string(o, "rootfs", st->rootfs);
        r |= wh_json_add_string(o, "created", st->created);
        r |= wh_json_add_string(o, "owner", st->owner ? st->owner : "");
        r |= wh_json_add_int64(o, "no_new_privileges", st->no_new_privileges);
        r |= wh_json_add_int64(o, "use_fifo", st->use_fifo);
        r |= add_obj(o, "annotations", st->annotations);
        r |= add_obj(o, "hooks", st->hooks);
        r |= add_obj(o, "cgroup", st->cgroup);
        r |= add_obj(o, "seccomp", st->seccomp);
        r |= add_obj(o, "process", st->process);
        if (r)
                return wh_fail(err, ENOMEM, "state");
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return wh_fail(err, ENOMEM, "state");
        return wh_write_file_atomic_ex(dir_fd, "state.json", text, strlen(text), 0600,
                                       WH_WRITE_NOSYNC, err);
}

static int get_dup(json_object *o, const char *key, char **ret, struct wh_err *err)
{
        const char *s = NULL;
        int r = wh_json_get_string(o, "state.json", key, 1, &s, err);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : wh_fail(err, ENOMEM, "state.json");
}

static json_object *take_member(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v ||
            json_object_is_type(v, json_type_null))
                return NULL;
        return json_object_get(v);
}

int wh_state_load(int root_fd, const char *id, struct wh_state *ret, struct wh_err *err)
{
        if (!wh_state_id_valid(id))
                return wh_failx(err, ENOENT, "container does not exist");
        _cleanup_close_ int dfd = openat(root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                          O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? wh_failx(err, ENOENT, "container does not exist")
                                       : wh_fail(err, errno, "state of '%s'", id);
        _cleanup_json_ json_object *o = NULL;
        struct wh_err e2 = { 0 };
        int r = wh_json_parse_file(dfd, "state.json", STATE_MAX, &o, &e2);
        if (r == -ENOENT) /* mid-create or mid-delete: not a container yet */
                return wh_failx(err, ENOENT, "container does not exist");
        if (r < 0)
                return wh_fail_ctx(err, r, "state of '%s': %s", id, e2.msg);
        struct wh_state st = { 0 };
        int64_t pid = 0, start = 0, nnp = 0, fifo = 0;
        if ((r = get_dup(o, "id", &st.id, err)) < 0 ||
            (r = get_dup(o, "bundle", &st.bundle, err)) < 0 ||
            (r = get_dup(o, "rootfs", &st.rootfs, err)) < 0 ||
            (r = get_dup(o, "created", &st.created, err)) < 0 ||
            (r = get_dup(o, "owner", &st.owner, err)) < 0 ||
            (r = wh_json_get_int64(o, "state.json", "pid", 1, 0, INT32_MAX, &pid, err)) < 0 ||
            (r = wh_json_get_int64(o, "state.json", "start_time", 1, 0, INT64_MAX, &start,
                                   err)) < 0 ||
            (r = wh_json_get_int64(o, "state.json", "no_new_privileges", 0, 0, 1, &nnp,
                                   err)) < 0 ||
            (r = wh_json_get_int64(o, "state.json", "use_fifo", 0, 0, 1, &fifo, err)) < 0) {
                wh_state_release(&st);
                return r;
        }
        st.pid = (pid_t)pid;
        st.start_time = (uint64_t)start;
        st.no_new_privileges = (int)nnp;
        st.use_fifo = (int)fifo;
        st.annotations = take_member(o, "annotations");
        st.hooks = take_member(o, "hooks");
        st.cgroup = take_member(o, "cgroup");
        st.seccomp = take_member(o, "seccomp");
        st.process = take_member(o, "process");
        *ret = st;
        return 0;
}

int wh_state_remove(int root_fd, const char *id)
{
        /* What the runtime puts there, by name: no directory walk on the
         * path every `run` and `delete` takes; anything else, the walk. */
        static const char *const files[] = { "state.json", "exec.fifo" };
        _cleanup_close_ int dfd = openat(root_fd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                                          O_CLOEXEC);
        if (dfd >= 0) {
                for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                        (void)unlinkat(dfd, files[i], 0);
                if (unlinkat(root_fd, id, AT_REMOVEDIR) == 0)
                        return 0;
        }
        return wh_rm_rf_at(root_fd, id);
}

uint64_t wh_state_proc_start_time(pid_t pid)
{
        return wh_state_proc_start_time_ex(pid, 0);
}

uint64_t wh_state_proc_start_time_ex(pid_t pid, int allow_zombie)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm may hold spaces and ')': the fields start after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        p += 2;
        if (!allow_zombie && (*p == 'Z' || *p == 'X'))
                return 0;
        /* p is field 3 (state); start time is field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return 0;
                p++;
        }
        char *end = strchr(p, ' ');
        if (end)
                *end = '\0';
        uint64_t v = 0;
        return wh_parse_u64(p, UINT64_MAX, &v) < 0 ? 0 : v;
}

enum wh_status wh_state_status(int root_fd, const struct wh_state *st)
{
        if (st->pid <= 0)
                return WH_STATUS_STOPPED;
        uint64_t t = wh_state_proc_start_time(st->pid);
        if (t == 0 || t != st->start_time)
                return WH_STATUS_STOPPED;
        if (st->use_fifo) {
                char path[1100];
                snprintf(path, sizeof(path), "%s/exec.fifo", st->id);
                if (faccessat(root_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return WH_STATUS_CREATED;
        }
        return WH_STATUS_RUNNING;
}

const char *wh_status_name(enum wh_status s)
{
        switch (s) {
        case WH_STATUS_CREATING:
                return "creating";
        case WH_STATUS_CREATED:
                return "created";
        case WH_STATUS_RUNNING:
                return "running";
        case WH_STATUS_STOPPED:
                return "stopped";
        }
        return "unknown";
}

json_object *wh_state_to_oci(const struct wh_state *st, enum wh_status status)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        int r = 0;
        r |= wh_json_add_string(o, "ociVersion", WH_OCI_VERSION);
        r |= wh_json_add_string(o, "id", st->id);
        r |= wh_json_add_int64(o, "pid", status == WH_STATUS_STOPPED ? 0 : st->pid);
        r |= wh_json_add_string(o, "status", wh_status_name(status));
        r |= wh_json_add_string(o, "bundle", st->bundle);
        r |= wh_json_add_string(o, "rootfs", st->rootfs);
        r |= wh_json_add_string(o, "created", st->created);
        if (st->annotations)
                r |= add_obj(o, "annotations", st->annotations);
        else
                r |= json_object_object_add(o, "annotations", json_object_new_object());
        r |= wh_json_add_string(o, "owner", st->owner ? st->owner : "");
        if (r) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm):
 * gmtime_r would read /etc/localtime on every start for nothing. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void wh_state_now_rfc3339(char buf[40])
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t days = ts.tv_sec / 86400, rem = ts.tv_sec % 86400, y;
        unsigned mo, d;
        civil_from_days(days, &y, &mo, &d);
        char tmp[96];
        snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02u:%02u:%02u.%09ldZ", (long long)y, mo,
                 d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                 ts.tv_nsec);
        size_t n = strnlen(tmp, 39);
        memcpy(buf, tmp, n);
        buf[n] = '\0';
}

void wh_state_release(struct wh_state *st)
{
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->owner);
        if (st->annotations)
                json_object_put(st->annotations);
        if (st->hooks)
                json_object_put(st->hooks);
        if (st->cgroup)
                json_object_put(st->cgroup);
        if (st->seccomp)
                json_object_put(st->seccomp);
        if (st->process)
                json_object_put(st->process);
        memset(st, 0, sizeof(*st));
}
