/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * NULL-terminated vectors of strings (char **). The caller owns a vector and
 * its strings and frees both with wh_strv_free (cleanup.h). A NULL vector is
 * an empty one. On failure the appending calls leave *v as it was, a valid
 * vector, and return -ENOMEM.
 */
#include <stddef.h>

size_t wh_strv_len(char *const *v);

/* Appends s and takes it: on failure s is freed. */
int wh_strv_push(char ***v, char *s);
/* Appends a copy of s, or of its first len bytes. */
int wh_strv_push_dup(char ***v, const char *s);
int wh_strv_push_n(char ***v, const char *s, size_t len);
/* Appends a copy of s unless an equal string is there: 1 added, 0 already there. */
int wh_strv_add(char ***v, const char *s);

/* A copy of v, never NULL on success (NULL gives an empty vector). */
int wh_strv_dup(char *const *v, char ***ret);
/* Replaces *dst with a copy of src; a NULL src leaves *dst as it is. */
int wh_strv_replace(char ***dst, char *const *src);

/* Sorts v in place, bytewise. */
void wh_strv_sort(char **v);
