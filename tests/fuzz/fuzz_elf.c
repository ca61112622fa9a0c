/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ELF reader. Any input must either parse or be
 * refused with -EINVAL and a message; the streaming helper must agree with
 * the parser about how much of the input it needs. Seeds: corpus/elf/
 * (written by `build/tests/test_elf --write-corpus tests/fuzz/corpus/elf`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../builder/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct wh_elf_info *info = NULL;
        struct wh_err err;
        int r = wh_elf_parse(data, size, &info, &err);
        if (r != 0 && (r != -EINVAL || !err.msg[0]))
                abort();
        if (r == 0) {
                if (!info || !info->needed)
                        abort();
                for (char **n = info->needed; *n; n++)
                        if (strlen(*n) >= size)
                                abort();
        }
        wh_elf_info_free(info);

        /* A prefix the helper calls sufficient must parse the same way. */
        size_t have = size < 64 ? size : 64;
        for (int round = 0; round < 8; round++) {
                uint64_t need = wh_elf_bytes_needed(data, have);
                if (need == 0 || need <= have || need > size)
                        break;
                have = (size_t)need;
        }
        if (r == 0 && have < size) {
                info = NULL;
                if (wh_elf_bytes_needed(data, have) == 0 &&
                    wh_elf_parse(data, have, &info, &err) != 0)
                        abort();
                wh_elf_info_free(info);
        }
        return 0;
}
