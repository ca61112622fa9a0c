/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs_util.h"
#include "run_cmd.h"
#include "spec.h"

int wh_cmd_spec(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        (void)ctx;
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "rootless", no_argument, NULL, 'r' },
                { 0 },
        };
        const char *bundle = ".";
        int c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        return wh_failx(err, ENOTSUP, "spec: --rootless is not supported");
                else
                        return wh_failx(err, EINVAL, "spec: unknown option '%s'",
                                        argv[optind - 1]);
        }
        if (optind != argc)
                return wh_failx(err, EINVAL, "spec: takes no arguments");
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return wh_fail(err, errno, "bundle '%s'", bundle);
        _cleanup_close_ int fd = openat(dfd, "config.json",
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                        0644);
        if (fd < 0)
                return errno == EEXIST ? wh_failx(err, EEXIST,
                                                  "File config.json exists. Remove it first.")
                                       : wh_fail(err, errno, "config.json");
        const char *text = wh_spec_default_config();
        int r = wh_write_all(fd, text, strlen(text));
        return r < 0 ? wh_fail(err, -r, "config.json") : 0;
}
