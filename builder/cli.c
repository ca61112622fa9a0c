/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "parse_num.h"

void wh_cli_verbosity(int c, enum wh_log_level *level)
{
        if (c == 'q')
                *level = WH_LOG_QUIET;
        else if (c == 'v')
                *level = *level < WH_LOG_INFO ? WH_LOG_INFO : WH_LOG_DEBUG;
}

int wh_cli_duration(const char *arg, double *ret, struct wh_err *err)
{
        int64_t secs;
        if (wh_parse_i64(arg, 1, 86400, &secs) < 0)
                return wh_failx(err, EINVAL,
                                "--duration: '%s': expected seconds (1..86400)", arg);
        *ret = (double)secs;
        return 0;
}

int wh_cli_bad_option(char *const *argv, struct wh_err *err)
{
        return wh_failx(err, EINVAL, "unknown or incomplete option '%s'", argv[optind - 1]);
}

int wh_cli_parse_status(const char *verb, int parsed, const struct wh_err *err)
{
        if (parsed > 0)
                return WH_EXIT_OK;
        if (parsed == 0)
                return -1;
        char prog[64];
        snprintf(prog, sizeof(prog), "whittle: %s", verb);
        wh_err_print(err, prog);
        fprintf(stderr, "Try 'whittle %s --help'.\n", verb);
        return WH_EXIT_USAGE;
}
