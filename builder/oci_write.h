/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The pieces of an OCI image layout on disk (blobs/sha256, index.json,
 * oci-layout) and the archives made of such files (oci-archive,
 * docker-archive).
 *
 * Blobs are written under temporary names and renamed to their digest once
 * complete; the blob directory remembers which names this run created so
 * a failed write can take exactly those back (a blob already present is
 * content-addressed, so it is shared with whatever referenced it before and
 * never removed).
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "sha256.h"

#define WH_MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define WH_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define WH_MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define WH_ANNOT_REF_NAME  "org.opencontainers.image.ref.name"

struct wh_blob_dir {
        int dfd;      /* blobs/sha256 (owned) */
        char **added; /* hex names created by this run (owned) */
        size_t n_added;
};

/* Opens (creating as needed) blobs/sha256 under layout_fd. */
int wh_blob_dir_open(int layout_fd, struct wh_blob_dir *ret, struct wh_err *err);
/* Closes the fd and forgets the added names (they stay on disk). */
void wh_blob_dir_release(struct wh_blob_dir *b);
/* Removes the blobs this run added. */
void wh_blob_dir_rollback(struct wh_blob_dir *b);

/*
 * A new empty temporary file in the blob dir; caller owns *ret_name (NULL
 * for an unnamed O_TMPFILE file) and *ret_fd.
 */
int wh_blob_tmp(struct wh_blob_dir *b, char **ret_name, int *ret_fd, struct wh_err *err);
/* Removes a temporary file that will not be committed (tmp may be NULL). */
void wh_blob_discard(struct wh_blob_dir *b, const char *tmp);
/* Syncs fd and names it by the digest's hex (or drops it when that blob exists). */
int wh_blob_commit(struct wh_blob_dir *b, int fd, const char *tmp, const char *digest,
                   struct wh_err *err);
/* Stores a small blob; *ret_digest gets its digest. */
int wh_blob_put(struct wh_blob_dir *b, const void *data, size_t len,
                char ret_digest[WH_DIGEST_STR], struct wh_err *err);

/*
 * Reads layout_fd's index.json (an empty index when absent or when
 * layout_fd is negative; -EINVAL when it is not an image index). Caller
 * owns *ret.
 */
int wh_oci_index_load(int layout_fd, json_object **ret, struct wh_err *err);
/*
 * Drops every manifest annotated with ref.name == ref and appends the new
 * descriptor (annotated with ref when ref is not NULL).
 */
int wh_oci_index_set(json_object *index, const char *ref, const char *digest, uint64_t size,
                     struct wh_err *err);
/* Compact text of index, oci-layout's fixed text. Caller owns. */
char *wh_oci_index_text(json_object *index);
extern const char wh_oci_layout_text[];

/* One member of an archive: a directory, in-memory bytes, or a range of an fd. */
struct wh_archive_member {
        const char *name;
        int is_dir;
        const void *data;
        size_t len;
        int fd; /* used when data is NULL and !is_dir: len bytes from offset 0 */
};

/*
 * Writes members, in the given order, as a tar to path: into a temporary
 * file beside it (unnamed until the end where the filesystem allows),
 * synced and renamed over path; on failure path is untouched. Every member gets mtime (clamped at 0), mode 0644
 * (0755 for directories) and owner 0:0.
 */
int wh_archive_write(const char *path, const struct wh_archive_member *m, size_t n,
                     int64_t mtime, struct wh_err *err);

/* An anonymous temporary file in the directory of path (O_TMPFILE or unlinked). */
int wh_tmpfile_beside(const char *path, struct wh_err *err);
