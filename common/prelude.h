/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Force-included before every translation unit (-include). The C library
 * headers that declare banned functions come first, so their own inline
 * definitions are parsed before banned.h turns the names into errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "banned.h"
