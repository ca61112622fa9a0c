/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Verifying a whittled image: its workload (or the profile's smoke
 * command) runs under the tracer, and the run fails when the workload
 * exits with an error, its output lacks the expected text, a probe never
 * succeeds, or it looked up a path that the original image has and the
 * whittled one lacks. Used by `whittle verify` and `whittle build --verify`.
 */
#include "err.h"
#include "image_write.h"
#include "index.h"
#include "profile.h"
#include "seccomp_bpf.h"

struct wh_verify_opts {
        const char *original; /* reference text */
        struct wh_index
                *original_idx; /* the original's index when at hand (borrowed), or NULL */
        const char *whittled;  /* reference text */
        const char *name;      /* WHITTLED in messages; NULL: the reference */
        const struct wh_profile *profile; /* may be NULL: smoke cmd/expect, entrypoint... */
        char **args;                      /* NULL: smoke cmd, else the image's workload */
        const char *probe;                /* host command, or NULL */
        const char *expect;               /* overrides the profile's smoke.expect */
        double duration;                  /* seconds; <= 0 means 60 */
        const char *runtime;              /* whittle-run, NULL for the default */
        /*
         * The profile's syscalls (when it has them) are enforced by
         * whittle-run's linux.seccomp, so the workload runs under the
         * allowlist the image gets; no_seccomp turns that off.
         */
        int no_seccomp;
        enum wh_seccomp_action seccomp_action; /* for the syscalls not listed */
        int seccomp_errno;                     /* for WH_SECCOMP_ERRNO; 0 means EPERM */
};

/*
 * Returns 1 verified, 0 not verified (the reasons, one per line, on
 * stderr, prefixed with "whittle: verify: "), < 0 when verifying was
 * impossible (err says why).
 */
int wh_verify_run(const struct wh_verify_opts *o, struct wh_err *err);

/*
 * For `build --verify`: writes idx (as wo says, uncompressed) to a
 * temporary OCI layout, verifies it against original (whose index idx
 * is) with the profile's smoke test, and removes it. vo gives the profile
 * and the seccomp fields; the references, the index and the name are
 * filled in here. Returns 0 when verified, -EPROTO ("verify failed") when
 * not, other < 0 on errors.
 */
int wh_verify_before_write(const char *original, struct wh_index *idx,
                           const struct wh_write_opts *wo, const struct wh_verify_opts *vo,
                           struct wh_err *err);
