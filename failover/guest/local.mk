# failover/guest/: failsafe/bond datapath library + sample app for DPDK guests.
