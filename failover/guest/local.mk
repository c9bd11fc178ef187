# failover/guest/: the DPDK-guest datapath over the VF + virtio pair:
# libvfguest.a (vfg.h) and the sample app vfailover-guest-fwd.
noinst_LIBRARIES += failover/guest/libvfguest.a
failover_guest_libvfguest_a_SOURCES = \
	failover/guest/vfg.c failover/guest/vfg.h \
	failover/guest/vfg-private.h \
	failover/guest/vfg-discover.c \
	failover/guest/vfg-event.c \
	failover/guest/vfg-failsafe.c \
	failover/guest/vfg-bond.c
failover_guest_libvfguest_a_CFLAGS = $(VF_CFLAGS) $(DPDK_CFLAGS) -DALLOW_EXPERIMENTAL_API

sbin_PROGRAMS += failover/guest/vfailover-guest-fwd
failover_guest_vfailover_guest_fwd_SOURCES = failover/guest/vfg-guest-fwd.c
failover_guest_vfailover_guest_fwd_CFLAGS = $(VF_CFLAGS) $(DPDK_CFLAGS) -DALLOW_EXPERIMENTAL_API
failover_guest_vfailover_guest_fwd_LDADD = failover/guest/libvfguest.a $(DPDK_LIBS) -lrte_net_bond -lpthread

dist_doc_DATA += doc/dpdk-guest.md
