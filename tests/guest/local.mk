# tests/guest/: the DPDK-guest datapath (failover/guest/) against real DPDK:
# virtio-user <-> net_vhost and an af_packet "VF" on a veth, in namespaces.
# tests/bench/guest-failover: loss and switch time, ours vs stock.
EXTRA_DIST += tests/guest/guest-lib.sh tests/bench/guest-failover
dist_check_SCRIPTS += \
	tests/guest/test-guest-failover.sh \
	tests/guest/test-guest-bad-input.sh

if HAVE_DPDK
TESTS += \
	tests/guest/test-guest-failover.sh \
	tests/guest/test-guest-bad-input.sh
# Built by plain make: the benchmark runs it from a built tree too.
noinst_PROGRAMS += tests/guest/vfg-peer
tests_guest_vfg_peer_SOURCES = tests/guest/vfg-peer.c
tests_guest_vfg_peer_CFLAGS = $(VF_CFLAGS) $(DPDK_CFLAGS) -DALLOW_EXPERIMENTAL_API
tests_guest_vfg_peer_LDADD = $(DPDK_LIBS)
endif
