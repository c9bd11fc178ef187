# tests/: unit, integration and end-to-end tests (TAP), and benchmarks.
EXTRA_DIST += tests/run-test tests/hardware-only.list tests/lib/tap.sh tests/lib/vf-test.h

TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/lib

check_PROGRAMS += tests/unit/test-frame tests/unit/test-config
tests_unit_test_frame_SOURCES = tests/unit/test-frame.c
tests_unit_test_frame_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_frame_LDADD = $(VF_COMMON_LIBS)
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_config_LDADD = $(VF_COMMON_LIBS)

dist_check_SCRIPTS += tests/unit/test-ctl-socket.sh tests/unit/test-skip-policy.sh \
	tests/unit/test-layout.sh

TESTS += \
	tests/unit/test-frame \
	tests/unit/test-config \
	tests/unit/test-ctl-socket.sh \
	tests/unit/test-skip-policy.sh \
	tests/unit/test-layout.sh
