/* vfailover-dp private header: the datapath's shared state (uplink, pairs,
 * the forwarding table the worker reads under RCU) and the entry points of
 * each file, grouped per file as in DPDK's drivers/net/failsafe. */
#ifndef VFAILOVER_DP_H
#define VFAILOVER_DP_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#define DP_MAX_PAIRS 64
#define DP_NAME_MAX 128
#define DP_MAX_IPV4 4
#define DP_BURST 32
#define DP_ANNOUNCE_ROUNDS 3
#define DP_RESERVE_MBUFS (4 * DP_BURST - 1)
/* HOLD: frames kept per pair, and for how long by default (--hold-ms; see
 * dp-fwd.c). */
#define DP_HOLD_MAX 256
#define DP_HOLD_MS 1000
/* A pair-set-state slower than this is logged with where its time went. */
#define DP_SLOW_CALL_US 20000

extern int dp_logtype;
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, dp_logtype, "vfailover-dp: " fmt "\n", ##__VA_ARGS__)

/* The pair state ladder (see dp-fwd.c). */
enum dp_pair_state {
	DP_PAIR_VF_ACTIVE = 0,     /* MAC not claimed, nothing goes to the guest */
	DP_PAIR_VIRTIO_ACTIVE = 1, /* MAC claimed on the uplink, both ways */
	DP_PAIR_HOLD = 2,          /* MAC claimed; frames for the guest held */
};

/* Counters of one pair, written only by the worker. */
struct dp_pair_stats {
	uint64_t from_guest;       /* frames dequeued from the guest */
	uint64_t to_guest;         /* frames enqueued to the guest */
	uint64_t to_guest_full;    /* enqueue refused: guest ring full */
	uint64_t dropped_vf_active; /* frames for this MAC while VF_ACTIVE */
	uint64_t dropped_no_guest; /* frames for this MAC, no guest connected */
	uint64_t announces;        /* RARP/GARP frames sent */
	uint64_t held;             /* frames held in HOLD (delivered later) */
	uint64_t dropped_hold;     /* held frames dropped: hold full, or the
	                            * pair went back to vf / lost its guest */
	uint64_t hold_expired;     /* holds that outlived --hold-ms */
	uint64_t relayed_out;      /* relay on, no guest: sent to the relay group */
	uint64_t relayed_in;       /* relayed by another datapath, taken here */
	uint64_t dropped_relay_mtu; /* too big to relay on the uplink */
};

/* dp_pair.announce: RARP/GARP rounds requested: in virtio state only (a
 * switch), or in any state (pair-announce: the VM now runs behind this
 * host's uplink, whichever path delivers to it). */
#define DP_ANNOUNCE_VIRTIO 1
#define DP_ANNOUNCE_ANY 2

struct dp_pair {
	char name[DP_NAME_MAX];
	struct rte_ether_addr mac;
	char socket[PATH_MAX];
	bool client;               /* vhost-user client mode (QEMU listens) */
	int mac_claim;             /* -1 none, 0 filter, 1 promisc (ctl thread) */
	int vid;                   /* vhost device id or -1 (atomic) */
	int state;                 /* enum dp_pair_state (atomic) */
	uint32_t announce;         /* DP_ANNOUNCE_*: worker sends RARP/GARP (atomic) */
	int relay;                 /* no guest: relay frames (dp-relay.c; atomic) */
	/* Worker-only from here. */
	bool announce_any;         /* these rounds go out in any state */
	unsigned int announce_left;
	uint64_t announce_next;
	uint32_t ipv4[DP_MAX_IPV4]; /* network order, seen from the guest */
	unsigned int n_ipv4;
	struct dp_pair_stats st;
	struct rte_mbuf *held[DP_HOLD_MAX]; /* HOLD: frames for the guest */
	unsigned int n_held;
	uint64_t hold_since;       /* timer cycles when HOLD was first seen */
	int seen_state;            /* the state of the previous pass */
	/* Written by the vhost thread under dp.lock. */
	uint64_t connects;
	uint64_t disconnects;
};

/* What the worker sees: replaced as a whole, freed after a grace period. */
struct dp_table {
	unsigned int n;
	struct dp_pair *pair[DP_MAX_PAIRS];
};

struct dp_uplink_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t tx_full;          /* tx burst refused (freed) */
	uint64_t dropped_unknown;  /* unicast for no pair */
	uint64_t alloc_failed;     /* announcement/relay frames not built */
	uint64_t relay_unknown;    /* relayed frames for no pair that takes them */
	uint64_t relay_bad;        /* relay-group frames that do not parse */
};

struct dp_ctx {
	/* Options. */
	const char *ctl_path;
	const char *uplink_args;
	const char *uplink2_args;
	const char *vhost_dir;
	const char *vhost_owner;   /* user QEMU runs as, "" for none */
	bool busy_poll;
	unsigned int hold_ms;      /* --hold-ms: HOLD keeps frames this long */
	unsigned int n_mbufs;
	/* Ports. */
	uint16_t uplink_port;
	bool uplink_bonded;
	bool uplink_filter;        /* MAC filter works on the uplink */
	struct rte_ether_addr uplink_mac;
	uint16_t uplink_mtu;
	unsigned int promisc_refs;
	bool promisc_logged;
	struct rte_mempool *pool;
	/* Dequeue falls back on this small pool while the main one is
	 * exhausted: a PMD without tx_done_cleanup frees the mbufs its Tx
	 * ring holds only inside a Tx burst, and with no mbuf to dequeue
	 * into there would never be one. */
	struct rte_mempool *reserve;
	bool use_reserve;          /* worker-only */
	uint64_t reserve_episodes; /* worker-written */
	struct dp_uplink_stats up; /* worker-written */
	/* Pairs: the list is owned by the control thread under lock; the
	 * worker reads table (RCU). */
	pthread_mutex_t lock;
	struct dp_pair *pairs[DP_MAX_PAIRS];
	unsigned int n_pairs;
	struct dp_table *table;
	struct rte_rcu_qsbr *rcu;
	uid_t owner_uid;
	gid_t owner_gid;
	bool have_owner;
	volatile bool quit;
	uint64_t loops;
	uint64_t sleeps;
};

extern struct dp_ctx dp;

/* Lower-case xx:xx:xx:xx:xx:xx, as libvirt writes MACs. */
static inline void
dp_format_mac(char *buf, size_t len, const struct rte_ether_addr *mac)
{
	const uint8_t *b = mac->addr_bytes;

	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* dp-port.c: uplink (single port or active-backup bond) and the pool. */
int dp_port_init(void);
void dp_port_close(void);
/* Follow the bond's active uplink; true when it moved to another up
 * port and the claimed MACs must be announced on it. */
bool dp_port_poll_failover(void);
/* 0: MAC filter entry, 1: promiscuous mode, -1: error in @err. */
int dp_port_claim_mac(const struct rte_ether_addr *mac, char *err, size_t errlen);
void dp_port_release_mac(const struct rte_ether_addr *mac, bool promisc);

/* dp-vhost.c: one vhost-user socket per pair. */
int dp_vhost_start(struct dp_pair *p, char *err, size_t errlen);
void dp_vhost_stop(struct dp_pair *p);
int dp_vhost_owner_init(void);

/* dp-pair.c: the pair list and the table the worker reads. */
struct dp_pair *dp_pair_find(const char *name);
/* 0: added, 1: the identical pair existed already, -1: error in @err. */
int dp_pair_add(const char *name, const struct rte_ether_addr *mac,
		const char *socket, bool client, char *err, size_t errlen,
		struct dp_pair **out);
int dp_pair_del(const char *name, char *err, size_t errlen);
/* Entering virtio announces the MAC at once, unless !announce_now: then
 * only when the guest's virtio device starts (a migration destination
 * before the VM runs there). */
int dp_pair_set_state(const char *name, enum dp_pair_state state, bool announce_now,
		      bool relay, enum dp_pair_state *previous, char *err, size_t errlen);
void dp_pair_del_all(void);
void dp_pair_announce_all(void);
/* pair-announce: RARP/GARP rounds for one pair in any state. */
int dp_pair_announce(const char *name, char *err, size_t errlen);
const char *dp_pair_state_name(enum dp_pair_state state);

/* dp-rcu.c: wait for the worker's quiescent state (napping, not spinning). */
void dp_rcu_synchronize(void);

/* dp-fwd.c: the forwarding loop on the main lcore. */
int dp_fwd_loop(void);

/* dp-announce.c: RARP/GARP frames. */
unsigned int dp_announce_build(struct dp_pair *p, struct rte_mbuf **pkts,
			       unsigned int max);
void dp_announce_learn(struct dp_pair *p, const struct rte_mbuf *m);

/* dp-relay.c: frames reaching a migration's source after the VM stopped
 * there, sent on to the destination. */
#define DP_RELAY_ETHERTYPE 0x88B6
extern const struct rte_ether_addr dp_relay_group;
/* Checked on every frame from the uplink: inline, ethertype first. */
static inline bool
dp_relay_is_relayed(const struct rte_ether_hdr *eth)
{
	return eth->ether_type == RTE_BE16(DP_RELAY_ETHERTYPE) &&
	       rte_is_same_ether_addr(&eth->dst_addr, &dp_relay_group);
}
/* A new frame wrapping @m for the relay group, or NULL (counted). */
struct rte_mbuf *dp_relay_wrap(struct dp_pair *p, const struct rte_mbuf *m);
/* Strip the wrapping in place: 0, or -1 if @m is no valid relayed frame. */
int dp_relay_unwrap(struct rte_mbuf *m);

/* dp-ctl.c: the control socket on a control thread. */
int dp_ctl_start(void);
void dp_ctl_stop(void);

/* dp-telemetry.c: /vfailover/ commands for dpdk-telemetry.py. */
int dp_telemetry_register(void);

#endif
