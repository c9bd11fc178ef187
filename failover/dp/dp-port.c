/* The uplink: probe a port from any devargs (or two, bonded active-backup
 * with net_bonding mode 1), configure one Rx and one Tx queue on the mbuf
 * pool, and claim VM MACs on it: a MAC filter entry where the port has
 * one, promiscuous mode (reference counted) where it does not. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_eth_bond.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp.h"

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024
#define DP_MIN_FREE_MBUFS 1024
#define DP_BOND_NAME "net_bonding_vfdp"

/* Probe @devargs unless it names a port that already exists (--vdev or
 * a PCI device the EAL probed); return its port id or -1. */
static int
probe_port(const char *devargs, uint16_t *port_id)
{
	struct rte_dev_iterator it;
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t len = strcspn(devargs, ",");
	uint16_t id;
	int ret;

	if (len == 0 || len >= sizeof(name)) {
		DP_LOG(ERR, "uplink devargs '%s' do not start with a device name", devargs);
		return -1;
	}
	memcpy(name, devargs, len);
	name[len] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &id) == 0) {
		*port_id = id;
		return 0;
	}
	ret = rte_dev_probe(devargs);
	if (ret < 0) {
		DP_LOG(ERR, "cannot probe uplink '%s': %s", devargs, rte_strerror(-ret));
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(name, &id) == 0) {
		*port_id = id;
		return 0;
	}
	RTE_ETH_FOREACH_MATCHING_DEV(id, devargs, &it) {
		*port_id = id;
		rte_eth_iterator_cleanup(&it);
		return 0;
	}
	DP_LOG(ERR, "uplink '%s' was probed but is not an Ethernet port", devargs);
	return -1;
}

static int
setup_port(uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = DP_RX_DESC, nb_txd = DP_TX_DESC;
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	int socket = rte_eth_dev_socket_id(port);
	int ret;

	rte_eth_dev_get_name_by_port(port, name);
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	/* The bond learns its members' link changes from their LSC
	 * interrupts (members without them are polled). */
	if (ret == 0 && dp.uplink_bonded && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
		conf.intr_conf.lsc = 1;
	if (ret == 0)
		ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, socket < 0 ? 0 : socket,
					     NULL, dp.pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, nb_txd, socket < 0 ? 0 : socket, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0) {
		DP_LOG(ERR, "cannot set up uplink port %u (%s): %s", port, name,
		       rte_strerror(-ret));
		return -1;
	}
	/* Broadcast and multicast reach the guests (ARP, ND). */
	ret = rte_eth_allmulticast_enable(port);
	if (ret < 0 && ret != -ENOTSUP)
		DP_LOG(WARNING, "uplink port %u (%s): cannot enable all-multicast: %s",
		       port, name, rte_strerror(-ret));
	/* Relayed frames (dp-relay.c) leave with our own MAC and must fit. */
	if (rte_eth_macaddr_get(port, &dp.uplink_mac) < 0)
		rte_eth_random_addr(dp.uplink_mac.addr_bytes);
	if (rte_eth_dev_get_mtu(port, &dp.uplink_mtu) < 0 || dp.uplink_mtu == 0)
		dp.uplink_mtu = RTE_ETHER_MTU;
	return 0;
}

/* The uplink's rings keep mbufs; what is left must carry bursts. */
static int
check_pool(void)
{
	unsigned int held = rte_mempool_in_use_count(dp.pool);

	if (dp.n_mbufs - held >= DP_MIN_FREE_MBUFS)
		return 0;
	DP_LOG(ERR, "mbuf pool too small: the uplink's rings hold %u of %u mbufs; use --mbufs %u or more",
	       held, dp.n_mbufs, held + DP_MIN_FREE_MBUFS);
	return -1;
}

int
dp_port_init(void)
{
	uint16_t p1, p2;
	int bond;

	dp.pool = rte_pktmbuf_pool_create("dp_mbufs", dp.n_mbufs, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!dp.pool) {
		DP_LOG(ERR, "cannot create a pool of %u mbufs: %s (more memory: EAL -m)",
		       dp.n_mbufs, rte_strerror(rte_errno));
		return -1;
	}
	dp.reserve = rte_pktmbuf_pool_create("dp_reserve", DP_RESERVE_MBUFS, 0, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!dp.reserve) {
		DP_LOG(ERR, "cannot create the reserve pool of %u mbufs: %s (more memory: EAL -m)",
		       DP_RESERVE_MBUFS, rte_strerror(rte_errno));
		return -1;
	}
	if (probe_port(dp.uplink_args, &p1) < 0)
		return -1;
	if (!dp.uplink2_args) {
		dp.uplink_port = p1;
		return setup_port(p1) < 0 ? -1 : check_pool();
	}
	if (probe_port(dp.uplink2_args, &p2) < 0)
		return -1;
	bond = rte_eth_bond_create(DP_BOND_NAME, BONDING_MODE_ACTIVE_BACKUP,
				   rte_socket_id());
	if (bond < 0) {
		DP_LOG(ERR, "cannot create the active-backup bond of '%s' and '%s': %s",
		       dp.uplink_args, dp.uplink2_args, rte_strerror(-bond));
		return -1;
	}
	if (rte_eth_bond_slave_add(bond, p1) < 0 || rte_eth_bond_slave_add(bond, p2) < 0 ||
	    rte_eth_bond_primary_set(bond, p1) < 0) {
		DP_LOG(ERR, "cannot bond uplinks '%s' and '%s' (ports %u, %u)",
		       dp.uplink_args, dp.uplink2_args, p1, p2);
		return -1;
	}
	dp.uplink_port = bond;
	dp.uplink_bonded = true;
	return setup_port(bond) < 0 ? -1 : check_pool();
}

static bool
link_up(uint16_t port)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

/* Called from the control thread a few times a second: when the bond's
 * active uplink changes, the network must relearn every claimed MAC on
 * the new one (the caller announces them: ports know nothing of pairs). */
bool
dp_port_poll_failover(void)
{
	static int last = -1;
	uint16_t active[RTE_MAX_ETHPORTS];
	char name[RTE_ETH_NAME_MAX_LEN] = "?";
	int n, cur;
	bool moved = false;

	if (!dp.uplink_bonded)
		return false;
	n = rte_eth_bond_active_slaves_get(dp.uplink_port, active, RTE_DIM(active));
	cur = n > 0 ? rte_eth_bond_primary_get(dp.uplink_port) : -1;
	/* Not every member reports link changes to the bond (net_tap's
	 * interrupts do not reach it): check the active one ourselves. */
	if (cur >= 0 && !link_up(cur)) {
		int i;

		for (i = 0; i < n; i++)
			if (active[i] != cur && link_up(active[i]) &&
			    rte_eth_bond_primary_set(dp.uplink_port, active[i]) == 0) {
				cur = rte_eth_bond_primary_get(dp.uplink_port);
				break;
			}
	}
	if (cur == last)
		return false;
	if (cur < 0) {
		DP_LOG(WARNING, "uplink bond: no active uplink (both '%s' and '%s' down)",
		       dp.uplink_args, dp.uplink2_args);
	} else {
		rte_eth_dev_get_name_by_port(cur, name);
		DP_LOG(INFO, "uplink bond: active uplink is now port %d (%s)%s", cur, name,
		       last >= 0 ? ": announcing the claimed MACs" : "");
		moved = last >= 0;
	}
	last = cur;
	return moved;
}

void
dp_port_close(void)
{
	uint16_t id;

	/* The bond first: closing it releases its members. */
	if (rte_eth_dev_is_valid_port(dp.uplink_port)) {
		rte_eth_dev_stop(dp.uplink_port);
		rte_eth_dev_close(dp.uplink_port);
	}
	RTE_ETH_FOREACH_DEV(id) {
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
	}
}

int
dp_port_claim_mac(const struct rte_ether_addr *mac, char *err, size_t errlen)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	int ret;

	dp_format_mac(buf, sizeof(buf), mac);
	ret = rte_eth_dev_mac_addr_add(dp.uplink_port, (struct rte_ether_addr *)mac, 0);
	if (ret == 0) {
		dp.uplink_filter = true;
		return 0;
	}
	/* No filter (or full): fall back to promiscuous mode. */
	if (dp.promisc_refs == 0) {
		int r = rte_eth_promiscuous_enable(dp.uplink_port);
		if (r < 0 && r != -ENOTSUP) {
			snprintf(err, errlen,
				 "cannot claim MAC %s on the uplink: MAC filter: %s, promiscuous mode: %s",
				 buf, rte_strerror(-ret), rte_strerror(-r));
			return -1;
		}
		if (!dp.promisc_logged)
			DP_LOG(INFO, "uplink port %u has no MAC filter for %s (%s): promiscuous mode while a MAC is claimed",
			       dp.uplink_port, buf, rte_strerror(-ret));
		dp.promisc_logged = true;
	}
	dp.promisc_refs++;
	return 1;
}

void
dp_port_release_mac(const struct rte_ether_addr *mac, bool promisc)
{
	if (!promisc) {
		rte_eth_dev_mac_addr_remove(dp.uplink_port, (struct rte_ether_addr *)mac);
		return;
	}
	if (dp.promisc_refs > 0 && --dp.promisc_refs == 0)
		rte_eth_promiscuous_disable(dp.uplink_port);
}
