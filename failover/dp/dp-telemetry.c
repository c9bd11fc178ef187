/* DPDK telemetry commands, so the standard dpdk-telemetry.py reads the
 * datapath's counters (socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2):
 *   /vfailover/ports          the uplink's counters
 *   /vfailover/pairs          every pair: state, connection and counters
 *   /vfailover/pairs,NAME     one pair */
#include "config.h"

#include <string.h>

#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "dp.h"

static void
add_pair(struct rte_tel_data *d, const struct dp_pair *p)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	dp_format_mac(mac, sizeof(mac), &p->mac);
	rte_tel_data_add_dict_string(d, "mac", mac);
	rte_tel_data_add_dict_string(d, "socket", p->socket);
	rte_tel_data_add_dict_string(d, "mode", p->client ? "client" : "server");
	rte_tel_data_add_dict_string(d, "state",
				     dp_pair_state_name(__atomic_load_n(&p->state, __ATOMIC_RELAXED)));
	rte_tel_data_add_dict_int(d, "connected", __atomic_load_n(&p->vid, __ATOMIC_RELAXED) >= 0);
	rte_tel_data_add_dict_u64(d, "from_guest", p->st.from_guest);
	rte_tel_data_add_dict_u64(d, "to_guest", p->st.to_guest);
	rte_tel_data_add_dict_u64(d, "to_guest_full", p->st.to_guest_full);
	rte_tel_data_add_dict_u64(d, "dropped_vf_active", p->st.dropped_vf_active);
	rte_tel_data_add_dict_u64(d, "dropped_no_guest", p->st.dropped_no_guest);
	rte_tel_data_add_dict_u64(d, "announces", p->st.announces);
	rte_tel_data_add_dict_u64(d, "held", p->st.held);
	rte_tel_data_add_dict_u64(d, "dropped_hold", p->st.dropped_hold);
	rte_tel_data_add_dict_u64(d, "hold_expired", p->st.hold_expired);
	rte_tel_data_add_dict_u64(d, "relayed_out", p->st.relayed_out);
	rte_tel_data_add_dict_u64(d, "relayed_in", p->st.relayed_in);
	rte_tel_data_add_dict_u64(d, "dropped_relay_mtu", p->st.dropped_relay_mtu);
	rte_tel_data_add_dict_u64(d, "connects", p->connects);
	rte_tel_data_add_dict_u64(d, "disconnects", p->disconnects);
}

static int
tel_pairs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int i;
	int ret = 0;

	(void)cmd;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&dp.lock);
	if (params && *params) {
		struct dp_pair *p = dp_pair_find(params);
		if (p)
			add_pair(d, p);
		else
			ret = -1;
		pthread_mutex_unlock(&dp.lock);
		return ret;
	}
	for (i = 0; i < dp.n_pairs; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (!c)
			break;
		rte_tel_data_start_dict(c);
		add_pair(c, dp.pairs[i]);
		rte_tel_data_add_dict_container(d, dp.pairs[i]->name, c, 0);
	}
	pthread_mutex_unlock(&dp.lock);
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!c)
		return -1;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_int(c, "port_id", dp.uplink_port);
	rte_tel_data_add_dict_string(c, "devargs", dp.uplink_args);
	rte_tel_data_add_dict_int(c, "bonded", dp.uplink_bonded);
	rte_tel_data_add_dict_u64(c, "rx", dp.up.rx);
	rte_tel_data_add_dict_u64(c, "tx", dp.up.tx);
	rte_tel_data_add_dict_u64(c, "tx_full", dp.up.tx_full);
	rte_tel_data_add_dict_u64(c, "dropped_unknown", dp.up.dropped_unknown);
	rte_tel_data_add_dict_u64(c, "alloc_failed", dp.up.alloc_failed);
	rte_tel_data_add_dict_u64(c, "relay_unknown", dp.up.relay_unknown);
	rte_tel_data_add_dict_u64(c, "relay_bad", dp.up.relay_bad);
	rte_tel_data_add_dict_u64(c, "mbufs_in_use", rte_mempool_in_use_count(dp.pool));
	rte_tel_data_add_dict_u64(c, "reserve_mbufs_in_use", rte_mempool_in_use_count(dp.reserve));
	rte_tel_data_add_dict_u64(c, "pool_exhausted", dp.reserve_episodes);
	rte_tel_data_add_dict_container(d, "uplink", c, 0);
	return 0;
}

int
dp_telemetry_register(void)
{
	if (rte_telemetry_register_cmd("/vfailover/pairs", tel_pairs,
				       "Pairs: state, connection, counters. Parameters: pair name (optional)") < 0 ||
	    rte_telemetry_register_cmd("/vfailover/ports", tel_ports,
				       "Uplink counters. Takes no parameters") < 0) {
		DP_LOG(ERR, "cannot register the /vfailover telemetry commands");
		return -1;
	}
	return 0;
}
