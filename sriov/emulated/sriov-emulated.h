/* The emulated backend's private state, shared by its files:
 * sriov-emulated.c (bridge, taps, FDB, the backend ops) and sriov-nft.c (the
 * PF's nftables tables: anti-spoof, TX rate, mirrors). */
#pragma once

#include <glib.h>

#include "sriov-backend.h"

#define EMU_MAX_VFS 256

typedef struct {
    SriovVfConfig cfg;          /* applied (set: what has been applied) */
    gboolean fdb_installed;
    guint8 fdb_mac[6];
    gboolean mirror;            /* copy mirror_mac's frames from the uplink to the datapath */
    guint8 mirror_mac[6];
} EmuVf;

typedef struct {
    char *name;
    char *uplink;
    char *datapath_port;
    EmuVf vfs[EMU_MAX_VFS];
    char *nft_applied;          /* the ruleset last loaded, NULL: unknown */
} EmuPf;

/* The tap of VF @vf of emulated PF @pf ("PFvN", cut to IFNAMSIZ). */
char *sriov_emu_tap_name(const char *pf, guint vf);

/* Rebuild the PF's nftables tables from its VFs' applied configuration in
 * one nft transaction, unless they are what was loaded last. */
gboolean sriov_emu_nft_sync(EmuPf *pf, GError **error);
