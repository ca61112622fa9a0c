/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups_res.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"

int wh_cg_write(const char *dir, const char *file, const char *val, struct wh_err *err)
{
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
                return wh_failx(err, ENAMETOOLONG, "cgroup path too long: %s", dir);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return wh_fail(err, errno, "open %s", path);
        size_t len = strlen(val);
        ssize_t n = write(fd, val, len);
        if (n < 0)
                return wh_fail(err, errno, "write '%s' to %s", val, path);
        if ((size_t)n != len)
                return wh_failx(err, EIO, "short write to %s", path);
        return 0;
}

/* An optional integer member; sets bit in *has when present. */
static int get_i64(json_object *o, const char *what, const char *key, int64_t min,
                   int64_t max, int64_t *ret, unsigned bit, unsigned *has,
                   struct wh_err *err)
{
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        int r = wh_json_get_int64(o, what, key, 0, min, max, ret, err);
        if (r < 0)
                return r;
        *has |= bit;
        return 0;
}

static int get_u64(json_object *o, const char *what, const char *key, uint64_t max,
                   uint64_t *ret, unsigned bit, unsigned *has, struct wh_err *err)
{
        int64_t v = 0;
        unsigned h = 0;
        int r = get_i64(o, what, key, 0, max > INT64_MAX ? INT64_MAX : (int64_t)max, &v,
                        bit, &h, err);
        if (r < 0 || !h)
                return r;
        *ret = (uint64_t)v;
        *has |= bit;
        return 0;
}

/* "0-3,5": digits, commas and dashes only, so it is safe to write as is. */
static int get_list(json_object *o, const char *what, const char *key, char *ret,
                    size_t size, unsigned bit, unsigned *has, struct wh_err *err)
{
        const char *s = NULL;
        int r = o ? wh_json_get_string(o, what, key, 0, &s, err) : 0;
        if (r < 0 || !s || !*s)
                return r;
        if (strlen(s) >= size || strspn(s, "0123456789,-") != strlen(s))
                return wh_failx(err, EINVAL, "%s.%s: '%s' is not a list like '0-3,5'", what,
                                key, s);
        memcpy(ret, s, strlen(s) + 1);
        *has |= bit;
        return 0;
}

static int parse_memory(json_object *m, struct wh_cg_res *c, struct wh_err *err)
{
        const char *w = "linux.resources.memory";
        int r;
        int nooom = 0;
        if (!m)
                return 0;
        if ((r = get_i64(m, w, "limit", -1, INT64_MAX, &c->mem_limit, WH_RES_MEM_LIMIT,
                         &c->has, err)) < 0 ||
            (r = get_i64(m, w, "reservation", -1, INT64_MAX, &c->mem_reservation,
                         WH_RES_MEM_RESERVATION, &c->has, err)) < 0 ||
            (r = get_i64(m, w, "swap", -1, INT64_MAX, &c->mem_swap, WH_RES_MEM_SWAP,
                         &c->has, err)) < 0 ||
            (r = get_i64(m, w, "swappiness", 0, 100, &c->swappiness, WH_RES_MEM_SWAPPINESS,
                         &c->has, err)) < 0 ||
            (r = wh_json_get_bool(m, w, "disableOOMKiller", 0, &nooom, err)) < 0)
                return r;
        if (nooom)
                c->has |= WH_RES_MEM_NO_OOM_KILL;
        /* 0 means "not set" in runc's reading of the spec. */
        if ((c->has & WH_RES_MEM_LIMIT) && c->mem_limit == 0)
                c->has &= ~WH_RES_MEM_LIMIT;
        if ((c->has & WH_RES_MEM_SWAP) && c->mem_swap == 0)
                c->has &= ~WH_RES_MEM_SWAP;
        if ((c->has & WH_RES_MEM_SWAP) && c->mem_swap > 0) {
                if (!(c->has & WH_RES_MEM_LIMIT) || c->mem_limit < 0)
                        return wh_failx(err, EINVAL,
                                        "%s.swap: a swap limit needs a memory limit", w);
                if (c->mem_swap < c->mem_limit)
                        return wh_failx(err, EINVAL,
                                        "%s.swap: %" PRId64
                                        " is below memory.limit %" PRId64
                                        " (swap counts memory plus swap)",
                                        w, c->mem_swap, c->mem_limit);
        }
        if ((c->has & WH_RES_MEM_LIMIT) && c->mem_limit > 0 && c->mem_limit < 4096 * 2)
                return wh_failx(err, EINVAL, "%s.limit: %" PRId64 " bytes is too small", w,
                                c->mem_limit);
        return 0;
}

static int parse_cpu(json_object *o, struct wh_cg_res *c, struct wh_err *err)
{
        const char *w = "linux.resources.cpu";
        int r;
        if (!o)
                return 0;
        if ((r = get_u64(o, w, "shares", 262144, &c->cpu_shares, WH_RES_CPU_SHARES, &c->has,
                         err)) < 0 ||
            (r = get_i64(o, w, "quota", -1, INT64_MAX, &c->cpu_quota, WH_RES_CPU_QUOTA,
                         &c->has, err)) < 0 ||
            (r = get_u64(o, w, "period", 1000000, &c->cpu_period, WH_RES_CPU_PERIOD,
                         &c->has, err)) < 0 ||
            (r = get_i64(o, w, "realtimeRuntime", -1, INT64_MAX, &c->rt_runtime,
                         WH_RES_CPU_RT_RUNTIME, &c->has, err)) < 0 ||
            (r = get_u64(o, w, "realtimePeriod", 1000000, &c->rt_period,
                         WH_RES_CPU_RT_PERIOD, &c->has, err)) < 0 ||
            (r = get_i64(o, w, "idle", 0, 1, &c->cpu_idle, WH_RES_CPU_IDLE, &c->has, err)) <
                    0 ||
            (r = get_list(o, w, "cpus", c->cpus, sizeof(c->cpus), WH_RES_CPUS, &c->has,
                          err)) < 0 ||
            (r = get_list(o, w, "mems", c->mems, sizeof(c->mems), WH_RES_MEMS, &c->has,
                          err)) < 0)
                return r;
        if ((c->has & WH_RES_CPU_SHARES) && c->cpu_shares == 0)
                c->has &= ~WH_RES_CPU_SHARES;
        if ((c->has & WH_RES_CPU_SHARES) && c->cpu_shares < 2)
                return wh_failx(err, EINVAL,
                                "%s.shares: %" PRIu64 " is below the minimum 2", w,
                                c->cpu_shares);
        if ((c->has & WH_RES_CPU_QUOTA) && c->cpu_quota == 0)
                c->has &= ~WH_RES_CPU_QUOTA;
        if ((c->has & WH_RES_CPU_QUOTA) && c->cpu_quota > 0 && c->cpu_quota < 1000)
                return wh_failx(err, EINVAL,
                                "%s.quota: %" PRId64 " is below the minimum 1000", w,
                                c->cpu_quota);
        if ((c->has & WH_RES_CPU_PERIOD) && c->cpu_period == 0)
                c->has &= ~WH_RES_CPU_PERIOD;
        if ((c->has & WH_RES_CPU_PERIOD) && c->cpu_period < 1000)
                return wh_failx(err, EINVAL,
                                "%s.period: %" PRIu64 " is outside [1000, 1000000]", w,
                                c->cpu_period);
        return 0;
}

int wh_cg_res_parse(json_object *res, struct wh_cg_res *ret, struct wh_err *err)
{
        struct wh_cg_res c = {0};
        if (!res) {
                *ret = c;
                return 0;
        }
        if (!json_object_is_type(res, json_type_object))
                return wh_failx(err, EINVAL, "linux.resources: expected an object");
        json_object *mem = NULL, *cpu = NULL, *pids = NULL;
        int r;
        if ((r = wh_json_get_object(res, "linux.resources", "memory", 0, &mem, err)) < 0 ||
            (r = wh_json_get_object(res, "linux.resources", "cpu", 0, &cpu, err)) < 0 ||
            (r = wh_json_get_object(res, "linux.resources", "pids", 0, &pids, err)) < 0)
                return r;
        if ((r = parse_memory(mem, &c, err)) < 0 || (r = parse_cpu(cpu, &c, err)) < 0)
                return r;
        r = get_i64(pids, "linux.resources.pids", "limit", INT64_MIN, INT64_MAX,
                    &c.pids_limit, WH_RES_PIDS, &c.has, err);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

static void fmt_i64(char *buf, size_t size, int64_t v)
{
        snprintf(buf, size, "%" PRId64, v);
}

/* Writes and, on failure, puts the config field in front of the message. */
static int put(const char *dir, const char *file, const char *val, const char *field,
               struct wh_err *err)
{
        int r = wh_cg_write(dir, file, val, err);
        if (r < 0)
                return wh_fail_ctx(err, r, "linux.resources.%s", field);
        return 0;
}

static int put_i64(const char *dir, const char *file, int64_t v, const char *field,
                   struct wh_err *err)
{
        char buf[32];
        fmt_i64(buf, sizeof(buf), v);
        return put(dir, file, buf, field, err);
}

static int v1_memory(const struct wh_cg_res *c, const char *d, struct wh_err *err)
{
        int r;
        if (c->has & WH_RES_MEM_LIMIT) {
                r = put_i64(d, "memory.limit_in_bytes", c->mem_limit, "memory.limit", err);
                /* Raising the limit past the current memory+swap limit
                 * needs memsw first. */
                if (r == -EINVAL && (c->has & WH_RES_MEM_SWAP)) {
                        if ((r = put_i64(d, "memory.memsw.limit_in_bytes", c->mem_swap,
                                         "memory.swap", err)) < 0)
                                return r;
                        r = put_i64(d, "memory.limit_in_bytes", c->mem_limit,
                                    "memory.limit", err);
                }
                if (r < 0)
                        return r;
        }
        if (c->has & WH_RES_MEM_SWAP) {
                r = put_i64(d, "memory.memsw.limit_in_bytes", c->mem_swap, "memory.swap",
                            err);
                if (r == -ENOENT)
                        wh_warn("linux.resources.memory.swap: swap accounting is off "
                                "on this host; ignored");
                else if (r < 0)
                        return r;
        }
        if ((c->has & WH_RES_MEM_RESERVATION) &&
            (r = put_i64(d, "memory.soft_limit_in_bytes", c->mem_reservation,
                         "memory.reservation", err)) < 0)
                return r;
        if ((c->has & WH_RES_MEM_SWAPPINESS) &&
            (r = put_i64(d, "memory.swappiness", c->swappiness, "memory.swappiness", err)) <
                    0)
                return r;
        if ((c->has & WH_RES_MEM_NO_OOM_KILL) &&
            (r = put(d, "memory.oom_control", "1", "memory.disableOOMKiller", err)) < 0)
                return r;
        return 0;
}

static int v1_cpu(const struct wh_cg_res *c, const char *d, struct wh_err *err)
{
        int r;
        if ((c->has & WH_RES_CPU_SHARES) &&
            (r = put_i64(d, "cpu.shares", (int64_t)c->cpu_shares, "cpu.shares", err)) < 0)
                return r;
        /* Period before quota: a quota is checked against the period. */
        if ((c->has & WH_RES_CPU_PERIOD) &&
            (r = put_i64(d, "cpu.cfs_period_us", (int64_t)c->cpu_period, "cpu.period",
                         err)) < 0)
                return r;
        if ((c->has & WH_RES_CPU_QUOTA) &&
            (r = put_i64(d, "cpu.cfs_quota_us", c->cpu_quota, "cpu.quota", err)) < 0)
                return r;
        if ((c->has & WH_RES_CPU_RT_PERIOD) &&
            (r = put_i64(d, "cpu.rt_period_us", (int64_t)c->rt_period, "cpu.realtimePeriod",
                         err)) < 0)
                return r;
        if ((c->has & WH_RES_CPU_RT_RUNTIME) &&
            (r = put_i64(d, "cpu.rt_runtime_us", c->rt_runtime, "cpu.realtimeRuntime",
                         err)) < 0)
                return r;
        if ((c->has & WH_RES_CPU_IDLE) &&
            (r = put_i64(d, "cpu.idle", c->cpu_idle, "cpu.idle", err)) < 0)
                return r;
        return 0;
}

static int v1_pids(const struct wh_cg_res *c, const char *d, struct wh_err *err)
{
        if (c->pids_limit <= 0)
                return put(d, "pids.max", "max", "pids.limit", err);
        return put_i64(d, "pids.max", c->pids_limit, "pids.limit", err);
}

int wh_cg_res_apply_v1(const struct wh_cg_res *c,
                       const char *(*dir_of)(const void *ctx, const char *controller),
                       const void *ctx, struct wh_err *err)
{
        static const struct {
                const char *controller;
                unsigned bits;
        } need[] = {
                {"memory", WH_RES_MEMORY},
                {"cpu", WH_RES_CPU},
                {"cpuset", WH_RES_CPUSET},
                {"pids", WH_RES_PIDS},
        };
        for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
                if (!(c->has & need[i].bits))
                        continue;
                const char *d = dir_of(ctx, need[i].controller);
                if (!d)
                        return wh_failx(err, ENOTSUP,
                                        "linux.resources: the %s controller is not mounted",
                                        need[i].controller);
                int r = 0;
                if (need[i].bits == WH_RES_MEMORY)
                        r = v1_memory(c, d, err);
                else if (need[i].bits == WH_RES_CPU)
                        r = v1_cpu(c, d, err);
                else if (need[i].bits == WH_RES_PIDS)
                        r = v1_pids(c, d, err);
                else if (need[i].bits == WH_RES_CPUSET) {
                        if ((c->has & WH_RES_CPUS) &&
                            (r = put(d, "cpuset.cpus", c->cpus, "cpu.cpus", err)) < 0)
                                return r;
                        if (c->has & WH_RES_MEMS)
                                r = put(d, "cpuset.mems", c->mems, "cpu.mems", err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* runc's mapping of v1 shares [2, 262144] onto v2 weight [1, 10000]. */
static uint64_t shares_to_weight(uint64_t shares)
{
        return 1 + ((shares - 2) * 9999) / 262142;
}

static int v2_memory(const struct wh_cg_res *c, const char *d, struct wh_err *err)
{
        int r;
        if (c->has & WH_RES_MEM_LIMIT) {
                r = c->mem_limit < 0
                            ? put(d, "memory.max", "max", "memory.limit", err)
                            : put_i64(d, "memory.max", c->mem_limit, "memory.limit", err);
                if (r < 0)
                        return r;
        }
        if (c->has & WH_RES_MEM_SWAP) {
                /* v1's swap is memory+swap; v2's memory.swap.max is swap alone. */
                if (c->mem_swap < 0)
                        r = put(d, "memory.swap.max", "max", "memory.swap", err);
                else
                        r = put_i64(d, "memory.swap.max", c->mem_swap - c->mem_limit,
                                    "memory.swap", err);
                if (r == -ENOENT)
                        wh_warn("linux.resources.memory.swap: no swap controller; ignored");
                else if (r < 0)
                        return r;
        }
        if (c->has & WH_RES_MEM_RESERVATION) {
                r = c->mem_reservation < 0
                            ? put(d, "memory.low", "max", "memory.reservation", err)
                            : put_i64(d, "memory.low", c->mem_reservation,
                                      "memory.reservation", err);
                if (r < 0)
                        return r;
        }
        if (c->has & WH_RES_MEM_SWAPPINESS)
                wh_debug("linux.resources.memory.swappiness: no cgroup v2 equivalent; "
                         "ignored");
        if (c->has & WH_RES_MEM_NO_OOM_KILL)
                wh_debug(
                        "linux.resources.memory.disableOOMKiller: no cgroup v2 equivalent; "
                        "ignored");
        return 0;
}

static int v2_cpu(const struct wh_cg_res *c, const char *d, struct wh_err *err)
{
        int r;
        if (c->has & WH_RES_CPU_SHARES) {
                char buf[32];
                snprintf(buf, sizeof(buf), "%" PRIu64, shares_to_weight(c->cpu_shares));
                if ((r = put(d, "cpu.weight", buf, "cpu.shares", err)) < 0)
                        return r;
        }
        if (c->has & (WH_RES_CPU_QUOTA | WH_RES_CPU_PERIOD)) {
                char buf[64];
                uint64_t period = (c->has & WH_RES_CPU_PERIOD) ? c->cpu_period : 100000;
                if ((c->has & WH_RES_CPU_QUOTA) && c->cpu_quota > 0)
                        snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, c->cpu_quota,
                                 period);
                else
                        snprintf(buf, sizeof(buf), "max %" PRIu64, period);
                if ((r = put(d, "cpu.max", buf, "cpu.quota", err)) < 0)
                        return r;
        }
        if ((c->has & WH_RES_CPU_IDLE) &&
            (r = put_i64(d, "cpu.idle", c->cpu_idle, "cpu.idle", err)) < 0)
                return r;
        if (c->has & (WH_RES_CPU_RT_RUNTIME | WH_RES_CPU_RT_PERIOD))
                return wh_failx(
                        err, ENOTSUP,
                        "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
        if ((c->has & WH_RES_CPUS) &&
            (r = put(d, "cpuset.cpus", c->cpus, "cpu.cpus", err)) < 0)
                return r;
        if ((c->has & WH_RES_MEMS) &&
            (r = put(d, "cpuset.mems", c->mems, "cpu.mems", err)) < 0)
                return r;
        return 0;
}

int wh_cg_res_apply_v2(const struct wh_cg_res *c, const char *dir, struct wh_err *err)
{
        int r;
        if ((c->has & WH_RES_MEMORY) && (r = v2_memory(c, dir, err)) < 0)
                return r;
        if ((c->has & (WH_RES_CPU | WH_RES_CPUSET)) && (r = v2_cpu(c, dir, err)) < 0)
                return r;
        if (c->has & WH_RES_PIDS) {
                if (c->pids_limit <= 0)
                        return put(dir, "pids.max", "max", "pids.limit", err);
                return put_i64(dir, "pids.max", c->pids_limit, "pids.limit", err);
        }
        return 0;
}
