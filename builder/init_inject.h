/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * `whittle build --init / --seccomp`: files the result gets that the
 * source never had. --init puts the static whittle-init at /whittle-init
 * and puts it in front of the entrypoint:
 *
 *   ["/whittle-init", "-g", ["--seccomp", "/etc/whittle/seccomp.bpf",] "--", ENTRYPOINT...]
 *
 * (-g: signals go to the workload's whole process group, so a shell
 * wrapper that does not exec passes SIGTERM on). --seccomp compiles the
 * profile's syscall allowlist for the image's architecture into
 * /etc/whittle/seccomp.bpf.
 *
 * Life cycle: _load (before the image is read: a missing whittle-init is
 * reported at once), _prepare (after the closure: needs the architecture
 * and the effective entrypoint), _put (adds the index entries, and with a
 * spool their contents; after pass 2, which must not look for them in the
 * source), _release.
 */
#include <json-c/json.h>
#include <stdint.h>

#include "closure.h"
#include "err.h"
#include "image_config.h"
#include "index.h"
#include "profile.h"
#include "seccomp_bpf.h"
#include "spool.h"

#define WH_INIT_PATH        "/whittle-init"
#define WH_SECCOMP_BPF_PATH "/etc/whittle/seccomp.bpf"

struct wh_inject_opts {
        int init;              /* --init */
        const char *init_path; /* --init-path; NULL: next to whittle, then WH_LIBEXEC_DIR */
        int seccomp;           /* --seccomp */
        enum wh_seccomp_action action;
        int errno_ret;
};

struct wh_inject {
        void *init_data; /* owned: the whittle-init binary */
        size_t init_len;
        char *init_from; /* owned: where it was found */
        struct wh_bpf bpf;
        char *bpf_reason; /* owned: "--seccomp: N syscalls" */
};

int wh_inject_load(struct wh_inject *st, const struct wh_inject_opts *o,
                   struct wh_err *err);

/*
 * Checks whittle-init against config's architecture, compiles the filter
 * from profile->syscalls ("default" when the profile has none), and
 * rewrites eff->entrypoint (an entrypoint that already starts with
 * /whittle-init is unwrapped first, so whittling twice does not nest).
 */
int wh_inject_prepare(struct wh_inject *st, const struct wh_inject_opts *o,
                      json_object *config, const struct wh_profile *profile,
                      struct wh_effective *eff, struct wh_err *err);

/*
 * Adds the entries (mtime epoch) and counts them in stats (may be NULL);
 * with sp non-NULL also spools their bytes.
 */
int wh_inject_put(struct wh_inject *st, struct wh_index *idx, struct wh_spool *sp,
                  int64_t epoch, struct wh_closure_stats *stats, struct wh_err *err);

void wh_inject_release(struct wh_inject *st);
