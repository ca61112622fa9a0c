/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for image reference parsing. */
#include <errno.h>
#include <string.h>

#include "../../builder/image_ref.h"
#include "tap.h"

static void good(const char *text, int as_dest, enum wh_transport t, const char *path,
                 const char *ref)
{
        struct wh_image_ref r = {0};
        struct wh_err err = {0};
        int k = wh_image_ref_parse(text, as_dest, &r, &err);
        is_int(k, 0, "%s parses (%s)", text, as_dest ? "dest" : "source");
        if (k < 0) {
                diag("%s", err.msg);
                return;
        }
        is_int(r.transport, t, "%s transport", text);
        is_str(r.path, path, "%s path", text);
        is_str(r.ref, ref, "%s ref", text);
        wh_image_ref_release(&r);
}

static void bad(const char *text, int as_dest, const char *want_in_msg)
{
        struct wh_image_ref r = {0};
        struct wh_err err = {0};
        int k = wh_image_ref_parse(text, as_dest, &r, &err);
        is_int(k, -EINVAL, "%s refused", text);
        ok(strstr(err.msg, want_in_msg) != NULL, "%s: message mentions '%s'", text,
           want_in_msg);
        if (!strstr(err.msg, want_in_msg))
                diag("got: %s", err.msg);
        ok(r.path == NULL && r.ref == NULL, "%s: output untouched", text);
}

int main(void)
{
        good("oci:/tmp/img", 0, WH_T_OCI, "/tmp/img", NULL);
        good("oci:/tmp/img", 1, WH_T_OCI, "/tmp/img", "latest");
        good("oci:img:v1", 0, WH_T_OCI, "img", "v1");
        good("oci:img:v1", 1, WH_T_OCI, "img", "v1");
        good("oci-archive:a.tar", 0, WH_T_OCI_ARCHIVE, "a.tar", NULL);
        good("oci-archive:a.tar:app", 0, WH_T_OCI_ARCHIVE, "a.tar", "app");
        good("docker-archive:d.tar", 0, WH_T_DOCKER_ARCHIVE, "d.tar", NULL);
        good("docker-archive:d.tar:app:1.0", 1, WH_T_DOCKER_ARCHIVE, "d.tar", "app:1.0");
        good("docker-archive:d.tar:localhost:5000/app:1", 1, WH_T_DOCKER_ARCHIVE, "d.tar",
             "localhost:5000/app:1");
        good("dir:/", 0, WH_T_DIR, "/", NULL);
        good("dir:/out:with:colons", 1, WH_T_DIR, "/out:with:colons", NULL);
        good("tar:root.tar.gz", 0, WH_T_TAR, "root.tar.gz", NULL);
        good("ostree:/srv/repo:app/x86_64/stable", 1, WH_T_OSTREE, "/srv/repo",
             "app/x86_64/stable");

        bad("tar:root.tar", 1, "source only");
        bad("docker://alpine", 0,
            "oci:, oci-archive:, docker-archive:, dir:, tar:, ostree:");
        bad("/just/a/path", 0, "transports");
        bad("oci:", 0, "missing path");
        bad("oci::v1", 0, "missing path");
        bad("oci:img:", 0, "empty reference");
        bad("oci:img:a b", 0, "invalid characters");
        bad("dir:", 1, "missing path");
        bad("ostree:/srv/repo", 0, "REPO:REF");

        is_str(wh_transport_name(WH_T_DOCKER_ARCHIVE), "docker-archive", "transport name");
        return done_testing();
}
