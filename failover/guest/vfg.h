/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vfg: the DPDK-guest side of a vfailover pair. A guest VM sees two NICs
 * with the same MAC: a VF (fast path, hot-unplugged around live migration)
 * and a virtio-net device (fallback path). vfg finds the two among the
 * probed ethdevs, builds one ethdev over them (net_failsafe with the VF
 * preferred, or net_bonding mode 1) and turns the VF's hot-unplug into an
 * immediate TX switch to virtio, and its return into a switch back.
 *
 * Threading: vfg_create()/vfg_destroy() run on the main lcore before/after
 * the forwarding loop. vfg_prepare_unplug(), vfg_cancel_unplug(),
 * vfg_vf_offer() and vfg_vf_removed() may be called from any thread: they
 * queue the work to the EAL interrupt thread, where failsafe's own hotplug
 * alarm runs too, so the two never race.
 */
#ifndef VFG_H
#define VFG_H

#include <stdint.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vfg_mode {
	VFG_MODE_FAILSAFE = 0, /* net_failsafe, VF preferred (default) */
	VFG_MODE_BONDING,      /* net_bonding mode 1 (active-backup), VF primary */
};

/* Which sub-device carries the TX traffic of the vfg port. */
enum vfg_path {
	VFG_PATH_NONE = 0,
	VFG_PATH_VF,
	VFG_PATH_VIRTIO,
};

/* What happens to the VF, as vfg sees it. */
enum vfg_vf_state {
	VFG_VF_ABSENT = 0, /* no VF: traffic on virtio, waiting for one */
	VFG_VF_ACTIVE,     /* VF attached under the vfg port */
	VFG_VF_RELEASED,   /* prepare-unplug done: waiting for it to vanish */
};

struct vfg_conf {
	enum vfg_mode mode;
	/* Explicit devargs ("0000:00:05.0", "net_af_packet0,iface=x"...);
	 * NULL: discover among the probed ethdevs by MAC. */
	const char *vf_devargs;
	const char *virtio_devargs;
	/* The pair's MAC; all zero: take it from the virtio device. */
	struct rte_ether_addr mac;
	/* net_failsafe hotplug_poll (ms): how soon a returned VF is
	 * attached and a removed one detached. Default 100. */
	uint32_t hotplug_poll_ms;
	/* Period (ms) of the VF watcher (link down, netdev gone, device
	 * back); 0 disables it (stock behaviour). Default 10. */
	uint32_t watch_ms;
	/* Enable EAL hotplug handling: rte_dev_event_monitor_start(),
	 * rte_dev_hotplug_handle_enable() and a device event callback that
	 * raises RTE_ETH_EVENT_INTR_RMV on the VF. Default 1. */
	int hotplug_events;
	/* Raise RTE_ETH_EVENT_INTR_RMV on the VF sub-device when it goes
	 * (the stock PMDs never do). 0 = stock failsafe. Default 1. */
	int raise_rmv;
	uint16_t nb_rxd;
	uint16_t nb_txd;
	struct rte_mempool *mp; /* required */
};

struct vfg_status {
	enum vfg_path tx_path;
	enum vfg_vf_state vf_state;
	uint16_t port_id;        /* the vfg port */
	uint16_t vf_port;        /* RTE_MAX_ETHPORTS when absent */
	uint16_t virtio_port;
	char vf_name[64];        /* device name of the (last) VF */
	char virtio_name[64];
	struct rte_ether_addr mac;
	uint64_t removals;       /* VF removals handled */
	uint64_t returns;        /* VF returns handled */
	uint64_t last_switch_tsc; /* rte_rdtsc() of the last TX switch */
};

struct vfg;

/* Fill conf with the defaults documented above. */
void vfg_conf_init(struct vfg_conf *conf);

/* Discover the pair, build, configure (1 RX + 1 TX queue) and start the
 * vfg port. On error: NULL, rte_errno set, one line logged naming the
 * cause. A VF that is missing or fails to probe is not an error: the port
 * runs on virtio and takes the VF when one with the pair's MAC appears. */
struct vfg *vfg_create(const struct vfg_conf *conf);

/* The single ethdev port the application forwards on. */
uint16_t vfg_port(const struct vfg *vfg);

void vfg_status_get(struct vfg *vfg, struct vfg_status *st);

/* Make-before-break: move TX to virtio now and release the VF so the
 * host can unplug it. Returns 0, or -ENODEV when there is no VF. */
int vfg_prepare_unplug(struct vfg *vfg);

/* Migration rolled back: take the released VF back (probing it again if
 * failsafe already detached it). -EINVAL if the VF is active or unknown. */
int vfg_cancel_unplug(struct vfg *vfg);

/* Surprise removal seen elsewhere (e.g. by an orchestrator agent):
 * handled exactly like the EAL device-removal event. */
int vfg_vf_removed(struct vfg *vfg);

/* A device appeared (after migration): if devargs names a device whose
 * MAC is the pair's, attach it as the VF. NULL: retry the last VF. */
int vfg_vf_offer(struct vfg *vfg, const char *devargs);

/* rte_eth_tx_burst() on the vfg port, made for the surprise removal: when
 * the TX sub-device refuses frames, the VF is checked at once (not at the
 * next watcher tick) and, once TX has moved to virtio, the refused frames
 * go there. Tries for at most budget_us; returns how many were sent (the
 * caller frees the rest, as with rte_eth_tx_burst()). Worker lcore only. */
uint16_t vfg_tx_burst(struct vfg *vfg, uint16_t queue,
		struct rte_mbuf **pkts, uint16_t nb, unsigned int budget_us);

/* Stop and close the vfg port and its sub-devices. NULL is fine. */
void vfg_destroy(struct vfg *vfg);

const char *vfg_path_name(enum vfg_path path);
const char *vfg_vf_state_name(enum vfg_vf_state state);
const char *vfg_mode_name(enum vfg_mode mode);

#ifdef __cplusplus
}
#endif

#endif /* VFG_H */
