/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Scope-bound ownership. A variable declared with one of the _cleanup_
 * attributes is released when it leaves scope; TAKE_PTR/TAKE_FD hand the
 * resource out and leave NULL / -1 behind so nothing is released twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void wh_freep(void *p)
{
        free(*(void **)p);
}

static inline void wh_closep(const int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void wh_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void wh_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void wh_strv_free(char **v)
{
        if (!v)
                return;
        for (char **s = v; *s; s++)
                free(*s);
        free(v);
}

static inline void wh_strv_freep(char ***v)
{
        wh_strv_free(*v);
}

#define _cleanup_free_ _cleanup_(wh_freep)
#define _cleanup_close_ _cleanup_(wh_closep)
#define _cleanup_fclose_ _cleanup_(wh_fclosep)
#define _cleanup_closedir_ _cleanup_(wh_closedirp)
#define _cleanup_strv_ _cleanup_(wh_strv_freep)

#define TAKE_PTR(p)                                                            \
        ({                                                                     \
                __typeof__(p) _p = (p);                                        \
                (p) = NULL;                                                    \
                _p;                                                            \
        })

#define TAKE_FD(fd)                                                            \
        ({                                                                     \
                int _fd = (fd);                                                \
                (fd) = -1;                                                     \
                _fd;                                                           \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Defines a cleanup function name##p for a type with a free function. */
#define WH_DEFINE_CLEANUP(type, func)                                          \
        static inline void func##p(type *p)                                    \
        {                                                                      \
                if (*p)                                                        \
                        func(*p);                                              \
        }
