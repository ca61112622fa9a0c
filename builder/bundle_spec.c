/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "parse_num.h"
#include "path_safe.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DB_MAX       (4u << 20)

/* etc/passwd or etc/group of the rootfs, read inside it; NULL text when absent. */
static int read_db(int rootfs_fd, const char *path, char **ret, struct wh_err *err)
{
        *ret = NULL;
        _cleanup_close_ int fd = wh_open_in_root(rootfs_fd, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return wh_fail(err, -fd, "/%s", path);
        size_t len = 0, cap = 4096;
        _cleanup_free_ char *buf = malloc(cap);
        for (;;) {
                if (!buf)
                        return wh_fail(err, ENOMEM, "/%s", path);
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return wh_fail(err, errno, "read /%s", path);
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len + 1 == cap) {
                        if (cap >= DB_MAX)
                                return wh_failx(err, EFBIG, "/%s: too large", path);
                        cap *= 2;
                        char *nb = realloc(buf, cap);
                        if (!nb)
                                return wh_fail(err, ENOMEM, "/%s", path);
                        buf = nb;
                }
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/*
 * Finds the line whose field key_field equals key (by name) and returns
 * its fields 2 and 3 (uid and gid in passwd, gid in group). by_id matches
 * field 2 instead. Returns 1 when found.
 */
static int db_lookup(const char *db, const char *key, int by_id, uint32_t *ret_id,
                     uint32_t *ret_gid)
{
        for (const char *line = db; line && *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                char buf[1024];
                if (len < sizeof(buf)) {
                        memcpy(buf, line, len);
                        buf[len] = '\0';
                        char *f[4] = {buf, NULL, NULL, NULL};
                        for (int i = 1; i < 4 && f[i - 1]; i++) {
                                char *c = strchr(f[i - 1], ':');
                                if (c) {
                                        *c = '\0';
                                        f[i] = c + 1;
                                }
                        }
                        int64_t id = 0, gid = 0;
                        int good = f[2] && wh_parse_i64(f[2], 0, UINT32_MAX, &id) >= 0;
                        if (good && f[3]) {
                                char *c = strchr(f[3], ':');
                                if (c)
                                        *c = '\0';
                                if (wh_parse_i64(f[3], 0, UINT32_MAX, &gid) < 0)
                                        gid = 0;
                        }
                        if (good && (by_id ? !strcmp(f[2], key) : !strcmp(f[0], key))) {
                                *ret_id = (uint32_t)id;
                                if (ret_gid)
                                        *ret_gid = (uint32_t)gid;
                                return 1;
                        }
                }
                line = eol ? eol + 1 : NULL;
        }
        return 0;
}

int wh_bundle_user(const char *user, int rootfs_fd, uint32_t *ret_uid, uint32_t *ret_gid,
                   struct wh_err *err)
{
        uint32_t uid = 0, gid = 0;
        if (!user || !*user) {
                *ret_uid = *ret_gid = 0;
                return 0;
        }
        _cleanup_free_ char *u = strdup(user);
        if (!u)
                return wh_fail(err, ENOMEM, "user");
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        int r = read_db(rootfs_fd, "etc/passwd", &passwd, err);
        if (r < 0)
                return r;
        int64_t n;
        if (wh_parse_i64(u, 0, UINT32_MAX, &n) >= 0) {
                uid = (uint32_t)n;
                uint32_t dummy;
                if (!passwd || !db_lookup(passwd, u, 1, &dummy, &gid))
                        gid = 0;
        } else if (!passwd || !db_lookup(passwd, u, 0, &uid, &gid)) {
                return wh_failx(err, ENOENT, "user '%s': not in the image's /etc/passwd",
                                u);
        }
        if (g && *g) {
                if (wh_parse_i64(g, 0, UINT32_MAX, &n) >= 0) {
                        gid = (uint32_t)n;
                } else {
                        r = read_db(rootfs_fd, "etc/group", &group, err);
                        if (r < 0)
                                return r;
                        if (!group || !db_lookup(group, g, 0, &gid, NULL))
                                return wh_failx(err, ENOENT,
                                                "group '%s': not in the image's /etc/group",
                                                g);
                }
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

static json_object *strv_json(const char *const *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

/* Entrypoint followed by Cmd; NULL when both are empty. */
static json_object *process_args(json_object *c)
{
        json_object *args = json_object_new_array();
        static const char *const keys[] = {"Entrypoint", "Cmd"};
        for (size_t k = 0; args && k < ARRAY_SIZE(keys); k++) {
                json_object *v = NULL;
                if (!c || !json_object_object_get_ex(c, keys[k], &v) ||
                    !json_object_is_type(v, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *s = json_object_array_get_idx(v, i);
                        if (json_object_is_type(s, json_type_string))
                                json_object_array_add(args, json_object_get(s));
                }
        }
        if (args && json_object_array_length(args) == 0) {
                json_object_put(args);
                return NULL;
        }
        return args;
}

static json_object *process_env(json_object *c)
{
        json_object *env = json_object_new_array(), *v = NULL;
        int has_path = 0;
        if (env && c && json_object_object_get_ex(c, "Env", &v) &&
            json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *s = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(s, json_type_string))
                                continue;
                        has_path |= !strncmp(json_object_get_string(s), "PATH=", 5);
                        json_object_array_add(env, json_object_get(s));
                }
        }
        if (env && !has_path)
                json_object_array_add(env, json_object_new_string(DEFAULT_PATH));
        return env;
}

static json_object *capabilities(void)
{
        /* The set docker and podman give a container: what images expect. */
        static const char *const caps[] = {"CAP_CHOWN",
                                           "CAP_DAC_OVERRIDE",
                                           "CAP_FOWNER",
                                           "CAP_FSETID",
                                           "CAP_KILL",
                                           "CAP_SETGID",
                                           "CAP_SETUID",
                                           "CAP_SETPCAP",
                                           "CAP_NET_RAW",
                                           "CAP_SYS_CHROOT",
                                           "CAP_NET_BIND_SERVICE",
                                           "CAP_MKNOD",
                                           "CAP_SETFCAP",
                                           "CAP_AUDIT_WRITE",
                                           NULL};
        json_object *o = json_object_new_object();
        static const char *const sets[] = {"bounding", "effective", "permitted"};
        for (size_t i = 0; o && i < ARRAY_SIZE(sets); i++)
                json_object_object_add(o, sets[i], strv_json(caps));
        return o;
}

static json_object *mount(const char *dest, const char *type, const char *src,
                          const char *const *options)
{
        json_object *m = json_object_new_object();
        if (!m)
                return NULL;
        wh_json_add_string(m, "destination", dest);
        wh_json_add_string(m, "type", type);
        wh_json_add_string(m, "source", src);
        if (options)
                json_object_object_add(m, "options", strv_json(options));
        return m;
}

static json_object *mounts(void)
{
        static const char *const dev[] = {"nosuid", "strictatime", "mode=755",
                                          "size=65536k", NULL};
        static const char *const pts[] = {
                "nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                "mode=0620", "gid=5",  NULL};
        static const char *const shm[] = {"nosuid",    "noexec",      "nodev",
                                          "mode=1777", "size=65536k", NULL};
        static const char *const mq[] = {"nosuid", "noexec", "nodev", NULL};
        static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        json_object_array_add(a, mount("/proc", "proc", "proc", NULL));
        json_object_array_add(a, mount("/dev", "tmpfs", "tmpfs", dev));
        json_object_array_add(a, mount("/dev/pts", "devpts", "devpts", pts));
        json_object_array_add(a, mount("/dev/shm", "tmpfs", "shm", shm));
        json_object_array_add(a, mount("/dev/mqueue", "mqueue", "mqueue", mq));
        json_object_array_add(a, mount("/sys", "sysfs", "sysfs", sys));
        return a;
}

static json_object *linux_section(const struct wh_bundle_opts *o)
{
        static const char *const ns[] = {"pid", "ipc", "uts", "mount", "network"};
        static const char *const masked[] = {"/proc/acpi",
                                             "/proc/asound",
                                             "/proc/kcore",
                                             "/proc/keys",
                                             "/proc/latency_stats",
                                             "/proc/timer_list",
                                             "/proc/timer_stats",
                                             "/proc/sched_debug",
                                             "/sys/firmware",
                                             "/proc/scsi",
                                             NULL};
        static const char *const masked_relaxed[] = {
                "/proc/kcore",       "/proc/keys",    "/proc/timer_list",
                "/proc/sched_debug", "/sys/firmware", NULL};
        static const char *const ro[] = {"/proc/bus",           "/proc/fs",
                                         "/proc/irq",           "/proc/sys",
                                         "/proc/sysrq-trigger", NULL};
        /* network is last in ns[], so leaving the host's is leaving it out. */
        size_t nns = ARRAY_SIZE(ns) - (o->host_network ? 1 : 0);
        json_object *l = json_object_new_object();
        json_object *a = l ? json_object_new_array() : NULL;
        for (size_t i = 0; a && i < nns; i++) {
                json_object *n = json_object_new_object();
                wh_json_add_string(n, "type", ns[i]);
                json_object_array_add(a, n);
        }
        if (l) {
                json_object_object_add(l, "namespaces", a);
                json_object_object_add(l, "maskedPaths",
                                       strv_json(o->relaxed ? masked_relaxed : masked));
                json_object_object_add(l, "readonlyPaths", strv_json(ro));
        }
        return l;
}

/* What an image of this architecture may run, as Docker's profile lists them. */
static const char *const *seccomp_arches(const char *oci_arch)
{
        static const char *const amd64[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                            "SCMP_ARCH_X32", NULL};
        static const char *const arm64[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
        static const char *const i386[] = {"SCMP_ARCH_X86", NULL};
        static const char *const arm[] = {"SCMP_ARCH_ARM", NULL};
        static const char *const ppc64le[] = {"SCMP_ARCH_PPC64LE", NULL};
        static const char *const s390x[] = {"SCMP_ARCH_S390X", "SCMP_ARCH_S390", NULL};
        static const char *const riscv64[] = {"SCMP_ARCH_RISCV64", NULL};
        static const struct {
                const char *oci;
                const char *const *scmp;
        } map[] = {{"amd64", amd64},    {"arm64", arm64},     {"386", i386},
                   {"arm", arm},        {"ppc64le", ppc64le}, {"s390x", s390x},
                   {"riscv64", riscv64}};
        for (size_t i = 0; oci_arch && i < ARRAY_SIZE(map); i++)
                if (strcmp(map[i].oci, oci_arch) == 0)
                        return map[i].scmp;
        return NULL;
}

static json_object *seccomp_rule(json_object *names, const char *action, int errno_ret)
{
        json_object *r = json_object_new_object();
        if (!r) {
                json_object_put(names);
                return NULL;
        }
        json_object_object_add(r, "names", names);
        wh_json_add_string(r, "action", action);
        if (errno_ret)
                wh_json_add_int64(r, "errnoRet", errno_ret);
        return r;
}

/* linux.seccomp for o->syscalls, in the OCI (runc, Docker) format. */
static int seccomp_section(json_object *image_config, const struct wh_bundle_opts *o,
                           json_object **ret, struct wh_err *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = wh_seccomp_names((const char *const *)o->syscalls, "profile syscalls",
                                 &names, err);
        if (r < 0)
                return r;
        const char *arch = NULL;
        if (image_config)
                wh_json_get_string(image_config, "image config", "architecture", 0, &arch,
                                   NULL);
        int e = o->seccomp_errno > 0 ? o->seccomp_errno : EPERM;
        _cleanup_json_ json_object *sc = json_object_new_object();
        json_object *rules = json_object_new_array();
        if (!sc || !rules) {
                json_object_put(rules);
                return wh_fail(err, ENOMEM, "linux.seccomp");
        }
        json_object_object_add(sc, "syscalls", rules);
        switch (o->seccomp_action) {
        case WH_SECCOMP_KILL:
                wh_json_add_string(sc, "defaultAction", "SCMP_ACT_KILL_PROCESS");
                break;
        case WH_SECCOMP_LOG:
                wh_json_add_string(sc, "defaultAction", "SCMP_ACT_LOG");
                break;
        case WH_SECCOMP_ERRNO:
        default:
                wh_json_add_string(sc, "defaultAction", "SCMP_ACT_ERRNO");
                wh_json_add_int64(sc, "defaultErrnoRet", e);
                break;
        }
        const char *const *arches = seccomp_arches(arch);
        if (arches)
                json_object_object_add(sc, "architectures", strv_json(arches));
        int have_clone3 = 0;
        for (char **n = names; *n; n++)
                have_clone3 |= strcmp(*n, "clone3") == 0;
        json_object_array_add(rules,
                              seccomp_rule(wh_json_from_strv(names), "SCMP_ACT_ALLOW", 0));
        /* As the BPF filter does (seccomp_bpf.h): glibc falls back to clone. */
        int enosys_default = o->seccomp_action == WH_SECCOMP_ERRNO && e == ENOSYS;
        if (!have_clone3 && o->seccomp_action != WH_SECCOMP_LOG && !enosys_default) {
                static const char *const clone3[] = {"clone3", NULL};
                json_object_array_add(
                        rules, seccomp_rule(strv_json(clone3), "SCMP_ACT_ERRNO", ENOSYS));
        }
        *ret = TAKE_PTR(sc);
        return 0;
}

static json_object *process(json_object *c, json_object *args, uint32_t uid, uint32_t gid,
                            const struct wh_bundle_opts *o)
{
        json_object *p = json_object_new_object();
        if (!p)
                return NULL;
        json_object_object_add(p, "terminal", json_object_new_boolean(o->terminal));
        json_object *u = json_object_new_object();
        wh_json_add_int64(u, "uid", uid);
        wh_json_add_int64(u, "gid", gid);
        json_object_object_add(p, "user", u);
        json_object_object_add(p, "args", args);
        json_object_object_add(p, "env", process_env(c));
        const char *cwd = NULL;
        if (c)
                wh_json_get_string(c, "config", "WorkingDir", 0, &cwd, NULL);
        _cleanup_free_ char *abs = NULL;
        if (cwd && *cwd && *cwd != '/' && asprintf(&abs, "/%s", cwd) < 0)
                abs = NULL;
        wh_json_add_string(p, "cwd", abs ? abs : cwd && *cwd ? cwd : "/");
        json_object_object_add(p, "capabilities", capabilities());
        if (!o->relaxed) {
                json_object *rl = json_object_new_array();
                json_object *nofile = json_object_new_object();
                wh_json_add_string(nofile, "type", "RLIMIT_NOFILE");
                wh_json_add_int64(nofile, "hard", 1024);
                wh_json_add_int64(nofile, "soft", 1024);
                json_object_array_add(rl, nofile);
                json_object_object_add(p, "rlimits", rl);
        }
        json_object_object_add(p, "noNewPrivileges",
                               json_object_new_boolean(!o->relaxed || o->syscalls));
        return p;
}

int wh_bundle_config(json_object *image_config, int rootfs_fd,
                     const struct wh_bundle_opts *o, char **ret, struct wh_err *err)
{
        json_object *c = NULL;
        if (image_config && (!json_object_object_get_ex(image_config, "config", &c) ||
                             !json_object_is_type(c, json_type_object)))
                c = NULL;
        json_object *args = o->args ? wh_json_from_strv(o->args) : process_args(c);
        if (args && json_object_array_length(args) == 0) {
                json_object_put(args);
                args = NULL;
        }
        if (!args)
                return wh_failx(err, EINVAL,
                                "the image names no process (neither Entrypoint nor Cmd)");
        const char *user = NULL;
        if (c)
                wh_json_get_string(c, "config", "User", 0, &user, NULL);
        uint32_t uid = 0, gid = 0;
        json_object *seccomp = NULL;
        int r = wh_bundle_user(user, rootfs_fd, &uid, &gid, err);
        if (r >= 0 && o->syscalls)
                r = seccomp_section(image_config, o, &seccomp, err);
        if (r < 0) {
                json_object_put(args);
                return r;
        }
        _cleanup_json_ json_object *s = json_object_new_object();
        json_object *root = json_object_new_object();
        if (!s || !root) {
                json_object_put(args);
                json_object_put(root);
                json_object_put(seccomp);
                return wh_fail(err, ENOMEM, "config.json");
        }
        wh_json_add_string(s, "ociVersion", "1.0.2");
        json_object_object_add(s, "process", process(c, args, uid, gid, o));
        wh_json_add_string(root, "path", "rootfs");
        json_object_object_add(root, "readonly", json_object_new_boolean(o->readonly));
        json_object_object_add(s, "root", root);
        wh_json_add_string(s, "hostname", o->hostname ? o->hostname : "whittle");
        json_object_object_add(s, "mounts", mounts());
        json_object *lx = linux_section(o);
        if (lx && seccomp)
                json_object_object_add(lx, "seccomp", seccomp);
        else
                json_object_put(seccomp);
        json_object_object_add(s, "linux", lx);
        char *text = wh_json_to_string(s, 1);
        if (!text)
                return wh_fail(err, ENOMEM, "config.json");
        *ret = text;
        return 0;
}
