/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The file index: the merged tree of an image (all layers applied, with
 * whiteouts), one entry per path. Memory is bounded by the number of
 * entries, never by file contents: contents stay in the layers, except the
 * few facts the closure needs (ELF dynamic info, #! lines, small config
 * files), captured while the layers stream by.
 *
 * Paths are cleaned relative paths ("usr/bin/python3"); the root is
 * implicit and never an entry.
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum wh_ftype {
        WH_F_REG = 0,
        WH_F_DIR,
        WH_F_SYMLINK,
        WH_F_HARDLINK, /* link: cleaned path of another WH_F_REG entry */
        WH_F_CHR,
        WH_F_BLK,
        WH_F_FIFO,
};

struct wh_elf_info; /* elf.h */

struct wh_xattr {
        char *name;
        void *value;
        size_t len;
};

struct wh_entry {
        char *path; /* owned; cleaned relative path */
        enum wh_ftype type;
        uint32_t mode; /* permission bits only, 07777 */
        uint32_t uid, gid;
        uint64_t size; /* regular files */
        int64_t mtime;
        char *link; /* owned; symlink target as written, or hardlink target path */
        uint32_t dev_major, dev_minor;
        struct wh_xattr *xattrs; /* owned; sorted by name */
        size_t n_xattrs;

        /* Where this version of the path came from: layer index (0 = bottom,
         * or the only "layer" of dir:/tar: sources) and its position in it. */
        uint32_t layer;
        uint32_t ordinal;
        /* Owned; the entry's name in that layer when it differs from path: a
         * hardlink whose target a later layer replaced or deleted takes over
         * the target's content, which the layer stores under the old name. */
        char *src_path;

        /* Facts captured in pass 1 (all owned, NULL when not applicable). */
        struct wh_elf_info *elf; /* regular file with an ELF header */
        char *shebang;           /* "#!" line of a script, without "#!" and newline */
        char *content;           /* whole content of a small config file (NUL-terminated) */
        size_t content_len;

        /* Closure state. */
        const char *keep_reason; /* NULL: not kept; else borrowed from the index's string pool */
        /* Pass 2: where the kept content was spooled. */
        int64_t spool_off; /* -1 until spooled */
};

struct wh_index;

/* Caller owns; NULL on ENOMEM. */
struct wh_index *wh_index_new(void);
struct wh_index *wh_index_free(struct wh_index *idx);

/* A new zeroed entry for path (copied); caller owns until _put. */
struct wh_entry *wh_entry_new(const char *path, enum wh_ftype type);
struct wh_entry *wh_entry_free(struct wh_entry *e);

/*
 * 1 for the xattrs an image keeps (security.capability, user.*): what
 * changes behaviour at run time.
 */
int wh_xattr_wanted(const char *name);

/*
 * Adds a copy of an xattr to e, keeping e->xattrs sorted by name; a name e
 * already has keeps its first value. 0 or -ENOMEM.
 */
int wh_entry_add_xattr(struct wh_entry *e, const char *name, const void *value, size_t len);

/*
 * Inserts e (taking ownership on success), replacing and freeing any entry
 * at the same path. Missing parent directories are created (0755, root).
 * Replacing a directory with a non-directory drops the old subtree.
 * An entry whose parent exists but is not a directory is refused with
 * -ENOTDIR (a path under a symlinked directory is how a layer escapes).
 */
int wh_index_put(struct wh_index *idx, struct wh_entry *e, struct wh_err *err);

/* Borrowed; NULL when absent. path must be cleaned. */
struct wh_entry *wh_index_get(const struct wh_index *idx, const char *path);

/*
 * A kept entry needs its directories: marks those above path that are not
 * kept yet with reason, up to the first kept one (whose parents are kept
 * already) or the first missing one. Returns how many it marked.
 * _parent_unkept: 1 when the first of them would be marked.
 */
size_t wh_index_keep_parents(struct wh_index *idx, const char *path, const char *reason);
int wh_index_parent_unkept(const struct wh_index *idx, const char *path);

/*
 * Whiteouts. _remove drops path and, if a directory, everything below it;
 * _clear_dir drops everything below dir but keeps dir (opaque whiteout).
 * Only entries from layers below below_layer are touched (a whiteout hides
 * lower layers, never its own). Return the number of entries removed.
 */
size_t wh_index_remove(struct wh_index *idx, const char *path, uint32_t below_layer);
size_t wh_index_clear_dir(struct wh_index *idx, const char *dir, uint32_t below_layer);

size_t wh_index_count(const struct wh_index *idx);

/*
 * All entries sorted by path (bytewise, so a directory comes before its
 * children). The array is owned by the index and valid until the next
 * change; entries are borrowed.
 */
struct wh_entry **wh_index_sorted(struct wh_index *idx, size_t *ret_n);

/* Interns s in the index's string pool; the pointer lives as long as idx. */
const char *wh_index_intern(struct wh_index *idx, const char *s);

/*
 * Resolves path (absolute or relative, taken from the image's root) the way
 * the kernel would inside the image: every symlink on the way is followed
 * inside the root (absolute targets restart at the root, ".." stops at it).
 * on_link, if set, is called for each symlink entry traversed (so the
 * closure can keep it). With follow_last = 0 the last component is not
 * followed. On success *ret is the entry (NULL for the root itself) and
 * *ret_path (if set, caller owns) its cleaned path. -ENOENT when a component
 * is missing, -ELOOP after 40 links, -ENOTDIR through a non-directory.
 */
int wh_index_resolve(struct wh_index *idx, const char *path, int follow_last,
                     void (*on_link)(struct wh_entry *link, void *userdata), void *userdata,
                     struct wh_entry **ret, char **ret_path);
