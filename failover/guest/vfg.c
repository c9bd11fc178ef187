/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The vfg object: creation (discover, build, configure, start), the VF's
 * state ladder (ACTIVE -> ABSENT/RELEASED -> ACTIVE) and the public API.
 * Transitions run on the EAL interrupt thread (see vfg-event.c).
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "vfg-private.h"

RTE_LOG_REGISTER(vfg_logtype, vfailover.guest, INFO);

void
vfg_conf_init(struct vfg_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->mode = VFG_MODE_FAILSAFE;
	conf->hotplug_poll_ms = 100;
	conf->watch_ms = 10;
	conf->hotplug_events = 1;
	conf->raise_rmv = 1;
	conf->nb_rxd = 512;
	conf->nb_txd = 512;
}

const char *
vfg_path_name(enum vfg_path path)
{
	switch (path) {
	case VFG_PATH_VF: return "vf";
	case VFG_PATH_VIRTIO: return "virtio";
	default: return "none";
	}
}

const char *
vfg_vf_state_name(enum vfg_vf_state state)
{
	switch (state) {
	case VFG_VF_ACTIVE: return "active";
	case VFG_VF_RELEASED: return "released";
	default: return "absent";
	}
}

const char *
vfg_mode_name(enum vfg_mode mode)
{
	return mode == VFG_MODE_BONDING ? "bonding" : "failsafe";
}

static int
port_setup(struct vfg *vfg)
{
	struct rte_eth_conf conf;
	int socket = rte_socket_id();
	int ret;

	memset(&conf, 0, sizeof(conf));
	/* No LSC with failsafe: 22.11 forwards sub-device LSC events
	 * inverted (only when its link did NOT change). Bonding needs it:
	 * it passes intr_conf to its slaves and, for slaves that claim LSC
	 * interrupts (tap...), waits for their link-up event to activate
	 * them; it polls only slaves without LSC support. */
	conf.intr_conf.lsc = vfg->conf.mode == VFG_MODE_BONDING;
	ret = rte_eth_dev_configure(vfg->port_id, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(vfg->port_id, 0, vfg->conf.nb_rxd,
					     socket, NULL, vfg->conf.mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(vfg->port_id, 0, vfg->conf.nb_txd,
					     socket, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(vfg->port_id);
	if (ret != 0) {
		VFG_LOG(ERR, "Could not configure and start %s (%s).",
			vfg->name, rte_strerror(-ret));
		return ret;
	}
	/* virtio without a control queue refuses; the pair MAC is ours
	 * anyway, so this is best effort. */
	rte_eth_promiscuous_enable(vfg->port_id);
	return 0;
}

struct vfg *
vfg_create(const struct vfg_conf *conf)
{
	struct vfg *vfg;
	int ret;

	if (conf == NULL || conf->mp == NULL) {
		VFG_LOG(ERR, "vfg_create() needs a configuration with a mempool.");
		rte_errno = EINVAL;
		return NULL;
	}
	vfg = calloc(1, sizeof(*vfg));
	if (vfg == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	vfg->conf = *conf;
	vfg->port_id = VFG_NO_PORT;
	vfg->vf_port = VFG_NO_PORT;
	vfg->virtio_port = VFG_NO_PORT;
	vfg->pipe_rfd = vfg->pipe_wfd = -1;
	rte_spinlock_init(&vfg->lock);
	/* The devargs strings are copied: the caller's may not outlive us. */
	vfg->conf.vf_devargs = NULL;
	vfg->conf.virtio_devargs = NULL;
	if (conf->vf_devargs != NULL)
		vfg->conf.vf_devargs = strdup(conf->vf_devargs);
	if (conf->virtio_devargs != NULL)
		vfg->conf.virtio_devargs = strdup(conf->virtio_devargs);

	ret = vfg_discover(vfg);
	if (ret != 0)
		goto fail;
	if (conf->mode == VFG_MODE_BONDING)
		ret = vfg_bond_create(vfg);
	else
		ret = vfg_failsafe_create(vfg);
	if (ret != 0)
		goto fail;
	ret = port_setup(vfg);
	if (ret != 0)
		goto fail;
	/* A VF that vanished during configuration (failsafe never took it)
	 * leaves the port on virtio; the watcher takes it when it is back. */
	if (conf->mode == VFG_MODE_FAILSAFE && vfg_failsafe_start_vf(vfg) != 0)
		vfg->vf_port = VFG_NO_PORT;
	vfg->vf_state = vfg->vf_port != VFG_NO_PORT ?
		VFG_VF_ACTIVE : VFG_VF_ABSENT;
	vfg->tx_path = vfg->vf_port != VFG_NO_PORT ?
		VFG_PATH_VF : VFG_PATH_VIRTIO;
	ret = vfg_events_start(vfg);
	if (ret != 0)
		goto fail;
	{
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &vfg->mac);
		VFG_LOG(INFO, "Port %u (%s, %s) runs over VF %s and virtio %s, MAC %s; TX on %s.",
			vfg->port_id, vfg->name, vfg_mode_name(conf->mode),
			vfg->vf_port != VFG_NO_PORT ? vfg->vf_name : "(none yet)",
			vfg->virtio_name, mac, vfg_path_name(vfg->tx_path));
	}
	return vfg;
fail:
	vfg_destroy(vfg);
	rte_errno = -ret;
	return NULL;
}

uint16_t
vfg_port(const struct vfg *vfg)
{
	return vfg->port_id;
}

void
vfg_vf_gone(struct vfg *vfg, const char *why, int planned)
{
	if (vfg->vf_state != VFG_VF_ACTIVE || vfg->vf_port == VFG_NO_PORT)
		return;
	if (!vfg->conf.raise_rmv) {
		VFG_LOG(WARNING, "VF %s left (%s); stock behaviour asked: not switching.",
			vfg->vf_name, why);
		return;
	}
	VFG_LOG(INFO, "VF %s left (%s): TX moves to virtio %s.", vfg->vf_name,
		why, vfg->virtio_name);
	if (vfg->conf.mode == VFG_MODE_BONDING)
		vfg_bond_release_vf(vfg);
	else
		vfg_failsafe_release_vf(vfg);
	vfg->tx_path = VFG_PATH_VIRTIO;
	vfg->last_switch_tsc = rte_rdtsc();
	vfg->vf_port = VFG_NO_PORT;
	vfg->removals++;
	vfg->rejected = 0;
	/* A VF that left by link-down is still there: give failsafe time to
	 * detach it before the watcher offers it again. */
	vfg->next_probe_tsc = rte_rdtsc() + rte_get_tsc_hz() / 1000 *
		(2 * (uint64_t)vfg->conf.hotplug_poll_ms + 10);
	vfg->vf_state = planned ? VFG_VF_RELEASED : VFG_VF_ABSENT;
}

int
vfg_offer_now(struct vfg *vfg, const char *devargs)
{
	char name[VFG_NAME_MAX];
	char want[RTE_ETHER_ADDR_FMT_SIZE], got[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_eth_dev_owner owner;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	const char *da = devargs ? devargs : vfg->vf_devargs;
	uint16_t port;
	int probed_here = 0;
	int ret;

	if (vfg->vf_state == VFG_VF_ACTIVE)
		return -EALREADY;
	if (da == NULL || da[0] == '\0')
		return -ENODEV;
	if (vfg->vf_state == VFG_VF_RELEASED && devargs == NULL)
		return -EBUSY;
	ret = vfg_devargs_devname(da, name, sizeof(name));
	if (ret != 0) {
		VFG_LOG(ERR, "VF device arguments '%s' do not parse.", da);
		return ret;
	}
	if (vfg_port_by_devname(name, &port) == 0) {
		/* Still owned: failsafe has not finished detaching it. */
		if (rte_eth_dev_owner_get(port, &owner) == 0 &&
		    owner.id != RTE_ETH_DEV_NO_OWNER)
			return -EBUSY;
	} else {
		ret = vfg_probe_devargs(da, &port);
		if (ret != 0) {
			VFG_LOG(WARNING, "VF candidate %s failed to probe (%s); staying on virtio %s.",
				da, rte_strerror(-ret), vfg->virtio_name);
			return ret;
		}
		probed_here = 1;
	}
	rte_ether_format_addr(want, sizeof(want), &vfg->mac);
	if (rte_eth_macaddr_get(port, &mac) != 0 ||
	    !rte_is_same_ether_addr(&mac, &vfg->mac)) {
		rte_ether_format_addr(got, sizeof(got), &mac);
		VFG_LOG(WARNING, "Device %s carries MAC %s, not the pair's MAC %s: not taking it as the VF.",
			name, got, want);
		if (probed_here && rte_eth_dev_info_get(port, &info) == 0) {
			rte_eth_dev_close(port);
			rte_dev_remove(info.device);
		}
		vfg->rejected = 1;
		return -EINVAL;
	}
	if (!vfg_is_vf_candidate(port)) {
		VFG_LOG(WARNING, "Device %s has the pair's MAC but is not a VF candidate.", name);
		vfg->rejected = 1;
		return -EINVAL;
	}
	/* Do not move TX to a VF whose link is known down. */
	if (rte_eth_link_get_nowait(port, &link) == 0 &&
	    link.link_status == RTE_ETH_LINK_DOWN && vfg->removals > 0 &&
	    !probed_here)
		return -EAGAIN;
	if (devargs != NULL)
		snprintf(vfg->vf_devargs, sizeof(vfg->vf_devargs), "%s", devargs);
	snprintf(vfg->vf_name, sizeof(vfg->vf_name), "%s", name);
	vfg->vf_port = port;
	if (vfg->conf.mode == VFG_MODE_BONDING)
		ret = vfg_bond_attach_vf(vfg);
	else
		ret = vfg_failsafe_attach_vf(vfg);
	if (ret != 0) {
		vfg->vf_port = VFG_NO_PORT;
		return ret;
	}
	vfg->vf_state = VFG_VF_ACTIVE;
	vfg->link_seen_up = 0;
	vfg->tx_path = VFG_PATH_VF;
	vfg->last_switch_tsc = rte_rdtsc();
	vfg->returns++;
	VFG_LOG(INFO, "VF %s (MAC %s) is back: TX returns to it%s.", name, want,
		vfg->conf.mode == VFG_MODE_FAILSAFE ?
		" at failsafe's next hotplug poll" : "");
	return 0;
}

void
vfg_status_get(struct vfg *vfg, struct vfg_status *st)
{
	struct rte_eth_dev_owner owner;

	memset(st, 0, sizeof(*st));
	st->tx_path = vfg->tx_path;
	/* Handed over but not yet taken by failsafe: TX is still on virtio. */
	if (vfg->conf.mode == VFG_MODE_FAILSAFE && st->tx_path == VFG_PATH_VF &&
	    (vfg->vf_port == VFG_NO_PORT ||
	     rte_eth_dev_owner_get(vfg->vf_port, &owner) != 0 ||
	     owner.id == RTE_ETH_DEV_NO_OWNER))
		st->tx_path = VFG_PATH_VIRTIO;
	st->vf_state = vfg->vf_state;
	st->port_id = vfg->port_id;
	st->vf_port = vfg->vf_port;
	st->virtio_port = vfg->virtio_port;
	snprintf(st->vf_name, sizeof(st->vf_name), "%s", vfg->vf_name);
	snprintf(st->virtio_name, sizeof(st->virtio_name), "%s",
		 vfg->virtio_name);
	if (vfg->conf.mode == VFG_MODE_BONDING)
		st->tx_path = vfg_bond_tx_path(vfg);
	st->mac = vfg->mac;
	st->removals = vfg->removals;
	st->returns = vfg->returns;
	st->last_switch_tsc = vfg->last_switch_tsc;
}

int
vfg_prepare_unplug(struct vfg *vfg)
{
	if (vfg->vf_state != VFG_VF_ACTIVE)
		return -ENODEV;
	vfg_request(vfg, VFG_REQ_PREPARE, NULL);
	return 0;
}

int
vfg_cancel_unplug(struct vfg *vfg)
{
	/* Released, or already detached by failsafe: take it back. */
	if (vfg->vf_state == VFG_VF_ACTIVE || vfg->vf_devargs[0] == '\0')
		return -EINVAL;
	vfg_request(vfg, VFG_REQ_CANCEL, NULL);
	return 0;
}

int
vfg_vf_removed(struct vfg *vfg)
{
	if (vfg->vf_state != VFG_VF_ACTIVE)
		return -ENODEV;
	vfg_request(vfg, VFG_REQ_REMOVED, NULL);
	return 0;
}

int
vfg_vf_offer(struct vfg *vfg, const char *devargs)
{
	if (devargs != NULL && strlen(devargs) >= VFG_DEVARGS_MAX)
		return -ENAMETOOLONG;
	vfg_request(vfg, VFG_REQ_OFFER, devargs);
	return 0;
}

uint16_t
vfg_tx_burst(struct vfg *vfg, uint16_t queue, struct rte_mbuf **pkts,
	     uint16_t nb, unsigned int budget_us)
{
	uint64_t now, give_up;
	uint16_t sent;

	sent = rte_eth_tx_burst(vfg->port_id, queue, pkts, nb);
	if (likely(sent == nb))
		return sent;
	now = rte_rdtsc();
	give_up = now + rte_get_tsc_hz() / 1000000 * budget_us;
	do {
		/* Refused frames: a full ring, or a VF that is gone. Have
		 * the interrupt thread look now (at most every 100 us). */
		if (vfg->vf_state == VFG_VF_ACTIVE && vfg->conf.raise_rmv &&
		    now >= vfg->next_kick_tsc) {
			vfg->next_kick_tsc = now + rte_get_tsc_hz() / 10000;
			vfg_request(vfg, VFG_REQ_CHECK, NULL);
		}
		rte_pause();
		sent += rte_eth_tx_burst(vfg->port_id, queue, pkts + sent,
					 nb - sent);
		now = rte_rdtsc();
	} while (sent < nb && now < give_up);
	return sent;
}

void
vfg_destroy(struct vfg *vfg)
{
	if (vfg == NULL)
		return;
	vfg_events_stop(vfg);
	if (vfg->conf.mode == VFG_MODE_BONDING)
		vfg_bond_destroy(vfg);
	else
		vfg_failsafe_destroy(vfg);
	free((char *)(uintptr_t)vfg->conf.vf_devargs);
	free((char *)(uintptr_t)vfg->conf.virtio_devargs);
	free(vfg);
}
