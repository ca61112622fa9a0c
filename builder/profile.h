/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Workload profiles: JSON documents that say what a workload needs
 * (format in profiles/README.md). Loading resolves "extends" and merges;
 * every error names the file, the field and, for syntax, line and column.
 */
#include "err.h"
#include "strv.h" /* the profile's lists are strvs */

struct wh_profile {
        char *name;          /* owned */
        char *description;   /* owned, may be NULL */
        char **entrypoint;   /* owned strv; NULL when not set */
        char **cmd;          /* owned strv; NULL when not set */
        char **keep;         /* owned strv, never NULL (may be empty) */
        char **drop;         /* owned strv, never NULL */
        char **needs;        /* owned strv, never NULL; "feature" or "feature:arg" */
        char **env;          /* owned strv, never NULL; "NAME=value" */
        char *user;          /* owned, may be NULL */
        char *workdir;       /* owned, may be NULL */
        char **syscalls;     /* owned strv; NULL when not set; {"default"} for "default" */
        char **smoke_cmd;    /* owned strv; NULL when the profile has no smoke test */
        char *smoke_expect;  /* owned, may be NULL: text smoke_cmd must print */
        char **extends;      /* owned strv, never NULL: the top document's own "extends" */
        char **sources;      /* owned strv: the files loaded, in order (for reports) */
};

/* The known feature names, NULL-terminated (for validation and --help). */
extern const char *const wh_feature_names[];

/* An empty profile (all lists empty, not NULL). Caller owns. */
struct wh_profile *wh_profile_new(void);
struct wh_profile *wh_profile_free(struct wh_profile *p);

/*
 * Loads NAME or FILE. A value with a '/' or ending in ".json" is a file;
 * otherwise NAME.json is looked up in each of search_dirs (NULL-terminated)
 * in order. "extends" is resolved the same way, relative names first in
 * the directory of the extending file; cycles are an error.
 */
int wh_profile_load(const char *name_or_file, const char *const *search_dirs,
                    struct wh_profile **ret, struct wh_err *err);

/* Parses one document (no extends resolution). what names it in errors. */
int wh_profile_parse(const char *text, size_t len, const char *what, struct wh_profile **ret,
                     char ***ret_extends, struct wh_err *err);

/*
 * Merges src into dst: lists are appended (duplicates dropped), scalar
 * fields and entrypoint/cmd of src win when set. Exceptions: env entries
 * replace those of dst with the same NAME; smoke (cmd and expect) is taken
 * whole; syscalls "default" in src wins, lists are joined, and a list
 * replaces a "default" of dst. extends stays dst's.
 */
int wh_profile_merge(struct wh_profile *dst, const struct wh_profile *src, struct wh_err *err);

/* Validates a profile name: [a-z0-9][a-z0-9._-]*, at most 64 characters. */
int wh_profile_name_check(const char *name, struct wh_err *err);

/* Validates a feature spec ("nss", "locale:en_US.UTF-8"). */
int wh_feature_check(const char *spec, struct wh_err *err);

/*
 * The profile as a JSON document (a valid profile itself: "extends" and
 * "sources" are left out). Caller owns; NULL on ENOMEM.
 */
char *wh_profile_to_string(const struct wh_profile *p, int pretty);

/*
 * The directories profiles are looked up in, in order: $WHITTLE_PROFILE_PATH
 * (colon-separated), <dir of the binary>/../profiles,
 * <dir of the binary>/../../profiles, then WH_PROFILE_DIR. Only existing
 * directories, each once. *ret is a NULL-terminated strv the caller owns.
 * Returns the number of directories or -errno.
 */
int wh_profile_search_dirs(char ***ret);

/*
 * Loads names (profile names or files, looked up in wh_profile_search_dirs)
 * and merges them in order with wh_profile_merge; none gives an empty
 * profile. Caller owns *ret.
 */
int wh_profile_load_merged(char *const *names, struct wh_profile **ret, struct wh_err *err);
