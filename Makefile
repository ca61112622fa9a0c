# whittle: container image minimiser and boot-time optimiser.
# GNU make. Targets: all (default), check, asan, static, format, clean, install.
# Switches: WITH_OSTREE=0|1, WITH_ISAL=0|1, WITH_MUSL=0|1 (default: 1 when the library is
# found; musl's json-c and libseccomp come from scripts/musl-deps), WERROR=0|1 (default 1
# for check).

VERSION := 0.1.0
PREFIX ?= /usr/local
BUILD ?= build
PKG_CONFIG ?= pkg-config
CC ?= cc

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wwrite-strings -Wno-format-nonliteral
# `make check` (what CI runs) turns warnings into errors: a warning that only scrolls by, like
# an argument of the wrong pointer type, is how a swapped-argument bug gets in. WERROR=0 or 1
# overrides it; a plain `make` only warns.
ifneq ($(filter check,$(MAKECMDGOALS)),)
WERROR ?= 1
endif
WERROR ?= 0
ifeq ($(WERROR),1)
WARN += -Werror
endif
CSTD := -std=gnu11 -D_GNU_SOURCE
OPT ?= -O2 -g
HARDEN ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD ?= -pie -Wl,-z,relro,-z,now
SAN ?=

WITH_ISAL ?= $(shell $(PKG_CONFIG) --exists libisal && echo 1 || echo 0)
WITH_OSTREE ?= $(shell $(PKG_CONFIG) --exists ostree-1 && echo 1 || echo 0)
STATIC ?= 0

BUILDER_PKGS := libarchive json-c libzstd libcrypto zlib
RUNTIME_PKGS := json-c libseccomp
BENCH_PKGS := json-c libcrypto
ifeq ($(WITH_ISAL),1)
BUILDER_PKGS += libisal
FEATURE_CFLAGS += -DWITH_ISAL=1
endif
ifeq ($(WITH_OSTREE),1)
BUILDER_PKGS += ostree-1
FEATURE_CFLAGS += -DWITH_OSTREE=1
endif
# whittle's build step also compiles seccomp allowlists to BPF.
BUILDER_PKGS += libseccomp

ifeq ($(STATIC),1)
PKG_STATIC := --static
HARDEN_LD := -static -s -Wl,-z,relro,-z,now
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pkg_libs = $(shell $(PKG_CONFIG) $(PKG_STATIC) --libs $(1))

CPPFLAGS += -Icommon -include common/prelude.h -DWH_VERSION='"$(VERSION)"' \
	-DWH_PROFILE_DIR='"$(PREFIX)/share/whittle/profiles"' \
	-DWH_LIBEXEC_DIR='"$(PREFIX)/libexec/whittle"' $(FEATURE_CFLAGS)
CFLAGS := $(CSTD) $(OPT) $(WARN) $(HARDEN) $(SAN) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(HARDEN_LD) $(SAN) $(EXTRA_LDFLAGS)

COMMON_SRC := $(wildcard common/*.c)
BUILDER_SRC := $(filter-out builder/main.c,$(wildcard builder/*.c))
RUNTIME_SRC := $(filter-out runtime/main.c,$(wildcard runtime/*.c))
INIT_SRC := $(wildcard runtime/init/*.c)
BENCH_SRC := $(filter-out benchmarks/main.c,$(wildcard benchmarks/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBBUILDER := $(BUILD)/libbuilder.a
LIBRUNTIME := $(BUILD)/libruntime.a
LIBBENCH := $(BUILD)/libbench.a

PROGRAMS := $(BUILD)/whittle
ifneq ($(wildcard runtime/main.c),)
PROGRAMS += $(BUILD)/whittle-run
endif
ifneq ($(INIT_SRC),)
PROGRAMS += $(BUILD)/whittle-init
endif
ifneq ($(wildcard benchmarks/main.c),)
PROGRAMS += $(BUILD)/whittle-bench
endif

# Unit tests: test_run_* link the runtime, test_bench_* the benchmark
# harness, test_init_* whittle-init's objects, the rest the builder.
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.PHONY: all check check-unit check-integration asan static format clean install fuzz
all: $(PROGRAMS) $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call pkg_cflags,$(BUILDER_PKGS) $(RUNTIME_PKGS)) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBBUILDER): $(call obj,$(BUILDER_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBRUNTIME): $(call obj,$(RUNTIME_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBBENCH): $(call obj,$(BENCH_SRC))
	rm -f $@ && $(AR) rcs $@ $^

# libarchive's static archive drags in every codec it was built with; the
# objects whittle does not use are left out by the linker.
ifeq ($(STATIC),1)
BUILDER_LIBS := -larchive -lnettle -lbz2 -llz4 -llzma -lacl -lxml2 -licuuc -licudata \
	-lstdc++ -ljson-c -lzstd -lcrypto -lz -lseccomp -lpthread -ldl -lm
else
BUILDER_LIBS = $(call pkg_libs,$(BUILDER_PKGS)) -lpthread
endif
$(BUILD)/whittle: $(call obj,builder/main.c) $(LIBBUILDER) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(BUILDER_LIBS)
# whittle-run is on every container start's critical path: linked statically
# (static-pie) it skips the dynamic loader's work, ~0.8 ms of a ~3 ms start.
# With musl (WITH_MUSL=1, the default once scripts/musl-deps has built json-c
# and libseccomp for it) it also skips glibc's CPU identification before
# main(), ~40 CPUID instructions that each trap to the hypervisor in a VM
# (~0.2 ms here). Sanitizer builds (SAN=...) stay dynamic glibc.
RUNTIME_LD := $(if $(SAN),$(LDFLAGS),-static-pie -Wl,-z,relro,-z,now $(EXTRA_LDFLAGS))
RUNTIME_LIBS := $(if $(SAN),$(call pkg_libs,$(RUNTIME_PKGS)),$(shell $(PKG_CONFIG) --static --libs $(RUNTIME_PKGS)))
MUSL_PREFIX ?= /usr/local/lib/whittle-musl
MUSL_LIBDIR ?= /usr/lib/$(shell $(CC) -dumpmachine | sed 's/-gnu$$/-musl/')
WITH_MUSL ?= $(if $(SAN),0,$(shell command -v musl-gcc >/dev/null && \
	test -f $(MUSL_PREFIX)/lib/libjson-c.a && test -f $(MUSL_PREFIX)/lib/libseccomp.a && \
	test -f $(MUSL_LIBDIR)/rcrt1.o && echo 1 || echo 0))
ifeq ($(WITH_MUSL),1)
MUSL_SRC := $(filter-out common/sha256.c,$(COMMON_SRC)) $(RUNTIME_SRC) runtime/main.c \
	runtime/musl/malloc.c
MUSL_OBJS := $(patsubst %.c,$(BUILD)/musl/%.o,$(MUSL_SRC))
$(BUILD)/musl/%.o: %.c
	@mkdir -p $(dir $@)
	musl-gcc $(CPPFLAGS) -I$(MUSL_PREFIX)/include $(CFLAGS) -c $< -o $@
# musl-gcc's own link is dynamic PIE; a static PIE is put together here from
# musl's self-relocating start file.
$(BUILD)/whittle-run: $(MUSL_OBJS)
	$(CC) -static-pie -nostdlib -nostartfiles -Wl,-z,relro,-z,now $(EXTRA_LDFLAGS) -o $@ \
		$(MUSL_LIBDIR)/rcrt1.o $(MUSL_LIBDIR)/crti.o $(shell $(CC) -print-file-name=crtbeginS.o) \
		$^ -L$(MUSL_PREFIX)/lib -ljson-c -lseccomp $(MUSL_LIBDIR)/libc.a \
		$(shell $(CC) -print-libgcc-file-name) $(shell $(CC) -print-file-name=crtendS.o) \
		$(MUSL_LIBDIR)/crtn.o
-include $(MUSL_OBJS:.o=.d)
else
$(BUILD)/whittle-run: $(call obj,runtime/main.c) $(LIBRUNTIME) $(LIBCOMMON)
	$(CC) $(RUNTIME_LD) -o $@ $^ $(RUNTIME_LIBS)
endif
$(BUILD)/whittle-bench: $(call obj,benchmarks/main.c) $(LIBBENCH) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(BENCH_PKGS)) -lm

# whittle-init: static, no heap after start-up, no libc.
INIT_CFLAGS := $(CSTD) -Os $(WARN) -fno-asynchronous-unwind-tables -ffunction-sections \
	-fdata-sections -fno-stack-protector -fcf-protection=none -fno-tree-loop-distribute-patterns \
	-MMD -MP
# No libc at all (runtime/init/init_sys.c has the system calls and _start): a
# static glibc alone is ~680 KB and runs its own start-up before main.
INIT_LDFLAGS := -static -nostdlib -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noexecstack -s
$(BUILD)/init/%.o: runtime/init/%.c
	@mkdir -p $(dir $@)
	$(CC) -Icommon -include common/prelude.h -DWH_VERSION='"$(VERSION)"' $(INIT_CFLAGS) -c $< -o $@
$(BUILD)/whittle-init: $(patsubst runtime/init/%.c,$(BUILD)/init/%.o,$(INIT_SRC))
	$(CC) $(INIT_LDFLAGS) -o $@ $^ -lgcc

$(BUILD)/tests/test_run_%: $(BUILD)/tests/unit/test_run_%.o $(LIBRUNTIME) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(RUNTIME_PKGS))
$(BUILD)/tests/test_bench_%: $(BUILD)/tests/unit/test_bench_%.o $(LIBBENCH) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(BENCH_PKGS)) -lm
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBBUILDER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(BUILDER_PKGS)) -lpthread
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIBBUILDER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(BUILDER_PKGS)) -lpthread
# mkfixture's layer writer lives in a folder of its own, outside the
# one-program-per-file wildcard above.
$(BUILD)/tools/mkfixture: $(call obj,$(wildcard tests/tools/mkfixture/*.c))

check-unit: $(UNIT_BINS)
	tests/run-unit $(UNIT_BINS)

check-integration: all
	tests/run-integration

# Everything: unit tests, the same unit tests under ASan+UBSan, integration.
check: all
	$(MAKE) --no-print-directory WERROR=$(WERROR) check-unit
	$(MAKE) --no-print-directory WERROR=$(WERROR) asan
	$(MAKE) --no-print-directory WERROR=$(WERROR) check-integration

asan:
	$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		HARDEN= HARDEN_LD= SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		check-unit

static:
	$(MAKE) --no-print-directory BUILD=build-static STATIC=1 WITH_ISAL=0 WITH_OSTREE=0 \
		build-static/whittle

fuzz:
	tests/fuzz/build

format:
	clang-format -i $(wildcard common/*.[ch] builder/*.[ch] runtime/*.[ch] \
		runtime/init/*.[ch] benchmarks/*.[ch] tests/unit/*.[ch] tests/tools/*.[ch] \
		tests/fuzz/*.[ch])

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/whittle/profiles \
		$(DESTDIR)$(PREFIX)/libexec/whittle
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BUILD)/whittle-init $(DESTDIR)$(PREFIX)/libexec/whittle/
	install -m 0644 profiles/*.json $(DESTDIR)$(PREFIX)/share/whittle/profiles/

clean:
	rm -rf build build-asan build-static build-fuzz

ALL_OBJS := $(call obj,$(COMMON_SRC) $(BUILDER_SRC) builder/main.c $(RUNTIME_SRC) \
	$(wildcard runtime/main.c) $(BENCH_SRC) $(wildcard benchmarks/main.c) $(UNIT_SRC) \
	$(TOOL_SRC)) $(patsubst runtime/init/%.c,$(BUILD)/init/%.o,$(INIT_SRC))
-include $(ALL_OBJS:.o=.d)
