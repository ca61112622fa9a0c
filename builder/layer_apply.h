/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Applying one layer's tar stream to the index (pass 1), and finding the
 * kept files in it again (pass 2). Errors read "entry <path>: <what>"; the
 * caller prefixes the layer.
 */
#include <stdint.h>

#include "err.h"
#include "image_read.h"
#include "index.h"
#include "layer_stream.h"

/* Hard caps on hostile input. */
#define WH_MAX_ENTRIES   10000000ull
#define WH_MAX_FILE_SIZE (64ull << 30)
#define WH_MAX_PATH      4096
#define WH_MAX_ELF_READ  (512ull << 20)
#define WH_MAX_CONTENT   (1u << 20)

struct wh_apply {
        struct wh_index *idx;
        uint32_t layer;
        const char *name;       /* the layer, for warnings */
        uint64_t *entries_left; /* budget shared by all layers of the image */
};

/* Reads every header of s's tar stream into ap->idx. */
int wh_layer_apply(struct wh_lstream *s, const struct wh_apply *ap, struct wh_err *err);

/*
 * Captures what the closure needs from a regular file's content (ELF
 * dynamic info, #! line, small config files) into e, reading with rd. A
 * file that does not parse is a warning naming where.
 */
int wh_capture_facts(struct wh_entry *e, wh_read_fn rd, void *stream, const char *where,
                     struct wh_err *err);

/* 1 for the small config files whose content the closure reads. */
int wh_is_config_path(const char *path);

struct wh_kept {
        uint32_t ordinal;
        struct wh_entry *e;
};

/*
 * Pass 2 over one layer: calls sink for each kept entry (sorted by
 * ordinal). Stops reading once the last one is served.
 */
int wh_layer_read_kept(struct wh_lstream *s, const struct wh_kept *kept, size_t n,
                       wh_content_sink sink, void *userdata, struct wh_err *err);
