/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* Quantile of already sorted values. */
static double sorted_quantile(const double *s, size_t n, double q)
{
        if (n == 0)
                return NAN;
        if (q <= 0)
                return s[0];
        if (q >= 1)
                return s[n - 1];
        double h = (double)(n - 1) * q;
        size_t i = (size_t)floor(h);
        if (i + 1 >= n)
                return s[n - 1];
        return s[i] + (h - (double)i) * (s[i + 1] - s[i]);
}

double bench_quantile(const double *v, size_t n, double q)
{
        if (n == 0)
                return NAN;
        _cleanup_free_ double *s = malloc(n * sizeof(*s));
        if (!s)
                return NAN;
        memcpy(s, v, n * sizeof(*s));
        qsort(s, n, sizeof(*s), cmp_double);
        return sorted_quantile(s, n, q);
}

double bench_median(const double *v, size_t n)
{
        return bench_quantile(v, n, 0.5);
}

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
        r->s = seed;
}

uint64_t bench_rng_next(struct bench_rng *r)
{
        uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

size_t bench_rng_below(struct bench_rng *r, size_t n)
{
        /* Rejection sampling: drop the top partial bucket so every value is equally likely.
         */
        uint64_t limit = UINT64_MAX - UINT64_MAX % (uint64_t)n;
        uint64_t x;
        do
                x = bench_rng_next(r);
        while (x >= limit);
        return (size_t)(x % (uint64_t)n);
}

void bench_shuffle(struct bench_rng *r, size_t *idx, size_t n)
{
        for (size_t i = n; i > 1; i--) {
                size_t j = bench_rng_below(r, i);
                size_t t = idx[i - 1];
                idx[i - 1] = idx[j];
                idx[j] = t;
        }
}

/* The median of a resample (with replacement) of v into scratch. */
static double resample_median(struct bench_rng *r, const double *v, size_t n,
                              double *scratch)
{
        for (size_t i = 0; i < n; i++)
                scratch[i] = v[bench_rng_below(r, n)];
        qsort(scratch, n, sizeof(*scratch), cmp_double);
        return sorted_quantile(scratch, n, 0.5);
}

int bench_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
                   unsigned resamples, uint64_t seed, struct bench_ratio *ret)
{
        if (na == 0 || nb == 0 || resamples < 100)
                return -EINVAL;
        double ma = bench_median(a, na), mb = bench_median(b, nb);
        if (!(mb != 0) || isnan(ma))
                return -EINVAL;
        _cleanup_free_ double *sa = malloc(na * sizeof(*sa));
        _cleanup_free_ double *sb = malloc(nb * sizeof(*sb));
        _cleanup_free_ double *reps = malloc(resamples * sizeof(*reps));
        if (!sa || !sb || !reps)
                return -ENOMEM;
        struct bench_rng r;
        bench_rng_seed(&r, seed);
        unsigned k = 0;
        for (unsigned i = 0; i < resamples; i++) {
                double xa = resample_median(&r, a, na, sa);
                double xb = resample_median(&r, b, nb, sb);
                /* A zero median in a replicate has no ratio; it is left out. */
                if (xb != 0)
                        reps[k++] = xa / xb;
        }
        if (k == 0)
                return -EINVAL;
        qsort(reps, k, sizeof(*reps), cmp_double);
        ret->value = ma / mb;
        ret->lo = sorted_quantile(reps, k, 0.025);
        ret->hi = sorted_quantile(reps, k, 0.975);
        ret->resamples = k;
        return 0;
}
