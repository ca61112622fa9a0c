/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_env.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_proc.h"
#include "cleanup.h"
#include "fs_util.h"
#include "json_util.h"

/* The value of KEY in a "KEY: value" or KEY="value" file, first match; caller owns. */
static char *file_value(const char *path, const char *key, char sep)
{
        _cleanup_free_ char *text = NULL;
        if (wh_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, NULL) < 0)
                return NULL;
        size_t kl = strlen(key);
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (!strncmp(line, key, kl)) {
                        char *v = line + kl;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        if (*v == sep) {
                                v++;
                                while (*v == ' ' || *v == '"')
                                        v++;
                                size_t n = strlen(v);
                                while (n && (v[n - 1] == '"' || v[n - 1] == ' '))
                                        n--;
                                return strndup(v, n);
                        }
                }
                line = nl ? nl + 1 : NULL;
        }
        return NULL;
}

char *bench_tool_version(const char *path, const char *arg)
{
        char *argv[] = {(char *)path, (char *)(arg ? arg : "--version"), NULL};
        _cleanup_free_ char *out = NULL;
        int r = bench_run_ex(argv, BENCH_RUN_CLEANUP, 10000, &out, NULL);
        if (r < 0 || r == 127 || !out || !*out)
                return NULL;
        /* The first line that is not empty; "libostree:" style headers take the next one.
         */
        char *p = out;
        while (*p == '\n' || *p == '*' || *p == ' ')
                p++;
        size_t n = strcspn(p, "\n");
        if (n && p[n - 1] == ':' && p[n] == '\n') {
                p += n + 1;
                while (*p == ' ')
                        p++;
                n = strcspn(p, "\n");
        }
        return strndup(p, n);
}

static json_object *machine(void)
{
        json_object *m = json_object_new_object();
        struct utsname u;
        /* /etc/os-release is usually a symlink, which the no-follow reader refuses. */
        _cleanup_free_ char *os = file_value("/etc/os-release", "PRETTY_NAME", '=');
        if (!os)
                os = file_value("/usr/lib/os-release", "PRETTY_NAME", '=');
        _cleanup_free_ char *cpu = file_value("/proc/cpuinfo", "model name", ':');
        _cleanup_free_ char *mem = file_value("/proc/meminfo", "MemTotal", ':');
        wh_json_add_string(m, "os", os ? os : "unknown");
        if (uname(&u) == 0) {
                wh_json_add_string(m, "kernel", u.release);
                wh_json_add_string(m, "arch", u.machine);
                wh_json_add_string(m, "hostname", u.nodename);
        }
        wh_json_add_string(m, "cpu", cpu ? cpu : "unknown");
        wh_json_add_int64(m, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
        wh_json_add_int64(m, "memory_bytes",
                          (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
        (void)mem;
        /* The cgroup layout decides how runtimes are driven (crun needs cgroup2 only). */
        wh_json_add_string(m, "cgroups",
                           access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "v2"
                           : access("/sys/fs/cgroup/unified", F_OK) == 0          ? "hybrid"
                                                                                  : "v1");
        return m;
}

json_object *bench_env_collect(const char *const *tools)
{
        json_object *env = json_object_new_object(), *t = json_object_new_object();
        json_object_object_add(env, "machine", machine());
        for (const char *const *p = tools; p[0] && p[1]; p += 2) {
                /* docker-registry and tini answer --version; ostree too; dumb-init
                 * --version. */
                _cleanup_free_ char *v = bench_tool_version(p[1], NULL);
                wh_json_add_string(t, p[0], v ? v : "not found");
        }
        json_object_object_add(env, "tools", t);
        return env;
}
