/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * linux.resources, parsed and checked before any cgroup exists, then
 * written as cgroup v1 or v2 files. Internal to cgroups.c.
 */
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

enum {
        WH_RES_MEM_LIMIT = 1u << 0,
        WH_RES_MEM_RESERVATION = 1u << 1,
        WH_RES_MEM_SWAP = 1u << 2,
        WH_RES_MEM_SWAPPINESS = 1u << 3,
        WH_RES_MEM_NO_OOM_KILL = 1u << 4,
        WH_RES_CPU_SHARES = 1u << 5,
        WH_RES_CPU_QUOTA = 1u << 6,
        WH_RES_CPU_PERIOD = 1u << 7,
        WH_RES_CPU_RT_RUNTIME = 1u << 8,
        WH_RES_CPU_RT_PERIOD = 1u << 9,
        WH_RES_CPU_IDLE = 1u << 10,
        WH_RES_CPUS = 1u << 11,
        WH_RES_MEMS = 1u << 12,
        WH_RES_PIDS = 1u << 13,
};
#define WH_RES_MEMORY                                                                      \
        (WH_RES_MEM_LIMIT | WH_RES_MEM_RESERVATION | WH_RES_MEM_SWAP |                     \
         WH_RES_MEM_SWAPPINESS | WH_RES_MEM_NO_OOM_KILL)
#define WH_RES_CPU                                                                         \
        (WH_RES_CPU_SHARES | WH_RES_CPU_QUOTA | WH_RES_CPU_PERIOD |                        \
         WH_RES_CPU_RT_RUNTIME | WH_RES_CPU_RT_PERIOD | WH_RES_CPU_IDLE)
#define WH_RES_CPUSET (WH_RES_CPUS | WH_RES_MEMS)

struct wh_cg_res {
        unsigned has; /* WH_RES_* bits of the values given */
        int64_t mem_limit, mem_reservation, mem_swap, swappiness;
        uint64_t cpu_shares, cpu_period, rt_period;
        int64_t cpu_quota, rt_runtime, cpu_idle;
        char cpus[256], mems[256];
        int64_t pids_limit;
};

/* res may be NULL (nothing to apply). Errors name "linux.resources.<x>". */
int wh_cg_res_parse(json_object *res, struct wh_cg_res *ret, struct wh_err *err);

/* Writes into the v1 controller directories; dir_of(controller) gives the
 * container's directory in that hierarchy or NULL. */
int wh_cg_res_apply_v1(const struct wh_cg_res *res,
                       const char *(*dir_of)(const void *ctx, const char *controller),
                       const void *ctx, struct wh_err *err);
/* Writes into the container's cgroup2 directory. */
int wh_cg_res_apply_v2(const struct wh_cg_res *res, const char *dir, struct wh_err *err);

/* Writes a string to dir/file; -errno, message names the file. */
int wh_cg_write(const char *dir, const char *file, const char *val, struct wh_err *err);
