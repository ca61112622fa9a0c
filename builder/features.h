/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Features and the closure operations they are made of. Internal to the
 * closure (closure.c runs the closure, features.c knows what each feature
 * needs).
 *
 * Strong keeps (exact paths, libraries) always stay. Weak keeps (the
 * contents of a tree, glob matches) are filtered by the drop patterns; see
 * closure.c for the rule.
 */
#include <stdint.h>

#include "closure.h"

struct wh_closure;

struct wh_index *wh_closure_index(struct wh_closure *c);
const struct wh_closure_input *wh_closure_input(struct wh_closure *c);

/*
 * Each returns 1 when something was kept, 0 when the path is not in the
 * image, -ENOMEM. Paths may start with '/'. reason is copied.
 */
/* path, the symlinks on the way and the target; a directory alone. */
int wh_closure_keep_exact(struct wh_closure *c, const char *path, const char *reason);
/* Like _exact, and a directory's whole subtree (weak). */
int wh_closure_keep_tree(struct wh_closure *c, const char *path, const char *reason);
/* Every path matching a glob (weak), with symlinks and their targets. */
int wh_closure_keep_glob(struct wh_closure *c, const char *pattern, const char *reason);
/* A shared library found the way ld.so would find it for the image's programs. */
int wh_closure_keep_library(struct wh_closure *c, const char *name, const char *reason);
/* A directory with mode, created in the index when missing. */
int wh_closure_keep_dir_mode(struct wh_closure *c, const char *path, uint32_t mode,
                             const char *reason, struct wh_err *err);

/* The entry path resolves to (symlinks followed), or NULL. Nothing is kept. */
struct wh_entry *wh_closure_lookup(struct wh_closure *c, const char *path);

/* Runs one feature spec ("nss", "locale:en_US.UTF-8"). */
int wh_feature_run(struct wh_closure *c, const char *spec, struct wh_err *err);
