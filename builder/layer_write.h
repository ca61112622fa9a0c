/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * What goes into the output, decided once for every destination: the kept
 * entries of the index in sorted order, with
 *  - the directories above a kept entry kept too (with their own modes);
 *  - every set of hard links written as one regular file (the first kept
 *    path in sorted order) and links to it, whichever of them the index
 *    holds as the WH_F_REG entry;
 *  - device nodes left out (a container gets its devices from the runtime);
 *  - mtimes clamped to the epoch.
 */
#include <stdint.h>

#include "compress.h"
#include "err.h"
#include "index.h"

enum wh_item_kind {
        WH_ITEM_DIR,
        WH_ITEM_FILE,
        WH_ITEM_HARDLINK,
        WH_ITEM_SYMLINK,
        WH_ITEM_FIFO
};

struct wh_item {
        enum wh_item_kind kind;
        /* Supplies the path. */
        const struct wh_entry *e;
        /* Supplies mode, owner, mtime and xattrs: hard links share the file's. */
        const struct wh_entry *meta;
        /* Symlink target, or the path of the file a hard link names. */
        const char *link;
        /* WH_ITEM_FILE: size bytes at spool_off in the spool (-1 when empty). */
        int64_t spool_off;
        uint64_t size;
        /* Clamped to the epoch, never negative. */
        int64_t mtime;
};

struct wh_plan {
        struct wh_item *items; /* owned */
        size_t n;
        size_t n_devices_skipped;
};

/*
 * Builds the plan. May mark the parent directories of kept entries as kept
 * (keep_reason "parent of a kept path"). Entries are borrowed from idx and
 * valid while it is unchanged.
 */
int wh_plan_build(struct wh_index *idx, int64_t epoch, struct wh_plan *ret,
                  struct wh_err *err);
void wh_plan_release(struct wh_plan *p);

/* Writes the plan as one tar stream into z, reading contents from spool_fd. */
int wh_plan_write_tar(const struct wh_plan *p, int spool_fd, struct wh_compressor *z,
                      struct wh_err *err);
