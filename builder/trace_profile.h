/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * From what a traced workload touched to a profile `whittle build` takes:
 * container paths made image paths, the files collapsed to globs where a
 * whole directory was read, features inferred from the paths, and several
 * runs merged into one profile.
 */
#include <stddef.h>

#include "err.h"
#include "index.h"
#include "profile.h"

/* A set of strings with insertion order; index lookups are hashed. */
struct wh_strset {
        char **v; /* owned; NULL-terminated when n > 0 */
        size_t n, cap;
        size_t *slots; /* owned; 0 = empty, else index + 1 */
        size_t n_slots;
};

/* The index of s (>= 0) after adding a copy of it, or -ENOMEM. */
int wh_strset_add(struct wh_strset *s, const char *str);
/* The index of str, or -1. */
long wh_strset_find(const struct wh_strset *s, const char *str);
void wh_strset_release(struct wh_strset *s);
/* A sorted NULL-terminated copy (caller owns, wh_strv_free), or NULL on ENOMEM. */
char **wh_strset_sorted(const struct wh_strset *s);

/*
 * base (an absolute directory, may be NULL for absolute paths) joined with
 * path, then cleaned ('..' clamped at the root). *ret is absolute; caller
 * owns. -EINVAL for an empty path or a relative path without base.
 */
int wh_trace_join(const char *base, const char *path, char **ret);

/*
 * The image path (cleaned, relative) of an absolute path seen inside the
 * container. Returns 1 with *ret set (caller owns); 0 when the path says
 * nothing about the image: the root, /proc, /sys, /dev, kernel pseudo paths
 * ("pipe:[..]", "anon_inode:..."); -ENOMEM.
 */
int wh_trace_image_path(const char *abs, char **ret);

/* "/usr/lib/x*" -> "/usr/lib/x\*": a path as a glob that names only it. Caller owns. */
char *wh_glob_escape(const char *path);

struct wh_trace_keep_opts {
        /* A directory collapses to a "**" glob only with at least this many
         * non-directory entries below it (so one file never becomes a glob). */
        size_t min_collapse;
};

/*
 * The keep list for the image paths in used (cleaned, relative; paths the
 * image lacks are represented by their deepest existing directory): exact
 * paths (escaped) and DIR plus "/" and "**" for each topmost directory whose every
 * non-directory entry was used. Symlinks on a used path are kept as named.
 * Since keeping a directory keeps its tree, a directory that was only
 * opened is listed when nothing but directories is below it; one the
 * workload created something in always.
 * *ret_keep sorted, caller owns.
 */
int wh_trace_keep_list(struct wh_index *idx, const struct wh_strset *used,
                       const struct wh_trace_keep_opts *opts, char ***ret_keep,
                       struct wh_err *err);

/*
 * Features a build should keep whole because the workload touched them:
 * nss, ca-certificates, tzdata (tzdata:ZONE for one zone), locale:NAME,
 * gconv. used holds image paths. *ret sorted, caller owns.
 */
int wh_trace_infer_needs(const struct wh_strset *used, char ***ret);

/*
 * Merges src into dst for several trace runs: wh_profile_merge, then exact
 * keep paths that a tree glob (DIR, "/", "**") of the result covers are dropped, and keep,
 * needs and syscalls are sorted, so the result does not depend on the
 * order of the runs beyond scalar fields.
 */
int wh_trace_profile_merge(struct wh_profile *dst, const struct wh_profile *src,
                           struct wh_err *err);

