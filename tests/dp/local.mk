# tests/dp/: vfailover-dp against real DPDK: net_virtio_user (dp-traffic)
# plays the guest, net_af_packet on a veth in a test namespace is the wire.
# The benchmarks tests/bench/datapath{,-idle} use the same tools.
EXTRA_DIST += tests/bench/datapath tests/bench/datapath-idle tests/bench/datapath-ovs.sh tests/dp/lib.sh
# failover/dp/local.mk is read only with DPDK; a tarball made without DPDK
# must still carry the datapath's man page and unit template.
EXTRA_DIST += doc/vfailover-dp.8 failover/dp/vfailover-dp.service.in

if HAVE_DPDK
check_PROGRAMS += tests/dp/dp-call tests/dp/dp-traffic
tests_dp_dp_call_SOURCES = tests/dp/dp-call.c
tests_dp_dp_call_CPPFLAGS = $(TEST_CPPFLAGS)
tests_dp_dp_call_LDADD = $(VF_COMMON_LIBS)
tests_dp_dp_traffic_SOURCES = tests/dp/dp-traffic.c
tests_dp_dp_traffic_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
tests_dp_dp_traffic_LDADD = $(DPDK_LIBS)

dist_check_SCRIPTS += \
	tests/dp/test-dp-forward.sh \
	tests/dp/test-dp-control.sh \
	tests/dp/test-dp-reconnect.sh \
	tests/dp/test-dp-bond.sh \
	tests/dp/test-dp-uplink.sh \
	tests/dp/test-dp-hold.sh \
	tests/dp/test-dp-relay.sh \
	tests/dp/test-dp-rarp.sh
TESTS += \
	tests/dp/test-dp-forward.sh \
	tests/dp/test-dp-control.sh \
	tests/dp/test-dp-reconnect.sh \
	tests/dp/test-dp-bond.sh \
	tests/dp/test-dp-uplink.sh \
	tests/dp/test-dp-hold.sh \
	tests/dp/test-dp-relay.sh \
	tests/dp/test-dp-rarp.sh
endif
