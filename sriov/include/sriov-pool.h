/* The VF pool: PFs from the configuration ([pf:NAME] groups), which VF
 * belongs to which domain, and the policy around every change — a VF is
 * never handed to two domains (one mutex over allocation), its reservation
 * and original configuration are saved before anything is changed, a failed
 * configuration is rolled back, release restores the original, and reconcile
 * at start frees what no live domain uses (also after a crash).
 *
 * Threads: every function may be called from any thread. Backend work is
 * serialised; allocation decisions are atomic. */
#pragma once

#include <glib.h>

#include "sriov-vf.h"
#include "vf-config.h"

typedef struct _SriovPool SriovPool;
typedef struct _SriovVf SriovVf;   /* owned by the pool, valid while it lives */

/* Open every [pf:NAME] of @cfg with its backend (kernel PFs through
 * @sysfs_root and rtnetlink), create num-vfs VFs where asked, and load the
 * saved reservations from @state_dir (they count as in use until
 * sriov_pool_reconcile() decides). */
SriovPool *sriov_pool_new(VfConfig *cfg, const char *state_dir, const char *sysfs_root,
                          GError **error);
void sriov_pool_free(SriovPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SriovPool, sriov_pool_free)

/* Reserve a VF for the pair @pair_key of domain @domain_uuid, on PF @pf, or
 * on a PF of pool @pool_name, or anywhere (both NULL). Idempotent: the same
 * (domain, pair) gets the VF it already has. The reservation and the VF's
 * original configuration are on disk when this returns. Errors:
 * SRIOV_ERROR_NO_FREE_VF ("PF enp3s0f0: no free VF (8 of 8 in use, 1 kept
 * for the host)"), SRIOV_ERROR_NOT_FOUND (unknown PF or pool). */
SriovVf *sriov_pool_reserve(SriovPool *pool, const char *domain_uuid, const char *pair_key,
                            const char *pf, const char *pool_name, GError **error);

/* Reserve exactly VF @index of PF @pf for the pair (a domain whose
 * definition names its VF device). Atomic like sriov_pool_reserve() (the
 * check and the claim are one step under the pool's lock) and persisted the
 * same way; idempotent for the pair that holds it. Errors name PF and VF:
 * SRIOV_ERROR_NOT_FOUND ("PF enp3s0f0 has no VF 9 (it has 8)", unknown PF),
 * SRIOV_ERROR_BUSY ("PF enp3s0f0 VF 2 is in use by domain UUID (net0)",
 * "... is kept for the host", the pair already holds another VF). */
SriovVf *sriov_pool_reserve_vf(SriovPool *pool, const char *domain_uuid, const char *pair_key,
                               const char *pf, guint index, GError **error);

/* Apply the settings flagged in cfg->set. On failure every setting is put
 * back to the original and the error names PF, VF and setting. */
gboolean sriov_pool_configure(SriovPool *pool, SriovVf *vf, const SriovVfConfig *cfg,
                              GError **error);
/* Passthrough binding (kernel: vfio-pci; emulated: nothing to do). */
gboolean sriov_pool_bind_vfio(SriovPool *pool, SriovVf *vf, GError **error);
/* Back to the driver the VF had before the reservation. */
gboolean sriov_pool_bind_host(SriovPool *pool, SriovVf *vf, GError **error);
/* Unplug: stop the embedded switch steering the VF's MAC to it. */
gboolean sriov_pool_clear_steering(SriovPool *pool, SriovVf *vf, GError **error);
/* Re-plug: also copy the frames from the wire for @mac to the datapath
 * while the guest brings the VF up; @mac NULL: stop. A backend or PF that
 * cannot: SRIOV_ERROR_NOT_SUPPORTED (stopping is then a no-op, TRUE). */
gboolean sriov_pool_set_mirror(SriovPool *pool, SriovVf *vf, const guint8 *mac, GError **error);
/* Restore the original configuration and driver, forget the reservation.
 * If the VF vanished from the host the reservation is dropped with a
 * warning; if restoring fails otherwise, the VF stays out of the pool
 * (saved state kept) and the next reconcile retries. */
gboolean sriov_pool_release(SriovPool *pool, SriovVf *vf, GError **error);
/* Release every VF of a domain. */
gboolean sriov_pool_release_domain(SriovPool *pool, const char *domain_uuid, GError **error);
/* At start (and whenever asked): keep the VFs of the domains in
 * @live_domain_uuids (NULL-terminated), release the others. */
gboolean sriov_pool_reconcile(SriovPool *pool, const char *const *live_domain_uuids,
                              GError **error);

SriovVf *sriov_pool_lookup(SriovPool *pool, const char *domain_uuid, const char *pair_key);
/* Every VF of every PF, in configuration order (borrowed pointers). */
GPtrArray *sriov_pool_list(SriovPool *pool);
/* Hold the pool's allocation lock while reading VFs' owner strings,
 * addresses and applied configuration through the accessors below (a
 * reservation or release on another thread replaces them). Call no other
 * sriov_pool_* function in between. */
void sriov_pool_read_lock(SriovPool *pool);
void sriov_pool_read_unlock(SriovPool *pool);
/* The VF whose netdev is @netdev or whose PCI address is @pci (either may
 * be NULL), compared under the pool's lock (a reservation refreshes both);
 * NULL if none. Borrowed. */
SriovVf *sriov_pool_find_vf(SriovPool *pool, const char *netdev, const char *pci);
gboolean sriov_pool_read_config(SriovPool *pool, SriovVf *vf, SriovVfConfig *cfg, GError **error);
gboolean sriov_pool_read_stats(SriovPool *pool, SriovVf *vf, SriovVfStats *stats,
                               GError **error);

/* Accessors. Owner strings are NULL for a free VF. */
const char *sriov_vf_get_pf(const SriovVf *vf);
const char *sriov_vf_get_pool(const SriovVf *vf);
guint sriov_vf_get_index(const SriovVf *vf);
const char *sriov_vf_get_backend(const SriovVf *vf);
const char *sriov_vf_get_pci_address(const SriovVf *vf);  /* kernel VFs */
const char *sriov_vf_get_netdev(const SriovVf *vf);       /* emulated: the tap */
const char *sriov_vf_get_domain(const SriovVf *vf);
const char *sriov_vf_get_pair_key(const SriovVf *vf);
gboolean sriov_vf_is_kept(const SriovVf *vf);              /* kept for the host */
gboolean sriov_vf_needs_restore(const SriovVf *vf);        /* release failed */
/* The configuration last applied for the owner (FALSE: none). */
gboolean sriov_vf_get_applied(const SriovVf *vf, SriovVfConfig *cfg);
