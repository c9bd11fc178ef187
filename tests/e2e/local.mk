# tests/e2e/: end-to-end tests on the two-host testbed (tests/lib/testbed.sh)
# with the TCG test guest (tests/lib/guest-image.sh); see doc/testbed.md.

# vf-stream: the traffic measurement tool. The host copy is built normally;
# the guest copy is linked statically (plain libc, no sanitizers) and goes
# into the guest's initramfs.
noinst_PROGRAMS += tests/lib/vf-stream
tests_lib_vf_stream_SOURCES = tests/lib/vf-stream.c
tests_lib_vf_stream_CFLAGS = $(VF_CFLAGS)

noinst_SCRIPTS += tests/lib/vf-stream.static
tests/lib/vf-stream.static: tests/lib/vf-stream.c
	$(AM_V_CCLD)$(MKDIR_P) $(@D) && \
	$(CC) -std=gnu11 -O2 -Wall -Wextra -static -o $@ $(top_srcdir)/tests/lib/vf-stream.c
CLEANFILES += tests/lib/vf-stream.static

EXTRA_DIST += tests/lib/guest-image.sh tests/lib/testbed.sh doc/testbed.md

dist_check_SCRIPTS += tests/e2e/test-vf-stream.sh tests/e2e/test-guest-boot.sh \
	tests/e2e/test-migration-baseline.sh tests/e2e/test-migration-vfailover.sh \
	tests/e2e/test-migration-rollback.sh tests/e2e/test-migration-faults.sh
EXTRA_DIST += tests/e2e/rollback-lib.sh
TESTS += tests/e2e/test-vf-stream.sh tests/e2e/test-guest-boot.sh \
	tests/e2e/test-migration-baseline.sh
# vfailover on the testbed needs vfailover-dp (DPDK).
if HAVE_DPDK
TESTS += tests/e2e/test-migration-vfailover.sh tests/e2e/test-migration-rollback.sh \
	tests/e2e/test-migration-faults.sh
endif

# The guest image cache (tests/lib/guest-image.sh) lives in the build tree.
clean-local: clean-local-guest-image
clean-local-guest-image:
	-rm -rf tests/e2e/guest-image
.PHONY: clean-local-guest-image

# Benchmark (run by hand as root from a built checkout); lives with the
# testbed it drives.
EXTRA_DIST += tests/bench/migration-loss
