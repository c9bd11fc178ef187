/* The pair registry: every annotated domain hookd knows about, its pairs
 * (virtio interface + VF or none), each pair's state and a timestamped
 * timeline of hook calls, libvirt events and state transitions. Persisted
 * atomically to STATE_DIR/pairs.json (hookd-state.c) and read back at start.
 *
 * Hook workers and the main loop both use it: every function here takes the
 * registry's lock itself; HookdDomain/HookdPair pointers are only valid
 * between hookd_registry_lock() and hookd_registry_unlock(). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef enum {
    HOOKD_PAIR_VIRTIO_ACTIVE,
    HOOKD_PAIR_SWITCHING,
    HOOKD_PAIR_VF_ACTIVE,
} HookdPairState;

/* Where a domain is in its life, as seen through hooks and events. */
typedef enum {
    HOOKD_DOMAIN_PREPARING,   /* prepare/start hooks seen, QEMU not yet running */
    HOOKD_DOMAIN_RUNNING,     /* started (or found running at resync) */
    HOOKD_DOMAIN_STOPPING,    /* stopped seen, release pending */
} HookdDomainPhase;

/* Wall-clock µs as ISO 8601 UTC with microseconds (timeline, status). */
char *hookd_format_time(gint64 us);

const char *hookd_pair_state_name(HookdPairState state);
const char *hookd_domain_phase_name(HookdDomainPhase phase);

typedef struct {
    char *alias;            /* virtio interface alias (ua-...) */
    char *mac;
    char *mode;             /* "native" | "managed" */
    char *no_vf;            /* "refuse" | "virtio-only" */
    JsonObject *policy;     /* the annotation's policy (pf/pool, vlan, ...) */
    /* The VF, filled by the VF manager (hookd-vf.h); vf_pf NULL = none. */
    char *vf_pf;
    int vf_index;
    char *vf_pci;           /* kernel backend: PCI address */
    char *vf_netdev;        /* emulated backend: the VF's tap */
    char *vf_alias;         /* alias of the VF's device in the domain */
    /* The VF's device is in the domain definition (native mode on the
     * emulated backend, or after an incoming rewrite): QEMU plugs it, hookd
     * never attaches it. */
    gboolean vf_defined;
    /* The VF left the guest for an outgoing migration: QEMU unplugged it
     * (native mode, UNPLUG_PRIMARY) or hookd detached it (managed mode).
     * Cleared when the migration fails (the VF comes back). Persisted: a
     * restarted hookd must still roll back (hookd-sync.c). */
    gboolean migrating;
    /* The domain does not run here yet (incoming migration): the datapath
     * neither claims nor announces its MAC, whatever the state, until it
     * resumed here. Persisted. */
    gboolean dp_held;
    /* Incoming migration, and the source has stopped the VM (the incoming
     * migration completed; it runs here once libvirt resumes it): the
     * datapath claims and announces the MAC now and holds what arrives
     * until the VM runs here. In memory only. */
    gboolean dp_catching;
    /* Source: the domain migrates away (QEMU's MIGRATION began here), VF
     * or not: the datapath relays what still arrives for the MAC once QEMU
     * stopped the VM, to the destination's datapath (`relay`, with
     * `migrating`). Cleared when the migration fails. In memory only. */
    gboolean dp_relay;
    /* A managed migration asked libvirt to detach the VF; DEVICE_REMOVED
     * (or its failure) has not come yet. In memory only. */
    gboolean vf_detaching;
    /* The VF is leaving (SWITCHING, then VIRTIO_ACTIVE) and the guest may
     * still have it registered: its net_failover drops every frame that
     * arrives on the standby until then, so the datapath holds them
     * ("hold") until the unplug completed (DEVICE_REMOVED, the migration
     * left wait-unplug, the domain paused). Not saved: a pair loaded in
     * SWITCHING gets it back; the datapath delivers what it holds after
     * --hold-ms anyway. */
    gboolean vf_leaving;
    /* The VF came (back) to the guest and the guest has not transmitted on
     * it yet: it may still receive only on the standby until it registers
     * the VF, and the re-plugged VF drops what it queued before the guest
     * opened it. While joining, the frames for the MAC go to the VF and
     * are also copied to the datapath, which keeps delivering them on
     * virtio. Only where the NIC can copy (else cleared at once). Ends when
     * the guest transmits on the VF (join watch) or after a bound. In
     * memory only. */
    gboolean vf_joining;
    HookdPairState state;
    gint64 state_since;     /* wall clock, µs */
    guint transitions;
} HookdPair;

typedef struct {
    char *uuid;
    char *name;
    HookdDomainPhase phase;
    gint64 created;         /* wall clock, µs */
    GPtrArray *pairs;       /* HookdPair* */
    GPtrArray *timeline;    /* JsonObject* {at, kind, what}, newest last, bounded */
    /* Created by an incoming migration that has not resumed here yet: VFs
     * hookd hot-plugs wait for RESUMED MIGRATED. Persisted. */
    gboolean incoming;
    /* Wall clock µs when libvirt released the domain here (0: live). A
     * released record is kept in memory only, for `pairs DOMAIN`: the
     * source of a migration still shows its timeline afterwards. */
    gint64 released;
} HookdDomain;

typedef struct _HookdRegistry HookdRegistry;

/* Open the registry persisted in @state_dir (missing file = empty). */
HookdRegistry *hookd_registry_new(const char *state_dir, GError **error);
void hookd_registry_free(HookdRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdRegistry, hookd_registry_free)

void hookd_registry_lock(HookdRegistry *reg);
void hookd_registry_unlock(HookdRegistry *reg);

/* Locked: look up by UUID (NULL if unknown). */
HookdDomain *hookd_registry_find(HookdRegistry *reg, const char *uuid);
/* Locked: look up by name (domain names are unique on a host). */
HookdDomain *hookd_registry_find_by_name(HookdRegistry *reg, const char *name);
/* Locked: add a domain (replacing a stale record with the same UUID); the
 * registry takes @pairs (HookdPair*, state VIRTIO_ACTIVE). */
HookdDomain *hookd_registry_add(HookdRegistry *reg, const char *uuid, const char *name,
                                HookdDomainPhase phase, GPtrArray *pairs);
/* Locked: forget a domain. */
void hookd_registry_remove(HookdRegistry *reg, const char *uuid);
/* Locked: the domain was released here: drop it from the live records but
 * keep it (memory only, the last few, one per name) for `pairs DOMAIN`. */
void hookd_registry_retire(HookdRegistry *reg, const char *uuid);
/* Locked: released records named @name_or_uuid as JSON objects (newest
 * first; free with g_ptr_array_unref). */
GPtrArray *hookd_registry_released_json(HookdRegistry *reg, const char *name_or_uuid);
/* Locked: UUIDs of every domain (free with g_strfreev). */
char **hookd_registry_uuids(HookdRegistry *reg);

/* Locked: find the pair whose virtio alias or VF alias is @alias. */
HookdPair *hookd_domain_find_pair(HookdDomain *dom, const char *alias);
/* Locked: move a pair to @state (timestamped, on the timeline with
 * {"pair", "from", "to", "reason"}, logged). */
void hookd_domain_set_pair_state(HookdDomain *dom, HookdPair *pair, HookdPairState state,
                                 const char *reason);
void hookd_domain_set_phase(HookdDomain *dom, HookdDomainPhase phase);
/* Locked: append to the timeline; @kind is "hook", "event" or "state". */
void hookd_domain_note(HookdDomain *dom, const char *kind, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Locked: write pairs.json now (state changes: before acting on them). */
gboolean hookd_registry_save(HookdRegistry *reg, GError **error);
/* Locked: write pairs.json soon (timeline-only changes), from the main loop. */
void hookd_registry_save_later(HookdRegistry *reg);


/* Locked: the registry as JSON ({"domains": [...]}, as in pairs.json). */
JsonNode *hookd_registry_to_json(HookdRegistry *reg);

HookdPair *hookd_pair_new(const char *alias, const char *mac);
void hookd_pair_free(HookdPair *pair);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdPair, hookd_pair_free)
