/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references. Like skopeo, the path ends at the first ':' after the
 * transport, so a docker-archive NAME may itself hold a registry port
 * ("docker-archive:a.tar:localhost:5000/app:1").
 */
#include "image_ref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define TRANSPORTS "oci:, oci-archive:, docker-archive:, dir:, tar:, ostree:"

static const struct {
        const char *name;
        enum wh_transport t;
} transports[] = {
        {"oci", WH_T_OCI},
        {"oci-archive", WH_T_OCI_ARCHIVE},
        {"docker-archive", WH_T_DOCKER_ARCHIVE},
        {"dir", WH_T_DIR},
        {"tar", WH_T_TAR},
        {"ostree", WH_T_OSTREE},
};

const char *wh_transport_name(enum wh_transport t)
{
        for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
                if (transports[i].t == t)
                        return transports[i].name;
        return "unknown";
}

void wh_image_ref_release(struct wh_image_ref *ref)
{
        if (!ref)
                return;
        free(ref->path);
        free(ref->ref);
        ref->path = NULL;
        ref->ref = NULL;
}

/* Characters of an OCI ref.name (image-spec annotations: a tag, a name:tag or a digest). */
static int ref_chars_ok(const char *s)
{
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || strchr("-._:@/+=", c)))
                        return 0;
        }
        return 1;
}

static int split_ref(const char *text, const char *rest, char **ret_path, char **ret_ref,
                     struct wh_err *err)
{
        const char *colon = strchr(rest, ':');
        size_t plen = colon ? (size_t)(colon - rest) : strlen(rest);
        if (plen == 0)
                return wh_failx(err, EINVAL, "'%s': missing path after the transport",
                                text);
        _cleanup_free_ char *path = strndup(rest, plen);
        _cleanup_free_ char *ref = NULL;
        if (!path)
                return -ENOMEM;
        if (colon) {
                const char *r = colon + 1;
                if (!*r)
                        return wh_failx(err, EINVAL, "'%s': empty reference after ':'",
                                        text);
                if (!ref_chars_ok(r))
                        return wh_failx(err, EINVAL,
                                        "'%s': invalid characters in reference '%s'", text,
                                        r);
                ref = strdup(r);
                if (!ref)
                        return -ENOMEM;
        }
        *ret_path = TAKE_PTR(path);
        *ret_ref = TAKE_PTR(ref);
        return 0;
}

int wh_image_ref_parse(const char *text, int as_dest, struct wh_image_ref *ret,
                       struct wh_err *err)
{
        const char *colon = text ? strchr(text, ':') : NULL;
        if (!colon)
                return wh_failx(
                        err, EINVAL,
                        "'%s': not an image reference (TRANSPORT:PATH; transports: %s)",
                        text ? text : "", TRANSPORTS);
        size_t tlen = (size_t)(colon - text);
        const char *rest = colon + 1;
        int found = -1;
        for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
                if (strlen(transports[i].name) == tlen &&
                    strncmp(transports[i].name, text, tlen) == 0)
                        found = (int)i;
        if (found < 0)
                return wh_failx(err, EINVAL, "'%s': unknown transport '%.*s' (valid: %s)",
                                text, (int)tlen, text, TRANSPORTS);

        struct wh_image_ref r = {.transport = transports[found].t};
        int k;
        switch (r.transport) {
        case WH_T_OCI:
        case WH_T_OCI_ARCHIVE:
                k = split_ref(text, rest, &r.path, &r.ref, err);
                if (k < 0)
                        return k;
                if (as_dest && r.transport == WH_T_OCI && !r.ref) {
                        r.ref = strdup("latest");
                        if (!r.ref) {
                                wh_image_ref_release(&r);
                                return -ENOMEM;
                        }
                }
                break;
        case WH_T_DOCKER_ARCHIVE:
                k = split_ref(text, rest, &r.path, &r.ref, err);
                if (k < 0)
                        return k;
                break;
        case WH_T_OSTREE:
                k = split_ref(text, rest, &r.path, &r.ref, err);
                if (k < 0)
                        return k;
                if (!r.ref) {
                        wh_image_ref_release(&r);
                        return wh_failx(err, EINVAL, "'%s': ostree: needs REPO:REF", text);
                }
                break;
        case WH_T_TAR:
                if (as_dest)
                        return wh_failx(err, EINVAL,
                                        "'%s': tar: is a source only (destinations: oci:, "
                                        "oci-archive:, docker-archive:, dir:)",
                                        text);
                /* fall through */
        case WH_T_DIR:
                if (!*rest)
                        return wh_failx(err, EINVAL,
                                        "'%s': missing path after the transport", text);
                r.path = strdup(rest);
                if (!r.path)
                        return -ENOMEM;
                break;
        }
        *ret = r;
        return 0;
}
