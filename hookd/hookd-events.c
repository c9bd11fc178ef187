/* The libvirt domain events hookd listens to, as a table (see
 * hookd-events.h), and what each does to the pair registry. They run on the
 * main loop; only annotated domains hookd has a record for are touched. */
#include "config.h"

#include <string.h>

#include "hookd-daemon.h"
#include "hookd-events.h"

static const char *const lifecycle_names[] = {
    "DEFINED", "UNDEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED",
    "SHUTDOWN", "PMSUSPENDED", "CRASHED",
};

static const char *
lifecycle_detail(int event, int detail)
{
    static const char *const started[] = { "BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP" };
    static const char *const suspended[] = { "PAUSED", "MIGRATED", "IOERROR", "WATCHDOG", "RESTORED",
                                             "FROM_SNAPSHOT", "API_ERROR", "POSTCOPY", "POSTCOPY_FAILED" };
    static const char *const resumed[] = { "UNPAUSED", "MIGRATED", "FROM_SNAPSHOT", "POSTCOPY",
                                           "POSTCOPY_FAILED" };
    static const char *const stopped[] = { "SHUTDOWN", "DESTROYED", "CRASHED", "MIGRATED", "SAVED",
                                           "FAILED", "FROM_SNAPSHOT" };
#define PICK(arr) (detail >= 0 && detail < (int)G_N_ELEMENTS(arr) ? arr[detail] : "OTHER")
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED: return PICK(started);
    case VIR_DOMAIN_EVENT_SUSPENDED: return PICK(suspended);
    case VIR_DOMAIN_EVENT_RESUMED: return PICK(resumed);
    case VIR_DOMAIN_EVENT_STOPPED: return PICK(stopped);
    default: return "-";
    }
#undef PICK
}

/* Look the domain up and lock the registry; NULL (unlocked) if hookd has
 * no record of it. Counts the event for annotated domains. */
static HookdDomain *
event_domain(HookdDaemon *d, virDomainPtr vdom, const char *event)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    HookdDomain *dom;

    if (virDomainGetUUIDString(vdom, uuid) < 0)
        return NULL;
    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, uuid);
    if (!dom) {
        hookd_registry_unlock(d->registry);
        return NULL;
    }
    hookd_daemon_count(d->event_counts, event);
    return dom;
}

/* THE STEERING POLICY: where the VM's MAC is delivered in each pair state.
 * Two switches decide it: the embedded switch's MAC steering to the VF
 * (sriov_pool_configure MAC / sriov_pool_clear_steering) and the
 * datapath's claim of the MAC on the uplink (pair-set-state virtio|vf).
 *
 *   VF_ACTIVE      VF steering on,  datapath "vf"      (QEMU has the VF plugged:
 *                  frames wait in the VF's queue while the guest's VF link
 *                  comes up, which is better than virtio: see SWITCHING)
 *     joining      VF steering on, mirror on, datapath "virtio" (the VF
 *                  came back: until the guest registers it, net_failover
 *                  takes frames on the standby, and QEMU's VF drops what it
 *                  queued before the guest opened it. So the NIC copies the
 *                  frames for the MAC to the datapath too (where it can:
 *                  vf_set_mirror), the datapath keeps delivering them on
 *                  virtio, and whatever the guest no longer takes there it
 *                  gets from the VF. Ends when the guest transmits on the
 *                  VF (join watch) or after WATCH_MAX_S; a NIC that
 *                  cannot mirror skips it.)
 *   SWITCHING      VF steering off, datapath "hold"    (the VF is being
 *                  unplugged. The guest stops receiving on it when its
 *                  driver closes, but accepts frames on the standby only
 *                  once the VF is unregistered: net_failover drops them
 *                  before. So the datapath claims the MAC and keeps what
 *                  arrives for the guest until the unplug completed, then
 *                  delivers it in order. Where the datapath does not take
 *                  the hold (down), the VF keeps its steering until the
 *                  guest lets go: it delivers until the driver closes.)
 *   VIRTIO_ACTIVE  VF steering off, datapath "hold" until the unplug
 *                  completed (vf_leaving: DEVICE_REMOVED, the migration
 *                  left wait-unplug, the domain paused), then "virtio"
 *
 * Make before break: towards virtio the datapath claims (and holds) the
 * MAC before the VF's steering is cleared; towards the VF the mirror is set
 * before the steering, and the datapath lets go before the mirror stops.
 * SWITCHING ends as soon as the guest is
 * seen to let go (switch_watch: it transmits on virtio), or on the event
 * that says so (the migration left wait-unplug, DEVICE_REMOVED), whichever
 * comes first; the hold ends on the event. */

static void join_watch_start(HookdDaemon *d, HookdDomain *dom, HookdPair *p);

/* A policy change slower than this is noted on the pair's timeline with
 * its steps' times: on a busy host an nft run or a datapath call can take
 * tens of milliseconds, during which the guest moves on. */
#define STEERING_SLOW_US 20000

/* Microseconds since *mark; moves the mark to now. */
static gint64
lap(gint64 *mark)
{
    gint64 now = g_get_monotonic_time(), elapsed = now - *mark;

    *mark = now;
    return elapsed;
}

static void
apply_steering(HookdDaemon *d, HookdDomain *dom, HookdPair *p)
{
    gint64 t0 = g_get_monotonic_time(), mark = t0, t_dp = 0, t_steer = 0, t_mirror = 0, total;
    gboolean held;

    switch (p->state) {
    case HOOKD_PAIR_VF_ACTIVE:
        if (p->vf_joining && !hookd_vf_set_mirror(d->vf, dom->uuid, dom->name, p, TRUE))
            p->vf_joining = FALSE;      /* the NIC cannot: the VF alone */
        t_mirror += lap(&mark);
        hookd_vf_set_steering(d->vf, dom->uuid, dom->name, p, TRUE);
        t_steer += lap(&mark);
        hookd_dp_port_set_state(d->dp, dom->name, p);
        t_dp += lap(&mark);
        if (!p->vf_joining)
            hookd_vf_set_mirror(d->vf, dom->uuid, dom->name, p, FALSE);
        t_mirror += lap(&mark);
        break;
    case HOOKD_PAIR_SWITCHING:
        held = hookd_dp_port_set_state(d->dp, dom->name, p);
        t_dp += lap(&mark);
        hookd_vf_set_steering(d->vf, dom->uuid, dom->name, p, !held);
        t_steer += lap(&mark);
        hookd_vf_set_mirror(d->vf, dom->uuid, dom->name, p, FALSE);
        t_mirror += lap(&mark);
        break;
    default:
        hookd_dp_port_set_state(d->dp, dom->name, p);
        t_dp += lap(&mark);
        hookd_vf_set_steering(d->vf, dom->uuid, dom->name, p, FALSE);
        t_steer += lap(&mark);
        hookd_vf_set_mirror(d->vf, dom->uuid, dom->name, p, FALSE);
        t_mirror += lap(&mark);
        break;
    }
    total = mark - t0;
    if (total > STEERING_SLOW_US)
        hookd_domain_note(dom, "state", "%s: steering for %s took %" G_GINT64_FORMAT " ms "
                          "(datapath %" G_GINT64_FORMAT ", VF steering %" G_GINT64_FORMAT
                          ", mirror %" G_GINT64_FORMAT ")", p->alias,
                          hookd_pair_state_name(p->state), total / 1000, t_dp / 1000,
                          t_steer / 1000, t_mirror / 1000);
}

static void switch_watch_start(HookdDaemon *d, HookdDomain *dom, HookdPair *p);

/* Registry locked: transition @p, apply the steering policy, then persist.
 * Steering first: the guest does not wait. The guest's VF driver can begin
 * its remove as early as 15-20 ms after QEMU's unplug request (measured
 * with the e1000e stand-in, which from then on leaves what reaches its ring
 * there: lost), and a state save takes 1-30 ms (two fsyncs).
 * If hookd is killed between the two, it restarts from the state before
 * the event, as if killed just before it: the case the restart's resync and
 * tests/e2e/test-migration-faults.sh (kill -9 mid-migration) cover. */
static void
move(HookdDaemon *d, HookdDomain *dom, HookdPair *p, HookdPairState state, const char *reason)
{
    g_autoptr(GError) error = NULL;
    gint64 saving;

    if (!p || p->state == state)
        return;
    p->vf_joining = state == HOOKD_PAIR_VF_ACTIVE;
    if (state == HOOKD_PAIR_SWITCHING)
        p->vf_leaving = TRUE;
    else if (state == HOOKD_PAIR_VF_ACTIVE)
        p->vf_leaving = FALSE;
    hookd_domain_set_pair_state(dom, p, state, reason);
    apply_steering(d, dom, p);
    saving = g_get_monotonic_time();
    if (!hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
    saving = g_get_monotonic_time() - saving;
    if (saving > STEERING_SLOW_US)
        hookd_domain_note(dom, "state", "%s: saving the state took %" G_GINT64_FORMAT " ms",
                          p->alias, saving / 1000);
    if (state == HOOKD_PAIR_SWITCHING) {
        switch_watch_start(d, dom, p);
    } else if (p->vf_joining) {
        hookd_domain_note(dom, "state", "%s: frames for the VF also go to the datapath until the "
                          "guest transmits on the VF", p->alias);
        join_watch_start(d, dom, p);
    }
}

/* Registry locked: the VF that was leaving @p is gone from the guest (its
 * unplug completed, or the domain is paused): a pair already on virtio has
 * the datapath deliver what it held. */
static void
vf_gone(HookdDaemon *d, HookdDomain *dom, HookdPair *p, const char *reason)
{
    if (!p->vf_leaving)
        return;
    p->vf_leaving = FALSE;
    hookd_domain_note(dom, "state", "%s: the datapath delivers what it held (%s)", p->alias, reason);
    if (p->state == HOOKD_PAIR_VIRTIO_ACTIVE)
        hookd_dp_port_set_state(d->dp, dom->name, p);
    /* else still SWITCHING: the move to VIRTIO_ACTIVE that follows sets
     * the datapath */
}

/* ---- the watches ----
 * The guest's own traffic says when it has moved, earlier than any event.
 *
 * Switch watch (SWITCHING): the events that end SWITCHING come late: QEMU
 * polls the guest's unplug every 250 ms before it reports the migration
 * "active", and DEVICE_REMOVED follows the guest's eject through QEMU and
 * libvirt. Meanwhile the guest has let go of the VF and the frames steered
 * to it are lost. net_failover transmits on the standby as soon as the
 * primary is down and accepts frames there once the primary is
 * unregistered, right after: so the first frame the guest sends through
 * the datapath while SWITCHING says the guest has switched.
 *
 * Join watch (VF_ACTIVE, joining): net_failover transmits on the primary
 * once its link is up, and by then has long stopped taking frames on the
 * standby: the guest sending through the VF (its tx counter) ends the
 * mirror. Not the first frame: after a migration QEMU announces every NIC
 * of the VM it knows (RARPs, announce-rounds, 5 by default), and the
 * emulated VF is one of them; so more than JOIN_HYPERVISOR_FRAMES. (A real
 * VF, passed through, sends only what the guest sends.)
 *
 * Each polls its counter every WATCH_MS while the pair is in that state,
 * for at most WATCH_MAX_S: an idle guest sends nothing, and then the
 * events decide (switch) or the mirror ends at the bound (join). */
#define WATCH_MS 10
#define WATCH_MAX_S 60
#define JOIN_HYPERVISOR_FRAMES 5

typedef enum { WATCH_SWITCH, WATCH_JOIN } WatchKind;

typedef struct {
    HookdDaemon *d;
    WatchKind kind;
    char *uuid;
    char *alias;
    gint64 base;            /* the counter when the watch began */
    gint64 deadline;        /* monotonic µs */
} Watch;

static void
watch_free(gpointer data)
{
    Watch *w = data;
    g_free(w->uuid);
    g_free(w->alias);
    g_free(w);
}

static gint64
from_guest(HookdDaemon *d, const char *domain, const HookdPair *p)
{
    g_autoptr(JsonObject) c = hookd_dp_port_counters(d->dp, domain, p);
    return c ? json_object_get_int_member_with_default(c, "from_guest", -1) : -1;
}

/* What the guest has sent the way the watch looks at: through the
 * datapath (switch) or through the VF (join); -1: unknown. */
static gint64
watch_counter(HookdDaemon *d, WatchKind kind, const char *uuid, const char *domain,
              const HookdPair *p)
{
    return kind == WATCH_SWITCH ? from_guest(d, domain, p) : hookd_vf_tx_packets(d->vf, uuid, p);
}

/* Registry locked: the pair the watch is about, still in the state it
 * watches, or NULL. */
static HookdPair *
watched_pair(Watch *w, HookdDomain **dom_out)
{
    HookdDomain *dom = hookd_registry_find(w->d->registry, w->uuid);
    HookdPair *p = dom ? hookd_domain_find_pair(dom, w->alias) : NULL;

    *dom_out = dom;
    if (!p)
        return NULL;
    if (w->kind == WATCH_SWITCH ? p->state == HOOKD_PAIR_SWITCHING
                                : p->state == HOOKD_PAIR_VF_ACTIVE && p->vf_joining)
        return p;
    return NULL;
}

/* Registry locked: the guest was seen to move (@frames > 0), or the watch
 * gave up (join only: the mirror ends anyway). */
static void
watch_done(Watch *w, HookdDomain *dom, HookdPair *p, gint64 frames)
{
    if (w->kind == WATCH_SWITCH) {
        hookd_domain_note(dom, "event", "%s: the guest transmits on virtio (%" G_GINT64_FORMAT
                          " frames)", p->alias, frames);
        move(w->d, dom, p, HOOKD_PAIR_VIRTIO_ACTIVE, "the guest let go of the VF: it transmits on virtio");
        return;
    }
    if (frames > 0)
        hookd_domain_note(dom, "event", "%s: the guest transmits on the VF (%" G_GINT64_FORMAT
                          " frames): the datapath lets go", p->alias, frames);
    else
        hookd_domain_note(dom, "event", "%s: the guest sent nothing on the VF in %d s: the "
                          "datapath lets go", p->alias, WATCH_MAX_S);
    p->vf_joining = FALSE;
    apply_steering(w->d, dom, p);
}

static gboolean
watch_tick(gpointer data)
{
    Watch *w = data;
    g_autoptr(HookdPair) copy = NULL;
    g_autofree char *name = NULL;
    HookdDomain *dom;
    HookdPair *p;
    gboolean expired = g_get_monotonic_time() > w->deadline;
    gint64 now = -1;

    hookd_registry_lock(w->d->registry);
    p = watched_pair(w, &dom);
    if (p) {
        copy = hookd_pair_copy(p);
        name = g_strdup(dom->name);
    }
    hookd_registry_unlock(w->d->registry);
    if (!copy)
        return G_SOURCE_REMOVE;
    if (!expired) {
        now = watch_counter(w->d, w->kind, w->uuid, name, copy);
        if (now < 0 || now - w->base <= (w->kind == WATCH_JOIN ? JOIN_HYPERVISOR_FRAMES : 0))
            return G_SOURCE_CONTINUE;
    } else if (w->kind == WATCH_SWITCH) {
        return G_SOURCE_REMOVE;
    }
    hookd_registry_lock(w->d->registry);
    p = watched_pair(w, &dom);
    if (p)
        watch_done(w, dom, p, expired ? 0 : now - w->base);
    hookd_registry_unlock(w->d->registry);
    return G_SOURCE_REMOVE;
}

/* Registry locked (main loop). */
static void
watch_start(HookdDaemon *d, WatchKind kind, HookdDomain *dom, HookdPair *p)
{
    Watch *w;
    gint64 base = watch_counter(d, kind, dom->uuid, dom->name, p);

    if (base < 0) {
        /* no datapath port / VF counters: the events decide; a join
         * without a watch would mirror for ever */
        if (kind == WATCH_JOIN) {
            p->vf_joining = FALSE;
            apply_steering(d, dom, p);
        }
        return;
    }
    w = g_new0(Watch, 1);
    w->d = d;
    w->kind = kind;
    w->uuid = g_strdup(dom->uuid);
    w->alias = g_strdup(p->alias);
    w->base = base;
    w->deadline = g_get_monotonic_time() + WATCH_MAX_S * G_USEC_PER_SEC;
    g_timeout_add_full(G_PRIORITY_DEFAULT, WATCH_MS, watch_tick, w, watch_free);
}

static void
switch_watch_start(HookdDaemon *d, HookdDomain *dom, HookdPair *p)
{
    watch_start(d, WATCH_SWITCH, dom, p);
}

static void
join_watch_start(HookdDaemon *d, HookdDomain *dom, HookdPair *p)
{
    if (p->vf_joining)
        watch_start(d, WATCH_JOIN, dom, p);
}

/* Registry locked: transition a pair found by device alias. */
static void
move_pair(HookdDaemon *d, HookdDomain *dom, const char *alias, HookdPairState state,
          const char *reason)
{
    move(d, dom, alias ? hookd_domain_find_pair(dom, alias) : NULL, state, reason);
}

/* Registry locked: source, QEMU's migration of the domain began: every
 * pair's datapath relays to the destination what arrives for the VM once
 * QEMU stopped it here (hookd-dp.c); @on FALSE when the domain runs here
 * again (a failed migration clears it in hookd_events_migration_failed). */
static void
outgoing_relay(HookdDaemon *d, HookdDomain *dom, gboolean on)
{
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (p->dp_relay == on)
            continue;
        p->dp_relay = on;
        hookd_dp_port_set_state(d->dp, dom->name, p);
    }
}

void
hookd_events_migration_failed(HookdDaemon *d, HookdDomain *dom, const char *reason)
{
    g_autoptr(GError) error = NULL;
    gboolean plug = FALSE, changed = FALSE;
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        gboolean relayed = p->migrating || p->dp_relay;

        p->dp_relay = FALSE;
        if (p->migrating) {
            /* The destination announced the MAC if it saw the source stop
             * (incoming_source_stopped): the VM runs here again, tell the
             * network so. */
            hookd_dp_port_announce(d->dp, dom->name, p);
            if (!p->vf_defined) {
                /* Managed mode: hookd detached the VF; the migration's
                 * thread plugs it back if it is still there
                 * (hookd-migrate.c), and the pair relays until then. */
                if (hookd_migrate_running(d, dom->name))
                    continue;
                hookd_domain_note(dom, "state", "%s: %s; plugging the VF back", p->alias, reason);
                g_message("domain %s: interface %s: %s; plugging the VF back", dom->name,
                          p->alias, reason);
                plug = TRUE;
            }
            p->migrating = FALSE;
            changed = TRUE;
            if (p->vf_defined && p->vf_pf && p->state != HOOKD_PAIR_VF_ACTIVE) {
                move(d, dom, p, HOOKD_PAIR_VF_ACTIVE, reason);   /* sets the datapath */
                continue;
            }
        }
        /* The datapath stops relaying: once per pair, with its final state. */
        if (relayed)
            hookd_dp_port_set_state(d->dp, dom->name, p);
    }
    if (changed && !hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
    if (plug)
        hookd_daemon_queue(d, hookd_hookops_plug_vfs, dom->uuid);
}

void
hookd_events_incoming_resumed(HookdDaemon *d, HookdDomain *dom, const char *reason)
{
    g_autoptr(GError) error = NULL;
    guint i;

    dom->incoming = FALSE;
    hookd_domain_set_phase(dom, HOOKD_DOMAIN_RUNNING);
    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (p->dp_held) {
            /* Runs here now: a pair on virtio has claimed its MAC quietly
             * (and the datapath announced it when the guest's virtio
             * device started: QEMU starts it when the VM runs), or held
             * it since the source stopped: it delivers what it held. */
            p->dp_held = FALSE;
            p->dp_catching = FALSE;
            hookd_domain_note(dom, "state", "%s: datapath released (%s)", p->alias, reason);
            apply_steering(d, dom, p);
        }
        /* The physical network still sends the MAC to the source until
         * something from here says otherwise, and the just-resumed guest
         * may take a few hundred ms to send anything: one more
         * announcement, whatever the state (in native mode the pair is
         * VF_ACTIVE by now: the frames then wait in the VF's queue). */
        hookd_dp_port_announce(d->dp, dom->name, p);
    }
    if (!hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
    hookd_daemon_queue(d, hookd_hookops_plug_vfs, dom->uuid);
    hookd_standby_check_later(d, dom->uuid);
}

/* Registry locked: destination, the incoming migration completed: the
 * source has stopped the VM (QEMU sends the devices' state only after
 * that) and libvirt resumes it here 20-50 ms later. Each held pair's
 * datapath claims and announces the MAC now and holds what arrives until
 * then (dp_catching), so that the network stops sending the VM's frames to
 * a host where it no longer runs before it runs here. */
static void
incoming_source_stopped(HookdDaemon *d, HookdDomain *dom)
{
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (!p->dp_held || p->dp_catching)
            continue;
        p->dp_catching = TRUE;
        hookd_domain_note(dom, "state", "%s: the source stopped the VM: the datapath announces "
                          "the MAC and holds its frames until the VM runs here", p->alias);
        apply_steering(d, dom, p);
    }
}

/* Registry locked: the guest has let go of the VFs QEMU unplugged for the
 * migration (or cannot hold them any more: it is paused). */
static void
migration_unplugged(HookdDaemon *d, HookdDomain *dom, const char *reason)
{
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (!p->migrating)
            continue;
        vf_gone(d, dom, p, reason);
        if (p->state == HOOKD_PAIR_SWITCHING)
            move(d, dom, p, HOOKD_PAIR_VIRTIO_ACTIVE, reason);
    }
}

/* Main loop (a HookdWorkFunc): a managed migration is about to detach the
 * VFs: their pairs go SWITCHING (the datapath claims and announces the
 * MAC and holds the guest's frames until the VF is gone). */
void
hookd_events_begin_detach(HookdDaemon *d, const char *uuid)
{
    HookdDomain *dom;
    guint i;

    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, uuid);
    for (i = 0; dom && i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (p->vf_pf && p->state == HOOKD_PAIR_VF_ACTIVE)
            move(d, dom, p, HOOKD_PAIR_SWITCHING, "managed migration: the VF is about to be detached");
    }
    hookd_registry_unlock(d->registry);
}

/* Main loop (a HookdWorkFunc): a managed migration failed before the
 * guest let go of a VF (no DEVICE_REMOVED): the pair is back on it. */
void
hookd_events_cancel_detach(HookdDaemon *d, const char *uuid)
{
    HookdDomain *dom;
    guint i;

    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, uuid);
    for (i = 0; dom && i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (p->state == HOOKD_PAIR_SWITCHING && p->vf_detaching) {
            p->vf_detaching = FALSE;
            move(d, dom, p, HOOKD_PAIR_VF_ACTIVE, "managed migration failed: the guest kept the VF");
        }
    }
    hookd_registry_unlock(d->registry);
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr vdom, int event, int detail, void *opaque)
{
    HookdDaemon *d = opaque;
    const char *name = event >= 0 && event < (int)G_N_ELEMENTS(lifecycle_names) ? lifecycle_names[event] : "OTHER";
    g_autofree char *key = g_strdup_printf("LIFECYCLE %s", name);
    HookdDomain *dom = event_domain(d, vdom, key);

    if (!dom)
        return 0;
    hookd_domain_note(dom, "event", "lifecycle %s %s", name, lifecycle_detail(event, detail));
    if (event == VIR_DOMAIN_EVENT_SUSPENDED && detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED)
        migration_unplugged(d, dom, "domain paused for the migration's last copy");
    else if (dom->incoming &&
             event == VIR_DOMAIN_EVENT_RESUMED && detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
        /* Destination: the migration completed and the domain runs here;
         * VFs hookd hot-plugs (managed mode) can go in now. (STARTED
         * MIGRATED comes when the incoming QEMU starts: far too early.) */
        hookd_events_incoming_resumed(d, dom, "the domain runs here");
    else if (event == VIR_DOMAIN_EVENT_RESUMED && detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED)
        hookd_events_migration_failed(d, dom, "domain resumed here: the migration failed");
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
    return 0;
}

/* The three device events: only the VF's device moves its pair (the
 * virtio one is always there). */
static void
device_event(HookdDaemon *d, virDomainPtr vdom, const char *alias, const char *event,
             const char *what, HookdPairState state, const char *reason)
{
    HookdDomain *dom = event_domain(d, vdom, event);
    HookdPair *p;

    if (!dom)
        return;
    hookd_domain_note(dom, "event", "%s %s", what, alias);
    p = hookd_domain_find_pair(dom, alias);
    if (p && g_strcmp0(p->vf_alias, alias) == 0) {
        p->vf_detaching = FALSE;
        if (state == HOOKD_PAIR_VIRTIO_ACTIVE)
            vf_gone(d, dom, p, reason);
        move_pair(d, dom, alias, state, reason);
    }
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

static void
on_device_added(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_ADDED", "device added", HOOKD_PAIR_VF_ACTIVE,
                 "VF device added");
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_REMOVED", "device removed",
                 HOOKD_PAIR_VIRTIO_ACTIVE, "VF device removed");
}

static void
on_device_removal_failed(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_REMOVAL_FAILED", "device removal failed",
                 HOOKD_PAIR_VF_ACTIVE, "VF unplug failed, the guest keeps it");
}

static void
on_job_completed(virConnectPtr conn, virDomainPtr vdom, virTypedParameterPtr params,
                 int nparams, void *opaque)
{
    HookdDaemon *d = opaque;
    HookdDomain *dom = event_domain(d, vdom, "JOB_COMPLETED");
    int operation = -1;
    unsigned long long downtime = 0;

    if (!dom)
        return;
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &operation);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &downtime);
    hookd_domain_note(dom, "event", "job completed (operation %d, downtime %llu ms)",
                      operation, downtime);
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

/* A string member of a QEMU event's details ({"device-id": ID},
 * {"status": S}). */
static char *
detail_string(const char *details, const char *member)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    JsonNode *root;

    if (!details || !json_parser_load_from_data(parser, details, -1, NULL))
        return NULL;
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(json_node_get_object(root),
                                                               member, NULL));
}

static void
on_qemu_event(virConnectPtr conn, virDomainPtr vdom, const char *event, long long seconds,
              unsigned int micros, const char *details, void *opaque)
{
    HookdDaemon *d = opaque;
    HookdDomain *dom = event_domain(d, vdom, event);
    gboolean migration = strcmp(event, "MIGRATION") == 0;
    g_autofree char *dev = detail_string(details, migration ? "status" : "device-id");
    HookdPair *p;

    if (!dom)
        return;
    hookd_domain_note(dom, "event", "qemu %s %s (at %lld.%06u)", event, dev ? dev : "-",
                      seconds, micros);
    p = dev && !migration ? hookd_domain_find_pair(dom, dev) : NULL;
    if (strcmp(event, "RESUME") == 0) {
        /* Destination: QEMU runs the domain here. libvirt's RESUMED
         * MIGRATED comes 50-100 ms later: act on whichever is first. */
        if (dom->incoming)
            hookd_events_incoming_resumed(d, dom, "QEMU resumed the domain here");
        else
            outgoing_relay(d, dom, FALSE);  /* it runs here (again): a snapshot, a failed migration */
    } else if (strcmp(event, "UNPLUG_PRIMARY") == 0 && p && g_strcmp0(p->vf_alias, dev) == 0) {
        /* Source, migration start: QEMU asks the guest to unplug the VF:
         * the datapath holds the guest's frames until it let go. */
        p->migrating = TRUE;
        move(d, dom, p, HOOKD_PAIR_SWITCHING, "QEMU unplugs the VF for the migration");
    } else if (strcmp(event, "FAILOVER_NEGOTIATED") == 0 && p && p->vf_pf && p->vf_defined &&
               !p->migrating) {
        /* The guest (or, on a migration destination, its loaded state)
         * negotiated STANDBY on the virtio interface: QEMU plugs the VF
         * device of the definition now. Steering moves at once: frames
         * wait in the VF's queue while the guest brings its link up. */
        move(d, dom, p, HOOKD_PAIR_VF_ACTIVE, "QEMU plugged the VF: failover negotiated");
    } else if (migration && dev && dom->incoming) {
        /* Destination: "completed" = the source stopped the VM. */
        if (strcmp(dev, "completed") == 0)
            incoming_source_stopped(d, dom);
    } else if (migration && dev) {
        /* Source: "setup", "wait-unplug" until the guest acknowledged the
         * unplug, then "active"; "failed"/"cancelled" make QEMU re-plug
         * the VF. The relay matters from QEMU's stop on, after "active";
         * not at "setup": UNPLUG_PRIMARY follows it within a millisecond
         * and the datapath call (12 ms on a busy host) would delay it
         * (a VF that UNPLUG_PRIMARY switches gets its relay then). */
        if (strcmp(dev, "wait-unplug") == 0 || strcmp(dev, "active") == 0)
            outgoing_relay(d, dom, TRUE);
        if (strcmp(dev, "active") == 0 || strcmp(dev, "pre-switchover") == 0 ||
            strcmp(dev, "device") == 0 || strcmp(dev, "completed") == 0)
            migration_unplugged(d, dom, "the guest released the VF: the migration left wait-unplug");
        else if (strcmp(dev, "failed") == 0 || strcmp(dev, "cancelled") == 0)
            hookd_events_migration_failed(d, dom, "the migration failed: the VF comes back");
    }
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

const HookdEventDef hookd_event_table[] = {
    { "LIFECYCLE", VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL },
    { "DEVICE_ADDED", VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_added), NULL, NULL },
    { "DEVICE_REMOVED", VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), NULL, NULL },
    { "DEVICE_REMOVAL_FAILED", VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
      VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), NULL, NULL },
    { "JOB_COMPLETED", VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed), NULL, NULL },
    { "UNPLUG_PRIMARY", 0, NULL, "UNPLUG_PRIMARY", on_qemu_event },
    { "FAILOVER_NEGOTIATED", 0, NULL, "FAILOVER_NEGOTIATED", on_qemu_event },
    { "MIGRATION", 0, NULL, "MIGRATION", on_qemu_event },
    { "RESUME", 0, NULL, "RESUME", on_qemu_event },
    { NULL, 0, NULL, NULL, NULL },
};
