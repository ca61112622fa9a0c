/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The spool: an unlinked temporary file holding the contents of kept files
 * between pass 2 (layers stream by in layer order) and writing (entries
 * go out sorted). Its size is the kept bytes, never the image's.
 */
#include <stdint.h>

#include "err.h"
#include "image_read.h"
#include "index.h"

struct wh_spool {
        int fd;
        uint64_t size;
};

/* Opens an anonymous file in wh_tmp_dir() (common/fs_util.h). */
int wh_spool_open(struct wh_spool *sp, struct wh_err *err);
void wh_spool_close(struct wh_spool *sp);

/* A wh_content_sink: appends the stream to the spool and sets e->spool_off. */
int wh_spool_sink(struct wh_entry *e, wh_read_fn read, void *stream, void *userdata,
                  struct wh_err *err);

/*
 * Appends len bytes from memory (a file the build adds, not one of the
 * source's) and sets e->spool_off. e->size must be len.
 */
int wh_spool_add_bytes(struct wh_spool *sp, struct wh_entry *e, const void *data, size_t len,
                       struct wh_err *err);
