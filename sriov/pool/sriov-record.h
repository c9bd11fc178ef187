/* VF reservation records: one JSON file per reserved VF in STATE_DIR/vf/
 * (PF-vfN.json), on disk (fsync of the file and of the directory) BEFORE the
 * VF is changed, never rewritten, removed once its original configuration
 * is back; the configuration applied for the domain (for `vfs` after a
 * restart) in PF-vfN.applied.json beside it, replaced atomically on each
 * change without fsync (losing it costs only the display). What survives a
 * crash is exactly what must be restored or kept at restart (a removal lost
 * in a crash only makes reconcile restore the VF once more). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sriov-backend.h"

#define SRIOV_RECORD_VERSION 1

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
char *sriov_record_dir(const char *state_dir);
/* A new reservation with its original configuration (rec->applied is not
 * saved here): on disk when this returns. */
gboolean sriov_record_save(const char *state_dir, const SriovVfRecord *rec, GError **error);
/* The configuration last applied for the reservation's domain. */
gboolean sriov_record_save_applied(const char *state_dir, const char *pf, guint vf,
                                  const SriovVfConfig *applied, GError **error);
gboolean sriov_record_remove(const char *state_dir, const char *pf, guint vf, GError **error);
/* Every record, with its applied configuration; unreadable files are
 * reported with a warning and skipped (they stay on disk for a human to look
 * at), except a record cut short by a crash while it was created (its
 * reservation never returned: it is removed). */
GPtrArray *sriov_record_load_all(const char *state_dir, GError **error);
