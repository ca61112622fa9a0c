/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * dir: sources: a root filesystem on disk, walked with fstatat/openat and
 * never following a symlink. The contents of proc, sys and dev at the top,
 * and of any directory holding a proc/sysfs/devpts/cgroup mount, are left
 * out (the directories themselves stay), and so is exclude_path.
 */
#include "err.h"
#include "image_read.h"
#include "index.h"

int wh_dir_index(struct wh_source *src, struct wh_index *idx, wh_progress_fn progress,
                 void *userdata, struct wh_err *err);

/* Pass 2: streams every kept regular file, in path order. */
int wh_dir_read_kept(struct wh_source *src, struct wh_index *idx, wh_content_sink sink,
                     void *userdata, wh_progress_fn progress, void *progress_data,
                     struct wh_err *err);
