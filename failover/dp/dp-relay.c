/* Relaying what reaches a migration's source after the VM stopped there.
 * From the moment QEMU stops the VM on the source (its virtio device stops)
 * until the network has learnt the MAC's new place (the destination's
 * announcement, sent when the VM resumes there), the switch keeps sending
 * the VM's frames to the source, where nobody takes them. A source pair with
 * "relay" on (hookd sets it while the VM migrates away) wraps each such
 * unicast frame and sends it to the relay group on the uplink; the datapath
 * that has a pair with that MAC and no running guest yet (the destination,
 * before the VM resumes) keeps it until its guest's device starts, like a
 * hold, and delivers it after what it already kept; one whose guest runs
 * delivers it at once. The wrapped frame is the original one, whole, after
 * an outer Ethernet header (the group, our uplink's MAC, ethertype 0x88B6,
 * IEEE local experimental 2) and a 6-byte header (magic "VR", version 1,
 * flags 0, inner length): rewriting the frame's own addresses instead
 * would teach the switch that the sender lives behind the source. A frame
 * that does not fit the uplink's MTU once wrapped (inner payload > MTU - 20)
 * is dropped and counted. Relayed frames are never relayed again. */
#include "config.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp.h"

/* Locally administered group address: "\x03VFOR\x01" (not forwarded
 * beyond the L2 domain by any standard meaning; switches flood it). */
const struct rte_ether_addr dp_relay_group = {
	.addr_bytes = { 0x03, 0x56, 0x46, 0x4f, 0x52, 0x01 } };

struct dp_relay_hdr {
	uint8_t magic[2];          /* 'V' 'R' */
	uint8_t version;           /* 1 */
	uint8_t flags;             /* 0 */
	rte_be16_t len;            /* inner frame length */
} __rte_packed;

#define DP_RELAY_VERSION 1
#define DP_RELAY_OVERHEAD (sizeof(struct rte_ether_hdr) + sizeof(struct dp_relay_hdr))

struct rte_mbuf *
dp_relay_wrap(struct dp_pair *p, const struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_ether_hdr *eth;
	struct dp_relay_hdr *h;
	struct rte_mbuf *w;
	const void *src;
	char *data;

	/* The outer frame may carry MTU bytes after its Ethernet header. */
	if (len + sizeof(struct dp_relay_hdr) > dp.uplink_mtu) {
		p->st.dropped_relay_mtu++;
		return NULL;
	}
	w = rte_pktmbuf_alloc(dp.pool);
	if (!w) {
		dp.up.alloc_failed++;
		return NULL;
	}
	data = rte_pktmbuf_append(w, DP_RELAY_OVERHEAD + len);
	if (!data) {
		rte_pktmbuf_free(w);
		p->st.dropped_relay_mtu++;
		return NULL;
	}
	eth = (struct rte_ether_hdr *)data;
	eth->dst_addr = dp_relay_group;
	eth->src_addr = dp.uplink_mac;
	eth->ether_type = RTE_BE16(DP_RELAY_ETHERTYPE);
	h = (struct dp_relay_hdr *)(eth + 1);
	h->magic[0] = 'V';
	h->magic[1] = 'R';
	h->version = DP_RELAY_VERSION;
	h->flags = 0;
	h->len = rte_cpu_to_be_16((uint16_t)len);
	/* Copied into place if segmented; else a pointer into @m. */
	src = rte_pktmbuf_read(m, 0, len, h + 1);
	if (src != (const void *)(h + 1))
		memcpy(h + 1, src, len);
	p->st.relayed_out++;
	return w;
}

int
dp_relay_unwrap(struct rte_mbuf *m)
{
	const struct dp_relay_hdr *h;
	uint16_t len;

	if (rte_pktmbuf_data_len(m) < DP_RELAY_OVERHEAD + sizeof(struct rte_ether_hdr))
		return -1;
	h = rte_pktmbuf_mtod_offset(m, const struct dp_relay_hdr *, sizeof(struct rte_ether_hdr));
	if (h->magic[0] != 'V' || h->magic[1] != 'R' || h->version != DP_RELAY_VERSION)
		return -1;
	len = rte_be_to_cpu_16(h->len);
	/* A short frame may have been padded on the way: trust the header's
	 * length, never beyond what arrived. */
	if (len < sizeof(struct rte_ether_hdr) || len > rte_pktmbuf_pkt_len(m) - DP_RELAY_OVERHEAD)
		return -1;
	rte_pktmbuf_adj(m, DP_RELAY_OVERHEAD);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - len);
	return 0;
}
