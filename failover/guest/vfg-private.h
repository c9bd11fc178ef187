/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vfg internals shared by the library's files: the vfg object, logging,
 * and the per-file entry points (discover, failsafe, bond, event).
 */
#ifndef VFG_PRIVATE_H
#define VFG_PRIVATE_H

#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_spinlock.h>

#include "vfg.h"

extern int vfg_logtype;

#define VFG_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vfg_logtype, "vfg: " fmt "\n", ## __VA_ARGS__)

#define VFG_NAME_MAX 64
#define VFG_DEVARGS_MAX 256
#define VFG_NO_PORT RTE_MAX_ETHPORTS

/* Requests queued by any thread, served on the EAL interrupt thread. */
#define VFG_REQ_PREPARE  (1u << 0)
#define VFG_REQ_CANCEL   (1u << 1)
#define VFG_REQ_REMOVED  (1u << 2)
#define VFG_REQ_OFFER    (1u << 3)
#define VFG_REQ_CHECK    (1u << 4)

struct vfg {
	struct vfg_conf conf;
	char name[VFG_NAME_MAX];           /* the vfg ethdev's name */
	uint16_t port_id;
	/* The VF: its devargs (to re-probe), device name, port. */
	char vf_devargs[VFG_DEVARGS_MAX];
	char vf_name[VFG_NAME_MAX];
	uint16_t vf_port;
	char virtio_devargs[VFG_DEVARGS_MAX];
	char virtio_name[VFG_NAME_MAX];
	uint16_t virtio_port;
	struct rte_ether_addr mac;
	/* failsafe's fd() sub-device: we write the VF's name here when a VF
	 * with the pair's MAC is ready; failsafe reads it on its alarm. */
	int pipe_rfd;
	int pipe_wfd;
	volatile enum vfg_vf_state vf_state;
	volatile enum vfg_path tx_path;
	int link_seen_up;       /* the VF's link was up once since attach */
	int rejected;           /* last offered device was refused */
	uint64_t next_probe_tsc;
	/* Cross-thread requests. */
	rte_spinlock_t lock;
	uint32_t req;
	char offer_devargs[VFG_DEVARGS_MAX];
	/* Counters. */
	uint64_t removals;
	uint64_t returns;
	volatile uint64_t last_switch_tsc;
	int monitor_started;
	int dev_cb_registered;
	int new_cb_registered;
	int watch_armed;
	volatile int stopping;
	uint64_t next_kick_tsc;  /* worker lcore only */
	/* A device that appeared (RTE_DEV_EVENT_ADD) but could not be probed
	 * yet (still on a kernel driver): retried until pending_deadline. */
	char pending[VFG_DEVARGS_MAX];
	uint64_t pending_deadline;
};

/* vfg-discover.c */
int vfg_port_by_devname(const char *devname, uint16_t *port);
int vfg_devargs_devname(const char *devargs, char *name, size_t len);
int vfg_probe_devargs(const char *devargs, uint16_t *port);
int vfg_is_virtio(uint16_t port);
int vfg_is_vf_candidate(uint16_t port);
int vfg_devargs_present(const char *devargs);
int vfg_discover(struct vfg *vfg);

/* vfg-failsafe.c */
int vfg_failsafe_create(struct vfg *vfg);
int vfg_failsafe_release_vf(struct vfg *vfg);
int vfg_failsafe_attach_vf(struct vfg *vfg);
int vfg_failsafe_start_vf(struct vfg *vfg);
void vfg_failsafe_destroy(struct vfg *vfg);

/* vfg-bond.c */
int vfg_bond_create(struct vfg *vfg);
int vfg_bond_release_vf(struct vfg *vfg);
int vfg_bond_attach_vf(struct vfg *vfg);
void vfg_bond_destroy(struct vfg *vfg);
enum vfg_path vfg_bond_tx_path(struct vfg *vfg);

/* vfg-event.c */
int vfg_mark_rmv_capable(uint16_t port);
int vfg_raise_rmv(uint16_t port);
int vfg_events_start(struct vfg *vfg);
void vfg_events_stop(struct vfg *vfg);
void vfg_request(struct vfg *vfg, uint32_t req, const char *devargs);

/* vfg.c */
void vfg_vf_gone(struct vfg *vfg, const char *why, int planned);
int vfg_offer_now(struct vfg *vfg, const char *devargs);

#endif /* VFG_PRIVATE_H */
