/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Finding the pair: which probed ethdev is the virtio-net device, which is
 * the VF carrying the same MAC, or probing the ones named explicitly.
 */
#include <config.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>

#include "vfg-private.h"

static const char *const virtio_drivers[] = {
	"net_virtio", "net_virtio_user", NULL,
};
/* Ports that are never half of a pair: aggregates and host-side ports. */
static const char *const ignored_drivers[] = {
	"net_failsafe", "net_bonding", "net_vhost", NULL,
};

static int
driver_in(uint16_t port, const char *const *list)
{
	struct rte_eth_dev_info info;
	int i;

	if (rte_eth_dev_info_get(port, &info) != 0 || info.driver_name == NULL)
		return 0;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(info.driver_name, list[i]) == 0)
			return 1;
	return 0;
}

int
vfg_is_virtio(uint16_t port)
{
	return driver_in(port, virtio_drivers);
}

int
vfg_is_vf_candidate(uint16_t port)
{
	return !driver_in(port, virtio_drivers) &&
		!driver_in(port, ignored_drivers);
}

static const char *
port_devname(uint16_t port)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
		return NULL;
	return rte_dev_name(info.device);
}

/* The devargs a port was probed with ("name,args"), to probe it again. */
static void
port_devargs(uint16_t port, char *buf, size_t len)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da = NULL;

	buf[0] = '\0';
	if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
		return;
	da = rte_dev_devargs(info.device);
	if (da != NULL && da->args != NULL && da->args[0] != '\0')
		snprintf(buf, len, "%s,%s", da->name, da->args);
	else
		snprintf(buf, len, "%s", rte_dev_name(info.device));
}

/* Any port (owned or not) whose rte_device is devname. */
int
vfg_port_by_devname(const char *devname, uint16_t *port)
{
	uint16_t p;
	const char *n;

	for (p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!rte_eth_dev_is_valid_port(p))
			continue;
		n = port_devname(p);
		if (n != NULL && strcmp(n, devname) == 0) {
			*port = p;
			return 0;
		}
	}
	return -ENODEV;
}

int
vfg_devargs_devname(const char *devargs, char *name, size_t len)
{
	struct rte_devargs da;
	int ret;

	memset(&da, 0, sizeof(da));
	ret = rte_devargs_parse(&da, devargs);
	if (ret != 0)
		return ret < 0 ? ret : -EINVAL;
	snprintf(name, len, "%s", da.name);
	rte_devargs_reset(&da);
	return 0;
}

/* Probe devargs unless already probed; the port of its first ethdev. */
int
vfg_probe_devargs(const char *devargs, uint16_t *port)
{
	char name[VFG_NAME_MAX];
	int ret;

	ret = vfg_devargs_devname(devargs, name, sizeof(name));
	if (ret != 0) {
		VFG_LOG(ERR, "Device arguments '%s' do not parse.", devargs);
		return ret;
	}
	if (vfg_port_by_devname(name, port) == 0)
		return 0;
	ret = rte_dev_probe(devargs);
	if (ret != 0 && ret != -EEXIST)
		return ret;
	if (vfg_port_by_devname(name, port) != 0)
		return -ENODEV;
	return 0;
}

static int
kv_store(const char *key, const char *value, void *opaque)
{
	(void)key;
	snprintf(opaque, IF_NAMESIZE, "%s", value);
	return 0;
}

/* Is the device behind devargs there to be probed? Cheap checks only:
 * a PCI function in sysfs bound to a userspace driver, or a kernel netdev
 * named by iface= (af_packet, tap stand-ins). Anything else: assume yes. */
int
vfg_devargs_present(const char *devargs)
{
	struct rte_devargs da;
	char path[PATH_MAX];
	char link[PATH_MAX];
	char iface[IF_NAMESIZE] = "";
	const char *drv;
	struct rte_kvargs *kv;
	ssize_t n;
	int present = 1;

	memset(&da, 0, sizeof(da));
	if (rte_devargs_parse(&da, devargs) != 0)
		return 0;
	if (strcmp(rte_bus_name(da.bus), "pci") == 0) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			 da.name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			present = 0;
		} else {
			link[n] = '\0';
			drv = strrchr(link, '/');
			drv = drv ? drv + 1 : link;
			present = strcmp(drv, "vfio-pci") == 0 ||
				strcmp(drv, "uio_pci_generic") == 0 ||
				strcmp(drv, "igb_uio") == 0;
		}
	} else if (da.args != NULL && da.args[0] != '\0') {
		kv = rte_kvargs_parse(da.args, NULL);
		if (kv != NULL) {
			rte_kvargs_process(kv, "iface", kv_store, iface);
			rte_kvargs_free(kv);
		}
		if (iface[0] != '\0')
			present = if_nametoindex(iface) != 0;
	}
	rte_devargs_reset(&da);
	return present;
}

static void
fmt_mac(const struct rte_ether_addr *mac, char *buf)
{
	rte_ether_format_addr(buf, RTE_ETHER_ADDR_FMT_SIZE, mac);
}

static int
find_virtio(struct vfg *vfg, int have_mac)
{
	char macbuf[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr mac;
	uint16_t p, found = VFG_NO_PORT;
	int nb_virtio = 0, nb_match = 0;
	int ret;

	if (vfg->conf.virtio_devargs != NULL) {
		ret = vfg_probe_devargs(vfg->conf.virtio_devargs, &found);
		if (ret != 0) {
			VFG_LOG(ERR, "The virtio-net device '%s' failed to probe (%s).",
				vfg->conf.virtio_devargs, rte_strerror(-ret));
			return ret;
		}
		if (rte_eth_macaddr_get(found, &mac) != 0)
			return -ENODEV;
		if (have_mac && !rte_is_same_ether_addr(&mac, &vfg->mac)) {
			fmt_mac(&mac, macbuf);
			VFG_LOG(ERR, "The virtio-net device '%s' carries MAC %s, not the pair's MAC.",
				vfg->conf.virtio_devargs, macbuf);
			return -EINVAL;
		}
		snprintf(vfg->virtio_devargs, sizeof(vfg->virtio_devargs),
			 "%s", vfg->conf.virtio_devargs);
	} else {
		RTE_ETH_FOREACH_DEV(p) {
			if (!vfg_is_virtio(p))
				continue;
			nb_virtio++;
			if (rte_eth_macaddr_get(p, &mac) != 0)
				continue;
			if (have_mac && !rte_is_same_ether_addr(&mac, &vfg->mac))
				continue;
			if (nb_match++ > 0) {
				VFG_LOG(ERR, "Two virtio-net devices (%s and %s) match%s: pass the virtio device or the MAC explicitly.",
					port_devname(found), port_devname(p),
					have_mac ? " the pair's MAC" : "");
				return -ENOTUNIQ;
			}
			found = p;
		}
		if (found == VFG_NO_PORT) {
			if (have_mac) {
				fmt_mac(&vfg->mac, macbuf);
				VFG_LOG(ERR, "No virtio-net device carries MAC %s (%d virtio-net device(s) probed).",
					macbuf, nb_virtio);
			} else {
				VFG_LOG(ERR, "No virtio-net device found among the probed ports: the guest needs the virtio half of the pair.");
			}
			return -ENODEV;
		}
	}
	vfg->virtio_port = found;
	snprintf(vfg->virtio_name, sizeof(vfg->virtio_name), "%s",
		 port_devname(found));
	if (vfg->virtio_devargs[0] == '\0')
		port_devargs(found, vfg->virtio_devargs,
			     sizeof(vfg->virtio_devargs));
	if (!have_mac)
		rte_eth_macaddr_get(found, &vfg->mac);
	return 0;
}

/* Returns 0 with vf_port set, 0 with vf_port unset (fallback to virtio),
 * or a negative errno for input that must be refused. */
static int
find_vf(struct vfg *vfg)
{
	char macbuf[RTE_ETHER_ADDR_FMT_SIZE];
	char other[RTE_ETHER_ADDR_FMT_SIZE];
	struct rte_ether_addr mac;
	uint16_t p, found = VFG_NO_PORT;
	int ret;

	fmt_mac(&vfg->mac, macbuf);
	if (vfg->conf.vf_devargs != NULL) {
		snprintf(vfg->vf_devargs, sizeof(vfg->vf_devargs), "%s",
			 vfg->conf.vf_devargs);
		vfg_devargs_devname(vfg->vf_devargs, vfg->vf_name,
				    sizeof(vfg->vf_name));
		ret = vfg_probe_devargs(vfg->conf.vf_devargs, &found);
		if (ret != 0) {
			VFG_LOG(WARNING, "The VF '%s' failed to probe (%s): running on virtio %s until it does.",
				vfg->conf.vf_devargs, rte_strerror(-ret),
				vfg->virtio_name);
			return 0;
		}
		if (rte_eth_macaddr_get(found, &mac) != 0)
			return -ENODEV;
		if (!rte_is_same_ether_addr(&mac, &vfg->mac)) {
			fmt_mac(&mac, other);
			VFG_LOG(ERR, "The VF '%s' carries MAC %s, not the pair's MAC %s.",
				vfg->conf.vf_devargs, other, macbuf);
			return -EINVAL;
		}
	} else {
		RTE_ETH_FOREACH_DEV(p) {
			if (p == vfg->virtio_port || !vfg_is_vf_candidate(p))
				continue;
			if (rte_eth_macaddr_get(p, &mac) != 0 ||
			    !rte_is_same_ether_addr(&mac, &vfg->mac))
				continue;
			if (found != VFG_NO_PORT) {
				VFG_LOG(ERR, "Two VF candidates (%s and %s) carry MAC %s: pass the VF explicitly.",
					port_devname(found), port_devname(p),
					macbuf);
				return -ENOTUNIQ;
			}
			found = p;
		}
		if (found == VFG_NO_PORT) {
			VFG_LOG(WARNING, "No VF carries MAC %s yet: running on virtio %s until one appears.",
				macbuf, vfg->virtio_name);
			return 0;
		}
		snprintf(vfg->vf_name, sizeof(vfg->vf_name), "%s",
			 port_devname(found));
		port_devargs(found, vfg->vf_devargs, sizeof(vfg->vf_devargs));
	}
	vfg->vf_port = found;
	return 0;
}

int
vfg_discover(struct vfg *vfg)
{
	static const struct rte_ether_addr zero;
	int have_mac;
	int ret;

	have_mac = !rte_is_same_ether_addr(&vfg->conf.mac, &zero);
	if (have_mac)
		vfg->mac = vfg->conf.mac;
	ret = find_virtio(vfg, have_mac);
	if (ret != 0)
		return ret;
	return find_vf(vfg);
}
