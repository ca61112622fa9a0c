/* SPDX-License-Identifier: Apache-2.0 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "path_safe.h"

#define FD_PATH_MAX 32

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

int wh_mounts_mkpath_in_root(int root_fd, const char *path, int as_file, struct wh_err *err)
{
        int fd = wh_open_in_root(root_fd, path, O_PATH, 0);
        if (fd >= 0 || fd != -ENOENT)
                return fd >= 0 ? fd : wh_fail(err, -fd, "resolve '%s'", path);

        _cleanup_free_ char *rel = NULL;
        int r = wh_path_clean(path, WH_PATH_ALLOW_ABS, &rel);
        if (r < 0 || !*rel)
                return wh_fail(err, r < 0 ? -r : ENOENT, "resolve '%s'", path);
        char *slash = strrchr(rel, '/');
        const char *base = rel;
        /* An O_PATH directory fd serves as the dirfd of the *at() calls. */
        _cleanup_close_ int parent = -1;
        int dfd = root_fd;
        if (slash) {
                *slash = '\0';
                base = slash + 1;
                parent = wh_mounts_mkpath_in_root(root_fd, rel, 0, err);
                if (parent < 0)
                        return parent;
                dfd = parent;
        }
        if (as_file) {
                int f = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                               0644);
                if (f < 0 && errno != EEXIST)
                        return wh_fail(err, errno, "create '%s'", path);
                if (f >= 0)
                        close(f);
        } else if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST) {
                return wh_fail(err, errno, "mkdir '%s'", path);
        }
        /* Resolve once more from the root: base may be a symlink we just met. */
        fd = wh_open_in_root(root_fd, path, O_PATH, 0);
        if (fd == -ENOENT)
                return wh_failx(err, ENOENT, "'%s': a dangling symlink", path);
        return fd >= 0 ? fd : wh_fail(err, -fd, "resolve '%s'", path);
}

static int is_dir_path(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Applies flags that a bind mount only takes on a remount. */
static int bind_remount(int root_fd, const struct wh_mount_spec *m, struct wh_err *err)
{
        unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (!extra && !m->rro)
                return 0;
        _cleanup_close_ int fd = wh_open_in_root(root_fd, m->destination, O_PATH, 0);
        if (fd < 0)
                return wh_fail(err, -fd, "resolve");
        char p[FD_PATH_MAX];
        fd_path(p, fd);
        if (extra) {
                /* Keep what the kernel locked (nodev, nosuid... from a user ns). */
                struct statvfs sv;
                unsigned long locked = 0;
                if (statvfs(p, &sv) == 0)
                        locked = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC |
                                              ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
                if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | extra | locked, NULL) < 0)
                        return wh_fail(err, errno, "remount with options");
        }
        if (m->rro) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                            sizeof(attr)) < 0)
                        return wh_fail(err, errno, "recursive read-only");
        }
        return 0;
}

static int mount_cgroup(int root_fd, const struct wh_mount_spec *m, const char *dst,
                        const char *cgroup2_dir, struct wh_err *err)
{
        unsigned long flags = m->flags & ~(MS_BIND | MS_REC);
        if (cgroup2_dir) {
                if (mount(cgroup2_dir, dst, NULL, MS_BIND, NULL) < 0)
                        return wh_fail(err, errno, "bind '%s'", cgroup2_dir);
                return bind_remount(root_fd, m, err);
        }
        if (mount("cgroup2", dst, "cgroup2", flags, NULL) == 0)
                return 0;
        /* Hybrid and v1 hosts, or no cgroup namespace: show the host's tree. */
        if (mount("/sys/fs/cgroup", dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return wh_fail(err, errno, "bind /sys/fs/cgroup");
        return bind_remount(root_fd, m, err);
}

static int do_mount(int root_fd, const struct wh_mount_spec *m, const char *cgroup2_dir,
                    struct wh_err *err)
{
        int as_file = m->bind && !is_dir_path(m->source);
        _cleanup_close_ int fd = wh_mounts_mkpath_in_root(root_fd, m->destination, as_file,
                                                          err);
        if (fd < 0)
                return fd;
        char dst[FD_PATH_MAX];
        fd_path(dst, fd);
        int r;
        if (m->bind) {
                if (mount(m->source, dst, NULL, m->flags & (MS_BIND | MS_REC), NULL) < 0)
                        return wh_fail(err, errno, "bind '%s'", m->source);
                if ((r = bind_remount(root_fd, m, err)) < 0)
                        return r;
        } else if (!strcmp(m->type, "cgroup")) {
                if ((r = mount_cgroup(root_fd, m, dst, cgroup2_dir, err)) < 0)
                        return r;
        } else if (mount(m->source, dst, m->type, m->flags, m->data) < 0) {
                int e = errno;
                /* sysfs needs a network namespace owned by our user ns. */
                if (!strcmp(m->type, "sysfs") && (e == EPERM || e == EACCES) &&
                    mount("/sys", dst, NULL, MS_BIND | MS_REC, NULL) == 0)
                        return 0;
                /* devpts in a user ns where gid 5 is not mapped. */
                if (!strcmp(m->type, "devpts") && e == EINVAL && m->data &&
                    mount(m->source, dst, m->type, m->flags, "newinstance,ptmxmode=0666") == 0)
                        return 0;
                return wh_fail(err, e, "mount %s", m->type);
        }
        if (m->propagation) {
                _cleanup_close_ int top = wh_open_in_root(root_fd, m->destination, O_PATH, 0);
                char p[FD_PATH_MAX];
                fd_path(p, top);
                if (top < 0 || mount(NULL, p, NULL, m->propagation, NULL) < 0)
                        return wh_fail(err, top < 0 ? -top : errno, "propagation");
        }
        return 0;
}

static const struct {
        const char *name;
        unsigned major, minor;
} default_devices[] = {
        { "null", 1, 3 },    { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

/* The node base in the directory dfd; path is its absolute name (in errors,
 * and the host node bound in a user namespace). */
static int make_node_at(int dfd, const char *base, const char *path, mode_t type,
                        unsigned major, unsigned minor, mode_t mode, uid_t uid, gid_t gid,
                        int in_userns, struct wh_err *err)
{
        if (!in_userns || type == S_IFIFO) {
                /* The umask is 0 during set-up (wh_mounts_prepare), so the
                 * mode is exact without a chmod; a fresh /dev has nothing
                 * to replace, so unlink only when mknod finds one. */
                dev_t dev = makedev(major, minor);
                if (mknodat(dfd, base, type | (mode & 07777), dev) < 0 &&
                    (errno != EEXIST || unlinkat(dfd, base, 0) < 0 ||
                     mknodat(dfd, base, type | (mode & 07777), dev) < 0))
                        return wh_fail(err, errno, "mknod '%s'", path);
                if ((uid != 0 || gid != 0) &&
                    fchownat(dfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return wh_fail(err, errno, "chown '%s'", path);
                return 0;
        }
        /* No mknod in a user namespace: bind the host's node over a file. */
        int f = openat(dfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0)
                return wh_fail(err, errno, "create '%s'", path);
        char target[FD_PATH_MAX];
        fd_path(target, f);
        /* The host's node of the same path (/dev/net/tun, not /dev/tun). */
        int r = mount(path, target, NULL, MS_BIND, NULL);
        int e = errno;
        close(f);
        return r < 0 ? wh_fail(err, e, "bind '%s'", path) : 0;
}

static int make_device(int root_fd, const char *path, mode_t type, unsigned major,
                       unsigned minor, mode_t mode, uid_t uid, gid_t gid, int in_userns,
                       struct wh_err *err)
{
        _cleanup_free_ char *rel = NULL;
        if (wh_path_clean(path, WH_PATH_ALLOW_ABS, &rel) < 0 || !*rel)
                return wh_failx(err, EINVAL, "device '%s': invalid path", path);
        char *slash = strrchr(rel, '/');
        _cleanup_close_ int parent = -1;
        const char *base = rel;
        if (slash) {
                *slash = '\0';
                base = slash + 1;
                parent = wh_mounts_mkpath_in_root(root_fd, rel, 0, err);
                if (parent < 0)
                        return wh_fail_ctx(err, parent, "device '%s'", path);
        }
        return make_node_at(parent >= 0 ? parent : root_fd, base, path, type, major, minor,
                            mode, uid, gid, in_userns, err);
}

static int dev_symlinks(int dev, struct wh_err *err)
{
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
                { "pts/ptmx", "ptmx" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
                if (!strcmp(links[i][1], "ptmx"))
                        unlinkat(dev, "ptmx", 0);
                if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                        return wh_fail(err, errno, "symlink /dev/%s", links[i][1]);
        }
        return 0;
}

static int setup_devices(const struct wh_spec *spec, int root_fd, int in_userns,
                         struct wh_err *err)
{
        int dev_mounted = 0;
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (!strcmp(spec->mounts[i].destination, "/dev") && !spec->mounts[i].bind)
                        dev_mounted = 1;
        int r;
        if (dev_mounted) {
                /* One directory fd for the fixed set: no path walk per node. */
                _cleanup_close_ int dev = wh_open_in_root(root_fd, "/dev",
                                                          O_RDONLY | O_DIRECTORY, 0);
                if (dev < 0)
                        return wh_fail(err, -dev, "open /dev");
                for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                        char path[32];
                        snprintf(path, sizeof(path), "/dev/%s", default_devices[i].name);
                        r = make_node_at(dev, default_devices[i].name, path, S_IFCHR,
                                         default_devices[i].major, default_devices[i].minor,
                                         0666, 0, 0, in_userns, err);
                        if (r < 0)
                                return r;
                }
                if ((r = dev_symlinks(dev, err)) < 0)
                        return r;
        }
        for (size_t i = 0; i < spec->n_devices; i++) {
                const struct wh_device_spec *d = &spec->devices[i];
                r = make_device(root_fd, d->path, d->type, d->major, d->minor, d->mode, d->uid,
                                d->gid, in_userns, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "config.json: linux.devices[%zu]", i);
        }
        return 0;
}

int wh_mounts_prepare(const struct wh_spec *spec, int in_userns,
                      const struct wh_mounts_opts *opts, int *ret_root_fd,
                      struct wh_err *err)
{
        /* Nothing we mount may reach the host; slave still lets host
         * unmounts (e.g. of a removed volume) reach us. */
        if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return wh_fail(err, errno, "make / rslave");
        /* pivot_root needs the new root to be a mount point. */
        if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return wh_fail(err, errno, "bind rootfs '%s'", spec->root_path);
        _cleanup_close_ int root_fd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return wh_fail(err, errno, "open rootfs '%s'", spec->root_path);
        /* Modes of what we create are the config's; the process's umask is
         * set later (process.user.umask). */
        umask(0);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const char *type = spec->mounts[i].type;
                int r = 0;
                if (type && !strcmp(type, "sysfs") && opts && opts->before_sysfs)
                        r = opts->before_sysfs(opts->data, err);
                if (r >= 0)
                        r = do_mount(root_fd, &spec->mounts[i],
                                     opts ? opts->cgroup2_dir : NULL, err);
                if (r < 0)
                        return wh_fail_ctx(err, r, "config.json: mounts[%zu] (%s)", i,
                                           spec->mounts[i].destination);
        }
        int r = setup_devices(spec, root_fd, in_userns, err);
        if (r < 0)
                return r;
        *ret_root_fd = TAKE_FD(root_fd);
        return 0;
}

int wh_mounts_pivot(const struct wh_spec *spec, int root_fd, int no_pivot,
                    struct wh_err *err)
{
        if (fchdir(root_fd) < 0)
                return wh_fail(err, errno, "chdir rootfs");
        if (no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return wh_fail(err, errno, "move rootfs to /");
                if (chroot(".") < 0)
                        return wh_fail(err, errno, "chroot");
        } else {
                /* pivot_root(".", ".") stacks the old root on top of the new
                 * one; detaching it leaves the new root alone, with no
                 * put_old directory in the image. */
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return wh_fail(err, errno, "pivot_root");
                if (umount2(".", MNT_DETACH) < 0)
                        return wh_fail(err, errno, "detach the old root");
        }
        if (chdir("/") < 0)
                return wh_fail(err, errno, "chdir /");
        (void)spec;
        return 0;
}

static int mask_dir(const char *path)
{
        return mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k,nr_inodes=1");
}

static int mask_path(const char *path, struct wh_err *err)
{
        /* Look before mounting: a bind that fails (a file over a directory)
         * has cloned a mount already, and undoing it waits for an RCU grace
         * period (~0.1-0.5 ms here); a stat costs a path walk. */
        struct stat st;
        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : wh_fail(err, errno, "maskedPaths '%s'", path);
        int dir = S_ISDIR(st.st_mode);
        if ((dir ? mask_dir(path) : mount("/dev/null", path, NULL, MS_BIND, NULL)) == 0)
                return 0;
        /* Changed under us: the other kind. */
        if (errno == ENOTDIR || errno == EISDIR) {
                if ((dir ? mount("/dev/null", path, NULL, MS_BIND, NULL) : mask_dir(path)) == 0)
                        return 0;
        }
        if (errno == ENOENT)
                return 0;
        return wh_fail(err, errno, "maskedPaths '%s'", path);
}

static int readonly_path(const char *path, struct wh_err *err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return errno == ENOENT ? 0 : wh_fail(err, errno, "readonlyPaths '%s'", path);
        struct statvfs sv;
        unsigned long locked = 0;
        if (statvfs(path, &sv) == 0)
                locked = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked, NULL) <
            0)
                return wh_fail(err, errno, "readonlyPaths '%s'", path);
        return 0;
}

/* After pivot_root there is no host tree left to escape to: plain paths are safe. */
int wh_mounts_finish(const struct wh_spec *spec, struct wh_err *err)
{
        int r;
        for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
                if ((r = mask_path(spec->masked_paths[i], err)) < 0)
                        return r;
        for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
                if ((r = readonly_path(spec->readonly_paths[i], err)) < 0)
                        return r;
        if (spec->rootfs_propagation &&
            mount(NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
                return wh_fail(err, errno, "config.json: linux.rootfsPropagation");
        if (spec->root_readonly) {
                struct statvfs sv;
                unsigned long locked = 0;
                if (statvfs("/", &sv) == 0)
                        locked = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC |
                                              ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
                if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked, NULL) < 0)
                        return wh_fail(err, errno, "config.json: root.readonly");
        }
        return 0;
}
