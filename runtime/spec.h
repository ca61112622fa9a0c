/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * An OCI runtime-spec config.json, parsed and validated once in the runtime
 * before anything is created. Every error names the field
 * ("config.json: mounts[2].destination: must be absolute"), so a hostile or
 * broken config fails before a mount, cgroup or state directory exists.
 *
 * The parsed struct keeps the json-c tree alive (spec->json): the sections
 * handled by caps.h, seccomp.h, cgroups.h and hooks.h are borrowed from it
 * as json_object pointers. Everything in the struct is owned by it and
 * released by wh_spec_free().
 */
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "err.h"

struct wh_ns_spec {
        int type;   /* CLONE_NEW* */
        char *path; /* join this namespace, or NULL for a new one */
};

struct wh_mount_spec {
        char *destination;         /* absolute, cleaned ("/dev/pts") */
        char *type;                /* NULL for bind mounts without a type */
        char *source;              /* absolute for binds (bundle-relative resolved) */
        unsigned long flags;       /* MS_* to set, MS_BIND|MS_REC for rbind */
        unsigned long propagation; /* MS_SHARED/MS_SLAVE/... plus MS_REC, or 0 */
        char *data;                /* fs-specific options joined with ',' or NULL */
        int bind;
        int rro; /* "rro": recursive read-only via mount_setattr */
};

struct wh_device_spec {
        char *path; /* absolute, cleaned */
        mode_t type; /* S_IFCHR, S_IFBLK, S_IFIFO */
        unsigned major, minor;
        mode_t mode; /* permission bits; 0666 when not given */
        uid_t uid;
        gid_t gid;
};

struct wh_rlimit_spec {
        int resource;
        uint64_t soft, hard;
};

struct wh_sysctl_spec {
        char *key, *value;
};

struct wh_process_spec {
        int terminal;
        char **args; /* NULL-terminated, at least one */
        char **env;  /* NULL-terminated, may be empty */
        char *cwd;   /* absolute */
        uid_t uid;
        gid_t gid;
        int has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        int no_new_privileges;
        int has_oom_score_adj;
        int oom_score_adj;
        struct wh_rlimit_spec *rlimits;
        size_t n_rlimits;
        json_object *capabilities; /* borrowed from the tree, may be NULL */
};

struct wh_spec {
        json_object *json; /* the whole document, owned */
        char *bundle;      /* absolute */
        char *oci_version;
        char *root_path;   /* absolute (bundle-relative resolved) */
        int root_readonly;
        int has_process;
        struct wh_process_spec process;
        char *hostname, *domainname; /* NULL when not set */

        struct wh_mount_spec *mounts;
        size_t n_mounts;

        struct wh_ns_spec *namespaces;
        size_t n_namespaces;
        int clone_flags; /* CLONE_NEW* of the namespaces to create */
        int join_flags;  /* CLONE_NEW* of the namespaces joined by path */

        char *uid_map, *gid_map; /* "/proc/<pid>/uid_map" text, or NULL */

        struct wh_sysctl_spec *sysctl;
        size_t n_sysctl;
        struct wh_device_spec *devices;
        size_t n_devices;
        char **masked_paths, **readonly_paths; /* NULL-terminated, may be NULL */
        unsigned long rootfs_propagation;      /* 0: MS_SLAVE|MS_REC */
        char *cgroups_path;                    /* may be NULL */

        /* Borrowed sections for the other modules (may be NULL). */
        json_object *resources, *seccomp, *hooks, *annotations;
};

/*
 * Reads <bundle>/config.json and validates it. bundle must be absolute.
 * Caller owns *ret (wh_spec_free).
 */
int wh_spec_load(const char *bundle, struct wh_spec **ret, struct wh_err *err);

/* Same, from text (tests, `exec --process` uses wh_spec_parse_process). */
int wh_spec_parse(const char *text, size_t len, const char *bundle, struct wh_spec **ret,
                  struct wh_err *err);

/*
 * Parses a process object (config.json's "process", or an exec
 * process.json) into p. what names it in errors. Strings are owned by p
 * (wh_spec_process_release); capabilities is borrowed from obj.
 */
int wh_spec_parse_process(json_object *obj, const char *what, struct wh_process_spec *p,
                          struct wh_err *err);
void wh_spec_process_release(struct wh_process_spec *p);

/*
 * Parses one comma-free mount option. Returns 1 and adds to *flags /
 * *clear / *propagation when it is a known flag, 0 when it is
 * file-system data.
 */
int wh_spec_mount_option(const char *opt, unsigned long *flags, unsigned long *clear,
                         unsigned long *propagation);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, or -EINVAL. */
int wh_spec_rlimit_from_name(const char *name);

/* The runc-compatible default config.json printed by `spec`. Static text. */
const char *wh_spec_default_config(void);

struct wh_spec *wh_spec_free(struct wh_spec *spec);
WH_DEFINE_CLEANUP(struct wh_spec *, wh_spec_free)
#define _cleanup_spec_ _cleanup_(wh_spec_freep)
