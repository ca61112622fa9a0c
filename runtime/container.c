/* SPDX-License-Identifier: Apache-2.0 */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "console.h"
#include "fs_util.h"
#include "hooks.h"
#include "json_util.h"
#include "log.h"
#include "mounts.h"
#include "path_safe.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

enum sync_type {
        SYNC_GO = 1,     /* parent -> child: maps, cgroup, limits done; pid = host pid */
        SYNC_MOUNTS,     /* child -> parent: mounts done, run the runtime hooks */
        SYNC_HOOKS_DONE, /* parent -> child */
        SYNC_READY,      /* child -> parent: about to wait for start / exec */
        SYNC_ERROR,      /* child -> parent: msg holds the error */
};

struct sync_msg {
        int32_t type;
        int32_t code;
        int32_t pid;
        char msg[WH_ERR_MAX];
};

/* Everything the child needs, gathered before clone so the child only reads. */
struct child_ctx {
        const struct wh_spec *spec; /* NULL for exec */
        const struct wh_process_spec *proc;
        const struct wh_caps *caps;
        const struct wh_seccomp *seccomp;
        const struct wh_create_opts *opts;
        json_object *hooks;
        const struct wh_state *st;
        int sync_fd, fifo_fd, console_fd, pidfd; /* pidfd: exec joins through it */
        int preserve_fds;
        int join_user_late; /* setns(user) after mounts (joined user ns) */
        int in_userns;
        /* The child waits for the runtime's GO only when the runtime must
         * act first (uid/gid maps) or hooks need the host pid; otherwise it
         * enters its cgroup and sets its limits itself, and never waits. */
        int need_go;
        const struct wh_cgroup *cg;
        int into_v2; /* born in the cgroup2 directory (CLONE_INTO_CGROUP) */
        pid_t host_pid;
        int netns_fd; /* receives the network namespace made ahead, or -1 */
        char exec_path[PATH_MAX];
};

static int sync_send(int fd, int type, int code, pid_t pid, const char *msg)
{
        struct sync_msg m = { .type = type, .code = code, .pid = pid };
        size_t len = offsetof(struct sync_msg, msg);
        if (msg) {
                size_t n = strnlen(msg, sizeof(m.msg) - 1);
                memcpy(m.msg, msg, n);
                len += n + 1;
        }
        ssize_t r;
        do
                r = send(fd, &m, len, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

/* Returns the message type, 0 on EOF, -errno on error. */
static int sync_recv(int fd, struct sync_msg *m)
{
        ssize_t r;
        memset(m, 0, offsetof(struct sync_msg, msg) + 1);
        do
                r = recv(fd, m, sizeof(*m), 0);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return 0;
        if ((size_t)r < offsetof(struct sync_msg, msg))
                return -EPROTO;
        m->msg[sizeof(m->msg) - 1] = '\0';
        if ((size_t)r == offsetof(struct sync_msg, msg))
                m->msg[0] = '\0';
        return m->type;
}

static __attribute__((noreturn)) void child_fail(const struct child_ctx *c, struct wh_err *err)
{
        sync_send(c->sync_fd, SYNC_ERROR, err->code, 0, err->msg);
        _exit(1);
}

static char *state_json(const struct wh_state *st, pid_t pid, enum wh_status status)
{
        struct wh_state tmp = *st;
        tmp.pid = pid;
        _cleanup_json_ json_object *o = wh_state_to_oci(&tmp, status);
        return o ? wh_json_to_string(o, 0) : NULL;
}

static int child_hooks(const struct child_ctx *c, enum wh_hook_kind kind,
                       enum wh_status status, struct wh_err *err)
{
        if (!wh_hooks_has(c->hooks, kind))
                return 0;
        _cleanup_free_ char *s = state_json(c->st, c->host_pid, status);
        if (!s)
                return wh_fail(err, ENOMEM, "hooks");
        return wh_hooks_run(c->hooks, kind, s, err);
}

static const char *env_get(char *const *env, const char *name)
{
        size_t n = strlen(name);
        for (; env && *env; env++)
                if (!strncmp(*env, name, n) && (*env)[n] == '=')
                        return *env + n + 1;
        return NULL;
}

/* PATH lookup with the container's PATH, inside the container's root. */
static int find_exec(const char *name, char *const *env, char out[PATH_MAX],
                     struct wh_err *err)
{
        struct stat st;
        if (strchr(name, '/')) {
                if (snprintf(out, PATH_MAX, "%s", name) >= PATH_MAX)
                        return wh_failx(err, ENAMETOOLONG, "exec: \"%s\": name too long",
                                        name);
                if (stat(out, &st) < 0)
                        return wh_fail(err, errno, "exec: \"%s\"", name);
                return 0;
        }
        const char *path = env_get(env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const char *p = path;; p++) {
                const char *e = strchrnul(p, ':');
                int n = (int)(e - p);
                if (snprintf(out, PATH_MAX, "%.*s/%s", n, n ? p : ".", name) < PATH_MAX &&
                    stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
                    faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0)
                        return 0;
                if (!*e)
                        break;
                p = e;
        }
        return wh_failx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                        name);
}

static int set_user(const struct child_ctx *c, struct wh_err *err)
{
        const struct wh_process_spec *p = c->proc;
        int r;
        if ((r = wh_caps_apply_bounding(c->caps, err)) < 0 ||
            (r = wh_caps_prepare_setuid(c->caps, err)) < 0)
                return r;
        if (setgroups(p->n_additional_gids, p->additional_gids) < 0 &&
            (errno != EPERM || p->n_additional_gids))
                return wh_fail(err, errno, "process.user.additionalGids");
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return wh_fail(err, errno, "process.user.gid %u", (unsigned)p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return wh_fail(err, errno, "process.user.uid %u", (unsigned)p->uid);
        if (p->has_umask)
                umask(p->umask);
        else
                umask(022);
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return wh_fail(err, errno, "process.noNewPrivileges");
        if (!p->no_new_privileges && c->seccomp && (r = wh_seccomp_load(c->seccomp, err)) < 0)
                return r;
        return wh_caps_apply(c->caps, err);
}

static int enter_cwd(const char *cwd, struct wh_err *err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return wh_fail(err, errno, "open /");
        _cleanup_close_ int fd = wh_open_in_root(root, cwd, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return wh_fail(err, -fd, "process.cwd '%s'", cwd);
        if (fchdir(fd) < 0)
                return wh_fail(err, errno, "process.cwd '%s'", cwd);
        return 0;
}

/*
 * The last steps, shared by the init and exec'd processes: terminal, cwd,
 * user, caps, the executable; then READY, the wait for `start`, and exec.
 */
static __attribute__((noreturn)) void child_finish(struct child_ctx *c)
{
        struct wh_err err = { 0 };
        const struct wh_process_spec *p = c->proc;
        if (p->terminal && c->console_fd >= 0 && wh_console_setup(c->console_fd, &err) < 0)
                child_fail(c, &err);
        if (c->console_fd >= 0)
                close(c->console_fd);
        if (c->join_user_late && c->pidfd < 0) {
                for (size_t i = 0; i < c->spec->n_namespaces; i++) {
                        const struct wh_ns_spec *ns = &c->spec->namespaces[i];
                        if (ns->type != CLONE_NEWUSER)
                                continue;
                        _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0)
                                child_fail(c, (wh_fail(&err, errno,
                                                       "config.json: linux.namespaces: "
                                                       "join '%s'",
                                                       ns->path),
                                               &err));
                }
        }
        if (enter_cwd(p->cwd, &err) < 0 || set_user(c, &err) < 0 ||
            find_exec(p->args[0], p->env, c->exec_path, &err) < 0)
                child_fail(c, &err);
        if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
                child_fail(c, (wh_fail(&err, errno, "prctl"), &err));
        sync_send(c->sync_fd, SYNC_READY, 0, 0, NULL);
        if (c->fifo_fd >= 0) {
                char b;
                ssize_t n;
                do
                        n = read(c->fifo_fd, &b, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(1);
                /* Kept open until execve closes it (O_CLOEXEC): `start`
                 * reads EOF then, and runs poststart after the exec. */
        }
        if (c->spec && child_hooks(c, WH_HOOK_START_CONTAINER, WH_STATUS_CREATED, &err) < 0) {
                fprintf(stderr, "whittle-run: %s\n", err.msg);
                _exit(1);
        }
        if (p->no_new_privileges && c->seccomp && wh_seccomp_load(c->seccomp, &err) < 0) {
                fprintf(stderr, "whittle-run: %s\n", err.msg);
                _exit(1);
        }
        for (int fd = 3; fd < 3 + c->preserve_fds; fd++)
                fcntl(fd, F_SETFD, 0);
        syscall(SYS_close_range, 3 + c->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        execve(c->exec_path, p->args, p->env);
        int e = errno;
        fprintf(stderr, "whittle-run: exec: \"%s\": %s\n", p->args[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

static int join_namespaces(const struct child_ctx *c, struct wh_err *err)
{
        const struct wh_spec *s = c->spec;
        for (size_t i = 0; i < s->n_namespaces; i++) {
                const struct wh_ns_spec *ns = &s->namespaces[i];
                if (!ns->path || ns->type == CLONE_NEWPID || ns->type == CLONE_NEWUSER)
                        continue;
                _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return wh_fail(err, errno, "config.json: linux.namespaces[%zu]: '%s'",
                                       i, ns->path);
                if (setns(fd, ns->type) < 0)
                        return wh_fail(err, errno,
                                       "config.json: linux.namespaces[%zu]: join '%s'", i,
                                       ns->path);
        }
        return 0;
}

/* An SCM_RIGHTS message: an int32 code (0 or an errno) and at most one fd. */
union fd_cmsg {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
};

/*
 * A new network namespace has only a loopback interface, and it is down:
 * connect() to 127.0.0.1 fails with ENETUNREACH. runc and crun bring it up,
 * and workloads count on that (a health check against their own port).
 */
static int loopback_up(void)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };
        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static void *netns_thread(void *arg)
{
        struct wh_netns_ahead *na = arg;
        int32_t code = 0;
        int fd = -1, r;
        if (unshare(CLONE_NEWNET) < 0 ||
            (fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
                code = errno;
        else if ((r = loopback_up()) < 0) {
                code = -r;
                close(fd);
                fd = -1;
        }
        union fd_cmsg u = { 0 };
        struct iovec iov = { .iov_base = &code, .iov_len = sizeof(code) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof(u.buf);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        /* If even this fails, the init sees EOF when the runtime closes sock[1]. */
        (void)!sendmsg(na->sock[1], &mh, MSG_NOSIGNAL);
        if (fd >= 0)
                close(fd);
        return NULL;
}

void wh_netns_ahead_start(const struct wh_spec *spec, struct wh_netns_ahead *na)
{
        *na = (struct wh_netns_ahead){ .sock = { -1, -1 } };
        if (!(spec->clone_flags & CLONE_NEWNET) || (spec->clone_flags & CLONE_NEWUSER))
                return;
        /* Only worth it on another CPU: left to itself the scheduler puts
         * a new thread on its creator's CPU, where it waits for the creator
         * to block. */
        cpu_set_t cpus;
        int here = sched_getcpu();
        if (here < 0 || sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
                return;
        CPU_CLR(here, &cpus);
        if (CPU_COUNT(&cpus) == 0)
                return;
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, na->sock) < 0) {
                na->sock[0] = na->sock[1] = -1;
                return;
        }
        if (pthread_create(&na->thread, NULL, netns_thread, na) != 0) {
                close(na->sock[0]);
                close(na->sock[1]);
                na->sock[0] = na->sock[1] = -1;
                return;
        }
        /* Moved before it first runs: it cannot preempt its creator. */
        (void)pthread_setaffinity_np(na->thread, sizeof(cpus), &cpus);
        na->started = 1;
}

void wh_netns_ahead_join(struct wh_netns_ahead *na)
{
        if (na->started && !na->joined) {
                pthread_join(na->thread, NULL);
                na->joined = 1;
        }
}

void wh_netns_ahead_finish(struct wh_netns_ahead *na)
{
        if (!na->started)
                return;
        wh_netns_ahead_join(na);
        close(na->sock[0]);
        close(na->sock[1]);
        *na = (struct wh_netns_ahead){ .sock = { -1, -1 } };
}

/* The init's side: receive the namespace the runtime's thread made, join
 * it. Before sysfs is mounted, else after the mounts; later calls return 0. */
static int join_netns_ahead(void *data, struct wh_err *err)
{
        struct child_ctx *c = data;
        if (c->netns_fd < 0)
                return 0;
        int32_t code = 0;
        union fd_cmsg u = { 0 };
        struct iovec iov = { .iov_base = &code, .iov_len = sizeof(code) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf) };
        ssize_t n;
        while ((n = recvmsg(c->netns_fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        close(c->netns_fd);
        c->netns_fd = -1;
        struct cmsghdr *cm = n == (ssize_t)sizeof(code) ? CMSG_FIRSTHDR(&mh) : NULL;
        if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            cm->cmsg_len != CMSG_LEN(sizeof(int))) {
                int e = code > 0 ? code : EIO;
                return wh_failx(err, e, "new network namespace: %s", strerror(e));
        }
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        int r = setns(fd, CLONE_NEWNET);
        int e = errno;
        close(fd);
        return r < 0 ? wh_fail(err, e, "join the new network namespace") : 0;
}

static int write_sysctl(const struct wh_spec *s, struct wh_err *err)
{
        for (size_t i = 0; i < s->n_sysctl; i++) {
                char path[PATH_MAX];
                int n = snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl[i].key);
                if (n < 0 || (size_t)n >= sizeof(path))
                        return wh_failx(err, ENAMETOOLONG, "config.json: linux.sysctl.%s",
                                        s->sysctl[i].key);
                for (char *q = path + 10; *q; q++)
                        if (*q == '.')
                                *q = '/';
                _cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return wh_fail(err, errno, "config.json: linux.sysctl.%s",
                                       s->sysctl[i].key);
                int r = wh_write_all(fd, s->sysctl[i].value, strlen(s->sysctl[i].value));
                if (r < 0)
                        return wh_fail(err, -r, "config.json: linux.sysctl.%s",
                                       s->sysctl[i].key);
        }
        return 0;
}

static int setup_identity(const struct wh_spec *s, struct wh_err *err)
{
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return wh_fail(err, errno, "config.json: hostname");
        if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return wh_fail(err, errno, "config.json: domainname");
        return write_sysctl(s, err);
}

/*
 * Puts pid (0: the caller) into the container's cgroups. With into_v2 the
 * process was born in the cgroup2 directory by CLONE_INTO_CGROUP, so only
 * the v1 hierarchies are written: writing cgroup.procs takes the cgroup
 * threadgroup lock for writing, whose first use waits for an RCU grace
 * period, which CLONE_INTO_CGROUP never does.
 */
static int enter_cgroup(const struct wh_cgroup *cg, pid_t pid, int into_v2, struct wh_err *err)
{
        return cg ? wh_cgroup_enter(cg, pid, into_v2, err) : 0;
}

/* What the runtime would do before GO, done by the child on itself. */
static int self_prepare(const struct child_ctx *c, struct wh_err *err)
{
        const struct wh_process_spec *p = c->proc;
        int r;
        /* "0" is the writing process itself, whatever its pid namespace. */
        if ((r = enter_cgroup(c->cg, 0, c->into_v2, err)) < 0)
                return r;
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit lim = { .rlim_cur = p->rlimits[i].soft,
                                      .rlim_max = p->rlimits[i].hard };
                if (setrlimit(p->rlimits[i].resource, &lim) < 0)
                        return wh_fail(err, errno, "process.rlimits[%zu]", i);
        }
        if (p->has_oom_score_adj) {
                char v[16];
                snprintf(v, sizeof(v), "%d", p->oom_score_adj);
                _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || wh_write_all(fd, v, strlen(v)) < 0)
                        return wh_fail(err, errno, "process.oomScoreAdj");
        }
        return 0;
}

/* The init's setup after clone, in its new namespaces. */
static __attribute__((noreturn)) void child_init(struct child_ctx *c)
{
        struct wh_err err = { 0 };
        struct sync_msg m;
        const struct wh_spec *s = c->spec;
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (c->need_go) {
                if (sync_recv(c->sync_fd, &m) != SYNC_GO)
                        _exit(1);
                c->host_pid = m.pid;
        } else if (self_prepare(c, &err) < 0) {
                child_fail(c, &err);
        }
        if (c->in_userns) {
                /* Become the namespace's root where it is mapped. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        wh_debug("container root is not mapped: %s", strerror(errno));
        }
        if (join_namespaces(c, &err) < 0)
                child_fail(c, &err);
        /* The namespace clone made (none made ahead, or in a user namespace). */
        int r;
        if ((s->clone_flags & CLONE_NEWNET) && c->netns_fd < 0 && (r = loopback_up()) < 0)
                child_fail(c, (wh_fail(&err, -r, "bring up the loopback interface"), &err));
        /* After the parent moved us into our cgroup, so it is the ns root. */
        if ((s->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                child_fail(c, (wh_fail(&err, errno, "unshare cgroup namespace"), &err));
        if (!c->opts->no_new_keyring &&
            syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS &&
            errno != EPERM && errno != EACCES)
                child_fail(c, (wh_fail(&err, errno, "session keyring"), &err));
        _cleanup_close_ int root_fd = -1;
        if (s->clone_flags & CLONE_NEWNS) {
                struct wh_mounts_opts mo = {
                        .before_sysfs = join_netns_ahead,
                        .data = c,
                        .cgroup2_dir = c->cg ? wh_cgroup_get_path(c->cg, NULL) : NULL,
                };
                if (wh_mounts_prepare(s, c->in_userns, &mo, &root_fd, &err) < 0)
                        child_fail(c, &err);
        } else {
                root_fd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        child_fail(c, (wh_fail(&err, errno, "open rootfs"), &err));
        }
        /* In the network namespace by now: sysctl may name net.*. */
        if (join_netns_ahead(c, &err) < 0 || setup_identity(s, &err) < 0)
                child_fail(c, &err);
        if (wh_hooks_has(c->hooks, WH_HOOK_PRESTART) ||
            wh_hooks_has(c->hooks, WH_HOOK_CREATE_RUNTIME)) {
                sync_send(c->sync_fd, SYNC_MOUNTS, 0, 0, NULL);
                if (sync_recv(c->sync_fd, &m) != SYNC_HOOKS_DONE)
                        _exit(1);
        }
        if (child_hooks(c, WH_HOOK_CREATE_CONTAINER, WH_STATUS_CREATING, &err) < 0)
                child_fail(c, &err);
        if (s->clone_flags & CLONE_NEWNS) {
                if (wh_mounts_pivot(s, root_fd, c->opts->no_pivot, &err) < 0 ||
                    wh_mounts_finish(s, &err) < 0)
                        child_fail(c, &err);
        } else if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
                child_fail(c, (wh_fail(&err, errno, "chroot rootfs"), &err));
        }
        child_finish(c);
}

/*
 * The init may share the runtime's memory (CLONE_VM) and run on a stack of
 * its own while the runtime sleeps until it execs or exits (CLONE_VFORK):
 * no copy of the runtime's page tables, no copy-on-write fault on either
 * side, nothing to tear down at exec. Only when the runtime has nothing to
 * do until then: no uid/gid maps or hooks to wait for, no `start` to wait
 * for. x86-64 only (a few instructions of assembly), and not under ASan,
 * which does not follow a second process on a stack of its own.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WH_NO_SHARED_VM 1
#endif
#endif
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(WH_NO_SHARED_VM)
#define WH_SHARED_VM 1
#define CHILD_STACK (1u << 20)

/* clone3 whose child calls fn(arg) on the stack args names, then exits. */
static long clone3_call(struct clone_args *args, int (*fn)(void *), void *arg)
{
        long ret;
        register int (*r12)(void *) __asm__("r12") = fn;
        register void *r13 __asm__("r13") = arg;
        /* The kernel keeps every register but rax, rcx and r11 across the
         * system call, so the child finds fn and arg in r12 and r13. */
        __asm__ volatile("syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "xor %%ebp, %%ebp\n\t"
                         "mov %%r13, %%rdi\n\t"
                         "call *%%r12\n\t"
                         "mov %%eax, %%edi\n\t"
                         "mov %[exit], %%eax\n\t"
                         "syscall\n\t"
                         "hlt\n"
                         "1:"
                         : "=a"(ret)
                         : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r12),
                           "r"(r13), [exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory", "cc");
        if (ret < 0) {
                errno = (int)-ret;
                return -1;
        }
        return ret;
}
#else
#define WH_SHARED_VM 0
#endif

/* How the child runs: like fork (fn NULL: clone returns 0 in the child), or
 * calling fn(arg) in the runtime's memory while the runtime waits. */
struct clone_how {
        int (*fn)(void *);
        void *arg;
};

static pid_t clone3_run(struct clone_args *args, const struct clone_how *how)
{
#if WH_SHARED_VM
        if (how && how->fn) {
                /* A guard page under the stack: an overflow faults. */
                size_t len = CHILD_STACK + 4096;
                char *stack = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1,
                                   0);
                if (stack == MAP_FAILED)
                        return -1;
                (void)mprotect(stack, 4096, PROT_NONE);
                args->flags |= CLONE_VM | CLONE_VFORK;
                args->stack = (uint64_t)(uintptr_t)(stack + 4096);
                args->stack_size = CHILD_STACK;
                long pid = clone3_call(args, how->fn, how->arg);
                int e = errno;
                args->flags &= ~(uint64_t)(CLONE_VM | CLONE_VFORK);
                args->stack = args->stack_size = 0;
                munmap(stack, len);
                errno = e;
                return (pid_t)pid;
        }
#endif
        (void)how;
        return (pid_t)syscall(SYS_clone3, args, sizeof(*args));
}

/*
 * clone3 straight into the container's cgroup2 directory when there is
 * one; *into_v2 says whether that worked (else the caller enters it).
 */
static pid_t clone3_into(uint64_t flags, const struct wh_cgroup *cg, int *ret_pidfd,
                         int *into_v2, const struct clone_how *how)
{
        const char *dir = cg ? wh_cgroup_get_path(cg, NULL) : NULL;
        struct clone_args args = {
                .flags = flags | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        *into_v2 = 0;
        if (dir) {
                _cleanup_close_ int cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cfd >= 0) {
                        args.flags |= CLONE_INTO_CGROUP;
                        args.cgroup = (uint64_t)cfd;
                        /* Set before: a child in our memory reads it
                         * while the clone is still in progress. */
                        *into_v2 = 1;
                        pid_t pid = clone3_run(&args, how);
                        if (pid >= 0)
                                return pid;
                        *into_v2 = 0;
                        /* Older kernels, or a cgroup that takes no processes. */
                        wh_debug("CLONE_INTO_CGROUP %s: %s", dir, strerror(errno));
                        args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
                        args.cgroup = 0;
                }
        }
        return clone3_run(&args, how);
}

static int write_proc(pid_t pid, const char *file, const char *text, struct wh_err *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open %s", path);
        int r = wh_write_all(fd, text, strlen(text));
        return r < 0 ? wh_fail(err, -r, "write %s", path) : 0;
}

/* Parent-side set-up of a new process before it may go on. */
static int parent_prepare(pid_t pid, const struct wh_spec *spec,
                          const struct wh_process_spec *proc, const struct wh_cgroup *cg,
                          int into_v2, struct wh_err *err)
{
        int r;
        if (spec && (spec->clone_flags & CLONE_NEWUSER)) {
                if ((r = write_proc(pid, "gid_map", spec->gid_map, err)) < 0)
                        return wh_fail_ctx(err, r, "config.json: linux.gidMappings");
                if ((r = write_proc(pid, "uid_map", spec->uid_map, err)) < 0)
                        return wh_fail_ctx(err, r, "config.json: linux.uidMappings");
        }
        if ((r = enter_cgroup(cg, pid, into_v2, err)) < 0)
                return r;
        for (size_t i = 0; i < proc->n_rlimits; i++) {
                const struct wh_rlimit_spec *rl = &proc->rlimits[i];
                struct rlimit lim = { .rlim_cur = rl->soft, .rlim_max = rl->hard };
                if (prlimit(pid, rl->resource, &lim, NULL) < 0)
                        return wh_fail(err, errno, "process.rlimits[%zu]", i);
        }
        if (proc->has_oom_score_adj) {
                char v[16];
                snprintf(v, sizeof(v), "%d", proc->oom_score_adj);
                if ((r = write_proc(pid, "oom_score_adj", v, err)) < 0)
                        return wh_fail_ctx(err, r, "process.oomScoreAdj");
        }
        return 0;
}

static void kill_and_reap(pid_t pid)
{
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* Runs the parent's side of the sync protocol until READY. */
static int parent_sync(int sync_fd, pid_t pid, const struct wh_spec *spec,
                       const struct wh_state *st, struct wh_err *err)
{
        struct sync_msg m;
        for (;;) {
                int t = sync_recv(sync_fd, &m);
                if (t == SYNC_READY)
                        return 0;
                if (t == SYNC_ERROR)
                        return wh_failx(err, m.code > 0 ? m.code : EIO, "%s", m.msg);
                if (t == SYNC_MOUNTS && spec) {
                        _cleanup_free_ char *s = state_json(st, pid, WH_STATUS_CREATING);
                        if (!s)
                                return wh_fail(err, ENOMEM, "hooks");
                        int r = wh_hooks_run(spec->hooks, WH_HOOK_PRESTART, s, err);
                        if (r >= 0)
                                r = wh_hooks_run(spec->hooks, WH_HOOK_CREATE_RUNTIME, s, err);
                        if (r < 0)
                                return r;
                        sync_send(sync_fd, SYNC_HOOKS_DONE, 0, 0, NULL);
                        continue;
                }
                if (t <= 0) {
                        int status = 0;
                        waitpid(pid, &status, 0);
                        return wh_failx(err, ECHILD,
                                        "container process exited during set-up (status %d)",
                                        wh_container_exit_code(status));
                }
                return wh_failx(err, EPROTO, "unexpected message %d from the container", t);
        }
}

/*
 * A pid namespace is joined for the children the runtime makes next, and
 * the next is the init: *ret_back gets the namespace to return to after it
 * (or -1), so that hooks run in the runtime's own, as runc's do.
 */
static int join_pid_ns(const struct wh_spec *spec, int *ret_back, struct wh_err *err)
{
        *ret_back = -1;
        for (size_t i = 0; i < spec->n_namespaces; i++) {
                const struct wh_ns_spec *ns = &spec->namespaces[i];
                if (ns->type != CLONE_NEWPID || !ns->path)
                        continue;
                _cleanup_close_ int back = open("/proc/thread-self/ns/pid_for_children",
                                                O_RDONLY | O_CLOEXEC);
                if (back < 0)
                        return wh_fail(err, errno, "open /proc/thread-self/ns/pid_for_children");
                _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || setns(fd, CLONE_NEWPID) < 0)
                        return wh_fail(err, errno, "config.json: linux.namespaces[%zu]: '%s'",
                                       i, ns->path);
                *ret_back = TAKE_FD(back);
        }
        return 0;
}

static void leave_pid_ns(int back)
{
        if (back >= 0 && setns(back, CLONE_NEWPID) < 0)
                wh_warn("return to the runtime's pid namespace: %s; hooks run in the "
                        "container's",
                        strerror(errno));
}

struct init_arg {
        struct child_ctx *c;
        int psock;
};

static int child_init_shared(void *arg)
{
        struct init_arg *a = arg;
        close(a->psock);
        child_init(a->c);
}

int wh_container_spawn(const struct wh_spec *spec, const struct wh_create_opts *opts,
                       const struct wh_caps *caps, const struct wh_seccomp *seccomp,
                       const struct wh_cgroup *cg, struct wh_state *st, int *ret_pidfd,
                       int *ret_sync_fd, struct wh_err *err)
{
        _cleanup_close_ int pid_back = -1;
        int r = join_pid_ns(spec, &pid_back, err);
        if (r < 0)
                return r;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return wh_fail(err, errno, "socketpair");
        _cleanup_close_ int psock = sv[0], csock = sv[1];
        _cleanup_close_ int fifo = -1, console = -1;
        if (opts->use_fifo) {
                if (mkfifoat(opts->state_dir_fd, "exec.fifo", 0600) < 0)
                        return wh_fail(err, errno, "exec.fifo");
                /* O_RDWR: the init's read blocks until `start` writes, and
                 * never sees EOF for want of a writer. */
                fifo = openat(opts->state_dir_fd, "exec.fifo",
                              O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                if (fifo < 0)
                        return wh_fail(err, errno, "exec.fifo");
        }
        if (spec->process.terminal && opts->console_socket &&
            (console = wh_console_connect(opts->console_socket, err)) < 0)
                return console;

        struct child_ctx c = {
                .spec = spec, .proc = &spec->process, .caps = caps, .seccomp = seccomp,
                .opts = opts, .hooks = spec->hooks, .st = st, .sync_fd = csock,
                .fifo_fd = fifo, .console_fd = console, .pidfd = -1,
                .preserve_fds = opts->preserve_fds,
                .join_user_late = !!(spec->join_flags & CLONE_NEWUSER),
                .in_userns = !!(spec->clone_flags & CLONE_NEWUSER),
                .cg = cg, .netns_fd = -1,
        };
        c.need_go = c.in_userns || wh_hooks_at_setup(spec->hooks);
        int pidfd = -1;
        uint64_t flags = (uint64_t)(spec->clone_flags & ~CLONE_NEWCGROUP);
        /* Nothing for the runtime to do before the exec: share memory. */
        struct init_arg ia = { .c = &c, .psock = psock };
        struct clone_how how = { .fn = child_init_shared, .arg = &ia };
        int shared = !c.need_go && !opts->use_fifo;
        if (opts->netns && opts->netns->started) {
                /* A child with a copy of our memory must not start while
                 * the thread may hold a libc lock (malloc's, the thread
                 * list's): the copy would stay locked. One that shares our
                 * memory sees the thread release it. */
                if (!(shared && WH_SHARED_VM))
                        wh_netns_ahead_join(opts->netns);
                flags &= ~(uint64_t)CLONE_NEWNET;
                c.netns_fd = opts->netns->sock[0];
        }
        pid_t pid = clone3_into(flags, cg, &pidfd, &c.into_v2, shared ? &how : NULL);
        if (pid < 0) {
                int e = errno;
                leave_pid_ns(pid_back);
                return wh_fail(err, e, "clone3");
        }
        if (pid == 0) {
                close(psock);
                child_init(&c);
        }
        leave_pid_ns(pid_back);
        _cleanup_close_ int pfd = pidfd;
        close(TAKE_FD(csock));
        close(TAKE_FD(fifo));
        close(TAKE_FD(console));
        st->pid = pid;
        /* Read now, while the child waits for GO: a fast workload may be a
         * zombie by the time READY arrives. */
        st->start_time = wh_state_proc_start_time_ex(pid, 1);
        r = st->start_time ? 0 : wh_failx(err, ECHILD, "container process exited early");
        if (r >= 0 && c.need_go) {
                r = parent_prepare(pid, spec, &spec->process, cg, c.into_v2, err);
                if (r >= 0 && sync_send(psock, SYNC_GO, 0, pid, NULL) < 0)
                        r = wh_fail(err, errno, "start the container process");
        }
        if (r >= 0 && opts->on_clone)
                r = opts->on_clone(opts->on_clone_data, st, err);
        if (r >= 0)
                r = parent_sync(psock, pid, spec, st, err);
        if (r < 0) {
                kill_and_reap(pid);
                st->pid = 0;
                return r;
        }
        *ret_pidfd = TAKE_FD(pfd);
        *ret_sync_fd = TAKE_FD(psock);
        return 0;
}

/* An exec'd process: join the init's namespaces through its pidfd. */
static __attribute__((noreturn)) void child_exec(struct child_ctx *c, int ns_flags)
{
        struct wh_err err = { 0 };
        struct sync_msg m;
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (sync_recv(c->sync_fd, &m) != SYNC_GO)
                _exit(1);
        if (ns_flags && setns(c->pidfd, ns_flags) < 0)
                child_fail(c, (wh_fail(&err, errno, "join the container's namespaces"), &err));
        close(c->pidfd);
        c->pidfd = -1;
        child_finish(c);
}

/* The namespaces of pid that differ from ours (setns to our own user ns fails). */
static int differing_namespaces(pid_t pid)
{
        static const struct {
                const char *name;
                int flag;
        } nss[] = {
                { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },   { "ipc", CLONE_NEWIPC },
                { "uts", CLONE_NEWUTS },   { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
                { "pid", CLONE_NEWPID },
        };
        int flags = 0;
        for (size_t i = 0; i < ARRAY_SIZE(nss); i++) {
                char a[64], b[64];
                struct stat sa, sb;
                snprintf(a, sizeof(a), "/proc/self/ns/%s", nss[i].name);
                snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, nss[i].name);
                if (stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
                    (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
                        flags |= nss[i].flag;
        }
        return flags;
}

int wh_container_exec(const struct wh_state *st, const struct wh_process_spec *proc,
                      const struct wh_caps *caps, const struct wh_seccomp *seccomp,
                      const struct wh_cgroup *cg, const struct wh_exec_opts *opts,
                      pid_t *ret_pid, int *ret_pidfd, struct wh_err *err)
{
        _cleanup_close_ int target = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (target < 0)
                return wh_fail(err, errno, "container init %d", (int)st->pid);
        int ns_flags = differing_namespaces(st->pid);
        /* The pid namespace applies to our children: join it here. */
        if ((ns_flags & CLONE_NEWPID) && setns(target, CLONE_NEWPID) < 0)
                return wh_fail(err, errno, "join the container's pid namespace");
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return wh_fail(err, errno, "socketpair");
        _cleanup_close_ int psock = sv[0], csock = sv[1], console = -1;
        if (proc->terminal && opts->console_socket &&
            (console = wh_console_connect(opts->console_socket, err)) < 0)
                return console;
        struct child_ctx c = {
                .proc = proc, .caps = caps, .seccomp = seccomp,
                .st = st, .sync_fd = csock, .fifo_fd = -1, .console_fd = console,
                .pidfd = target, .preserve_fds = opts->preserve_fds, .netns_fd = -1,
        };
        int pidfd = -1, into_v2 = 0;
        pid_t pid = clone3_into(0, cg, &pidfd, &into_v2, NULL);
        if (pid < 0)
                return wh_fail(err, errno, "clone3");
        if (pid == 0) {
                close(psock);
                child_exec(&c, ns_flags & ~CLONE_NEWPID);
        }
        _cleanup_close_ int pfd = pidfd;
        close(TAKE_FD(csock));
        close(TAKE_FD(console));
        int r = parent_prepare(pid, NULL, proc, cg, into_v2, err);
        if (r >= 0 && sync_send(psock, SYNC_GO, 0, pid, NULL) < 0)
                r = wh_fail(err, errno, "start the process");
        if (r >= 0)
                r = parent_sync(psock, pid, NULL, st, err);
        if (r < 0) {
                kill_and_reap(pid);
                return r;
        }
        *ret_pid = pid;
        *ret_pidfd = TAKE_FD(pfd);
        return 0;
}

void wh_container_wait_exec(int sync_fd)
{
        struct sync_msg m;
        while (sync_recv(sync_fd, &m) > 0)
                ;
}

int wh_container_exit_code(int status)
{
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
