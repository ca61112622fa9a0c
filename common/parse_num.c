/* SPDX-License-Identifier: Apache-2.0 */
#include "parse_num.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int wh_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno || !end || *end)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int wh_parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno || !end || *end)
                return -EINVAL;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int wh_parse_int(const char *s, int min, int max, int *ret)
{
        int64_t v;
        int r = wh_parse_i64(s, min, max, &v);
        if (r < 0)
                return r;
        *ret = (int)v;
        return 0;
}

int wh_parse_mode(const char *s, unsigned *ret)
{
        if (!s || !*s)
                return -EINVAL;
        unsigned v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                v = v * 8 + (unsigned)(*p - '0');
                if (v > 07777)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}
