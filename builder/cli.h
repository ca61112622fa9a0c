/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Command-line pieces build, trace and verify share, so that -q/-v,
 * --duration, option errors and the exit status after parsing read and
 * behave the same in each.
 */
#include "err.h"
#include "log.h"

/* Applies -q ('q') or -v ('v', repeatable: info, then debug) to *level. */
void wh_cli_verbosity(int c, enum wh_log_level *level);

/* --duration S: whole seconds, 1..86400. */
int wh_cli_duration(const char *arg, double *ret, struct wh_err *err);

/* The error for an option getopt_long refused (argv[optind - 1]). */
int wh_cli_bad_option(char *const *argv, struct wh_err *err);

/*
 * The exit status after parsing verb's options: parsed > 0 (--help or
 * --version printed) is WH_EXIT_OK; parsed < 0 prints err and the --help
 * hint and is WH_EXIT_USAGE; -1 when the command is to run.
 */
int wh_cli_parse_status(const char *verb, int parsed, const struct wh_err *err);
