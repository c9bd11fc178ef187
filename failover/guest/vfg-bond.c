/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The net_bonding mode 1 (active-backup) flavour of the vfg port: the VF
 * is the primary slave, virtio the backup. Bonding switches on link down
 * by itself (it polls slaves without LSC interrupts every
 * link_monitoring ms) but knows nothing of hot-unplug: we remove the VF
 * slave before the device goes, and add the returning VF back as primary.
 * Bonding gives every slave the primary's MAC: a virtio-user slave needs
 * mac= so it accepts it.
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_eth_bond.h>
#include <rte_ethdev.h>

#include "vfg-private.h"

static unsigned int bond_count;

/* Grace period before closing a slave the worker lcore may still be
 * bursting on (bonding reads its slave list without locks). */
#define VFG_BOND_GRACE_US 100000


static void
detach_later(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) != 0)
		return;
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (info.device != NULL)
		rte_dev_remove(info.device);
}

int
vfg_bond_create(struct vfg *vfg)
{
	int ret;

	snprintf(vfg->name, sizeof(vfg->name), "net_bonding_vfg%u",
		 bond_count++);
	ret = rte_eth_bond_create(vfg->name, BONDING_MODE_ACTIVE_BACKUP,
				  rte_socket_id());
	if (ret < 0) {
		VFG_LOG(ERR, "Could not create %s (%s).", vfg->name,
			rte_strerror(-ret));
		return ret;
	}
	vfg->port_id = (uint16_t)ret;
	if (vfg->vf_port != VFG_NO_PORT) {
		ret = rte_eth_bond_slave_add(vfg->port_id, vfg->vf_port);
		if (ret != 0) {
			VFG_LOG(WARNING, "%s refused VF %s as a slave: running on virtio %s.",
				vfg->name, vfg->vf_name, vfg->virtio_name);
			vfg->vf_port = VFG_NO_PORT;
		}
	}
	ret = rte_eth_bond_slave_add(vfg->port_id, vfg->virtio_port);
	if (ret != 0) {
		VFG_LOG(ERR, "%s refused virtio %s as a slave.", vfg->name,
			vfg->virtio_name);
		return ret;
	}
	if (vfg->vf_port != VFG_NO_PORT)
		rte_eth_bond_primary_set(vfg->port_id, vfg->vf_port);
	else
		rte_eth_bond_primary_set(vfg->port_id, vfg->virtio_port);
	if (vfg->conf.watch_ms > 0)
		rte_eth_bond_link_monitoring_set(vfg->port_id,
						 vfg->conf.watch_ms);
	return 0;
}

int
vfg_bond_release_vf(struct vfg *vfg)
{
	uint16_t vf = vfg->vf_port;
	int ret;

	if (!vfg->conf.raise_rmv)
		return 0;
	/* Make the backup active first, then drop the VF slave. */
	rte_eth_bond_primary_set(vfg->port_id, vfg->virtio_port);
	ret = rte_eth_bond_slave_remove(vfg->port_id, vf);
	if (ret != 0) {
		VFG_LOG(ERR, "%s could not drop VF %s (%s).", vfg->name,
			vfg->vf_name, rte_strerror(-ret));
		return ret;
	}
	rte_eal_alarm_set(VFG_BOND_GRACE_US, detach_later,
			  (void *)(uintptr_t)vf);
	return 0;
}

int
vfg_bond_attach_vf(struct vfg *vfg)
{
	int ret;

	ret = rte_eth_bond_slave_add(vfg->port_id, vfg->vf_port);
	if (ret != 0) {
		VFG_LOG(ERR, "%s refused VF %s as a slave (%s).", vfg->name,
			vfg->vf_name, rte_strerror(-ret));
		return ret;
	}
	return rte_eth_bond_primary_set(vfg->port_id, vfg->vf_port);
}

/* Mode 1 transmits on the primary when it is active, else on the first
 * active slave. */
enum vfg_path
vfg_bond_tx_path(struct vfg *vfg)
{
	uint16_t active[RTE_MAX_ETHPORTS];
	int primary, n, i;
	uint16_t tx;

	n = rte_eth_bond_active_slaves_get(vfg->port_id, active,
					   RTE_MAX_ETHPORTS);
	if (n <= 0)
		return VFG_PATH_NONE;
	primary = rte_eth_bond_primary_get(vfg->port_id);
	tx = active[0];
	for (i = 0; i < n; i++)
		if (active[i] == primary)
			tx = active[i];
	if (tx == vfg->virtio_port)
		return VFG_PATH_VIRTIO;
	return VFG_PATH_VF;
}

void
vfg_bond_destroy(struct vfg *vfg)
{
	if (vfg->port_id == VFG_NO_PORT)
		return;
	rte_eth_dev_stop(vfg->port_id);
	rte_eth_bond_free(vfg->name);
}
