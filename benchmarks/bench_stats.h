/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Statistics for the cold-start harness: order statistics, a seeded PRNG
 * (so run order and bootstrap intervals are reproducible), and the ratio of
 * two medians with a percentile-bootstrap confidence interval.
 *
 * No function here allocates visible state; inputs are never modified.
 */
#include <stddef.h>
#include <stdint.h>

/* The median of n values (mean of the two middle ones for even n); NAN for n == 0. */
double bench_median(const double *v, size_t n);

/*
 * The q-quantile (0 <= q <= 1) with linear interpolation between order
 * statistics (Hyndman & Fan type 7, what R, numpy and gnuplot use): for
 * sorted x, h = (n - 1) q, result x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
 * NAN for n == 0.
 */
double bench_quantile(const double *v, size_t n, double q);

/* splitmix64: small, fast, and the same sequence on every platform for a seed. */
struct bench_rng {
        uint64_t s;
};
void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
size_t bench_rng_below(struct bench_rng *r, size_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void bench_shuffle(struct bench_rng *r, size_t *idx, size_t n);

struct bench_ratio {
        double value; /* median(a) / median(b) */
        double lo;    /* 2.5th percentile of the bootstrap distribution */
        double hi;    /* 97.5th percentile */
        unsigned resamples;
};

/*
 * median(a) / median(b), and a 95% interval from `resamples` bootstrap
 * replicates: each replicate resamples a and b independently with
 * replacement (the two groups are independent runs) and takes the ratio of
 * their medians. Deterministic for a seed. -EINVAL when a group is empty,
 * resamples < 100 or median(b) is 0; -ENOMEM.
 */
int bench_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
                   unsigned resamples, uint64_t seed, struct bench_ratio *ret);
