# failover/: the DPDK datapaths (host vfailover-dp, guest failsafe helper).
# Built only when configure found DPDK (--with-dpdk).
if HAVE_DPDK
endif
