/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Subcommands of whittle. Each takes the arguments from its own name on
 * (argv[0] is "build", "profile", ...), prints its own results and errors,
 * and returns the exit code.
 */

enum {
        WH_EXIT_OK = 0,    /* success */
        WH_EXIT_FAIL = 1,  /* the operation failed */
        WH_EXIT_USAGE = 2, /* bad command line */
};

int cmd_build(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
