/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Errors across module boundaries. A fallible function returns >= 0 on
 * success and -errno on failure, and fills the caller's struct wh_err with
 * a message. Callers add context on the way up; only main() prints it, once.
 *
 *   return wh_fail(err, errno, "open '%s'", rel);
 *   return wh_fail_ctx(err, r, "layer %s", digest);
 *
 * err may be NULL (the message is dropped, the code still returned).
 */
#include <stddef.h>

#define WH_ERR_MAX 2048

struct wh_err {
        int code;            /* positive errno, or 0 for none */
        char msg[WH_ERR_MAX];
};

/*
 * Records "<what>: <strerror(code)>" and returns -code.
 */
int wh_fail(struct wh_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Records "<what>" with no errno text: for bad input that is not a syscall. */
int wh_failx(struct wh_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prepends "<context>: " to the message; returns r (a negative errno). */
int wh_fail_ctx(struct wh_err *err, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

void wh_err_clear(struct wh_err *err);

/* Prints "<prog>: <msg>" to stderr. */
void wh_err_print(const struct wh_err *err, const char *prog);
