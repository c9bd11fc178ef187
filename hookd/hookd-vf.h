/* The seam between hookd and the VF manager (the VF pool of libvfsriov.a,
 * sriov/include/sriov-pool.h): every VF operation hookd makes goes through these
 * calls (hookd-vf.c). A pair's VF is keyed by (domain UUID, pair alias).
 * Threads and locks: reserve/release run on a hook worker with the registry
 * locked and must not call libvirt; plug runs on the main loop without the
 * registry lock and may call libvirt. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>

#include "vf-config.h"
#include "hookd-pairs.h"

typedef struct _HookdVf HookdVf;

HookdVf *hookd_vf_new(VfConfig *cfg, GError **error);
void hookd_vf_free(HookdVf *vf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdVf, hookd_vf_free)

/* prepare begin: reserve a VF on the pair's PF or pool and fill pair->vf_*.
 * Returns FALSE (start refused, one-line @error naming domain, interface
 * and PF/pool) only when no VF is free and the pair's no_vf policy is
 * "refuse"; with "virtio-only" the pair keeps vf_pf == NULL. */
gboolean hookd_vf_reserve(HookdVf *vf, const char *uuid, const char *domain, HookdPair *pair,
                          GError **error);

/* After started (asynchronously, main loop): configure the reserved VF
 * (MAC, VLAN/QinQ, spoofchk, trust, rate, link state), bind it for
 * passthrough and attach it live to @dom with the device XML of the pair's
 * mode (xml/ renders it). DEVICE_ADDED then moves the pair to VF_ACTIVE; a
 * failure is logged and the pair stays VIRTIO_ACTIVE. @pair is a private
 * copy. */
void hookd_vf_plug(HookdVf *vf, virDomainPtr dom, const char *uuid, const char *domain,
                   const HookdPair *pair);

/* stopped/release: restore the VF's saved configuration and free it; clears
 * pair->vf_*. Idempotent (release after a resync that already freed it). */
void hookd_vf_release(HookdVf *vf, const char *uuid, const char *domain, HookdPair *pair);

/* After a resync (main loop): free the VFs of every domain not in
 * @live_uuids (NULL-terminated; include domains still starting). */
void hookd_vf_reconcile(HookdVf *vf, const char *const *live_uuids);

/* The pool itself (its control commands, hookd-vfs.h). Borrowed. */
struct _SriovPool;
struct _SriovPool *hookd_vf_pool(HookdVf *vf);

/* For status: {"pfs", "vfs", "in_use", "kept_for_host", "free"}. */
JsonObject *hookd_vf_status(HookdVf *vf);

/* prepare begin of a domain whose definition already holds the pair's VF
 * device (native mode, emulated stand-in): reserve exactly the VF whose tap
 * (@netdev) or PCI address (@pci) the XML names. FALSE + one-line @error
 * if that VF is unknown here or belongs to someone else. */
gboolean hookd_vf_reserve_exact(HookdVf *vf, const char *uuid, const char *domain,
                                HookdPair *pair, const char *netdev, const char *pci,
                                GError **error);

/* Main loop: the embedded switch's MAC steering for the pair's VF, on
 * (@on: the VM MAC is delivered to the VF) or cleared. Logged; a failure
 * is logged and returned. No VF reserved: nothing to do (TRUE). */
gboolean hookd_vf_set_steering(HookdVf *vf, const char *uuid, const char *domain,
                               const HookdPair *pair, gboolean on);

/* Main loop: while the guest brings a re-plugged VF up, also copy the
 * frames for the pair's MAC to the datapath (@on), or stop (see the
 * steering policy, hookd-events.c). TRUE when done; FALSE when the
 * backend cannot (logged at debug level) or failed (a warning). Off is
 * asked in every state outside a join and is quiet when there is no copy.
 * No VF reserved: TRUE for off, FALSE for on. */
gboolean hookd_vf_set_mirror(HookdVf *vf, const char *uuid, const char *domain,
                             const HookdPair *pair, gboolean on);

/* Frames the guest has sent through the pair's VF (its tx counter), or -1
 * (no VF, counters unreadable). Any thread. */
gint64 hookd_vf_tx_packets(HookdVf *vf, const char *uuid, const HookdPair *pair);

/* Managed migration (any thread, no registry lock; calls libvirt): detach
 * the pair's VF device live (the XML hookd attached). DEVICE_REMOVED then
 * moves the pair to VIRTIO_ACTIVE. FALSE + one-line @error. */
gboolean hookd_vf_detach(HookdVf *vf, virDomainPtr dom, const char *uuid, const char *domain,
                         const HookdPair *pair, GError **error);
