/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The net_failsafe flavour of the vfg port: sub-device 0 (preferred) is
 * the VF, fed through failsafe's fd() syntax so that any VF with the
 * pair's MAC can be handed over after migration, whatever its PCI
 * address; sub-device 1 is the virtio-net device (failsafe takes control
 * of both already-probed ports). net_failsafe takes at most 2 sub-devices.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "vfg-private.h"

static unsigned int failsafe_count;

static int
pipe_offer(struct vfg *vfg, const char *devname)
{
	char line[VFG_DEVARGS_MAX + 1];
	int len;

	len = snprintf(line, sizeof(line), "%s\n", devname);
	if (len <= 0 || (size_t)len >= sizeof(line))
		return -ENAMETOOLONG;
	if (write(vfg->pipe_wfd, line, len) != len) {
		VFG_LOG(ERR, "Could not hand VF %s to %s: %s.", devname,
			vfg->name, strerror(errno));
		return -EIO;
	}
	return 0;
}

int
vfg_failsafe_create(struct vfg *vfg)
{
	char devargs[2 * VFG_DEVARGS_MAX];
	int fds[2];
	int ret;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		ret = -errno;
		VFG_LOG(ERR, "Could not create the VF hand-over pipe: %s.",
			strerror(errno));
		return ret;
	}
	vfg->pipe_rfd = fds[0];
	vfg->pipe_wfd = fds[1];
	/* Writes never block the interrupt thread; failsafe reads only the
	 * last line anyway. */
	fcntl(vfg->pipe_wfd, F_SETFL, fcntl(vfg->pipe_wfd, F_GETFL) | O_NONBLOCK);

	/* The VF slot stays empty until the port has started: see
	 * vfg_failsafe_start_vf(). */
	snprintf(vfg->name, sizeof(vfg->name), "net_failsafe_vfg%u",
		 failsafe_count++);
	ret = snprintf(devargs, sizeof(devargs),
		       "%s,hotplug_poll=%u,fd(%d),dev(%s)", vfg->name,
		       vfg->conf.hotplug_poll_ms, vfg->pipe_rfd,
		       vfg->virtio_name);
	if (ret < 0 || (size_t)ret >= sizeof(devargs))
		return -ENAMETOOLONG;
	VFG_LOG(DEBUG, "Probing %s.", devargs);
	ret = rte_dev_probe(devargs);
	if (ret != 0) {
		VFG_LOG(ERR, "Could not create %s over VF %s and virtio %s (%s).",
			vfg->name, vfg->vf_name[0] ? vfg->vf_name : "(none)",
			vfg->virtio_name, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_get_port_by_name(vfg->name, &vfg->port_id);
	if (ret != 0) {
		VFG_LOG(ERR, "%s probed but has no port.", vfg->name);
		return -ENODEV;
	}
	return 0;
}

/*
 * Called once the vfg port has started. DPDK 22.11's rte_eth_dev_start()
 * copies the port's burst functions into rte_eth_fp_ops, and failsafe's
 * later switches between its "fast" and "safe" bursts only change
 * dev->rx_pkt_burst, which rte_eth_rx_burst() no longer reads: a port
 * started with both sub-devices up keeps the fast bursts forever and
 * crashes when a sub-device is removed. Started with the VF slot empty,
 * the port gets the safe bursts (they skip sub-devices being removed),
 * and keeps them. Then we hand the VF over and wait for failsafe to take
 * it (its next hotplug alarm).
 */
int
vfg_failsafe_start_vf(struct vfg *vfg)
{
	struct rte_eth_dev_owner owner;
	uint64_t deadline;
	int ret;

	if (vfg->vf_port == VFG_NO_PORT)
		return 0;
	ret = vfg_failsafe_attach_vf(vfg);
	if (ret != 0)
		return ret;
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 *
		(3 * (uint64_t)vfg->conf.hotplug_poll_ms + 1000);
	while (rte_get_timer_cycles() < deadline) {
		if (rte_eth_dev_owner_get(vfg->vf_port, &owner) == 0 &&
		    owner.id != RTE_ETH_DEV_NO_OWNER)
			return 0;
		rte_delay_us_sleep(10000);
	}
	VFG_LOG(WARNING, "%s did not take VF %s: running on virtio %s until it does.",
		vfg->name, vfg->vf_name, vfg->virtio_name);
	return -ETIMEDOUT;
}

int
vfg_failsafe_release_vf(struct vfg *vfg)
{
	if (!vfg->conf.raise_rmv)
		return 0;
	/* failsafe's callback switches TX at once and marks the VF for
	 * removal; its next hotplug alarm detaches it from the bus. */
	return vfg_raise_rmv(vfg->vf_port);
}

int
vfg_failsafe_attach_vf(struct vfg *vfg)
{
	struct rte_eth_link link;

	if (vfg->conf.raise_rmv)
		vfg_mark_rmv_capable(vfg->vf_port);
	/* Refresh the VF's recorded link: failsafe compares it with its own
	 * and calls rte_eth_dev_set_link_up() on a mismatch, which most VF
	 * PMDs do not implement (the hand-over would then fail). */
	rte_eth_link_get_nowait(vfg->vf_port, &link);
	/* failsafe takes it at its next hotplug alarm, configures, starts
	 * it and moves TX to it (sub-device 0 is preferred). */
	return pipe_offer(vfg, vfg->vf_name);
}

void
vfg_failsafe_destroy(struct vfg *vfg)
{
	struct rte_eth_dev_info info;

	if (vfg->port_id != VFG_NO_PORT &&
	    rte_eth_dev_info_get(vfg->port_id, &info) == 0) {
		rte_eth_dev_stop(vfg->port_id);
		rte_eth_dev_close(vfg->port_id);
		rte_dev_remove(info.device);
	}
	if (vfg->pipe_wfd >= 0)
		close(vfg->pipe_wfd);
	if (vfg->pipe_rfd >= 0)
		close(vfg->pipe_rfd);
	vfg->pipe_rfd = vfg->pipe_wfd = -1;
}
