/* SPDX-License-Identifier: Apache-2.0 */
#include "caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "parse_num.h"

/* Index = capability number; the kernel's names, including ones newer than
 * the build machine's headers. */
static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

int wh_caps_from_name(const char *name)
{
        const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (strcasecmp(bare, cap_names[i] + 4) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *wh_caps_to_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

int wh_caps_last_cap(void)
{
        static int last = -1;
        if (last >= 0)
                return last;
        int v = (int)ARRAY_SIZE(cap_names) - 1;
        _cleanup_close_ int fd =
                open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                char buf[16];
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                if (n > 0) {
                        buf[n] = '\0';
                        if (buf[n - 1] == '\n')
                                buf[n - 1] = '\0';
                        int k;
                        if (wh_parse_int(buf, 0, WH_CAP_MAX - 1, &k) == 0)
                                v = k;
                }
        }
        last = v;
        return last;
}

static int parse_set(json_object *caps, const char *key, uint64_t *ret, struct wh_err *err)
{
        json_object *arr = NULL;
        int r = wh_json_get_array(caps, "process.capabilities", key, 0, &arr, err);
        if (r < 0)
                return r;
        uint64_t set = 0;
        size_t n = arr ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                if (!json_object_is_type(v, json_type_string))
                        return wh_failx(err, EINVAL,
                                        "process.capabilities.%s[%zu]: expected a string",
                                        key, i);
                const char *name = json_object_get_string(v);
                int cap = wh_caps_from_name(name);
                if (cap < 0)
                        return wh_failx(
                                err, EINVAL,
                                "process.capabilities.%s[%zu]: unknown capability '%s'",
                                key, i, name);
                if (cap > wh_caps_last_cap()) {
                        wh_warn("process.capabilities.%s: %s is not supported by this "
                                "kernel; "
                                "ignored",
                                key, name);
                        continue;
                }
                set |= (uint64_t)1 << cap;
        }
        *ret = set;
        return 0;
}

int wh_caps_parse(json_object *process_capabilities, struct wh_caps *ret,
                  struct wh_err *err)
{
        struct wh_caps c = {0};
        if (!process_capabilities) {
                *ret = c;
                return 0;
        }
        if (!json_object_is_type(process_capabilities, json_type_object))
                return wh_failx(err, EINVAL, "process.capabilities: expected an object");
        static const char *const keys[] = {"bounding", "effective", "inheritable",
                                           "permitted", "ambient"};
        uint64_t *sets[] = {&c.bounding, &c.effective, &c.inheritable, &c.permitted,
                            &c.ambient};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                int r = parse_set(process_capabilities, keys[i], sets[i], err);
                if (r < 0)
                        return r;
        }
        c.present = 1;
        *ret = c;
        return 0;
}

/* The error paths below run in the container process: they format into the
 * caller's struct only (no allocation). */

int wh_caps_apply_bounding(const struct wh_caps *caps, struct wh_err *err)
{
        if (!caps->present)
                return 0;
        int last = wh_caps_last_cap();
        for (int cap = 0; cap <= last; cap++) {
                if (caps->bounding & ((uint64_t)1 << cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return wh_fail(err, errno, "drop %s from the bounding set",
                                       wh_caps_to_name(cap) ?: "capability");
        }
        return 0;
}

int wh_caps_prepare_setuid(const struct wh_caps *caps, struct wh_err *err)
{
        if (!caps->present)
                return 0;
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return wh_fail(err, errno, "prctl(PR_SET_KEEPCAPS)");
        return 0;
}

int wh_caps_apply(const struct wh_caps *caps, struct wh_err *err)
{
        if (!caps->present)
                return 0;
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        for (int i = 0; i < 2; i++) {
                data[i].effective = (uint32_t)(caps->effective >> (32 * i));
                data[i].permitted = (uint32_t)(caps->permitted >> (32 * i));
                data[i].inheritable = (uint32_t)(caps->inheritable >> (32 * i));
        }
        if (syscall(SYS_capset, &hdr, data) < 0)
                return wh_fail(
                        err, errno,
                        "set capabilities (effective must be a subset of permitted)");

        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return wh_fail(err, errno, "clear ambient capabilities");
        int last = wh_caps_last_cap();
        for (int cap = 0; cap <= last; cap++) {
                if (!(caps->ambient & ((uint64_t)1 << cap)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return wh_fail(
                                err, errno,
                                "raise ambient %s (it must be permitted and inheritable)",
                                wh_caps_to_name(cap) ?: "capability");
        }
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return wh_fail(err, errno, "prctl(PR_SET_KEEPCAPS)");
        return 0;
}
