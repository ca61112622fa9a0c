/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The build report: JSON for machines (--report FILE), a short summary on
 * stderr for people, and the --dry-run listing.
 */
#include <stdio.h>

#include "closure.h"
#include "err.h"
#include "image_config.h"
#include "image_read.h"
#include "image_write.h"
#include "index.h"

struct wh_report_input {
        const char *source_ref;
        const char *dest_ref;
        const struct wh_source *src;
        const struct wh_index_stats *src_stats;
        const struct wh_closure_stats *closure;
        const struct wh_write_result *result; /* NULL for a dry run */
        const char *compression;
        char **profiles;
        const struct wh_effective *eff;
};

/* Writes the JSON report to path atomically. */
int wh_report_write(const char *path, struct wh_index *idx, const struct wh_report_input *in,
                    struct wh_err *err);

/* "keep<TAB>/path<TAB>reason" and "drop<TAB>/path" lines, sorted. */
int wh_report_dry_run(FILE *out, struct wh_index *idx);

/* The human summary (stderr). */
void wh_report_summary(FILE *out, const struct wh_report_input *in);

const char *wh_ftype_name(enum wh_ftype t);
