/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Materialising an image into an OCI bundle and driving whittle-run on it.
 *
 * The rootfs is written by the dir: destination with every index entry
 * kept, so it is the image's merged tree as the layers define it (owners,
 * modes, xattrs; devices are left to the runtime), written through
 * directory fds only. mtimes are not clamped (an epoch far in the future):
 * interpreters compare them (Python's .pyc checks), and a trace should see
 * the image as it is.
 *
 * The config (bundle_spec.c, relaxed) is deliberately close to what
 * `docker run IMAGE` gives: the image's Env, WorkingDir, User, Docker's
 * default capabilities, a writable root, no network namespace (the probe
 * reaches loopback ports).
 */
#include "container_run.h"
#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle_spec.h"
#include "cleanup.h"
#include "fs_util.h"
#include "image_config.h"
#include "image_ref.h"
#include "image_write.h"
#include "json_util.h"
#include "log.h"
#include "parse_num.h"
#include "spool.h"
#include "strv.h"

extern char **environ;

void wh_bundle_release(struct wh_bundle *b)
{
        wh_container_destroy(b);
        if (b->dir) {
                _cleanup_free_ char *parent = strdup(b->dir);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (slash) {
                        *slash = '\0';
                        _cleanup_close_ int pfd = open(*parent ? parent : "/",
                                                       O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (pfd >= 0)
                                wh_rm_rf_at(pfd, slash + 1);
                }
        }
        free(b->dir);
        free(b->rootfs);
        free(b->bundle);
        free(b->state);
        free(b->out_path);
        free(b->id);
        free(b->runtime);
        wh_source_free(b->src);
        wh_index_free(b->idx);
        wh_strv_free(b->args);
        *b = (struct wh_bundle){0};
}

pid_t wh_spawn(char *const *argv, int out_fd)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        sigaddset(&dfl, SIGCHLD);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out_fd >= 0) {
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
                posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
        } else {
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
                posix_spawn_file_actions_adddup2(&fa, 1, 2);
        }
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &dfl);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        return r ? -r : pid;
}

/* Runs the runtime with args and waits; returns its exit status or -errno. */
static int runtime_run(struct wh_bundle *b, const char *const *args, int out_fd)
{
        char *argv[16];
        size_t n = 0;
        argv[n++] = b->runtime;
        argv[n++] = (char *)"--root";
        argv[n++] = b->state;
        for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
                argv[n++] = (char *)*args;
        argv[n] = NULL;
        pid_t pid = wh_spawn(argv, out_fd);
        if (pid < 0)
                return pid;
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *find_runtime(const char *given)
{
        if (given)
                return strdup(given);
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                char *p = NULL;
                if (slash &&
                    asprintf(&p, "%.*s/whittle-run", (int)(slash - self), self) > 0) {
                        if (access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return strdup("whittle-run");
}

/* Every entry kept, so the dir: writer reproduces the whole merged tree. */
static int write_rootfs(struct wh_bundle *b, json_object *out_config, struct wh_err *err)
{
        size_t n = 0;
        struct wh_entry **all = wh_index_sorted(b->idx, &n);
        const char *why = wh_index_intern(b->idx, "traced image");
        if ((!all && n) || !why)
                return wh_fail(err, ENOMEM, "index");
        for (size_t i = 0; i < n; i++)
                all[i]->keep_reason = why;
        struct wh_spool sp = {.fd = -1};
        int r = wh_spool_open(&sp, err);
        if (r >= 0)
                r = wh_source_read_kept(b->src, b->idx, wh_spool_sink, &sp, NULL, NULL,
                                        err);
        struct wh_image_ref dest = {.transport = WH_T_DIR, .path = b->rootfs};
        struct wh_write_opts wo = {
                .compression = WH_COMP_NONE,
                .level = WH_COMP_LEVEL_DEFAULT,
                .epoch = INT64_MAX / 4,
                .config = out_config,
                .history_created_by = "whittle trace",
                .spool_fd = sp.fd,
        };
        struct wh_write_result res;
        if (r >= 0)
                r = wh_image_write(&dest, b->idx, &wo, &res, err);
        wh_spool_close(&sp);
        return r;
}

/* config.json as `docker run IMAGE` would start it, on the host's network. */
static int write_config(struct wh_bundle *b, json_object *out_config,
                        const struct wh_prepare_opts *o, struct wh_err *err)
{
        _cleanup_close_ int root_fd = open(b->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return wh_fail(err, errno, "open '%s'", b->rootfs);
        struct wh_bundle_opts so = {
                .host_network = 1,
                .relaxed = 1,
                .args = b->args,
                .syscalls = o->syscalls,
                .seccomp_action = o->seccomp_action,
                .seccomp_errno = o->seccomp_errno,
        };
        _cleanup_free_ char *text = NULL;
        int r = wh_bundle_config(out_config, root_fd, &so, &text, err);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = open(b->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "open '%s'", b->bundle);
        return wh_write_file_atomic_at(dfd, "config.json", text, strlen(text), 0644, err);
}

static int strv_concat(char **a, char **b, char ***ret)
{
        _cleanup_strv_ char **v = NULL;
        if (wh_strv_dup(a, &v) < 0)
                return -ENOMEM;
        for (char **p = b; p && *p; p++)
                if (wh_strv_push_dup(&v, *p) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(v);
        return 0;
}

static int make_dirs(struct wh_bundle *b, struct wh_err *err)
{
        if (asprintf(&b->dir, "%s/whittle-trace.XXXXXX", wh_tmp_dir()) < 0)
                return wh_fail(err, ENOMEM, "bundle");
        if (!mkdtemp(b->dir)) {
                int e = errno;
                free(b->dir);
                b->dir = NULL;
                return wh_fail(err, e, "temporary directory");
        }
        if (asprintf(&b->bundle, "%s/bundle", b->dir) < 0 ||
            asprintf(&b->rootfs, "%s/bundle/rootfs", b->dir) < 0 ||
            asprintf(&b->state, "%s/state", b->dir) < 0 ||
            asprintf(&b->out_path, "%s/output", b->dir) < 0 ||
            asprintf(&b->id, "whittle-trace-%ld", (long)getpid()) < 0)
                return wh_fail(err, ENOMEM, "bundle");
        if (mkdir(b->bundle, 0700) < 0 || mkdir(b->state, 0700) < 0)
                return wh_fail(err, errno, "create '%s'", b->bundle);
        return 0;
}

int wh_bundle_prepare(const char *source, const struct wh_prepare_opts *o,
                      struct wh_bundle *ret, struct wh_err *err)
{
        struct wh_bundle b = {0};
        struct wh_image_ref ref = {0};
        struct wh_effective eff = {0};
        struct wh_index_stats stats;
        json_object *out_config = NULL;
        int r = wh_image_ref_parse(source, 0, &ref, err);
        if (r < 0)
                goto out;
        if (!(b.runtime = find_runtime(o->runtime))) {
                r = wh_fail(err, ENOMEM, "runtime");
                goto out;
        }
        if ((r = make_dirs(&b, err)) < 0)
                goto out;
        if ((r = wh_source_open(&ref, &b.src, err)) < 0 ||
            (!(b.idx = wh_index_new()) && (r = wh_fail(err, ENOMEM, "index")) < 0) ||
            (r = wh_source_index(b.src, b.idx, &stats, NULL, NULL, err)) < 0 ||
            (r = wh_effective_compute(b.src->config, o->profile, NULL, NULL, &eff, err)) <
                    0) {
                r = wh_fail_ctx(err, r, "%s", source);
                goto out;
        }
        if (o->args && o->args[0])
                r = strv_concat(o->args, NULL, &b.args);
        else
                r = strv_concat(eff.entrypoint, eff.cmd, &b.args);
        if (r < 0) {
                r = wh_fail(err, ENOMEM, "args");
                goto out;
        }
        if (!b.args[0]) {
                r = wh_failx(err, EINVAL,
                             "%s: the image has no entrypoint or cmd; give one "
                             "after '--'",
                             source);
                goto out;
        }
        if (!(out_config = wh_output_config(b.src->config, &eff))) {
                r = wh_fail(err, ENOMEM, "config");
                goto out;
        }
        if ((r = write_rootfs(&b, out_config, err)) < 0) {
                r = wh_fail_ctx(err, r, "materialise %s", source);
                goto out;
        }
        r = write_config(&b, out_config, o, err);
out:
        if (out_config)
                json_object_put(out_config);
        wh_effective_release(&eff);
        wh_image_ref_release(&ref);
        if (r < 0)
                wh_bundle_release(&b);
        else
                *ret = b;
        return r;
}

/* The last lines of the output file, for an error message. */
static void output_tail(const struct wh_bundle *b, char *buf, size_t len)
{
        buf[0] = '\0';
        _cleanup_close_ int fd = open(b->out_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        off_t end = lseek(fd, 0, SEEK_END);
        off_t start = end > (off_t)len - 1 ? end - (off_t)len + 1 : 0;
        ssize_t n = pread(fd, buf, len - 1, start);
        buf[n > 0 ? n : 0] = '\0';
        size_t l = strlen(buf);
        while (l && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
                buf[--l] = '\0';
}

void wh_container_print_output(const struct wh_bundle *b, FILE *f, int lines)
{
        char tail[4096];
        output_tail(b, tail, sizeof(tail));
        if (!tail[0])
                return;
        const char *p = tail + strlen(tail);
        int n = 0;
        while (p > tail && n < lines)
                if (*--p == '\n')
                        n++;
        if (*p == '\n')
                p++;
        fprintf(f, "whittle: the workload's last output:\n");
        while (*p) {
                size_t l = strcspn(p, "\n");
                fprintf(f, "  | %.*s\n", (int)l, p);
                p += l;
                if (*p)
                        p++;
        }
}

int wh_container_create(struct wh_bundle *b, pid_t *ret_pid, struct wh_err *err)
{
        /* The init outlives `create`; as its subreaper this process gets its exit status.
         */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return wh_fail(err, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
        _cleanup_close_ int out =
                open(b->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out < 0)
                return wh_fail(err, errno, "open '%s'", b->out_path);
        _cleanup_free_ char *pidfile = NULL;
        if (asprintf(&pidfile, "%s/init.pid", b->dir) < 0)
                return wh_fail(err, ENOMEM, "pid file");
        const char *args[] = {"create", "--bundle", b->bundle, "--pid-file",
                              pidfile,  b->id,      NULL};
        int st = runtime_run(b, args, out);
        if (st < 0)
                return wh_fail(err, -st, "run '%s'", b->runtime);
        if (st != 0) {
                char tail[600];
                output_tail(b, tail, sizeof(tail));
                return wh_failx(err, EIO, "%s create failed (exit %d): %s", b->runtime, st,
                                tail);
        }
        b->created = 1;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = wh_read_file_at(AT_FDCWD, pidfile, 64, &text, &len, err);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        int pid;
        if (wh_parse_int(text, 1, INT_MAX, &pid) < 0)
                return wh_failx(err, EINVAL, "pid file '%s': '%s'", pidfile, text);
        *ret_pid = pid;
        return 0;
}

int wh_container_start(struct wh_bundle *b, pid_t *ret_pid, struct wh_err *err)
{
        _cleanup_close_ int out = open(b->out_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (out < 0)
                return wh_fail(err, errno, "open '%s'", b->out_path);
        char *argv[] = {b->runtime, (char *)"--root", b->state, (char *)"start", b->id,
                        NULL};
        pid_t pid = wh_spawn(argv, out);
        if (pid < 0)
                return wh_fail(err, -pid, "run '%s'", b->runtime);
        *ret_pid = pid;
        return 0;
}

void wh_container_destroy(struct wh_bundle *b)
{
        if (!b->created)
                return;
        const char *args[] = {"delete", "--force", b->id, NULL};
        int st = runtime_run(b, args, -1);
        if (st != 0)
                wh_warn("%s delete %s: exit %d", b->runtime, b->id, st);
        b->created = 0;
}
