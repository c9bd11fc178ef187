/* The seam between hookd and the host datapath vfailover-dp (its control
 * socket, [datapath] ctl-socket; commands pair-add, pair-set-state,
 * pair-del of vfailover-dp(8)): every datapath request hookd makes goes
 * through these calls (hookd-dp.c). Pairs without a vhost-user virtio
 * interface have no port and the calls do nothing for them. They run on
 * hook workers (create, delete) or the main loop (set_state, resync) and
 * never call libvirt. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "vf-config.h"
#include "hookd-pairs.h"

typedef struct _HookdDp HookdDp;

HookdDp *hookd_dp_new(VfConfig *cfg);
void hookd_dp_free(HookdDp *dp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdDp, hookd_dp_free)

/* prepare begin (and resync: the command is idempotent): create the pair's
 * vhost-user port (the virtio backend) before QEMU connects to it, in the
 * pair's current state. FALSE + @error refuses the start. */
gboolean hookd_dp_port_create(HookdDp *dp, const char *domain, const HookdPair *pair,
                              GError **error);
/* After every pair transition: tell the datapath which path is active.
 * FALSE (logged) when the datapath did not take it (down, no such port). */
gboolean hookd_dp_port_set_state(HookdDp *dp, const char *domain, const HookdPair *pair);
/* Announce the pair's MAC on the uplink now (RARP/GARP), whatever its
 * state: a migration destination once the domain runs there. */
void hookd_dp_port_announce(HookdDp *dp, const char *domain, const HookdPair *pair);
/* The port's counters ({"from_guest", "to_guest", "dropped_vf_active",
 * ...} of vfailover-dp's stats), or NULL (no port, datapath unreachable). */
JsonObject *hookd_dp_port_counters(HookdDp *dp, const char *domain, const HookdPair *pair);
/* Whether the guest's virtio device is up on the pair's vhost-user port
 * (QEMU started its backend): 1, 0, or -1 (no port, datapath unreachable). */
int hookd_dp_port_connected(HookdDp *dp, const char *domain, const HookdPair *pair);
/* release: delete the port. Idempotent. */
void hookd_dp_port_delete(HookdDp *dp, const char *domain, const HookdPair *pair);

/* Watch the datapath (a thread, every second, until hookd_dp_free): when
 * it is unreachable the pairs with a vhost-user port are degraded (logged,
 * on their timeline, listed in status); when it is back (or restarted),
 * every port it lacks is re-created in its pair's state. */
void hookd_dp_watch_start(HookdDp *dp, HookdRegistry *registry);

/* For status: {"socket": PATH, "reachable": bool, "state": "up"|"down"|
 * "unknown", "since", "last_error", "pid", "downs", "ports_recreated",
 * "degraded_pairs": ["DOMAIN/ALIAS", ...]}. */
JsonObject *hookd_dp_status(HookdDp *dp);
