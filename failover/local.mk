# failover/: the DPDK datapaths. Built only when configure found DPDK
# (--with-dpdk): dp/ is the host datapath vfailover-dp, guest/ the
# failsafe/bond helper library + sample app for DPDK guests.
if HAVE_DPDK
include failover/dp/local.mk
include failover/guest/local.mk
endif
