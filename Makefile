# The README's two commands, `make demo` and `make check`, and their parts.
# Every target installs what it needs first (tools/deps.sh is idempotent and
# only calls apt when something is missing) and builds only what is stale.
#
# QEMU_SRC=PATH or QEMU_PREFIX=DIR choose another QEMU (tools/qemu/reference-qemu.sh).

BUILD := build
QEMU  := $(BUILD)/qemu

.PHONY: all deps qemu foreign build demo check bench clean

all: build

deps:
	@tools/deps.sh

qemu: deps
	@tools/qemu/reference-qemu.sh $(QEMU)

# Real programs for the specs: Debian's busybox-static per architecture.
foreign: deps
	@tools/foreign-packages.sh $(BUILD)/foreign

build: qemu foreign
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) >/dev/null
	@ninja -C $(BUILD) >/dev/null

demo: build
	@echo '$$ $(QEMU)/bin/qemu-i386 -plugin $(BUILD)/luahook.so,script=scripts/trace.lua $(BUILD)/examples/hello'
	@$(QEMU)/bin/qemu-i386 -plugin $(BUILD)/luahook.so,script=scripts/trace.lua $(BUILD)/examples/hello

check: build
	@spec/run

# Speed and memory, side by side with bare QEMU and -strace (docs/performance.md).
# BENCH_RUNS=N sets the number of interleaved runs (default 5);
# BENCH_INSTRUCTIONS=1 adds callgrind's instructions per syscall (valgrind).
bench: build
	@luajit bench/run.lua

clean:
	rm -rf $(BUILD)
