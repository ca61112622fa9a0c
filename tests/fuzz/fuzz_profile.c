/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the profile parser. Beyond "does not crash", it checks the
 * promises other modules rely on: every failure names the document, every
 * accepted path is absolute without '..', and an accepted profile survives
 * a trip through its JSON form and a merge into an empty one unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "err.h"
#include "../../builder/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Accepted paths are normalised: absolute, no '..', no '//', no trailing '/'. */
static void check_paths(char *const *v)
{
        for (size_t i = 0; v && v[i]; i++) {
                size_t n = strlen(v[i]);
                if (v[i][0] != '/' || strstr(v[i], "/../") || strstr(v[i], "//") ||
                    (n >= 3 && !strcmp(v[i] + n - 3, "/..")) || (n > 1 && v[i][n - 1] == '/'))
                        abort();
        }
}

static void check_round_trip(const struct wh_profile *p)
{
        struct wh_err err = {0};
        _cleanup_free_ char *s = wh_profile_to_string(p, 0);
        if (!s)
                abort();
        struct wh_profile *q = NULL;
        if (wh_profile_parse(s, strlen(s), "again", &q, NULL, &err) < 0)
                abort();
        _cleanup_free_ char *s2 = wh_profile_to_string(q, 0);
        if (!s2 || strcmp(s, s2) != 0)
                abort();
        wh_profile_free(q);

        struct wh_profile *m = wh_profile_new();
        if (!m || wh_profile_merge(m, p, &err) < 0)
                abort();
        _cleanup_free_ char *s3 = wh_profile_to_string(m, 0);
        if (!s3 || strcmp(s, s3) != 0)
                abort();
        wh_profile_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct wh_err err = {0};
        struct wh_profile *p = NULL;
        char **ext = NULL;
        if (size > (1u << 20))
                return 0;
        int r = wh_profile_parse((const char *)data, size, "fuzz.json", &p, &ext, &err);
        if (r < 0) {
                if (p || ext || strncmp(err.msg, "fuzz.json: ", 11) != 0)
                        abort();
                return 0;
        }
        if (!p->name || !p->keep || !p->drop || !p->needs || !p->env || !p->extends)
                abort();
        check_paths(p->keep);
        check_paths(p->drop);
        if (p->workdir)
                check_paths((char *[]){p->workdir, NULL});
        for (size_t i = 0; p->needs[i]; i++)
                if (wh_feature_check(p->needs[i], &err) < 0)
                        abort();
        for (size_t i = 0; p->env[i]; i++)
                if (!strchr(p->env[i], '='))
                        abort();
        check_round_trip(p);
        wh_strv_free(ext);
        wh_profile_free(p);
        return 0;
}
