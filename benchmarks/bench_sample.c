/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_sample.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static const char *const phase_names[BENCH_PHASES] = {
        [BENCH_FETCH] = "fetch",   [BENCH_UNPACK] = "unpack", [BENCH_ROOTFS] = "rootfs",
        [BENCH_CREATE] = "create", [BENCH_EXEC] = "exec",     [BENCH_READY] = "ready",
};

const char *bench_phase_name(enum bench_phase p)
{
        return (unsigned)p < BENCH_PHASES ? phase_names[p] : "?";
}

int64_t bench_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int bench_sample_from_stamps(const struct bench_stamps *st, struct bench_sample *ret)
{
        struct bench_sample s = {0};
        int64_t prev = st->t0;
        for (int p = 0; p < BENCH_PHASES; p++) {
                if (st->end[p] < prev)
                        return -EINVAL;
                s.phase_ms[p] = (double)(st->end[p] - prev) / 1e6;
                prev = st->end[p];
        }
        s.to_exec_ms = (double)(st->end[BENCH_EXEC] - st->t0) / 1e6;
        s.to_ready_ms = (double)(st->end[BENCH_READY] - st->t0) / 1e6;
        s.runtime_ms = s.phase_ms[BENCH_CREATE] + s.phase_ms[BENCH_EXEC];
        *ret = s;
        return 0;
}

int bench_parse_stamp(const char *s, int64_t *ret_ns)
{
        int64_t sec = 0, nsec = 0;
        const char *p = s;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (sec > (INT64_MAX / 1000000000LL - 9) / 10)
                        return -EINVAL;
                sec = sec * 10 + (*p - '0');
        }
        if (*p++ != '.')
                return -EINVAL;
        for (int i = 0; i < 9; i++, p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                nsec = nsec * 10 + (*p - '0');
        }
        if (*p == '\n')
                p++;
        if (*p)
                return -EINVAL;
        *ret_ns = sec * 1000000000LL + nsec;
        return 0;
}
