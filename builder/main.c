/* SPDX-License-Identifier: Apache-2.0 */
/* whittle: keep only what a workload needs from a container image. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        {"build", cmd_build, "minimise an image for a workload profile"},
        {"inspect", cmd_inspect, "show an image's config, layers, sizes and file count"},
        {"profile", cmd_profile, "check, show or list workload profiles"},
        {"trace", cmd_trace, "run an image's workload and record the profile it needs"},
        {"verify", cmd_verify, "check that a whittled image still runs its workload"},
        {"checkout", cmd_checkout, "make a runtime bundle from an ostree: image"},
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: whittle COMMAND [OPTIONS] ...\n\nCommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\nImage references: oci:DIR[:REF] oci-archive:FILE[:REF] "
                   "docker-archive:FILE[:NAME:TAG] dir:DIR tar:FILE ostree:REPO:REF\n"
                   "Run 'whittle COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
        wh_log_init("whittle", WH_LOG_WARN);
        if (argc < 2) {
                usage(stderr);
                return WH_EXIT_USAGE;
        }
        const char *cmd = argv[1];
        if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
                usage(stdout);
                return WH_EXIT_OK;
        }
        if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
                printf("whittle %s\n", WH_VERSION);
                return WH_EXIT_OK;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(cmd, commands[i].name))
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "whittle: unknown command '%s'\n", cmd);
        usage(stderr);
        return WH_EXIT_USAGE;
}
