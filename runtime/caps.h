/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * process.capabilities of an OCI config.json, applied with capset(2) and
 * prctl(2) directly (no libcap).
 *
 * Order in the container process (runc's order):
 *   1. wh_caps_apply_bounding()   drop the bounding set (needs CAP_SETPCAP,
 *                                 so before any setuid)
 *   2. wh_caps_prepare_setuid()   PR_SET_KEEPCAPS, so permitted survives
 *   3. setgroups / setgid / setuid to process.user
 *   4. wh_caps_apply()            effective, permitted, inheritable, then
 *                                 ambient; clears KEEPCAPS again
 * None of these allocate, so they are safe in a child after clone().
 */
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define WH_CAP_MAX 64

struct wh_caps {
        /* Set when the config had a process.capabilities object; when it did
         * not, the apply functions change nothing (runc behaves the same). */
        int present;
        uint64_t bounding;
        uint64_t effective;
        uint64_t inheritable;
        uint64_t permitted;
        uint64_t ambient;
};

/*
 * Parses the object (borrowed; NULL is allowed and gives present == 0).
 * A set missing from the object is empty. An unknown name is an error
 * naming "process.capabilities.bounding[2]"; a name the running kernel does
 * not know (above cap_last_cap) is dropped with a warning.
 */
int wh_caps_parse(json_object *process_capabilities, struct wh_caps *ret,
                  struct wh_err *err);

/* "CAP_NET_BIND_SERVICE" (or without the CAP_ prefix, any case) -> number,
 * or -EINVAL. */
int wh_caps_from_name(const char *name);
/* Number -> "CAP_NET_BIND_SERVICE", or NULL when unknown. */
const char *wh_caps_to_name(int cap);
/* The highest capability the running kernel knows (cached). */
int wh_caps_last_cap(void);

int wh_caps_apply_bounding(const struct wh_caps *caps, struct wh_err *err);
int wh_caps_prepare_setuid(const struct wh_caps *caps, struct wh_err *err);
int wh_caps_apply(const struct wh_caps *caps, struct wh_err *err);
