/* Announcing a VM MAC that moved onto the uplink: a RARP (what QEMU's
 * self-announce sends) and a gratuitous ARP for each IPv4 address the
 * guest was seen using, so switches and neighbours relearn at once. The
 * addresses are learnt from the guest's own frames (IPv4 source, ARP
 * sender). */
#include "config.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"

#define DP_ETHER_TYPE_RARP 0x8035
#define DP_RARP_OP_REQUEST_REVERSE 3

void
dp_announce_learn(struct dp_pair *p, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t type = rte_be_to_cpu_16(eth->ether_type);
	uint32_t ip = 0;
	unsigned int i;

	if (!rte_is_same_ether_addr(&eth->src_addr, &p->mac))
		return;
	if (type == RTE_ETHER_TYPE_IPV4 &&
	    rte_pktmbuf_data_len(m) >= sizeof(*eth) + sizeof(struct rte_ipv4_hdr)) {
		const struct rte_ipv4_hdr *ip4 = (const void *)(eth + 1);
		ip = ip4->src_addr;
	} else if (type == RTE_ETHER_TYPE_ARP &&
		   rte_pktmbuf_data_len(m) >= sizeof(*eth) + sizeof(struct rte_arp_hdr)) {
		const struct rte_arp_hdr *arp = (const void *)(eth + 1);
		ip = arp->arp_data.arp_sip;
	}
	if (ip == 0 || ip == RTE_BE32(0xffffffff))
		return;
	for (i = 0; i < p->n_ipv4; i++)
		if (p->ipv4[i] == ip)
			return;
	if (p->n_ipv4 < DP_MAX_IPV4) {
		p->ipv4[p->n_ipv4++] = ip;
	} else {
		/* Keep the most recent ones. */
		memmove(&p->ipv4[0], &p->ipv4[1], sizeof(p->ipv4[0]) * (DP_MAX_IPV4 - 1));
		p->ipv4[DP_MAX_IPV4 - 1] = ip;
	}
}

static struct rte_mbuf *
build_arp(const struct dp_pair *p, uint16_t ether_type, uint16_t op, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	const uint16_t len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	char *data;

	if (!m)
		return NULL;
	data = rte_pktmbuf_append(m, len);
	if (!data) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(data, 0, len);
	eth = (struct rte_ether_hdr *)data;
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = p->mac;
	eth->ether_type = rte_cpu_to_be_16(ether_type);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	arp->arp_data.arp_sha = p->mac;
	arp->arp_data.arp_sip = ip;
	if (ether_type == DP_ETHER_TYPE_RARP)
		arp->arp_data.arp_tha = p->mac;
	arp->arp_data.arp_tip = ip;
	return m;
}

unsigned int
dp_announce_build(struct dp_pair *p, struct rte_mbuf **pkts, unsigned int max)
{
	unsigned int n = 0, i;

	if (max == 0)
		return 0;
	pkts[n] = build_arp(p, DP_ETHER_TYPE_RARP, DP_RARP_OP_REQUEST_REVERSE, 0);
	if (pkts[n])
		n++;
	for (i = 0; i < p->n_ipv4 && n < max; i++) {
		pkts[n] = build_arp(p, RTE_ETHER_TYPE_ARP, RTE_ARP_OP_REQUEST, p->ipv4[i]);
		if (pkts[n])
			n++;
	}
	if (n < 1 + RTE_MIN(p->n_ipv4, max - 1))
		dp.up.alloc_failed++;
	return n;
}
