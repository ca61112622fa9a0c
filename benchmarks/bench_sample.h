/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Phase accounting: one run is a list of CLOCK_MONOTONIC stamps taken from
 * one T0, and the phases are the differences between consecutive stamps.
 *
 *   T0 -fetch-> fetched -unpack-> unpacked -rootfs-> rootfs -create-> created
 *      -exec-> exec (init's pre-exec stamp, or the workload's first output)
 *      -ready-> ready (ready line, or TCP connect)
 *
 * A phase that does not happen in a run (fetch and unpack when the image is
 * already stored) has a stamp equal to the previous one, so it is 0 ms.
 */
#include <stdint.h>

enum bench_phase {
        BENCH_FETCH,
        BENCH_UNPACK,
        BENCH_ROOTFS,
        BENCH_CREATE,
        BENCH_EXEC,
        BENCH_READY,
        BENCH_PHASES,
};

/* "fetch", "unpack", ... */
const char *bench_phase_name(enum bench_phase p);

struct bench_stamps {
        int64_t t0;                /* ns */
        int64_t end[BENCH_PHASES]; /* ns; end of each phase */
};

struct bench_sample {
        double phase_ms[BENCH_PHASES];
        double to_exec_ms;  /* T0 to exec */
        double to_ready_ms; /* T0 to ready */
        double runtime_ms;  /* create + exec: the runtime's and the init's share */
};

/* Now, CLOCK_MONOTONIC, in ns. */
int64_t bench_now_ns(void);

/*
 * Phases from stamps. -EINVAL when a stamp is before the one it follows
 * (a clock or accounting bug must not turn into a negative phase).
 */
int bench_sample_from_stamps(const struct bench_stamps *st, struct bench_sample *ret);

/*
 * Parses whittle-init's ready stamp, "SEC.NSEC" (nine digits) with an
 * optional trailing newline, to ns. -EINVAL for anything else.
 */
int bench_parse_stamp(const char *s, int64_t *ret_ns);
