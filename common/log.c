/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_prog = "whittle";
static enum wh_log_level log_level = WH_LOG_WARN;

void wh_log_init(const char *prog, enum wh_log_level level)
{
        log_prog = prog;
        log_level = level;
}

enum wh_log_level wh_log_level(void)
{
        return log_level;
}

const char *wh_log_prog(void)
{
        return log_prog;
}

static void log_v(enum wh_log_level level, const char *tag, const char *fmt,
                  va_list ap)
{
        if (level > log_level)
                return;
        char buf[4096];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        if (tag)
                fprintf(stderr, "%s: %s: %s\n", log_prog, tag, buf);
        else
                fprintf(stderr, "%s: %s\n", log_prog, buf);
}

void wh_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_v(WH_LOG_WARN, "warning", fmt, ap);
        va_end(ap);
}

void wh_info(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_v(WH_LOG_INFO, NULL, fmt, ap);
        va_end(ap);
}

void wh_debug(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_v(WH_LOG_DEBUG, "debug", fmt, ap);
        va_end(ap);
}
