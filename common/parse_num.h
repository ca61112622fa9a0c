/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The one way numbers are parsed: the whole string must be a number in
 * [min, max] (base 10, or base 8 with wh_parse_mode). Returns 0 or -EINVAL /
 * -ERANGE; *ret is untouched on failure.
 */
#include <stdint.h>

int wh_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);
int wh_parse_u64(const char *s, uint64_t max, uint64_t *ret);
int wh_parse_int(const char *s, int min, int max, int *ret);
/* Octal file mode, at most 07777. */
int wh_parse_mode(const char *s, unsigned *ret);
