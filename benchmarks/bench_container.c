/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_sample.h"
#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"

#define OUT_KEEP 16384

/* runc spec's defaults, with no ambient capabilities (a root workload needs none, and
 * raising them needs inheritable ones) and no terminal (output is piped). */
static const char config_template[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,"
        "\"gid\":0},\"args\":[],\"env\":[],\"cwd\":\"/\",\"capabilities\":{\"bounding\":["
        "\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],\"effective\":["
        "\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],\"permitted\":["
        "\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},\"rlimits\":[{"
        "\"type\":"
        "\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
        "\"root\":{"
        "\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"bench\",\"mounts\":[{"
        "\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},{\"destination\":"
        "\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
        "\"strictatime\",\"mode=755\",\"size=65536k\"]},{\"destination\":\"/dev/pts\","
        "\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\","
        "\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{\"destination\":"
        "\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
        "\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},{\"destination\":"
        "\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\","
        "\"noexec\",\"nodev\"]},{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":"
        "\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},{\"destination\":"
        "\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":["
        "\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],\"linux\":{\"resources\":{"
        "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},\"namespaces\":[{\"type\":"
        "\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":"
        "\"mount\"}],\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\","
        "\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
        "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],\"readonlyPaths\":["
        "\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

int bench_config_write(const char *bundle, char *const *args, char *const *env,
                       const char *cwd, const char *tools_dir, struct wh_err *err)
{
        _cleanup_json_ json_object *cfg = NULL;
        int r = wh_json_parse(config_template, sizeof(config_template) - 1, "config", &cfg,
                              err);
        if (r < 0)
                return r;
        json_object *proc = json_object_object_get(cfg, "process");
        json_object *a = wh_json_from_strv(args);
        json_object *e = wh_json_from_strv(env);
        if (!a || !e) {
                json_object_put(a);
                json_object_put(e);
                return wh_fail(err, ENOMEM, "config");
        }
        json_object_object_add(proc, "args", a);
        json_object_object_add(proc, "env", e);
        if (cwd && *cwd)
                json_object_object_add(proc, "cwd", json_object_new_string(cwd));
        if (tools_dir) {
                json_object *m = json_object_new_object(), *opts = json_object_new_array();
                json_object_object_add(m, "destination", json_object_new_string("/.bench"));
                json_object_object_add(m, "type", json_object_new_string("bind"));
                json_object_object_add(m, "source", json_object_new_string(tools_dir));
                static const char *const o[] = {"rbind", "ro", "nosuid", "nodev"};
                for (size_t i = 0; i < ARRAY_SIZE(o); i++)
                        json_object_array_add(opts, json_object_new_string(o[i]));
                json_object_object_add(m, "options", opts);
                json_object_array_add(json_object_object_get(cfg, "mounts"), m);
        }
        _cleanup_free_ char *text = wh_json_to_string(cfg, 0);
        if (!text)
                return wh_fail(err, ENOMEM, "config");
        char path[4096];
        snprintf(path, sizeof(path), "%s/config.json", bundle);
        _cleanup_close_ int fd =
                open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || wh_write_all(fd, text, strlen(text)) < 0)
                return wh_fail(err, errno, "write '%s'", path);
        return 0;
}

int bench_find_stamp(const char *text, int64_t *ret_ns)
{
        const char *p = text;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                char line[64];
                if (n < sizeof(line)) {
                        memcpy(line, p, n);
                        line[n] = '\0';
                        if (bench_parse_stamp(line, ret_ns) == 0)
                                return 0;
                }
                if (!nl)
                        break;
                p = nl + 1;
        }
        return -ENOENT;
}

/* argv: RUNTIME --root DIR [EXTRA] VERB ARGS... */
static void rt_argv(const struct bench_runtime *rt, char **argv, size_t *n)
{
        argv[(*n)++] = (char *)rt->path;
        argv[(*n)++] = (char *)"--root";
        argv[(*n)++] = (char *)rt->root;
        if (rt->extra)
                argv[(*n)++] = (char *)rt->extra;
}

void bench_container_delete(const struct bench_runtime *rt, const char *id)
{
        char *argv[12];
        size_t n = 0;
        rt_argv(rt, argv, &n);
        argv[n++] = (char *)"delete";
        argv[n++] = (char *)"--force";
        argv[n++] = (char *)id;
        argv[n] = NULL;
        bench_run_ex(argv, BENCH_RUN_CLEANUP | (rt->cgroup2_ns ? BENCH_RUN_CGROUP2_NS : 0),
                     30000, NULL, NULL);
}

struct watch {
        int out, errfd; /* read ends */
        char out_buf[OUT_KEEP + 1], err_buf[OUT_KEEP + 1];
        size_t out_len, err_len;
        int out_eof, err_eof;
};

/* Appends what fd has; returns bytes read, 0 at EOF, -errno. */
static ssize_t pump(int fd, char *buf, size_t *len)
{
        char tmp[4096];
        ssize_t k = read(fd, tmp, sizeof(tmp));
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
        size_t keep = (size_t)k;
        if (*len + keep > OUT_KEEP)
                keep = OUT_KEEP - *len;
        memcpy(buf + *len, tmp, keep);
        *len += keep;
        buf[*len] = '\0';
        return k;
}

static int has_line(const char *buf, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = buf; (p = strstr(p, line)); p += n) {
                if ((p == buf || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\r'))
                        return 1;
        }
        return 0;
}

/* Polls both pipes once (up to ms, or until pidfd, when >= 0, says its process exited);
 * records first-output time. */
static void watch_poll_pid(struct watch *w, int ms, int pidfd, int64_t *first_out)
{
        struct pollfd p[3] = {{.fd = w->out_eof ? -1 : w->out, .events = POLLIN},
                              {.fd = w->err_eof ? -1 : w->errfd, .events = POLLIN},
                              {.fd = pidfd, .events = POLLIN}};
        if (poll(p, 3, ms) <= 0)
                return;
        if (p[0].revents) {
                ssize_t k = pump(w->out, w->out_buf, &w->out_len);
                if (k > 0 && !*first_out)
                        *first_out = bench_now_ns();
                if (k == 0)
                        w->out_eof = 1;
        }
        if (p[1].revents) {
                ssize_t k = pump(w->errfd, w->err_buf, &w->err_len);
                if (k == 0)
                        w->err_eof = 1;
        }
}

static void watch_poll(struct watch *w, int ms, int64_t *first_out)
{
        watch_poll_pid(w, ms, -1, first_out);
}

static int spawn_rt(const struct bench_container *c, const char *verb, int out, int errfd,
                    pid_t *pid, struct wh_err *err)
{
        char *argv[16];
        size_t n = 0;
        rt_argv(c->rt, argv, &n);
        argv[n++] = (char *)verb;
        if (!strcmp(verb, "create")) {
                argv[n++] = (char *)"--bundle";
                argv[n++] = (char *)c->bundle;
        }
        argv[n++] = (char *)c->id;
        argv[n] = NULL;
        struct bench_spawn sp = {.argv = argv,
                                 .stdin_fd = BENCH_FD_NULL,
                                 .stdout_fd = out,
                                 .stderr_fd = errfd,
                                 .new_pgrp = 1,
                                 .cgroup2_ns = c->rt->cgroup2_ns};
        return bench_spawn(&sp, pid, err);
}

/* The runtime's verb, waited for; its failure names the output so far. */
static int run_verb(const struct bench_container *c, const char *verb, struct watch *w,
                    int out_w, int err_w, struct wh_err *err)
{
        pid_t pid;
        int64_t first = 1; /* not recorded here */
        int r = spawn_rt(c, verb, out_w, err_w, &pid, err);
        if (r < 0)
                return r;
        /* Woken by the exit itself, so the phase ends when the runtime does. */
        _cleanup_close_ int pfd = bench_pidfd_open(pid);
        int64_t deadline = bench_now_ns() + (int64_t)c->timeout_ms * 1000000;
        for (;;) {
                int st;
                pid_t got = waitpid(pid, &st, WNOHANG);
                if (got == pid) {
                        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                                return 0;
                        watch_poll(w, 10, &first);
                        return wh_failx(
                                err, EIO, "%s %s: exit status %d: %s", c->rt->name, verb,
                                WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                                w->err_buf);
                }
                if (bench_interrupted() || bench_now_ns() > deadline) {
                        bench_kill_group(pid);
                        return wh_failx(err, bench_interrupted() ? EINTR : ETIMEDOUT,
                                        "%s %s: %s", c->rt->name, verb,
                                        bench_interrupted() ? "interrupted" : "timed out");
                }
                watch_poll_pid(w, pfd >= 0 ? 100 : 1, pfd, &first);
        }
}

static int wait_ready(const struct bench_container *c, struct watch *w,
                      struct bench_container_times *t, struct wh_err *err)
{
        int64_t first_out = 0, deadline = bench_now_ns() + (int64_t)c->timeout_ms * 1000000;
        /* Output can arrive while start runs; it counts from when it is read. */
        if (w->out_len)
                first_out = bench_now_ns();
        while (!has_line(w->out_buf, c->ready_line)) {
                if (w->out_eof)
                        return wh_failx(err, EPIPE,
                                        "the workload exited before printing '%s'; stdout: "
                                        "%.300s; stderr: %.600s",
                                        c->ready_line, w->out_buf, w->err_buf);
                if (bench_interrupted())
                        return wh_failx(err, EINTR, "interrupted");
                if (bench_now_ns() > deadline)
                        return wh_failx(
                                err, ETIMEDOUT,
                                "not ready after %d ms (no '%s' line); stdout: %.300s; "
                                "stderr: %.600s",
                                c->timeout_ms, c->ready_line, w->out_buf, w->err_buf);
                watch_poll(w, 100, &first_out);
        }
        t->ready = bench_now_ns();
        if (!c->stamp) {
                t->exec = first_out ? first_out : t->ready;
                return 0;
        }
        /* The stamp is written before exec, so it is in the pipe already; the
         * short wait only covers a scheduler that delays the read. */
        for (int i = 0; i < 100 && bench_find_stamp(w->err_buf, &t->exec) < 0; i++)
                watch_poll(w, 10, &first_out);
        if (bench_find_stamp(w->err_buf, &t->exec) < 0)
                return wh_failx(err, EPROTO,
                                "no exec stamp from whittle-init on stderr: %.300s",
                                w->err_buf);
        return 0;
}

/* After the ready line: the workload exits; both pipes reach EOF. */
static int wait_exit(const struct bench_container *c, struct watch *w, struct wh_err *err)
{
        int64_t deadline = bench_now_ns() + (int64_t)c->timeout_ms * 1000000, dummy = 1;
        while (!w->out_eof || !w->err_eof) {
                if (bench_interrupted())
                        return wh_failx(err, EINTR, "interrupted");
                if (bench_now_ns() > deadline)
                        return wh_failx(err, ETIMEDOUT,
                                        "did not exit within %d ms of ready",
                                        c->timeout_ms);
                watch_poll(w, 100, &dummy);
        }
        return 0;
}

int bench_container_run(const struct bench_container *c, struct bench_container_times *ret,
                        struct wh_err *err)
{
        int po[2], pe[2];
        if (pipe2(po, O_CLOEXEC) < 0)
                return wh_fail(err, errno, "pipe");
        if (pipe2(pe, O_CLOEXEC) < 0) {
                close(po[0]);
                close(po[1]);
                return wh_fail(err, errno, "pipe");
        }
        _cleanup_free_ struct watch *w = calloc(1, sizeof(*w));
        _cleanup_close_ int out_r = po[0], err_r = pe[0];
        _cleanup_close_ int out_w = po[1], err_w = pe[1];
        if (!w)
                return wh_fail(err, ENOMEM, "container");
        w->out = out_r;
        w->errfd = err_r;
        struct bench_container_times t = {0};
        int r = run_verb(c, "create", w, out_w, err_w, err);
        t.created = bench_now_ns();
        if (r >= 0) {
                _cleanup_close_ int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
                r = run_verb(c, "start", w, nul, err_w, err);
        }
        /* From here only the container holds the write ends. */
        close(TAKE_FD(out_w));
        close(TAKE_FD(err_w));
        if (r >= 0)
                r = wait_ready(c, w, &t, err);
        if (r >= 0)
                r = wait_exit(c, w, err);
        bench_container_delete(c->rt, c->id);
        if (r < 0)
                return wh_fail_ctx(err, r, "container %s (%s)", c->id, c->rt->name);
        *ret = t;
        return 0;
}
