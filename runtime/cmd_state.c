/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "run_cmd.h"
#include "state.h"

int wh_cmd_state(const struct wh_run_ctx *ctx, int argc, char **argv, struct wh_err *err)
{
        if (argc != 2)
                return wh_failx(err, EINVAL, "state: expected exactly one container ID");
        _cleanup_close_ int root_fd = wh_state_open_root(ctx->root, 0, err);
        if (root_fd < 0)
                return wh_failx(err, ENOENT, "container does not exist");
        struct wh_state st = { 0 };
        int r = wh_state_load(root_fd, argv[1], &st, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *o = wh_state_to_oci(&st, wh_state_status(root_fd, &st));
        wh_state_release(&st);
        _cleanup_free_ char *s = o ? wh_json_to_string(o, 1) : NULL;
        if (!s)
                return wh_fail(err, ENOMEM, "state");
        printf("%s\n", s);
        return 0;
}
