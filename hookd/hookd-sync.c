/* Reconcile the pair registry with libvirt's live domains, after every
 * (re)connect: at start (hookd may have been killed), after libvirtd
 * restarted (events were lost meanwhile). Records of domains that stopped
 * while nobody watched are released; live annotated domains hookd has no
 * record of are adopted; running ones get their VFs plugged if needed, and
 * what events were missed is caught up: a migration that completed here
 * (the destination's hold ends) or failed (the source's VFs come back).
 * A periodic sweep releases PREPARING records whose domain never ran. */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "vfx-domain.h"
#include "hookd-daemon.h"

/* A start (or an incoming migration) in progress is PREPARING and may not
 * be live yet for a moment (libvirt adds an incoming domain after its
 * `migrate begin` hook); only a record this old is considered abandoned. */
#define PREPARING_GRACE_US (30 * G_USEC_PER_SEC)
/* How often PREPARING records are checked against libvirt: a start or an
 * incoming migration that failed before QEMU ran gets no release hook. */
#define SWEEP_INTERVAL_S 10

typedef struct {
    char *uuid;
    char *name;
    char *xml;      /* annotated domains only */
    int state;      /* virDomainState */
    gboolean job;   /* a job (a migration) is running on it */
} LiveDomain;

static void
live_domain_free(gpointer p)
{
    LiveDomain *l = p;
    g_free(l->uuid);
    g_free(l->name);
    g_free(l->xml);
    g_free(l);
}

/* uuid -> LiveDomain for every active domain; NULL if libvirt failed. */
static GHashTable *
list_live(virConnectPtr conn)
{
    g_autoptr(GHashTable) live = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, live_domain_free);
    virDomainPtr *doms = NULL;
    int n, i;

    n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        virErrorPtr err = virGetLastError();
        g_warning("resync: cannot list libvirt's live domains: %s",
                  err && err->message ? err->message : "unknown error");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        LiveDomain *l;
        char *meta;

        if (virDomainGetUUIDString(doms[i], uuid) == 0) {
            l = g_new0(LiveDomain, 1);
            l->uuid = g_strdup(uuid);
            l->name = g_strdup(virDomainGetName(doms[i]));
            /* Our metadata element alone says whether the domain is ours. */
            meta = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, VFX_NAMESPACE, 0);
            if (meta) {
                virDomainJobInfo job = { 0 };

                l->xml = virDomainGetXMLDesc(doms[i], 0);
                if (virDomainGetState(doms[i], &l->state, NULL, 0) < 0)
                    l->state = VIR_DOMAIN_NOSTATE;
                /* Unknown: as if a job ran (nothing is rolled back). */
                l->job = virDomainGetJobInfo(doms[i], &job) < 0 || job.type != VIR_DOMAIN_JOB_NONE;
                free(meta);
            }
            g_hash_table_replace(live, l->uuid, l);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return g_steal_pointer(&live);
}

/* Registry locked: forget a domain that stopped unseen, freeing what it
 * held (VFs, datapath ports). */
static void
release_record(HookdDaemon *d, HookdDomain *dom, const char *why)
{
    guint i;

    g_message("domain %s: %s; releasing its pairs", dom->name, why);
    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        hookd_dp_port_delete(d->dp, dom->name, p);
        hookd_vf_release(d->vf, dom->uuid, dom->name, p);
    }
    hookd_registry_remove(d->registry, dom->uuid);
}

static gboolean
any_migrating(HookdDomain *dom)
{
    guint i;
    for (i = 0; i < dom->pairs->len; i++)
        if (((HookdPair *)g_ptr_array_index(dom->pairs, i))->migrating)
            return TRUE;
    return FALSE;
}

/* Registry locked: a live domain's record after events were missed: a
 * start whose `started` was lost, a migration that ended unseen. Then
 * queues the VF plug of a running domain. */
static void
catch_up(HookdDaemon *d, HookdDomain *dom, const LiveDomain *l)
{
    gboolean runs = l->state == VIR_DOMAIN_RUNNING && !l->job;

    if (dom->phase == HOOKD_DOMAIN_PREPARING &&
        (runs || g_get_real_time() - dom->created > PREPARING_GRACE_US))
        hookd_domain_set_phase(dom, HOOKD_DOMAIN_RUNNING);
    if (runs && dom->incoming) {
        /* Destination: the migration completed while hookd was away
         * (this queues the plug). */
        hookd_events_incoming_resumed(d, dom, "resync: the domain runs here");
        return;
    }
    if (runs && any_migrating(dom)) {
        /* Source: the migration ended and the domain still runs here
         * (this queues the plug of the VFs hookd detached). */
        hookd_events_migration_failed(d, dom, "resync: the migration failed while hookd was away");
        return;
    }
    /* (A migration or a start still running: its events will come;
     * hookd_hookops_plug_vfs leaves alone what they must decide.) */
    if (dom->phase == HOOKD_DOMAIN_RUNNING)
        hookd_daemon_queue(d, hookd_hookops_plug_vfs, dom->uuid);
}

/* Main loop, every SWEEP_INTERVAL_S: PREPARING records older than the
 * grace whose domain libvirt does not run (a start or an incoming
 * migration that failed before QEMU ran, or a domain torn down while
 * hookd was away) are released; live ones move on as at a resync. */
static gboolean
sweep_cb(gpointer data)
{
    HookdDaemon *d = data;
    virConnectPtr conn = hookd_libvirt_conn(d->libvirt);
    g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) uuids = NULL;
    char **u;
    guint i;

    if (!conn)
        return G_SOURCE_CONTINUE;
    hookd_registry_lock(d->registry);
    uuids = hookd_registry_uuids(d->registry);
    for (u = uuids; *u; u++) {
        HookdDomain *dom = hookd_registry_find(d->registry, *u);
        if (dom->phase == HOOKD_DOMAIN_PREPARING &&
            g_get_real_time() - dom->created > PREPARING_GRACE_US)
            g_ptr_array_add(old, g_strdup(*u));
    }
    hookd_registry_unlock(d->registry);

    for (i = 0; i < old->len; i++) {
        const char *uuid = g_ptr_array_index(old, i);
        virDomainPtr vdom = virDomainLookupByUUIDString(conn, uuid);
        LiveDomain l = { 0 };
        gboolean gone = FALSE;
        HookdDomain *dom;

        if (vdom) {
            virDomainJobInfo job = { 0 };
            int active = virDomainIsActive(vdom);

            gone = active == 0;
            if (active == 1 && virDomainGetState(vdom, &l.state, NULL, 0) == 0)
                l.job = virDomainGetJobInfo(vdom, &job) < 0 || job.type != VIR_DOMAIN_JOB_NONE;
            else
                l.state = VIR_DOMAIN_NOSTATE;
            virDomainFree(vdom);
        } else {
            virErrorPtr err = virGetLastError();
            gone = err && err->code == VIR_ERR_NO_DOMAIN;
        }
        hookd_registry_lock(d->registry);
        dom = hookd_registry_find(d->registry, uuid);
        if (dom && dom->phase == HOOKD_DOMAIN_PREPARING) {
            if (gone) {
                g_autoptr(GError) error = NULL;

                release_record(d, dom, "its start or incoming migration never got a running domain");
                if (!hookd_registry_save(d->registry, &error))
                    g_warning("%s", error->message);
            } else if (l.state != VIR_DOMAIN_NOSTATE) {
                hookd_domain_note(dom, "state", "sweep: live in libvirt");
                catch_up(d, dom, &l);
                hookd_registry_save_later(d->registry);
            }
        }
        hookd_registry_unlock(d->registry);
    }
    return G_SOURCE_CONTINUE;
}

void
hookd_sync_domains(virConnectPtr conn, gpointer data)
{
    HookdDaemon *d = data;
    g_autoptr(GHashTable) live = list_live(conn);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) uuids = NULL;
    GHashTableIter it;
    LiveDomain *l;
    guint released = 0, adopted = 0, kept = 0;
    char **u;

    if (!live)
        return;
    hookd_registry_lock(d->registry);
    uuids = hookd_registry_uuids(d->registry);
    for (u = uuids; *u; u++) {
        HookdDomain *dom = hookd_registry_find(d->registry, *u);
        gboolean is_live = g_hash_table_contains(live, *u);
        guint i;

        if (is_live) {
            kept++;
            hookd_domain_note(dom, "state", "resync: live in libvirt");
            /* The datapath may have restarted too: its pair-add is
             * idempotent, so re-add every port. */
            for (i = 0; i < dom->pairs->len; i++) {
                g_autoptr(GError) dperr = NULL;
                if (!hookd_dp_port_create(d->dp, dom->name, g_ptr_array_index(dom->pairs, i), &dperr))
                    g_warning("resync: %s", dperr->message);
            }
            catch_up(d, dom, g_hash_table_lookup(live, *u));
            continue;
        }
        /* (A young PREPARING record is left to the sweep.) */
        if (dom->phase == HOOKD_DOMAIN_PREPARING &&
            g_get_real_time() - dom->created <= PREPARING_GRACE_US)
            continue;
        release_record(d, dom, "stopped while hookd was not watching");
        released++;
    }

    g_hash_table_iter_init(&it, live);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&l)) {
        g_autoptr(VfxDomain) vdom = NULL;
        g_autoptr(GError) perr = NULL;
        HookdDomain *dom;

        if (!l->xml || hookd_registry_find(d->registry, l->uuid))
            continue;
        vdom = vfx_domain_parse_full(l->xml, strlen(l->xml),
                                     vf_config_get_int(d->cfg, "hookd", "max-message-bytes"), &perr);
        if (!vdom) {
            g_warning("resync: %s", perr->message);
            continue;
        }
        if (vdom->pairs->len == 0)
            continue;
        dom = hookd_hookops_record(d, vdom, HOOKD_DOMAIN_RUNNING);
        hookd_domain_note(dom, "state", "resync: adopted a live domain hookd had no record of");
        g_message("domain %s: adopted at resync (%u pair(s), virtio only until a VF is plugged)",
                  l->name, dom->pairs->len);
        adopted++;
    }
    if (!hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
    /* VFs of domains hookd no longer has a record of (crash between
     * reserve and record, records lost) go back to the pool. */
    {
        g_auto(GStrv) keep = hookd_registry_uuids(d->registry);
        hookd_vf_reconcile(d->vf, (const char *const *)keep);
    }
    d->syncs++;
    d->last_sync = g_get_real_time();
    if (!d->sweep_id)
        d->sweep_id = g_timeout_add_seconds(SWEEP_INTERVAL_S, sweep_cb, d);
    hookd_registry_unlock(d->registry);
    g_message("resync: %u live domain(s) in libvirt; %u record(s) kept, %u released, %u adopted",
              g_hash_table_size(live), kept, released, adopted);
}
