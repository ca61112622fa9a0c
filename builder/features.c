/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Features: named bundles of files a workload needs beyond its ELF and
 * script closure ("nss", "tzdata:Europe/Paris").
 */
#include "profile.h"

const char *const wh_feature_names[] = {
        "nss",   "ca-certificates", "tzdata", "locale",     "gconv",
        "users", "tmp",             "shell",  "os-release", NULL,
};
