/* The forwarding loop (main lcore): L2 by destination MAC between the
 * uplink and the pairs' vhost-user ports, with the pair state ladder:
 *   VF_ACTIVE      frames for the pair's MAC are not delivered to its guest
 *                  (the VF has them: the guest must never see duplicates);
 *                  what the guest sends on virtio still leaves.
 *   VIRTIO_ACTIVE  the MAC is claimed on the uplink; both directions flow.
 *   HOLD           the MAC is claimed; what arrives for the guest is kept
 *                  (DP_HOLD_MAX frames, --hold-ms at most) and delivered,
 *                  in order, when the pair goes VIRTIO_ACTIVE; what the
 *                  guest sends leaves. hookd holds a pair while the guest
 *                  still has the VF that is leaving registered: its
 *                  net_failover drops every frame arriving on the standby
 *                  until then. A migration destination holds from the
 *                  moment the source stopped until the VM runs here: a
 *                  hold needs no guest, and what it kept waits for the
 *                  guest's device to start. Past --hold-ms the frames are
 *                  delivered anyway (dropped if there is no guest); back to
 *                  VF_ACTIVE they are dropped (counted).
 * A pair with relay on (a migration's source) whose guest's device is
 * stopped sends what arrives for it, and what it held, on to the
 * destination's datapath (dp-relay.c); relayed frames a datapath takes
 * wait for a guest whose device has not started yet, like a hold.
 * The state is read per burst, so a switch takes effect on the next burst.
 * Guest queues are dequeued on every pass, also when idle, so that the
 * RARP rte_vhost injects on VHOST_USER_SEND_RARP leaves promptly. When
 * idle the loop backs off (pause, then sleeps growing to 1 ms) unless
 * --busy-poll; while asleep it is offline for RCU. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "dp.h"

#define VIRTIO_RXQ 0 /* guest's receive queue: we enqueue */
#define VIRTIO_TXQ 1 /* guest's transmit queue: we dequeue */
#define DP_IDLE_PAUSES 64
#define DP_SLEEP_STEP_US 10u
#define DP_SLEEP_MAX_US 1000u

struct dp_out {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST * 2];
};

static struct dp_out out[DP_MAX_PAIRS];
static int vids[DP_MAX_PAIRS];
static int states[DP_MAX_PAIRS];
static int relays[DP_MAX_PAIRS];

static inline int
lookup(const struct dp_table *t, const struct rte_ether_addr *a)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (rte_is_same_ether_addr(&t->pair[i]->mac, a))
			return i;
	return -1;
}

static bool hold_room;       /* the pool can spare mbufs for HOLD */

/* What becomes of a frame for pair @i on this pass. */
enum guest_path { TO_GUEST, HELD, NOT_VIRTIO, NO_GUEST, RELAY };

static inline bool
hold_expired(const struct dp_pair *p, uint64_t now)
{
	return now - p->hold_since > rte_get_timer_hz() / 1000 * dp.hold_ms;
}

static inline enum guest_path
guest_path(const struct dp_table *t, unsigned int i, uint64_t now)
{
	if (states[i] == DP_PAIR_VF_ACTIVE)
		return NOT_VIRTIO;
	if (vids[i] < 0 && relays[i])
		return RELAY;	/* the VM stopped here and moves away (dp-relay.c) */
	if (states[i] == DP_PAIR_HOLD && !hold_expired(t->pair[i], now))
		return HELD;	/* also without a guest: it may come (migration) */
	if (vids[i] < 0 && t->pair[i]->n_held > 0 && !hold_expired(t->pair[i], now))
		return HELD;	/* virtio already, the guest's device not started yet:
				 * behind what the hold kept for it */
	if (vids[i] < 0)
		return NO_GUEST;
	return TO_GUEST;
}

static inline void
out_add(unsigned int i, struct rte_mbuf *m)
{
	if (out[i].n < RTE_DIM(out[i].m))
		out[i].m[out[i].n++] = m;
}

/* Relayed frames of this pass, sent after the guests' bursts. */
static struct dp_out relay_out;

static void tx_uplink(struct rte_mbuf **m, uint16_t n);

static void
relay_flush(void)
{
	tx_uplink(relay_out.m, relay_out.n);
	relay_out.n = 0;
}

static inline void
relay_add(struct dp_pair *p, const struct rte_mbuf *m)
{
	struct rte_mbuf *w;

	if (relay_out.n == RTE_DIM(relay_out.m))
		relay_flush();
	w = dp_relay_wrap(p, m);
	if (w)
		relay_out.m[relay_out.n++] = w;
}

/* Keep a reference to @m for pair @p (the caller frees its own). */
static void
hold_add(struct dp_pair *p, struct rte_mbuf *m)
{
	if (p->n_held == DP_HOLD_MAX || !hold_room) {
		p->st.dropped_hold++;
		return;
	}
	rte_mbuf_refcnt_update(m, 1);
	p->held[p->n_held++] = m;
	p->st.held++;
}

/* A frame for pair @i: to its queue or held; a unicast one (@count) that
 * can go neither way is counted as dropped. Returns where it went. */
static enum guest_path
to_pair(const struct dp_table *t, unsigned int i, struct rte_mbuf *m, uint64_t now, bool count)
{
	enum guest_path g = guest_path(t, i, now);

	switch (g) {
	case TO_GUEST:
		out_add(i, m);
		break;
	case HELD:
		hold_add(t->pair[i], m);
		break;
	case NOT_VIRTIO:
		if (count)
			t->pair[i]->st.dropped_vf_active++;
		break;
	case NO_GUEST:
		if (count)
			t->pair[i]->st.dropped_no_guest++;
		break;
	case RELAY:
		/* Unicast only: the destination got its own copy of the rest. */
		if (count)
			relay_add(t->pair[i], m);
		break;
	}
	return g;
}

/* Start of a pass: note when each pair entered HOLD; deliver what a pair
 * held once it is VIRTIO_ACTIVE (or held too long) and its guest's device
 * runs, before anything newer; drop it if the pair went back to the VF, or
 * if it has no guest when the hold expires. (A migration destination holds
 * from the moment the source stopped: the guest's device starts when the
 * VM resumes.) */
static void
hold_pass(const struct dp_table *t, uint64_t now)
{
	bool any = false;
	unsigned int i, k, n;

	for (i = 0; i < t->n; i++) {
		struct dp_pair *p = t->pair[i];
		uint16_t sent;

		if (states[i] == DP_PAIR_HOLD && p->seen_state != DP_PAIR_HOLD)
			p->hold_since = now;
		p->seen_state = states[i];
		any |= states[i] == DP_PAIR_HOLD || p->n_held > 0;
		if (p->n_held == 0)
			continue;
		if (states[i] != DP_PAIR_VF_ACTIVE && vids[i] < 0 && relays[i]) {
			/* Held for a guest that stopped here and moves away. */
			for (k = 0; k < p->n_held; k++)
				relay_add(p, p->held[k]);
		} else if (states[i] == DP_PAIR_VF_ACTIVE || (vids[i] < 0 && hold_expired(p, now))) {
			p->st.dropped_hold += p->n_held;
		} else if (vids[i] < 0) {
			continue;	/* the guest's device has not started (yet) */
		} else if (states[i] == DP_PAIR_VIRTIO_ACTIVE || hold_expired(p, now)) {
			bool expired = hold_expired(p, now);

			if (states[i] == DP_PAIR_HOLD)
				p->st.hold_expired++;
			/* rte_vhost takes at most a burst per call (and copies). */
			for (k = 0; k < p->n_held; k += sent) {
				n = RTE_MIN(p->n_held - k, (unsigned int)DP_BURST);
				sent = rte_vhost_enqueue_burst(vids[i], VIRTIO_RXQ, &p->held[k], n);
				p->st.to_guest += sent;
				if (sent < n) {
					k += sent;
					break;
				}
			}
			if (k < p->n_held && !expired) {
				/* The guest's queue is full (or not filled yet, just
				 * after it started): the rest waits, in order. */
				rte_pktmbuf_free_bulk(p->held, k);
				memmove(p->held, p->held + k, (p->n_held - k) * sizeof(p->held[0]));
				p->n_held -= k;
				continue;
			}
			p->st.to_guest_full += p->n_held - k;
		} else {
			continue;
		}
		rte_pktmbuf_free_bulk(p->held, p->n_held);
		p->n_held = 0;
	}
	/* Counting the pool walks every lcore cache: only while holding. */
	if (any)
		hold_room = rte_mempool_avail_count(dp.pool) > dp.n_mbufs / 2;
}

/* Enqueue copies to the guests (rte_vhost copies; the caller frees). */
static void
flush_guests(const struct dp_table *t)
{
	unsigned int i;
	uint16_t sent;

	for (i = 0; i < t->n; i++) {
		if (out[i].n == 0)
			continue;
		sent = rte_vhost_enqueue_burst(vids[i], VIRTIO_RXQ, out[i].m, out[i].n);
		t->pair[i]->st.to_guest += sent;
		t->pair[i]->st.to_guest_full += out[i].n - sent;
		out[i].n = 0;
	}
}

static void
tx_uplink(struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(dp.uplink_port, 0, m, n);
	dp.up.tx += sent;
	if (sent < n) {
		dp.up.tx_full += n - sent;
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
	}
}

/* A frame another datapath relayed (dp-relay.c): for a pair whose guest
 * has not started yet (a migration destination before the VM resumes) it
 * is kept like a hold, behind what was kept before, until the device
 * starts; for one whose guest runs it goes the usual way. Never relayed
 * again. */
static void
relay_in(const struct dp_table *t, struct rte_mbuf *m, uint64_t now)
{
	const struct rte_ether_hdr *eth;
	struct dp_pair *p;
	int j;

	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (rte_is_same_ether_addr(&eth->src_addr, &dp.uplink_mac)) {
		dp.up.relay_unknown++;	/* our own, come back (a loop) */
		return;
	}
	if (dp_relay_unwrap(m) < 0) {
		dp.up.relay_bad++;
		return;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	j = rte_is_multicast_ether_addr(&eth->dst_addr) ? -1 : lookup(t, &eth->dst_addr);
	/* A pair that relays itself is a source: taking the frame would send
	 * it round again. */
	if (j < 0 || states[j] == DP_PAIR_VF_ACTIVE || relays[j]) {
		dp.up.relay_unknown++;
		return;
	}
	p = t->pair[j];
	p->st.relayed_in++;
	if (vids[j] >= 0) {
		to_pair(t, j, m, now, true);
		return;
	}
	if (p->n_held == 0 && states[j] != DP_PAIR_HOLD) {
		p->hold_since = now;	/* a hold starts with the first one */
		hold_room = rte_mempool_avail_count(dp.pool) > dp.n_mbufs / 2;
	}
	if (!hold_expired(p, now))
		hold_add(p, m);
	else
		p->st.dropped_hold++;
}

static unsigned int
from_uplink(const struct dp_table *t, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t nb, k;
	unsigned int i;
	int j;

	nb = rte_eth_rx_burst(dp.uplink_port, 0, pkts, DP_BURST);
	if (nb == 0)
		return 0;
	dp.up.rx += nb;
	for (k = 0; k < nb; k++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[k], const struct rte_ether_hdr *);

		if (unlikely(dp_relay_is_relayed(eth))) {
			relay_in(t, pkts[k], now);
			continue;
		}
		if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
			for (i = 0; i < t->n; i++)
				to_pair(t, i, pkts[k], now, false);
			continue;
		}
		j = lookup(t, &eth->dst_addr);
		if (j < 0)
			dp.up.dropped_unknown++;
		else
			to_pair(t, j, pkts[k], now, true);
	}
	flush_guests(t);
	relay_flush();
	rte_pktmbuf_free_bulk(pkts, nb);
	return nb;
}

static unsigned int
from_guest(const struct dp_table *t, unsigned int src, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct rte_mbuf *up[DP_BURST];
	struct rte_mbuf *done[DP_BURST];
	struct dp_pair *p = t->pair[src];
	uint16_t nb, k, n_up = 0, n_done = 0;
	enum guest_path g;
	unsigned int i;
	int j;

	nb = rte_vhost_dequeue_burst(vids[src], VIRTIO_TXQ,
				     unlikely(dp.use_reserve) ? dp.reserve : dp.pool, pkts, DP_BURST);
	if (nb == 0)
		return 0;
	p->st.from_guest += nb;
	for (k = 0; k < nb; k++) {
		const struct rte_ether_hdr *eth =
			rte_pktmbuf_mtod(pkts[k], const struct rte_ether_hdr *);

		/* Addresses to announce are learnt from IPv4 and ARP only. */
		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP))
			dp_announce_learn(p, pkts[k]);
		if (rte_is_multicast_ether_addr(&eth->dst_addr)) {
			for (i = 0; i < t->n; i++)
				if (i != src)
					to_pair(t, i, pkts[k], now, false);
			up[n_up++] = pkts[k];
			continue;
		}
		j = lookup(t, &eth->dst_addr);
		g = j >= 0 && (unsigned int)j != src ? to_pair(t, j, pkts[k], now, false) : NO_GUEST;
		if (g == TO_GUEST || g == HELD) {
			done[n_done++] = pkts[k];
		} else {
			/* To the network, or to a VM whose VF has it. */
			up[n_up++] = pkts[k];
		}
	}
	flush_guests(t);
	tx_uplink(up, n_up);
	if (n_done)
		rte_pktmbuf_free_bulk(done, n_done);
	return nb;
}

static unsigned int
announce(const struct dp_table *t, uint64_t now)
{
	struct rte_mbuf *pkts[DP_MAX_IPV4 + 1];
	unsigned int i, n, sent = 0;

	for (i = 0; i < t->n; i++) {
		struct dp_pair *p = t->pair[i];

		uint32_t req;

		/* Load first: no locked write on every pass. */
		if (__atomic_load_n(&p->announce, __ATOMIC_RELAXED) &&
		    (req = __atomic_exchange_n(&p->announce, 0, __ATOMIC_ACQ_REL))) {
			p->announce_left = DP_ANNOUNCE_ROUNDS;
			p->announce_next = now;
			p->announce_any = req == DP_ANNOUNCE_ANY;
		}
		if (p->announce_left == 0 || now < p->announce_next)
			continue;
		if (states[i] == DP_PAIR_VF_ACTIVE && !p->announce_any) {
			p->announce_left = 0;
			continue;
		}
		n = dp_announce_build(p, pkts, RTE_DIM(pkts));
		p->st.announces += n;
		tx_uplink(pkts, n);
		sent += n;
		p->announce_left--;
		/* 50 ms, then 100 ms, ... as QEMU's self-announce does. */
		p->announce_next = now + rte_get_timer_hz() / 20 *
			(1u << (DP_ANNOUNCE_ROUNDS - 1 - p->announce_left));
	}
	return sent;
}

/* Pool exhaustion (checked on idle passes: dequeue cannot allocate, so
 * the passes are idle). The mbufs are mostly in the uplink's Tx ring,
 * waiting for the PMD to see them sent: ask it to free them, and where it
 * cannot (net_virtio has no tx_done_cleanup; most PMDs free completed
 * mbufs only inside a Tx burst) dequeue into the reserve pool, whose Tx
 * bursts let the PMD free the rest. Logged once per episode. */
static void
watch_pool(void)
{
	unsigned int avail = rte_mempool_avail_count(dp.pool);

	if (avail < DP_BURST && rte_eth_tx_done_cleanup(dp.uplink_port, 0, 0) >= 0)
		avail = rte_mempool_avail_count(dp.pool);
	if (!dp.use_reserve && avail < DP_BURST) {
		DP_LOG(WARNING, "mbuf pool exhausted (%u of %u in use): dequeuing into the reserve pool until the uplink frees its Tx mbufs",
		       dp.n_mbufs - avail, dp.n_mbufs);
		dp.use_reserve = true;
		dp.reserve_episodes++;
	} else if (dp.use_reserve && avail >= 4 * DP_BURST) {
		DP_LOG(INFO, "mbuf pool usable again (%u of %u in use)", dp.n_mbufs - avail, dp.n_mbufs);
		dp.use_reserve = false;
	}
}

int
dp_fwd_loop(void)
{
	const unsigned int thread_id = 0;
	uint64_t idle = 0, empty = 0;
	unsigned int i, work;

	rte_rcu_qsbr_thread_register(dp.rcu, thread_id);
	rte_rcu_qsbr_thread_online(dp.rcu, thread_id);
	while (!dp.quit) {
		const struct dp_table *t = __atomic_load_n(&dp.table, __ATOMIC_ACQUIRE);
		uint64_t now = rte_get_timer_cycles();

		for (i = 0; i < t->n; i++) {
			vids[i] = __atomic_load_n(&t->pair[i]->vid, __ATOMIC_ACQUIRE);
			states[i] = __atomic_load_n(&t->pair[i]->state, __ATOMIC_ACQUIRE);
			relays[i] = __atomic_load_n(&t->pair[i]->relay, __ATOMIC_ACQUIRE);
		}
		hold_pass(t, now);
		relay_flush();
		work = from_uplink(t, now);
		for (i = 0; i < t->n; i++)
			if (vids[i] >= 0)
				work += from_guest(t, i, now);
		work += announce(t, now);
		rte_rcu_qsbr_quiescent(dp.rcu, thread_id);
		dp.loops++;

		if (work) {
			idle = 0;
			continue;
		}
		/* Counting the pool walks every lcore cache: not every pass
		 * (while on the reserve, every 64th). */
		if ((++empty & (dp.use_reserve ? 63 : 1023)) == 0)
			watch_pool();
		if (dp.busy_poll)
			continue;
		idle++;
		if (idle < DP_IDLE_PAUSES) {
			rte_pause();
			continue;
		}
		rte_rcu_qsbr_thread_offline(dp.rcu, thread_id);
		usleep(RTE_MIN((idle - DP_IDLE_PAUSES + 1) * DP_SLEEP_STEP_US,
			       (uint64_t)DP_SLEEP_MAX_US));
		rte_rcu_qsbr_thread_online(dp.rcu, thread_id);
		dp.sleeps++;
	}
	rte_rcu_qsbr_thread_offline(dp.rcu, thread_id);
	rte_rcu_qsbr_thread_unregister(dp.rcu, thread_id);
	return 0;
}
