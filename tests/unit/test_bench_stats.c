/* SPDX-License-Identifier: Apache-2.0 */
/* whittle-bench's statistics and phase accounting. */
#include <errno.h>
#include <math.h>

#include "../../benchmarks/bench_container.h"
#include "../../benchmarks/bench_sample.h"
#include "../../benchmarks/bench_stats.h"
#include "tap.h"

static int near(double a, double b, double eps)
{
        return fabs(a - b) <= eps;
}

static void test_order_stats(void)
{
        double odd[] = {5, 1, 3};
        double even[] = {4, 1, 3, 2};
        ok(near(bench_median(odd, 3), 3, 1e-12),
           "median of an odd count is the middle value");
        ok(near(bench_median(even, 4), 2.5, 1e-12),
           "median of an even count is the mean of two");
        ok(isnan(bench_median(odd, 0)), "median of nothing is NAN");
        ok(odd[0] == 5 && odd[1] == 1, "the input is not reordered");
        double v[20];
        for (int i = 0; i < 20; i++)
                v[i] = 20 - i; /* 20..1, unsorted */
        ok(near(bench_quantile(v, 20, 0.95), 19.05, 1e-9),
           "p95 of 1..20 is 19.05 (type 7)");
        ok(near(bench_quantile(v, 20, 0), 1, 1e-12), "q=0 is the minimum");
        ok(near(bench_quantile(v, 20, 1), 20, 1e-12), "q=1 is the maximum");
        double one = 7;
        ok(near(bench_quantile(&one, 1, 0.95), 7, 1e-12), "p95 of one value is that value");
}

static void test_rng(void)
{
        struct bench_rng r;
        bench_rng_seed(&r, 0);
        /* The reference splitmix64 sequence for seed 0. */
        ok(bench_rng_next(&r) == 0xe220a8397b1dcdafULL, "splitmix64(0) first value");
        ok(bench_rng_next(&r) == 0x6e789e6aa1b965f4ULL, "splitmix64(0) second value");
        bench_rng_seed(&r, 7);
        size_t idx[10];
        for (size_t i = 0; i < 10; i++)
                idx[i] = i;
        bench_shuffle(&r, idx, 10);
        static const size_t want[10] = {8, 1, 5, 9, 0, 4, 3, 2, 6, 7};
        int same = 1;
        for (size_t i = 0; i < 10; i++)
                same &= idx[i] == want[i];
        ok(same, "shuffle with seed 7 gives the recorded order");
        int seen[10] = {0}, perm = 1;
        for (size_t i = 0; i < 10; i++)
                seen[idx[i]]++;
        for (size_t i = 0; i < 10; i++)
                perm &= seen[i] == 1;
        ok(perm, "a shuffle is a permutation");
        bench_rng_seed(&r, 99);
        int in_range = 1;
        for (int i = 0; i < 1000; i++)
                in_range &= bench_rng_below(&r, 3) < 3;
        ok(in_range, "rng_below stays below n");
}

static void test_bootstrap(void)
{
        double a[] = {12.0, 15.0, 11.0, 19.0, 14.0, 13.0, 30.0, 12.5};
        double b[] = {5.0, 6.0, 5.5, 7.0, 4.5, 6.5};
        struct bench_ratio r;
        is_int(bench_ratio_ci(a, 8, b, 6, 2000, 42, &r), 0, "bootstrap runs");
        /* Values from an independent implementation of the same procedure. */
        ok(near(r.value, 2.3478260870, 1e-9), "ratio of medians 13.5/5.75");
        ok(near(r.lo, 1.9230769231, 1e-9), "lower 95%% bound for seed 42");
        ok(near(r.hi, 3.3346153846, 1e-9), "upper 95%% bound for seed 42");
        ok(r.lo <= r.value && r.value <= r.hi, "the interval holds the estimate");
        is_int(r.resamples, 2000, "every replicate counted");
        struct bench_ratio r2;
        bench_ratio_ci(a, 8, b, 6, 2000, 42, &r2);
        ok(r2.lo == r.lo && r2.hi == r.hi, "same seed, same interval");
        bench_ratio_ci(a, 8, b, 6, 2000, 43, &r2);
        ok(r2.lo != r.lo || r2.hi != r.hi, "another seed, another interval");
        double c[] = {10, 10, 10}, d[] = {4, 4};
        bench_ratio_ci(c, 3, d, 2, 500, 1, &r);
        ok(near(r.value, 2.5, 1e-12) && near(r.lo, 2.5, 1e-12) && near(r.hi, 2.5, 1e-12),
           "constant samples: a point interval");
        is_int(bench_ratio_ci(c, 0, d, 2, 500, 1, &r), -EINVAL, "empty group refused");
        double z[] = {0, 0};
        is_int(bench_ratio_ci(c, 3, z, 2, 500, 1, &r), -EINVAL, "zero denominator refused");
        is_int(bench_ratio_ci(c, 3, d, 2, 10, 1, &r), -EINVAL, "too few resamples refused");
}

static void test_phases(void)
{
        struct bench_stamps st = {.t0 = 1000000000};
        int64_t ends[BENCH_PHASES] = {1010000000, 1030000000, 1031000000,
                                      1041000000, 1042500000, 1142500000};
        for (int i = 0; i < BENCH_PHASES; i++)
                st.end[i] = ends[i];
        struct bench_sample s;
        is_int(bench_sample_from_stamps(&st, &s), 0, "stamps in order");
        ok(near(s.phase_ms[BENCH_FETCH], 10, 1e-9), "fetch 10 ms");
        ok(near(s.phase_ms[BENCH_UNPACK], 20, 1e-9), "unpack 20 ms");
        ok(near(s.phase_ms[BENCH_ROOTFS], 1, 1e-9), "rootfs 1 ms");
        ok(near(s.phase_ms[BENCH_CREATE], 10, 1e-9), "create 10 ms");
        ok(near(s.phase_ms[BENCH_EXEC], 1.5, 1e-9), "exec 1.5 ms");
        ok(near(s.phase_ms[BENCH_READY], 100, 1e-9), "ready 100 ms");
        ok(near(s.to_exec_ms, 42.5, 1e-9), "time to exec is the sum up to exec");
        ok(near(s.to_ready_ms, 142.5, 1e-9), "time to ready is the sum of all phases");
        ok(near(s.runtime_ms, 11.5, 1e-9), "runtime share is create + exec");
        double sum = 0;
        for (int i = 0; i < BENCH_PHASES; i++)
                sum += s.phase_ms[i];
        ok(near(sum, s.to_ready_ms, 1e-9), "phases add up to time to ready");
        /* Warm runs skip fetch and unpack: zero-length phases. */
        st.end[BENCH_FETCH] = st.end[BENCH_UNPACK] = st.t0;
        is_int(bench_sample_from_stamps(&st, &s), 0, "skipped phases are allowed");
        ok(s.phase_ms[BENCH_FETCH] == 0 && s.phase_ms[BENCH_UNPACK] == 0, "and count 0 ms");
        ok(near(s.phase_ms[BENCH_ROOTFS], 31, 1e-9), "rootfs then starts at T0");
        st.end[BENCH_EXEC] = st.end[BENCH_CREATE] - 1;
        is_int(bench_sample_from_stamps(&st, &s), -EINVAL, "exec before create is refused");
}

static void test_stamp_parse(void)
{
        int64_t ns = 0;
        is_int(bench_parse_stamp("12.000000345\n", &ns), 0, "stamp with newline");
        ok(ns == 12000000345LL, "stamp value in ns");
        is_int(bench_parse_stamp("12.34", &ns), -EINVAL, "short nanoseconds refused");
        is_int(bench_parse_stamp("x12.000000001", &ns), -EINVAL, "junk refused");
        is_int(bench_parse_stamp("12.0000000011", &ns), -EINVAL, "ten digits refused");
        is_int(bench_parse_stamp("", &ns), -EINVAL, "empty refused");
        is_int(bench_find_stamp("warning: x\n345.123456789\nPython error\n", &ns), 0,
               "stamp found among other stderr lines");
        ok(ns == 345123456789LL, "found stamp value");
        is_int(bench_find_stamp("no stamp here\n1.5\n", &ns), -ENOENT, "no stamp: ENOENT");
}

int main(void)
{
        test_order_stats();
        test_rng();
        test_bootstrap();
        test_phases();
        test_stamp_parse();
        return done_testing();
}
