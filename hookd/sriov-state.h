/* Saved VF state: one JSON file per reserved VF in STATE_DIR/vf/, written
 * atomically (temporary file, fsync, rename, fsync of the directory) BEFORE
 * the VF is changed, removed once its original configuration is back. What
 * survives a crash is exactly what must be restored or kept at restart (a
 * removal lost in a crash only makes reconcile restore the VF once more). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sriov-backend.h"

#define SRIOV_STATE_VERSION 1

typedef struct {
    char *pf;
    guint vf;
    char *backend;          /* "kernel" | "emulated" */
    char *pci_address;      /* kernel only */
    char *domain_uuid;
    char *pair_key;
    char *original_driver;  /* kernel: the VF's driver before we bound it (may be NULL) */
    SriovVfConfig original; /* as read before the first change */
    gboolean has_applied;
    SriovVfConfig applied;  /* last configuration applied for the domain */
    gint64 reserved_at;     /* unix seconds */
} SriovVfRecord;

void sriov_vf_record_free(SriovVfRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SriovVfRecord, sriov_vf_record_free)

/* STATE_DIR/vf (created 0700 if missing). */
char *sriov_state_dir(const char *state_dir);
/* @durable: fsync the file and the directory (a reservation and its
 * original configuration must survive a crash; later updates — the applied
 * configuration, shown by `vfs` — only need to be atomic). */
gboolean sriov_state_save(const char *state_dir, const SriovVfRecord *rec, gboolean durable,
                          GError **error);
gboolean sriov_state_remove(const char *state_dir, const char *pf, guint vf, GError **error);
/* Every record; unreadable files are reported with a warning and skipped
 * (they stay on disk for a human to look at). */
GPtrArray *sriov_state_load_all(const char *state_dir, GError **error);

/* A VF configuration as JSON (only the settings flagged in cfg->set):
 * {"mac": "52:54:00:..", "vlan": 100, "qos": 0, "vlan-protocol": "802.1Q",
 *  "spoofchk": true, "trust": false, "min-tx-rate-mbps": 0,
 *  "max-tx-rate-mbps": 0, "link-state": "auto"} */
JsonObject *sriov_vf_config_to_json(const SriovVfConfig *cfg);
gboolean sriov_vf_config_from_json(JsonObject *obj, SriovVfConfig *cfg, GError **error);
