/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A minimal TAP producer for unit tests: ok(cond, fmt, ...), is_int,
 * is_str, plan at the end (done_testing). Exit status is non-zero when any
 * test failed, so the harness sees failures either way.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
        va_list ap;
        tap_n++;
        printf("%sok %d - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond)
                tap_failed++;
        fflush(stdout);
        return cond;
}

#define is_int(got, want, ...)                                                         \
        do {                                                                           \
                long long _g = (long long)(got), _w = (long long)(want);               \
                if (!ok(_g == _w, __VA_ARGS__))                                        \
                        printf("#   got %lld, want %lld\n", _g, _w);                   \
        } while (0)

#define is_str(got, want, ...)                                                         \
        do {                                                                           \
                const char *_g = (got), *_w = (want);                                  \
                int _eq = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                 \
                if (!ok(_eq, __VA_ARGS__))                                             \
                        printf("#   got '%s', want '%s'\n", _g ? _g : "(null)",        \
                               _w ? _w : "(null)");                                    \
        } while (0)

#define diag(...)                                                                      \
        do {                                                                           \
                printf("# ");                                                          \
                printf(__VA_ARGS__);                                                   \
                printf("\n");                                                          \
        } while (0)

static inline int done_testing(void)
{
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
