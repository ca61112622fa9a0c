/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "run_cmd.h"
#include "state.h"

int wh_cmd_list(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { 0 },
        };
        int json = 0, quiet = 0, c;
        opterr = 0;
        while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
                if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
                        json = !strcmp(optarg, "json");
                else if (c == 'q')
                        quiet = 1;
                else
                        return wh_failx(err, EINVAL, "list: bad option '%s'", argv[optind - 1]);
        }
        if (optind != argc)
                return wh_failx(err, EINVAL, "list: takes no arguments");
        _cleanup_json_ json_object *arr = json_object_new_array();
        if (!arr)
                return wh_fail(err, ENOMEM, "list");
        int root_fd = wh_state_open_root(ctx->root, 0, NULL);
        _cleanup_closedir_ DIR *d = root_fd >= 0 ? fdopendir(root_fd) : NULL;
        if (root_fd >= 0 && !d)
                close(root_fd);
        if (!json && !quiet)
                printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
                       "CREATED", "OWNER");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                struct wh_state st = { 0 };
                if (de->d_name[0] == '.' || wh_state_load(dirfd(d), de->d_name, &st, NULL) < 0)
                        continue;
                enum wh_status s = wh_state_status(dirfd(d), &st);
                if (json)
                        json_object_array_add(arr, wh_state_to_oci(&st, s));
                else if (quiet)
                        printf("%s\n", st.id);
                else
                        printf("%-20s %-8d %-10s %-40s %-30s %s\n", st.id,
                               s == WH_STATUS_STOPPED ? 0 : (int)st.pid, wh_status_name(s),
                               st.bundle, st.created, st.owner);
                wh_state_release(&st);
        }
        if (json) {
                _cleanup_free_ char *s = wh_json_to_string(arr, 0);
                if (!s)
                        return wh_fail(err, ENOMEM, "list");
                printf("%s\n", s);
        }
        return 0;
}
