/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Turning the VF's departure into RTE_ETH_EVENT_INTR_RMV, which is the
 * only thing net_failsafe switches TX on, and noticing its return.
 *
 * Sources of "the VF is going": the EAL device event (a PCI remove uevent
 * once rte_dev_event_monitor_start() runs; the vfio request notifier,
 * which the PCI bus turns into the same RTE_DEV_EVENT_REMOVE), the
 * watcher below (device gone from sysfs, backing netdev gone, link down
 * after having been up), and the API (prepare-unplug, vf-removed).
 *
 * DPDK 22.11 leaves two gaps that we fill without patching it:
 * - failsafe registers its RMV callback on a sub-device only if that
 *   sub-device's dev_flags has RTE_ETH_DEV_INTR_RMV, which only a few
 *   PCI PMDs set (not iavf/ixgbevf, virtio, tap, af_packet): we set it.
 * - no stock PMD here raises RMV: we raise it with
 *   rte_eth_dev_callback_process(), which 22.11 exports only to drivers
 *   (symbol version INTERNAL, header ethdev_driver.h not installed).
 */
#include <config.h>
#include <errno.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "vfg-private.h"

/* From ethdev_driver.h (DPDK 22.11, version INTERNAL); the struct stays
 * opaque to us. */
struct rte_eth_dev;
struct rte_eth_dev *rte_eth_dev_allocated(const char *name);
int rte_eth_dev_callback_process(struct rte_eth_dev *dev,
		enum rte_eth_event_type event, void *ret_param);

int
vfg_mark_rmv_capable(uint16_t port)
{
	struct rte_eth_dev_info info;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	/* dev_info.dev_flags points at the port's own rte_eth_dev_data
	 * flags (documented in rte_ethdev.h); failsafe reads them when it
	 * configures the sub-device. The sub-PMD ignores intr_conf.rmv. */
	*(uint32_t *)(uintptr_t)info.dev_flags |= RTE_ETH_DEV_INTR_RMV;
	return 0;
}

int
vfg_raise_rmv(uint16_t port)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	struct rte_eth_dev *dev;

	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		return -ENODEV;
	dev = rte_eth_dev_allocated(name);
	if (dev == NULL)
		return -ENODEV;
	rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_RMV, NULL);
	return 0;
}

static uint64_t
ms_to_tsc(uint64_t ms)
{
	return rte_get_tsc_hz() / 1000 * ms;
}

/* The VF is attached: is it still there? */
static const char *
vf_gone_reason(struct vfg *vfg)
{
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];

	if (vfg->vf_port == VFG_NO_PORT)
		return NULL;
	if (!rte_eth_dev_is_valid_port(vfg->vf_port) ||
	    rte_eth_dev_get_name_by_port(vfg->vf_port, name) != 0 ||
	    strcmp(name, vfg->vf_name) != 0)
		return "its port vanished";
	if (!vfg_devargs_present(vfg->vf_devargs))
		return "the device is gone";
	if (rte_eth_link_get_nowait(vfg->vf_port, &link) == 0) {
		if (link.link_status == RTE_ETH_LINK_UP)
			vfg->link_seen_up = 1;
		else if (vfg->link_seen_up)
			return "its link went down";
	}
	return NULL;
}

static void watch(struct vfg *vfg);

static void
serve_requests(struct vfg *vfg)
{
	char devargs[VFG_DEVARGS_MAX] = "";
	uint32_t req;

	rte_spinlock_lock(&vfg->lock);
	req = vfg->req;
	vfg->req = 0;
	if (req & VFG_REQ_OFFER)
		memcpy(devargs, vfg->offer_devargs, sizeof(devargs));
	rte_spinlock_unlock(&vfg->lock);

	if (req & VFG_REQ_PREPARE)
		vfg_vf_gone(vfg, "prepare-unplug was requested", 1);
	if (req & VFG_REQ_REMOVED) {
		/* Through EAL's device-event dispatch when we listen to it,
		 * as a PCI remove uevent or a vfio request would come. */
		if (vfg->dev_cb_registered)
			rte_dev_event_callback_process(vfg->vf_name,
						       RTE_DEV_EVENT_REMOVE);
		vfg_vf_gone(vfg, "its removal was reported", 0);
	}
	if (req & VFG_REQ_CANCEL) {
		if (vfg->vf_state != VFG_VF_ACTIVE) {
			/* Take the same VF back as soon as failsafe has let
			 * it go, whether or not the watcher can see it. */
			vfg->vf_state = VFG_VF_ABSENT;
			vfg->rejected = 0;
			snprintf(vfg->pending, sizeof(vfg->pending), "%s",
				 vfg->vf_devargs);
			vfg->pending_deadline = rte_rdtsc() + ms_to_tsc(10000);
			vfg->next_probe_tsc = 0;
		}
	}
	if (req & VFG_REQ_OFFER)
		vfg_offer_now(vfg, devargs[0] ? devargs : NULL);
	if ((req & VFG_REQ_CHECK) && vfg->vf_state == VFG_VF_ACTIVE)
		watch(vfg);
}

static void
watch(struct vfg *vfg)
{
	const char *why;
	int present;

	switch (vfg->vf_state) {
	case VFG_VF_ACTIVE:
		why = vf_gone_reason(vfg);
		if (why != NULL)
			vfg_vf_gone(vfg, why, 0);
		break;
	case VFG_VF_RELEASED:
		/* Wait until the host really took it away. */
		if (vfg->vf_devargs[0] != '\0' &&
		    !vfg_devargs_present(vfg->vf_devargs)) {
			VFG_LOG(INFO, "The released VF %s is gone; waiting for a VF with the pair's MAC.",
				vfg->vf_name);
			vfg->vf_state = VFG_VF_ABSENT;
			vfg->rejected = 0;
		}
		break;
	case VFG_VF_ABSENT:
		if (vfg->pending[0] != '\0' && rte_rdtsc() >= vfg->next_probe_tsc) {
			int ret = vfg_offer_now(vfg, vfg->pending);

			if (ret == 0 || ret == -EINVAL ||
			    rte_rdtsc() > vfg->pending_deadline)
				vfg->pending[0] = '\0';
			else if (ret == -EBUSY) /* failsafe still detaching it */
				vfg->next_probe_tsc = rte_rdtsc() +
					ms_to_tsc(vfg->conf.hotplug_poll_ms);
			else
				vfg->next_probe_tsc = rte_rdtsc() + ms_to_tsc(1000);
			break;
		}
		if (vfg->vf_devargs[0] == '\0')
			break;
		present = vfg_devargs_present(vfg->vf_devargs);
		if (!present) {
			vfg->rejected = 0;
			break;
		}
		if (vfg->rejected || rte_rdtsc() < vfg->next_probe_tsc)
			break;
		if (vfg_offer_now(vfg, NULL) != 0)
			vfg->next_probe_tsc = rte_rdtsc() + ms_to_tsc(1000);
		break;
	}
}

static void
tick(void *arg)
{
	struct vfg *vfg = arg;

	if (vfg->stopping)
		return;
	serve_requests(vfg);
	if (vfg->conf.watch_ms > 0)
		watch(vfg);
	if (vfg->conf.watch_ms > 0 &&
	    rte_eal_alarm_set((uint64_t)vfg->conf.watch_ms * 1000, tick, vfg) == 0)
		vfg->watch_armed = 1;
	else
		vfg->watch_armed = 0;
}

static void
kick(void *arg)
{
	struct vfg *vfg = arg;

	if (!vfg->stopping)
		serve_requests(vfg);
}

void
vfg_request(struct vfg *vfg, uint32_t req, const char *devargs)
{
	rte_spinlock_lock(&vfg->lock);
	vfg->req |= req;
	if (req & VFG_REQ_OFFER)
		snprintf(vfg->offer_devargs, sizeof(vfg->offer_devargs), "%s",
			 devargs ? devargs : "");
	rte_spinlock_unlock(&vfg->lock);
	/* Served right away on the interrupt thread, not at the next tick. */
	rte_eal_alarm_set(1, kick, vfg);
}

static void
dev_event(const char *device_name, enum rte_dev_event_type event, void *arg)
{
	struct vfg *vfg = arg;

	if (vfg->stopping || device_name == NULL)
		return;
	switch (event) {
	case RTE_DEV_EVENT_REMOVE:
		if (vfg->vf_state == VFG_VF_ACTIVE &&
		    strcmp(device_name, vfg->vf_name) == 0)
			vfg_vf_gone(vfg, "the device removal event arrived", 0);
		break;
	case RTE_DEV_EVENT_ADD:
		/* A new PCI function: maybe the VF after migration. It may
		 * still be bound to a kernel driver: the watcher retries. */
		if (vfg->vf_state == VFG_VF_ABSENT) {
			int ret;

			VFG_LOG(INFO, "Device %s appeared; checking whether it is the pair's VF.",
				device_name);
			ret = vfg_offer_now(vfg, device_name);
			if (ret != 0 && ret != -EINVAL) {
				snprintf(vfg->pending, sizeof(vfg->pending), "%s",
					 device_name);
				vfg->pending_deadline = rte_rdtsc() + ms_to_tsc(10000);
			}
		}
		break;
	default:
		break;
	}
}

/* A port failsafe probed by itself (a VF it re-found by name): flag it
 * before failsafe configures it, so failsafe listens for its RMV. */
static int
new_port(uint16_t port, enum rte_eth_event_type event, void *arg, void *out)
{
	struct vfg *vfg = arg;
	char name[RTE_ETH_NAME_MAX_LEN];

	(void)event;
	(void)out;
	if (!vfg->stopping && vfg->conf.raise_rmv &&
	    rte_eth_dev_get_name_by_port(port, name) == 0 &&
	    strcmp(name, vfg->vf_name) == 0)
		vfg_mark_rmv_capable(port);
	return 0;
}

int
vfg_events_start(struct vfg *vfg)
{
	int ret;

	if (rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_NEW,
					  new_port, vfg) == 0)
		vfg->new_cb_registered = 1;

	if (vfg->conf.hotplug_events) {
		ret = rte_dev_event_callback_register(NULL, dev_event, vfg);
		if (ret == 0)
			vfg->dev_cb_registered = 1;
		else
			VFG_LOG(WARNING, "Could not register the device event callback (%s).",
				rte_strerror(-ret));
		ret = rte_dev_hotplug_handle_enable();
		if (ret != 0)
			VFG_LOG(WARNING, "Could not enable EAL hotplug handling (%s).",
				rte_strerror(-ret));
		ret = rte_dev_event_monitor_start();
		if (ret == 0)
			vfg->monitor_started = 1;
		else
			VFG_LOG(WARNING, "Could not start the device event monitor: PCI hot-unplug is seen only through the vfio request notifier and the watcher.");
	}
	if (vfg->conf.watch_ms > 0) {
		ret = rte_eal_alarm_set((uint64_t)vfg->conf.watch_ms * 1000,
					tick, vfg);
		if (ret != 0) {
			VFG_LOG(ERR, "Could not arm the VF watcher (%s).",
				rte_strerror(-ret));
			return ret;
		}
		vfg->watch_armed = 1;
	}
	return 0;
}

void
vfg_events_stop(struct vfg *vfg)
{
	vfg->stopping = 1;
	rte_eal_alarm_cancel(tick, vfg);
	rte_eal_alarm_cancel(kick, vfg);
	if (vfg->new_cb_registered)
		rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_NEW,
						new_port, vfg);
	if (vfg->dev_cb_registered)
		rte_dev_event_callback_unregister(NULL, dev_event, vfg);
	if (vfg->monitor_started) {
		rte_dev_event_monitor_stop();
		rte_dev_hotplug_handle_disable();
	}
}
