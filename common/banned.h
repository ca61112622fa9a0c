/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Functions that have no place in this code base. prelude.h includes this
 * after the C library's headers in every translation unit, so a use is a
 * compile error.
 */
#define BANNED(func) sorry_##func##_is_banned_use_the_checked_helper

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gets
#define gets(x) BANNED(gets)
