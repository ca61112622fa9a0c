/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The closure: from the roots (image entrypoint+cmd resolved on PATH, the
 * profile's entrypoint, keep entries and needed features) decide every
 * path the workload needs, marking entries in the index with the reason
 * they are kept (e.g. "DT_NEEDED of /usr/bin/python3", "feature nss",
 * "keep /app/..." for a keep glob). Synthesises entries a feature requires but the image
 * lacks (e.g. /tmp 1777).
 */
#include "err.h"
#include "index.h"
#include "profile.h"

struct wh_closure_input {
        const struct wh_profile *profile; /* merged profile (with CLI --keep/--need) */
        char **entrypoint;                /* effective Entrypoint (may be NULL) */
        char **cmd;                       /* effective Cmd (may be NULL) */
        char **env;                       /* effective Env ("PATH=..." used for lookups) */
        const char *user;                 /* effective User (may be NULL) */
        const char *workdir;              /* effective WorkingDir (may be NULL) */
};

struct wh_closure_stats {
        uint64_t kept_files, kept_bytes;
        uint64_t dropped_files, dropped_bytes;
};

/* Marks kept entries in idx. Warnings (e.g. an unresolvable DT_NEEDED) go to wh_warn. */
int wh_closure_run(struct wh_index *idx, const struct wh_closure_input *in,
                   struct wh_closure_stats *stats, struct wh_err *err);

/*
 * Glob matching on cleaned paths: '*' and '?' stay within a component,
 * '**' spans components (usr/lib followed by a double-star component matches everything below usr/lib),
 * '[...]' classes. pattern and path are both without a leading '/'.
 */
int wh_glob_match(const char *pattern, const char *path);

/*
 * Calls fn for every index entry matching pattern (as above), in path
 * order. The pattern's leading literal directories are resolved first,
 * following symlinks (on_link sees each one, may be NULL), so
 * "lib64/libc.so.*" finds usr/lib64/libc.so.6 when lib64 -> usr/lib64; *ret_dir (optional, caller
 * owns) is that resolved directory. A pattern without glob characters
 * names one path. fn must not change the index; returning < 0 stops the walk. Returns the number of
 * matches, or a negative errno.
 */
int wh_glob_index(struct wh_index *idx, const char *pattern,
                  void (*on_link)(struct wh_entry *link, void *userdata),
                  int (*fn)(struct wh_entry *e, void *userdata), void *userdata, char **ret_dir);
