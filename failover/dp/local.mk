# failover/dp/: vfailover-dp, the host DPDK datapath (included only when
# configure found DPDK). See doc/vfailover-dp.8.
sbin_PROGRAMS += failover/dp/vfailover-dp
failover_dp_vfailover_dp_SOURCES = \
	failover/dp/dp.h \
	failover/dp/dp-main.c \
	failover/dp/dp-port.c \
	failover/dp/dp-vhost.c \
	failover/dp/dp-pair.c \
	failover/dp/dp-rcu.c \
	failover/dp/dp-fwd.c \
	failover/dp/dp-announce.c \
	failover/dp/dp-relay.c \
	failover/dp/dp-ctl.c \
	failover/dp/dp-telemetry.c
failover_dp_vfailover_dp_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
failover_dp_vfailover_dp_LDADD = $(VF_COMMON_LIBS) $(DPDK_LIBS) -lrte_net_bond -lpthread

dist_man_MANS += doc/vfailover-dp.8
systemdsystemunit_DATA += failover/dp/vfailover-dp.service
CLEANFILES += failover/dp/vfailover-dp.service
