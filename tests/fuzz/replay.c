/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays corpus files through a fuzz target without libFuzzer, so the
 * corpus runs as regression tests under ASan+UBSan in `make check`.
 * Usage: replay FILE|DIR...  (a directory: every regular file in it, sorted)
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rbe");
        if (!f) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap);
        while (buf) {
                size_t n = fread(buf + len, 1, cap - len, f);
                len += n;
                if (len < cap)
                        break;
                if (cap >= (16u << 20)) {
                        free(buf);
                        buf = NULL;
                        break;
                }
                uint8_t *nb = realloc(buf, cap * 2);
                if (!nb) {
                        free(buf);
                        buf = NULL;
                        break;
                }
                buf = nb;
                cap *= 2;
        }
        int bad = ferror(f) || !buf;
        fclose(f);
        if (bad) {
                fprintf(stderr, "replay: %s: cannot read\n", path);
                free(buf);
                return -1;
        }
        /* Exactly len bytes, as libFuzzer hands them over (no terminator). */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) {
                free(buf);
                return -1;
        }
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        return 0;
}

static int only_files(const struct dirent *d)
{
        return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
        int n = 0, failed = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                        struct dirent **ents = NULL;
                        int m = scandir(argv[i], &ents, only_files, alphasort);
                        if (m < 0) {
                                fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                                failed++;
                                continue;
                        }
                        for (int j = 0; j < m; j++) {
                                char path[4096];
                                snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
                                failed += run_file(path) < 0;
                                n++;
                                free(ents[j]);
                        }
                        free(ents);
                } else {
                        failed += run_file(argv[i]) < 0;
                        n++;
                }
        }
        printf("replayed %d inputs, %d unreadable\n", n, failed);
        return failed || n == 0 ? 1 : 0;
}
