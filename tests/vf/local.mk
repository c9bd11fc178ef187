# tests/vf/: the VF library (sriov/: backends, pool, records), hookd's `vfs`
# and `stats` handlers over it, and the fake SR-IOV kernel (sysfs tree +
# netlink PF peer) they and tests/bench/vf-scale use.
VF_FAKE_SOURCES = \
	tests/vf/fake-sysfs.c tests/vf/fake-sysfs.h \
	tests/vf/fake-pf.c tests/vf/fake-pf.h
VF_TEST_CPPFLAGS = $(TEST_CPPFLAGS) $(SRIOV_PRIVATE_CPPFLAGS) -I$(top_srcdir)/tests/vf
VF_TEST_CFLAGS = $(AM_CFLAGS) $(LIBNL_CFLAGS)
VF_TEST_LIBS = $(SRIOV_LIBS) $(VF_COMMON_LIBS)

check_PROGRAMS += tests/vf/test-sriov-kernel
tests_vf_test_sriov_kernel_SOURCES = tests/vf/test-sriov-kernel.c $(VF_FAKE_SOURCES) \
	tests/vf/iproute2-capture.c tests/vf/iproute2-capture.h
tests_vf_test_sriov_kernel_CPPFLAGS = $(VF_TEST_CPPFLAGS)
tests_vf_test_sriov_kernel_CFLAGS = $(VF_TEST_CFLAGS)
tests_vf_test_sriov_kernel_LDADD = $(VF_TEST_LIBS)

check_PROGRAMS += tests/vf/test-sriov-pool
tests_vf_test_sriov_pool_SOURCES = tests/vf/test-sriov-pool.c $(VF_FAKE_SOURCES) \
	hookd/hookd-ctl.c hookd/hookd-ctl.h hookd/hookd-vfs.c hookd/hookd-vfs.h
tests_vf_test_sriov_pool_CPPFLAGS = $(VF_TEST_CPPFLAGS) -I$(top_srcdir)/hookd
tests_vf_test_sriov_pool_CFLAGS = $(VF_TEST_CFLAGS)
tests_vf_test_sriov_pool_LDADD = $(VF_TEST_LIBS)

check_PROGRAMS += tests/vf/test-sriov-emulated
tests_vf_test_sriov_emulated_SOURCES = tests/vf/test-sriov-emulated.c \
	tests/vf/iproute2-capture.c tests/vf/iproute2-capture.h
tests_vf_test_sriov_emulated_CPPFLAGS = $(VF_TEST_CPPFLAGS)
tests_vf_test_sriov_emulated_CFLAGS = $(VF_TEST_CFLAGS)
tests_vf_test_sriov_emulated_LDADD = $(VF_TEST_LIBS)

TESTS += \
	tests/vf/test-sriov-emulated \
	tests/vf/test-sriov-kernel \
	tests/vf/test-sriov-pool

# The driver of tests/bench/vf-scale, built by plain make (benchmarks run
# from a built tree).
noinst_PROGRAMS += tests/vf/vf-scale-bench
tests_vf_vf_scale_bench_SOURCES = tests/vf/vf-scale-bench.c $(VF_FAKE_SOURCES)
tests_vf_vf_scale_bench_CPPFLAGS = $(VF_TEST_CPPFLAGS)
tests_vf_vf_scale_bench_CFLAGS = $(VF_TEST_CFLAGS)
tests_vf_vf_scale_bench_LDADD = $(VF_TEST_LIBS)
EXTRA_DIST += tests/bench/vf-scale
