/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail_v(struct wh_err *err, int code, int with_errno, const char *fmt,
                  va_list ap)
{
        if (code < 0)
                code = -code;
        if (code == 0)
                code = EIO;
        if (!err)
                return -code;
        err->code = code;
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                n = 0;
        if (with_errno && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
                         strerror(code));
        return -code;
}

int wh_fail(struct wh_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fail_v(err, code, 1, fmt, ap);
        va_end(ap);
        return r;
}

int wh_failx(struct wh_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fail_v(err, code, 0, fmt, ap);
        va_end(ap);
        return r;
}

int wh_fail_ctx(struct wh_err *err, int r, const char *fmt, ...)
{
        if (r >= 0)
                r = -EIO;
        if (!err)
                return r;
        char ctx[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx, sizeof(ctx), fmt, ap);
        va_end(ap);

        char old[WH_ERR_MAX];
        memcpy(old, err->msg, sizeof(old));
        old[sizeof(old) - 1] = '\0';
        if (err->code == 0) {
                err->code = -r;
                snprintf(old, sizeof(old), "%s", strerror(-r));
        }
        int n = snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old);
        /* A chain of contexts can outgrow the buffer: say so rather than cut silently. */
        if (n >= (int)sizeof(err->msg))
                memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
        return r;
}

void wh_err_clear(struct wh_err *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
}

void wh_err_print(const struct wh_err *err, const char *prog)
{
        if (err && err->msg[0])
                fprintf(stderr, "%s: %s\n", prog, err->msg);
        else if (err && err->code)
                fprintf(stderr, "%s: %s\n", prog, strerror(err->code));
        else
                fprintf(stderr, "%s: failed\n", prog);
}
