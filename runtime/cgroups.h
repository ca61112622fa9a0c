/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Container cgroups on cgroup v2 (unified), v1, and hybrid hosts (v1
 * controllers under /sys/fs/cgroup/<controller>, cgroup2 mounted at
 * /sys/fs/cgroup/unified, as on this machine and on AL2 hosts).
 *
 * Life cycle, all in the runtime (not in the container process):
 *   wh_cgroup_create()    mkdir the container's cgroup(s), apply
 *                         linux.resources; nothing left behind on failure
 *   wh_cgroup_enter()     move a pid in (the container init, exec'd
 *                         processes)
 *   wh_cgroup_pids()      for `ps`, wh_cgroup_kill_all() for `kill --all`
 *   wh_cgroup_destroy()   kill what is left, rmdir everything
 *   wh_cgroup_to_json() / wh_cgroup_from_json() carry the paths in the
 *                         container's state between commands.
 *
 * cgroups_path is linux.cgroupsPath: an absolute path is taken relative to
 * each hierarchy's root, a relative one relative to the runtime's own
 * cgroup; empty or NULL means "/whittle/<id>". Only controllers the
 * resources need are written to, to keep container start cheap.
 * Errors name the field: "linux.resources.memory.limit: ...".
 */
#include <sys/types.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "err.h"

enum wh_cgroup_mode {
        WH_CGROUP_NONE = 0, /* no cgroup file system found */
        WH_CGROUP_V1,       /* v1 controllers only */
        WH_CGROUP_HYBRID,   /* v1 controllers plus cgroup2 at .../unified */
        WH_CGROUP_V2,       /* cgroup2 at /sys/fs/cgroup */
};

struct wh_cgroup;

/* Detects the layout under /sys/fs/cgroup (two or three statfs calls; not
 * cached, since a mount namespace can change it). */
enum wh_cgroup_mode wh_cgroup_mode_detect(void);

/*
 * Creates the cgroup(s) and applies linux_resources (the "linux.resources"
 * object, borrowed; may be NULL). Caller owns *ret.
 */
int wh_cgroup_create(const char *cgroups_path, const char *id, json_object *linux_resources,
                     struct wh_cgroup **ret, struct wh_err *err);

/* Applies linux_resources again (for `update`); same validation. */
int wh_cgroup_update(struct wh_cgroup *cg, json_object *linux_resources,
                     struct wh_err *err);

/*
 * Moves pid into every hierarchy of the container's cgroup, or only the v1
 * ones with v1_only (a process born in the cgroup2 directory by
 * CLONE_INTO_CGROUP). pid 0 is the writing process itself, which must be
 * single-threaded (the container's init, an exec'd process before execve):
 * it enters v1 hierarchies through "tasks", which for the caller's own
 * thread skips the global threadgroup lock that "cgroup.procs" takes and
 * whose first writer waits for an RCU grace period.
 */
int wh_cgroup_enter(const struct wh_cgroup *cg, pid_t pid, int v1_only, struct wh_err *err);

/*
 * The pids in the container's cgroup (every hierarchy's union; sorted, no
 * duplicates). Caller owns *ret_pids (free).
 */
int wh_cgroup_pids(const struct wh_cgroup *cg, pid_t **ret_pids, size_t *ret_n,
                   struct wh_err *err);

/* Sends sig to every process in the cgroup. Returns the number signalled. */
int wh_cgroup_kill_all(const struct wh_cgroup *cg, int sig, struct wh_err *err);

/*
 * SIGKILLs what is left, waits (bounded) until the cgroups are empty and
 * removes them. Missing directories are not an error (idempotent).
 */
int wh_cgroup_destroy(struct wh_cgroup *cg, struct wh_err *err);

/*
 * The directory of the container's cgroup for a controller ("memory",
 * "pids", ...) or, with controller NULL, the cgroup2 directory (unified).
 * Absolute host path, or NULL when that hierarchy is not used. Borrowed.
 */
const char *wh_cgroup_get_path(const struct wh_cgroup *cg, const char *controller);

/* {"mode": "hybrid", "paths": {"memory": "/sys/fs/cgroup/memory/whittle/x", ...}}
 * Caller owns the object; NULL on ENOMEM. */
json_object *wh_cgroup_to_json(const struct wh_cgroup *cg);
/* The reverse; obj is borrowed. Caller owns *ret. */
int wh_cgroup_from_json(json_object *obj, struct wh_cgroup **ret, struct wh_err *err);

/* Accepts NULL; returns NULL. Frees memory only: the cgroups stay. */
struct wh_cgroup *wh_cgroup_free(struct wh_cgroup *cg);
WH_DEFINE_CLEANUP(struct wh_cgroup *, wh_cgroup_free)
#define _cleanup_cgroup_ _cleanup_(wh_cgroup_freep)
