/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for wh_glob_match: the pattern language of keep/drop lists. */
#include "../../builder/closure.h"
#include "tap.h"

static void match(const char *pattern, const char *path, int want)
{
        is_int(wh_glob_match(pattern, path), want, "'%s' %s '%s'", pattern,
               want ? "matches" : "does not match", path);
}

int main(void)
{
        /* literals */
        match("usr/bin/sh", "usr/bin/sh", 1);
        match("usr/bin/sh", "usr/bin/bash", 0);
        match("usr/bin", "usr/bin/sh", 0);
        match("usr/bin/sh", "usr/bin", 0);
        match("", "", 1);
        match("", "a", 0);

        /* '*' and '?' stay inside one component */
        match("usr/lib/*.so", "usr/lib/libc.so", 1);
        match("usr/lib/*.so", "usr/lib/x/libc.so", 0);
        match("usr/lib/*", "usr/lib", 0);
        match("*", "etc", 1);
        match("*", "etc/passwd", 0);
        match("usr/lib/lib?.so", "usr/lib/libc.so", 1);
        match("usr/lib/lib?.so", "usr/lib/libcc.so", 0);
        match("a?b", "a/b", 0);
        match("*.conf", ".conf", 1);
        match("lib*.so.*", "libnss_files.so.2", 1);
        match("*a*b*c", "xxaxxbxxc", 1);
        match("*a*b*c", "xxaxxcxxb", 0);
        match("a*", "a", 1);

        /* '**' spans components and may match none */
        match("usr/lib/**", "usr/lib/x", 1);
        match("usr/lib/**", "usr/lib/x/y/z.so", 1);
        match("usr/lib/**", "usr/lib", 1);
        match("usr/lib/**", "usr/libexec/x", 0);
        match("usr/lib/**", "usr", 0);
        match("**/*.pyc", "app/a/b/c.pyc", 1);
        match("**/*.pyc", "c.pyc", 1);
        match("**/*.pyc", "app/c.py", 0);
        match("app/**/test", "app/test", 1);
        match("app/**/test", "app/x/y/test", 1);
        match("app/**/test", "app/x/y/test/z", 0);
        match("app/**/test/**", "app/x/test/z", 1);
        match("**/x/**", "a/x/b", 1);
        match("**/x/**", "a/y/b", 0);
        match("**", "anything/at/all", 1);
        match("a/**/**/b", "a/b", 1);
        match("a/**/b/**/c", "a/1/b/2/b/3/c", 1);
        match("a/**/b/**/c", "a/1/b/2/b/3/d", 0);
        /* a "**" inside a component is a plain star */
        match("usr/lib**.so", "usr/lib64.so", 1);
        match("usr/lib**.so", "usr/lib/x.so", 0);

        /* classes */
        match("etc/rc[0-6].d", "etc/rc3.d", 1);
        match("etc/rc[0-6].d", "etc/rcS.d", 0);
        match("etc/rc[!0-6].d", "etc/rcS.d", 1);
        match("etc/rc[^0-6].d", "etc/rc3.d", 0);
        match("[]]x", "]x", 1);
        match("[a-]x", "-x", 1);
        match("[ab", "[ab", 1); /* unterminated: literal */
        match("a[/]b", "a/b", 0);

        /* escapes */
        match("a\\*b", "a*b", 1);
        match("a\\*b", "axb", 0);
        match("a\\?", "a?", 1);

        /* many stars must not take exponential time */
        match("*a*a*a*a*a*a*a*a*a*a*a*a*b",
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
        match("**/**/**/**/**/**/**/**/z",
              "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y", 0);
        return done_testing();
}
