# xnv: userspace network virtualization for Xen.
#
#   make              build libraries, programs and tests (-Wall -Wextra -Werror)
#   make check        everything: unit + simulated tests, the same under
#                     ASan/UBSan, the engines under valgrind, a short run of
#                     every fuzzer, and beside them the real-Xen rig scenarios
#                     (check-xen)
#   make check-unit   the fast tests only (no rig)
#   make check-san    the fast tests built with ASan + UBSan (build/san)
#   make SAN=1 ...    any target, built with ASan + UBSan
#   make check-xen    boot Xen 4.17 under QEMU and run every rig scenario
#   make demo         a tour of about 8 minutes on the real-Xen rig (tests/xen/demo):
#                     xnv-netbackd beside the kernel path, xnvctl top, fast paths
#   make deps         install all dependencies from Debian's packages (root)
#   make install      programs, library, headers, xnv.pc, man pages, systemd
#                     units, modprobe configuration (PREFIX, DESTDIR honoured)
#   make bench        xnv-bench (sim), density (64 vifs, sim), callgrind Ir/frame,
#                     rig: kernel vs xnv
#   make fuzz         libFuzzer targets for every parser of untrusted input

include xen-config.mk

SAN ?= 0
ifeq ($(SAN),1)
  B := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
  B := build
  SANFLAGS :=
endif

# The version: defined here only; the programs print it, xnv.pc carries it.
XNV_VERSION := 0.1.0

CC ?= gcc
OPT ?= -O2
CFLAGS_ALL := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -D_GNU_SOURCE -DXNV_VERSION='"$(XNV_VERSION)"' \
              -Ilibxnv/include -Iinclude $(XEN_CFLAGS) $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)
LIBS := $(XEN_LIBS) -lpthread

# The library: libxnv (hypervisor interface + protocol core), the engines
# (netback, netfront, interdomain) and the guest agent's bridge (agent/).
# The simulated hypervisor (libxnv/sim: hypervisor, memory port, test frames)
# is an archive of its own for the tests, xnv-bench and xnv-probe's
# selftest-sim; `make install` does not ship it.
SIM_SRCS := $(sort $(wildcard libxnv/sim/*.c))
SIM_OBJS := $(SIM_SRCS:%.c=$(B)/obj/%.o)
LIBXNV_SIM := $(B)/lib/libxnv-sim.a
LIB_SRCS := $(sort $(filter-out $(SIM_SRCS),$(wildcard libxnv/*/*.c netback/*.c netfront/*.c interdomain/*.c agent/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIBXNV   := $(B)/lib/libxnv.a

# Programs: every tools/<name>/ holding C sources becomes $(B)/bin/<name>.
TOOL_NAMES := $(sort $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c))))
TOOL_BINS  := $(TOOL_NAMES:%=$(B)/bin/%)

# Unit and simulated-hypervisor tests: one Check runner; each tests/unit/test_<x>.c
# defines `Suite *xnv_suite_<x>(void)`, collected into a generated list.
TEST_SRCS   := $(sort $(wildcard tests/unit/*.c))
TEST_OBJS   := $(TEST_SRCS:%.c=$(B)/obj/%.o)
TEST_SUITES := $(patsubst tests/unit/test_%.c,%,$(filter tests/unit/test_%.c,$(TEST_SRCS)))
TEST_BIN    := $(B)/tests/xnv-unit-tests

.PHONY: all deps check check-unit check-san check-valgrind check-xen demo clean help bench
all: $(LIBXNV) $(LIBXNV_SIM) $(TOOL_BINS) $(TEST_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# Rebuilt when the Makefile changes which objects go where.
$(LIBXNV): $(LIB_OBJS) Makefile
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(LIBXNV_SIM): $(SIM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define tool_rule
$(B)/bin/$(1): $(patsubst %.c,$(B)/obj/%.o,$(wildcard tools/$(1)/*.c)) $(LIBXNV_SIM) $(LIBXNV)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(LIBS)
endef
$(foreach t,$(TOOL_NAMES),$(eval $(call tool_rule,$(t))))
# What prints XNV_VERSION is rebuilt when the version changes.
$(B)/obj/tools/xnv-netbackd/main.o $(B)/obj/tools/xnvctl/main.o $(B)/obj/tools/xnv-netfront/opts.o: Makefile

$(B)/tests/suites.h: $(TEST_SRCS) Makefile
	@mkdir -p $(dir $@)
	@for s in $(TEST_SUITES); do echo "XNV_SUITE($$s)"; done > $@.tmp && mv $@.tmp $@
$(B)/obj/tests/unit/main.o: $(B)/tests/suites.h
$(B)/obj/tests/unit/%.o: CFLAGS_ALL += $(CHECK_CFLAGS) -I$(B)/tests -Itests/unit
# Parts of the programs that the tests call too (linked, not included).
TEST_TOOL_OBJS := $(B)/obj/tools/xnv-netfront/grants.o $(B)/obj/tools/xnv-netfront/log.o \
                  $(B)/obj/tools/xnv-netfront/restart.o \
                  $(B)/obj/tools/xnv-hostile/frontend.o $(B)/obj/tools/xnv-hostile/modes.o
$(TEST_BIN): $(TEST_OBJS) $(TEST_TOOL_OBJS) $(LIBXNV_SIM) $(LIBXNV)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(CHECK_LIBS) $(LIBS)

deps:
	@tools/install-deps.sh

# The fast tests.  CK_DEFAULT_TIMEOUT bounds each test; the runner prints
# "N passed, N failed" as its last line (", N skipped" after it when a test
# cannot run here: never counted as passed).
check-unit: $(TEST_BIN) $(TOOL_BINS)
	tests/cli/run.sh $(B)/bin
	$(B)/bin/xnv-probe selftest-sim --guests both > $(B)/tests/probe-selftest.log 2>&1 || \
	  { tail -20 $(B)/tests/probe-selftest.log; exit 1; }
	@tail -1 $(B)/tests/probe-selftest.log
	CK_DEFAULT_TIMEOUT=60 $(TEST_BIN)

check-san:
	@$(MAKE) --no-print-directory SAN=1 check-unit

# The engines' suites (netback, netfront, both together) and the TAP port under valgrind's
# memcheck, in one process (CK_FORK=no): any error or leak fails.
VALGRIND_SUITES ?= netback netback_rx_order netback_xs_cost netback_fairness netback_hostile netback_hostile_tx netback_fastpath netback_copy_ops netback_queue netback_vifname netback_crash netfront_netbackd netfront churn idc idc_teardown idc_hostile idc_bridge idc_pages idc_storm idc_log tap_port
check-valgrind: $(TEST_BIN)
	@for s in $(VALGRIND_SUITES); do \
	  echo "valgrind: suite $$s"; \
	  CK_FORK=no CK_RUN_SUITE=$$s CK_DEFAULT_TIMEOUT=600 valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite $(TEST_BIN) > $(B)/tests/valgrind-$$s.log 2>&1 \
	    || { tail -40 $(B)/tests/valgrind-$$s.log; exit 1; }; \
	  tail -1 $(B)/tests/valgrind-$$s.log; \
	done

check-xen: all
	tools/rig/run-scenarios.sh

# `check`, `demo` and `bench` install missing dependencies first (as root), then
# re-enter make so that xen-config.mk sees them.
# `check` runs the host's checks beside the rig (tools/run-check.sh says how).
check:
	@tools/install-deps.sh
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(TOOL_BINS)
	@MAKE="$(MAKE)" tools/run-check.sh

demo:
	@tools/install-deps.sh
	@$(MAKE) --no-print-directory all
	tools/rig/demo.sh

clean:
	rm -rf build/obj build/lib build/bin build/tests build/san

help:
	@sed -n '3,20p' Makefile | sed 's/^# \{0,1\}//'

-include $(LIB_OBJS:.o=.d) $(SIM_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(wildcard $(B)/obj/tools/*/*.d)

include mk/install.mk

# Benchmarks: xnv-bench over the simulated hypervisor (JSON + plot), the
# instruction counts per frame under callgrind, then the rig benchmark
# (build/xen/bench.json + build/bench/rig.png; XNV_BENCH_RIG=0 skips it,
# XNV_BENCH_RUNS / XNV_BENCH_SECONDS / XNV_BENCH_WRK_SECONDS size it), one
# after the other so that none disturbs another's timing.
BENCH_SECONDS ?= 2
.PHONY: bench-sim bench-density bench-callgrind bench-rig profile-rig
bench:
	@tools/install-deps.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory bench-sim
	@$(MAKE) --no-print-directory bench-density
	@$(MAKE) --no-print-directory bench-callgrind
	@$(MAKE) --no-print-directory bench-rig
bench-sim: all
	@tools/install-deps.sh
	@mkdir -p build/bench
	$(B)/bin/xnv-bench --seconds $(BENCH_SECONDS) --json > build/bench/sim.json
	tools/bench/plot-sim.sh build/bench/sim.json build/bench/sim.png
# One engine serving DENSITY_VIFS guests (2 queues each) over the simulated
# hypervisor: the cost of each vif, the aggregate with 2 busy and with all.
DENSITY_VIFS ?= 64
bench-density: all
	@mkdir -p build/bench
	$(B)/bin/xnv-bench --density $(DENSITY_VIFS) --seconds $(BENCH_SECONDS) --output build/bench/density.json \
	  > build/bench/density.txt; rc=$$?; cat build/bench/density.txt; exit $$rc
bench-callgrind: all
	tools/bench/callgrind.sh build/bench/callgrind.json
bench-rig: all
	tools/bench/rig-bench.sh
# Where dom0's time goes per byte, the kernel's netback beside xnv-netbackd
# (perf in dom0): build/xen/profile/summary.md, quoted by docs/netback-profile.md.
profile-rig: all
	tools/bench/rig-profile.sh
include tests/fuzz/fuzz.mk
