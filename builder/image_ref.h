/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Image references in skopeo's transport syntax:
 *   oci:DIR[:REF]  oci-archive:FILE[:REF]  docker-archive:FILE[:NAME:TAG]
 *   dir:DIR  tar:FILE  ostree:REPO:REF
 */
#include "err.h"

enum wh_transport {
        WH_T_OCI,
        WH_T_OCI_ARCHIVE,
        WH_T_DOCKER_ARCHIVE,
        WH_T_DIR,
        WH_T_TAR,
        WH_T_OSTREE,
};

struct wh_image_ref {
        enum wh_transport transport;
        char *path; /* owned: DIR, FILE or REPO */
        char *ref;  /* owned or NULL: REF, NAME:TAG, or ostree REF */
};

/*
 * Parses text; as_dest selects the rules for destinations (oci: needs no
 * REF as a source but defaults to "latest" as a destination; tar: is a
 * source only). Errors say what is wrong and list the transports.
 */
int wh_image_ref_parse(const char *text, int as_dest, struct wh_image_ref *ret,
                       struct wh_err *err);
void wh_image_ref_release(struct wh_image_ref *ref);
const char *wh_transport_name(enum wh_transport t);
