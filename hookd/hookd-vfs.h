/* hookd's control-socket commands over the VF pool: `vfs` (every VF, its owner,
 * its settings) and `stats` (counters of the VFs in use). vfailoverctl
 * prints the JSON replies as tables. */
#pragma once

#include <json-glib/json-glib.h>

#include "hookd-ctl.h"
#include "sriov-pool.h"

/* Register `vfs` and `stats` on @ctl; @pool must outlive @ctl. */
void hookd_vfs_register(HookdCtl *ctl, SriovPool *pool);

/* The handlers (HookdCtlHandler signature, user_data = the pool).
 *
 * vfs   request: {"command": "vfs", "pf"?: NAME}
 *       reply:   {"vfs": [{"pf", "pool", "vf", "backend", "pci-address"?,
 *                 "netdev"?, "state": "free"|"kept"|"reserved"|"restore-pending",
 *                 "domain"?, "pair"?, "config"?: {applied settings}}]}
 * stats request: {"command": "stats", "pf"?: NAME, "vf"?: N, "all"?: bool}
 *       reply:   {"vfs": [{"pf", "vf", "domain"?, "rx-packets", "tx-packets",
 *                 "rx-bytes", "tx-bytes", "broadcast", "multicast",
 *                 "rx-dropped", "tx-dropped"} | {"pf", "vf", "error"}]}
 *       (VFs in use only, unless "all" is true or one VF is named) */
gboolean hookd_vfs_vfs(JsonObject *request, JsonObject *reply, gpointer pool, GError **error);
gboolean hookd_vfs_stats(JsonObject *request, JsonObject *reply, gpointer pool, GError **error);
