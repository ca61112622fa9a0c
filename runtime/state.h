/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A container's state between commands: <root>/<id>/state.json (written
 * atomically, by rename) plus <root>/<id>/exec.fifo while the container is
 * "created". The status is never stored: it is derived each time from the
 * init's pid, its start time in /proc/<pid>/stat (so a recycled pid is not
 * mistaken for the container) and the presence of the fifo, as runc and
 * crun do.
 */
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "err.h"

#define WH_STATE_ROOT_DEFAULT "/run/whittle"
#define WH_OCI_VERSION "1.1.0"

enum wh_status {
        WH_STATUS_CREATING,
        WH_STATUS_CREATED,
        WH_STATUS_RUNNING,
        WH_STATUS_STOPPED,
};

struct wh_state {
        char *id;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 with nanoseconds, UTC */
        char *owner;
        pid_t pid;
        uint64_t start_time;   /* field 22 of /proc/<pid>/stat */
        json_object *annotations; /* owned, may be NULL */
        json_object *hooks;       /* owned, may be NULL: config.json "hooks" */
        json_object *cgroup;      /* owned, may be NULL: wh_cgroup_to_json() */
        json_object *seccomp;     /* owned, may be NULL: linux.seccomp for exec */
        json_object *process;     /* owned, may be NULL: the init's process, exec's base */
        int no_new_privileges;    /* of the init process, default for exec */
        int use_fifo;
};

/* Valid ids: [A-Za-z0-9_+.-], not "." or "..", at most 1024 bytes (runc's rule). */
int wh_state_id_valid(const char *id);

/* Opens (creating with 0700 when missing) the root directory. Returns an fd. */
int wh_state_open_root(const char *root, int create, struct wh_err *err);

/*
 * Creates <root>/<id> (0700). -EEXIST gives "container with given ID
 * already exists". Returns an O_DIRECTORY fd of the new directory.
 */
int wh_state_create_dir(int root_fd, const char *id, struct wh_err *err);

/* Writes state.json atomically (no fsync: /run is tmpfs and lost on boot anyway). */
int wh_state_save(int dir_fd, const struct wh_state *st, struct wh_err *err);

/* Loads <root>/<id>/state.json. A missing one is -ENOENT, "container does not exist". */
int wh_state_load(int root_fd, const char *id, struct wh_state *ret, struct wh_err *err);

/* Removes <root>/<id> and everything in it. Missing is fine. */
int wh_state_remove(int root_fd, const char *id);

/* The process's start time (field 22 of /proc/<pid>/stat), 0 when gone or a zombie. */
uint64_t wh_state_proc_start_time(pid_t pid);
/* The same, also for a zombie (a fast workload may be one before we look). */
uint64_t wh_state_proc_start_time_ex(pid_t pid, int allow_zombie);

/* Created / running / stopped, as described at the top. */
enum wh_status wh_state_status(int root_fd, const struct wh_state *st);
const char *wh_status_name(enum wh_status s);

/*
 * The OCI state object (runtime-spec "state"): ociVersion, id, pid, status,
 * bundle, rootfs, created, owner, annotations. Caller owns it.
 */
json_object *wh_state_to_oci(const struct wh_state *st, enum wh_status status);

/* The current time as RFC 3339 with nanoseconds ("2024-05-01T10:11:12.123456789Z"). */
void wh_state_now_rfc3339(char buf[40]);

void wh_state_release(struct wh_state *st);
