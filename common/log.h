/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Diagnostics for people, on stderr: warnings and verbose notes. Errors are
 * not logged here; they travel up in struct wh_err and main() prints them.
 */
enum wh_log_level {
        WH_LOG_QUIET = 0, /* errors only (printed by main) */
        WH_LOG_WARN = 1,
        WH_LOG_INFO = 2,
        WH_LOG_DEBUG = 3,
};

void wh_log_init(const char *prog, enum wh_log_level level);
enum wh_log_level wh_log_level(void);
const char *wh_log_prog(void);

void wh_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wh_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wh_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
