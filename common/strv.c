/* SPDX-License-Identifier: Apache-2.0 */
#include "strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

size_t wh_strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

int wh_strv_push(char ***v, char *s)
{
        if (!s)
                return -ENOMEM;
        size_t n = wh_strv_len(*v);
        char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

int wh_strv_push_dup(char ***v, const char *s)
{
        return wh_strv_push(v, strdup(s));
}

int wh_strv_push_n(char ***v, const char *s, size_t len)
{
        return wh_strv_push(v, strndup(s, len));
}

int wh_strv_add(char ***v, const char *s)
{
        for (char **p = *v; p && *p; p++)
                if (!strcmp(*p, s))
                        return 0;
        int r = wh_strv_push_dup(v, s);
        return r < 0 ? r : 1;
}

int wh_strv_dup(char *const *v, char ***ret)
{
        size_t n = wh_strv_len(v);
        _cleanup_strv_ char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i])))
                        return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

int wh_strv_replace(char ***dst, char *const *src)
{
        char **c = NULL;
        if (!src)
                return 0;
        if (wh_strv_dup(src, &c) < 0)
                return -ENOMEM;
        wh_strv_free(*dst);
        *dst = c;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void wh_strv_sort(char **v)
{
        size_t n = wh_strv_len(v);
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_str);
}
