/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Paths that come from images, configs and profiles are hostile. These
 * helpers normalise them and resolve them strictly inside a root.
 */
#include <fcntl.h>
#include <stddef.h>

#include "err.h"

enum {
        WH_PATH_ALLOW_ABS = 1 << 0,    /* a leading '/' is stripped, not refused */
        WH_PATH_ALLOW_DOTDOT = 1 << 1, /* '..' pops a component, clamped at the root */
};

/*
 * Normalises a path inside an image to its relative form: no leading '/',
 * no '.', no empty components, no trailing '/'. The root itself is "".
 * Without flags, an absolute path or any '..' component is -EINVAL.
 * Caller owns *ret.
 */
int wh_path_clean(const char *in, unsigned flags, char **ret);

/* 1 if rel (a cleaned path) is the same as or below dir (a cleaned path). */
int wh_path_has_prefix(const char *rel, const char *dir);

/*
 * Opens path as if root_fd were "/": absolute symlinks and '..' stay inside.
 * Uses openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and a component walk
 * where openat2 is missing. Returns an fd or -errno.
 */
int wh_open_in_root(int root_fd, const char *path, int flags, mode_t mode);

/* The component-walk fallback, exposed so it is tested on every kernel. */
int wh_open_in_root_walk(int root_fd, const char *path, int flags, mode_t mode);
