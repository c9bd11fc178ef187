/* The daemon's parts, shared by the hook operations, the event callbacks,
 * the resync and the control commands. Created in hookd-main.c. */
#pragma once

#include <glib.h>

#include "vf-config.h"
#include "vfx-domain.h"
#include "hookd-ctl.h"
#include "hookd-dp.h"
#include "hookd-hook.h"
#include "hookd-libvirt.h"
#include "hookd-pairs.h"
#include "hookd-vf.h"

typedef struct {
    VfConfig *cfg;
    HookdRegistry *registry;
    HookdLibvirt *libvirt;
    HookdHook *hook;
    HookdCtl *ctl;
    HookdVf *vf;
    HookdDp *dp;
    gint64 started;             /* wall clock, µs */
    /* "prepare begin" -> count, every domain (under the registry lock) */
    GHashTable *hook_counts;
    /* "DEVICE_ADDED" -> count, annotated domains (main loop) */
    GHashTable *event_counts;
    guint syncs;                /* resyncs done (registry lock) */
    /* domain name -> HookdMigration* (managed migrations, registry lock) */
    GHashTable *migrations;
    gint64 last_sync;           /* wall clock, µs */
    guint sweep_id;             /* abandoned-record sweep (hookd-sync.c) */
} HookdDaemon;

/* Run @func(@daemon, @uuid) on the main loop soon (thread-safe): the way hook
 * handlers hand follow-up work that may call libvirt to the main loop. */
typedef void (*HookdWorkFunc)(HookdDaemon *daemon, const char *uuid);
void hookd_daemon_queue(HookdDaemon *daemon, HookdWorkFunc func, const char *uuid);

/* Count one occurrence of @key in @table. */
void hookd_daemon_count(GHashTable *table, const char *key);

/* The hook operation table (hookd-hookops.c), a HookdHookHandler. */
gboolean hookd_hookops_handle(const HookdHookCall *call, char **out_xml,
                              gpointer daemon, GError **error);

/* Registry locked: a record for @vdom's pairs (state VIRTIO_ACTIVE, no VF). */
HookdDomain *hookd_hookops_record(HookdDaemon *daemon, VfxDomain *vdom, HookdDomainPhase phase);

/* Main loop (a HookdWorkFunc): plug the reserved VFs of a running domain. */
void hookd_hookops_plug_vfs(HookdDaemon *daemon, const char *uuid);

/* Reconcile the registry with libvirt's live domains (hookd-sync.c); runs
 * on the main loop after every (re)connect. */
void hookd_sync_domains(virConnectPtr conn, gpointer daemon);

/* Registry locked (hookd-events.c): an outgoing migration of @dom failed
 * and it still runs here: the pairs whose VF left for it get it back
 * (native mode: QEMU re-plugs it, the pair goes VF_ACTIVE; managed mode:
 * hookd plugs it again unless the migration's thread is there to). */
void hookd_events_migration_failed(HookdDaemon *daemon, HookdDomain *dom, const char *reason);
/* Registry locked (hookd-events.c): an incoming domain now runs here: the
 * datapath lets go of its held pairs, the VFs hookd plugs go in. */
void hookd_events_incoming_resumed(HookdDaemon *daemon, HookdDomain *dom, const char *reason);

/* An incoming domain resumed here: in a few seconds, check that each
 * pair's virtio standby started on its datapath port, and set its link up
 * in QEMU where it did not (hookd-standby.c). */
void hookd_standby_check_later(HookdDaemon *daemon, const char *uuid);
/* A copy of @p (for work done without the registry lock). */
HookdPair *hookd_pair_copy(const HookdPair *p);

/* Main loop (HookdWorkFuncs, hookd-events.c): a managed migration is about
 * to detach @uuid's VFs (pairs -> SWITCHING); it failed before the guest
 * let go of them (SWITCHING pairs whose detach is pending -> VF_ACTIVE). */
void hookd_events_begin_detach(HookdDaemon *daemon, const char *uuid);
void hookd_events_cancel_detach(HookdDaemon *daemon, const char *uuid);

/* Register the managed-migration commands migrate, migrate-status
 * (hookd-migrate.c). */
void hookd_migrate_register(HookdDaemon *daemon);
/* Registry locked: a managed migration of domain @name is running. */
gboolean hookd_migrate_running(HookdDaemon *daemon, const char *name);
void hookd_migrate_free_all(HookdDaemon *daemon);

/* Register the control commands (hookd-commands.c). */
void hookd_commands_register(HookdDaemon *daemon);
