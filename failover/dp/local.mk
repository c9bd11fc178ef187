# failover/dp/: vfailover-dp, the host DPDK datapath.
