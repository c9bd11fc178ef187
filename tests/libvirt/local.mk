# tests/libvirt/: the hook, hookd and a real private libvirtd (see
# tests/lib/libvirt-host.sh and doc/architecture.md, Tests).
EXTRA_DIST += tests/lib/libvirt-host.sh tests/libvirt/lib-hookd.sh tests/libvirt/data
dist_check_SCRIPTS += tests/libvirt/test-hook.sh tests/libvirt/test-hookd-libvirt.sh \
	tests/libvirt/test-hookd-vf.sh tests/libvirt/test-hookd-native.sh \
	tests/libvirt/test-hookd-managed.sh
TESTS += tests/libvirt/test-hook.sh tests/libvirt/test-hookd-libvirt.sh \
	tests/libvirt/test-hookd-vf.sh tests/libvirt/test-hookd-native.sh \
	tests/libvirt/test-hookd-managed.sh

# The hook latency benchmark (run by hand: tests/bench/hook-latency).
noinst_PROGRAMS += tests/bench/hook-latency-run
tests_bench_hook_latency_run_SOURCES = tests/bench/hook-latency-run.c
tests_bench_hook_latency_run_CFLAGS = $(VF_CFLAGS)
tests_bench_hook_latency_run_LDADD =
EXTRA_DIST += tests/bench/hook-latency

# hookd against a real vfailover-dp (built only with DPDK).
dist_check_SCRIPTS += tests/libvirt/test-hookd-dp.sh
if HAVE_DPDK
TESTS += tests/libvirt/test-hookd-dp.sh
endif
