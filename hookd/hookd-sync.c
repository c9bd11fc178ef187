/* Reconcile the pair registry with libvirt's live domains, after every
 * (re)connect: at start (hookd may have been killed), after libvirtd
 * restarted (events were lost meanwhile). Records of domains that stopped
 * while nobody watched are released; live annotated domains hookd has no
 * record of are adopted; running ones get their VFs plugged if needed. */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "vfx-domain.h"
#include "hookd-daemon.h"

/* A start in progress is PREPARING and may not be live yet (QEMU not
 * spawned); only a record this old is considered abandoned. */
#define PREPARING_GRACE_US (120 * G_USEC_PER_SEC)

typedef struct {
    char *uuid;
    char *name;
    char *xml;      /* annotated domains only */
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
                l->xml = virDomainGetXMLDesc(doms[i], 0);
                free(meta);
            }
            g_hash_table_replace(live, l->uuid, l);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return g_steal_pointer(&live);
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
            if (dom->phase == HOOKD_DOMAIN_PREPARING &&
                g_get_real_time() - dom->created > PREPARING_GRACE_US)
                hookd_domain_set_phase(dom, HOOKD_DOMAIN_RUNNING);
            hookd_domain_note(dom, "state", "resync: live in libvirt");
            /* The datapath may have restarted too: its pair-add is
             * idempotent, so re-add every port. */
            for (i = 0; i < dom->pairs->len; i++) {
                g_autoptr(GError) dperr = NULL;
                if (!hookd_dp_port_create(d->dp, dom->name, g_ptr_array_index(dom->pairs, i), &dperr))
                    g_warning("resync: %s", dperr->message);
            }
            if (dom->phase == HOOKD_DOMAIN_RUNNING)
                hookd_daemon_queue(d, hookd_hookops_plug_vfs, dom->uuid);
            continue;
        }
        if (dom->phase == HOOKD_DOMAIN_PREPARING &&
            g_get_real_time() - dom->created <= PREPARING_GRACE_US)
            continue;
        g_message("domain %s: stopped while hookd was not watching; releasing its pairs", dom->name);
        for (i = 0; i < dom->pairs->len; i++) {
            HookdPair *p = g_ptr_array_index(dom->pairs, i);
            hookd_dp_port_delete(d->dp, dom->name, p);
            hookd_vf_release(d->vf, dom->uuid, dom->name, p);
        }
        hookd_registry_remove(d->registry, *u);
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
    hookd_registry_unlock(d->registry);
    g_message("resync: %u live domain(s) in libvirt; %u record(s) kept, %u released, %u adopted",
              g_hash_table_size(live), kept, released, adopted);
}
