/* What hookd does for each qemu hook operation libvirt runs (a table:
 * prepare, start, started, stopped, release, migrate, restore, reconnect,
 * attach). Handlers run on a hook worker while libvirtd waits: they touch
 * only the registry, the VF manager's reservations and the datapath, answer
 * at once, and queue anything that needs libvirt to the main loop.
 *
 * Only annotated domains (our namespace in <metadata>) are hookd's
 * business: any other domain is answered "ok" after a byte search, without
 * parsing its XML. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "vfx-domain.h"
#include "hookd-daemon.h"
#include "hookd-vfxml.h"

/* ---- helpers ---- */

static HookdPair *
pair_from_vfx(const VfxPair *vp)
{
    HookdPair *p = hookd_pair_new(vp->alias ? vp->alias : vp->mac, vp->mac);
    JsonObject *pol = p->policy;
    g_autofree char *vf_alias = vfx_pair_vf_alias(vp);

    p->mode = g_strdup(vfx_mode_to_string(vp->mode));
    p->no_vf = g_strdup(vfx_no_vf_to_string(vp->no_vf));
    p->vf_alias = g_steal_pointer(&vf_alias);
    if (vp->pf)
        json_object_set_string_member(pol, "pf", vp->pf);
    if (vp->pool)
        json_object_set_string_member(pol, "pool", vp->pool);
    json_object_set_int_member(pol, "vlan", vp->vlan);
    json_object_set_int_member(pol, "vlan_qos", vp->vlan_qos);
    json_object_set_int_member(pol, "qinq_outer", vp->qinq_outer);
    json_object_set_string_member(pol, "spoofchk", vfx_tristate_to_string(vp->spoofchk));
    json_object_set_string_member(pol, "trust", vfx_tristate_to_string(vp->trust));
    json_object_set_string_member(pol, "link_state", vfx_link_state_to_string(vp->link_state));
    json_object_set_int_member(pol, "min_tx_rate_mbps", vp->min_tx_rate_mbps);
    json_object_set_int_member(pol, "max_tx_rate_mbps", vp->max_tx_rate_mbps);
    if (vp->vhost_socket) {
        json_object_set_string_member(pol, "vhost_socket", vp->vhost_socket);
        json_object_set_boolean_member(pol, "vhost_server", vp->vhost_server);
    }
    return p;
}

HookdDomain *
hookd_hookops_record(HookdDaemon *d, VfxDomain *vdom, HookdDomainPhase phase)
{
    GPtrArray *pairs = g_ptr_array_new_with_free_func((GDestroyNotify)hookd_pair_free);
    guint i;

    for (i = 0; i < vdom->pairs->len; i++)
        g_ptr_array_add(pairs, pair_from_vfx(g_ptr_array_index(vdom->pairs, i)));
    return hookd_registry_add(d->registry, vdom->uuid, vdom->name, phase, pairs);
}

/* Undo what prepare did for @dom's pairs (VF reservations, ports). */
static void
release_domain_resources(HookdDaemon *d, HookdDomain *dom)
{
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        hookd_dp_port_delete(d->dp, dom->name, p);
        hookd_vf_release(d->vf, dom->uuid, dom->name, p);
    }
}

static void
save_now(HookdDaemon *d)
{
    g_autoptr(GError) error = NULL;
    if (!hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
}

/* Registry locked: reserve a VF and create the port for every pair of a new
 * record. A pair whose VF device is in @defined (alias -> HookdDefinedVf,
 * from the XML of a fresh start) gets exactly that VF; others any VF of
 * their PF/pool. On failure everything done so far is undone. */
static gboolean
reserve_pairs(HookdDaemon *d, HookdDomain *dom, GHashTable *defined, gboolean incoming,
              GError **error)
{
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        HookdDefinedVf *dv = defined && p->vf_alias ? g_hash_table_lookup(defined, p->vf_alias) : NULL;
        gboolean ok;

        p->vf_defined = dv != NULL;
        p->dp_held = incoming;
        if (dv)
            ok = hookd_vf_reserve_exact(d->vf, dom->uuid, dom->name, p, dv->netdev, dv->pci, error);
        else
            ok = hookd_vf_reserve(d->vf, dom->uuid, dom->name, p, error);
        if (!ok || !hookd_dp_port_create(d->dp, dom->name, p, error)) {
            release_domain_resources(d, dom);
            return FALSE;
        }
    }
    return TRUE;
}

/* Registry locked: the domain's record for a starting domain, created (with
 * reservations) unless an earlier hook of the same start already made it.
 * @call's XML names the VFs of pairs whose VF device is in the definition
 * (NULL: an incoming domain, whose VF devices name the source host's VFs).
 * @incoming: a migration destination (the datapath holds its pairs). */
static HookdDomain *
ensure_preparing(HookdDaemon *d, VfxDomain *vdom, const HookdHookCall *call, gboolean incoming,
                 GError **error)
{
    g_autoptr(GHashTable) defined = NULL;

    HookdDomain *dom = hookd_registry_find(d->registry, vdom->uuid);

    if (dom && dom->phase == HOOKD_DOMAIN_PREPARING)
        return dom;
    if (dom) {
        /* A record left by a start that never reached release. */
        g_message("domain %s: dropping a stale record (%s)", dom->name,
                  hookd_domain_phase_name(dom->phase));
        release_domain_resources(d, dom);
        hookd_registry_remove(d->registry, vdom->uuid);
    }
    if (call) {
        defined = hookd_xml_defined_vfs(call->xml, call->xml_len,
                                        vf_config_get_int(d->cfg, "hookd", "max-message-bytes"), error);
        if (!defined) {
            g_prefix_error(error, "domain %s: ", vdom->name);
            return NULL;
        }
    }
    dom = hookd_hookops_record(d, vdom, HOOKD_DOMAIN_PREPARING);
    if (!reserve_pairs(d, dom, defined, incoming, error)) {
        hookd_registry_remove(d->registry, vdom->uuid);
        return NULL;
    }
    return dom;
}

/* Does the domain hold a host resource (a VF, a datapath port)? Records
 * of such domains are written to disk before the hook replies (a crash
 * must not leak the resource); others a moment later, off the hook's path. */
static gboolean
domain_holds_resources(HookdDomain *dom)
{
    guint i;
    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (p->vf_pf || json_object_has_member(p->policy, "vhost_socket"))
            return TRUE;
    }
    return FALSE;
}

static gboolean
domain_has_vf(HookdDomain *dom)
{
    guint i;
    for (i = 0; i < dom->pairs->len; i++)
        if (((HookdPair *)g_ptr_array_index(dom->pairs, i))->vf_pf)
            return TRUE;
    return FALSE;
}

static void
save_for(HookdDaemon *d, HookdDomain *dom)
{
    if (domain_holds_resources(dom))
        save_now(d);
    else
        hookd_registry_save_later(d->registry);
}

/* ---- follow-up work on the main loop ---- */

HookdPair *
hookd_pair_copy(const HookdPair *p)
{
    HookdPair *copy = hookd_pair_new(p->alias, p->mac);
    copy->mode = g_strdup(p->mode);
    copy->no_vf = g_strdup(p->no_vf);
    json_object_unref(copy->policy);
    copy->policy = json_object_ref(p->policy);
    copy->vf_pf = g_strdup(p->vf_pf);
    copy->vf_index = p->vf_index;
    copy->vf_pci = g_strdup(p->vf_pci);
    copy->vf_netdev = g_strdup(p->vf_netdev);
    copy->vf_alias = g_strdup(p->vf_alias);
    copy->vf_defined = p->vf_defined;
    copy->migrating = p->migrating;
    copy->dp_held = p->dp_held;
    copy->dp_catching = p->dp_catching;
    copy->dp_relay = p->dp_relay;
    copy->vf_detaching = p->vf_detaching;
    copy->vf_leaving = p->vf_leaving;
    copy->vf_joining = p->vf_joining;
    copy->state = p->state;
    copy->state_since = p->state_since;
    copy->transitions = p->transitions;
    return copy;
}

void
hookd_hookops_plug_vfs(HookdDaemon *d, const char *uuid)
{
    virConnectPtr conn = hookd_libvirt_conn(d->libvirt);
    g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func((GDestroyNotify)hookd_pair_free);
    g_autofree char *name = NULL;
    virDomainPtr vdom;
    HookdDomain *dom;
    guint i;

    /* Copy what is needed, then call libvirt without the lock. */
    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, uuid);
    if (dom) {
        name = g_strdup(dom->name);
        for (i = 0; i < dom->pairs->len; i++) {
            HookdPair *p = g_ptr_array_index(dom->pairs, i);
            /* An incoming domain cannot take a hot-plug before it resumed
             * here (RESUMED MIGRATED queues this again); a VF that left
             * for an outgoing migration comes back only if it fails. */
            if (p->vf_pf && !p->migrating &&
                (p->vf_defined || (p->state != HOOKD_PAIR_VF_ACTIVE && !dom->incoming)))
                g_ptr_array_add(todo, hookd_pair_copy(p));
        }
    }
    hookd_registry_unlock(d->registry);
    if (!todo->len)
        return;
    if (!conn) {
        g_warning("domain %s: VFs not plugged yet: libvirt is disconnected (the resync will)", name);
        return;
    }
    vdom = virDomainLookupByUUIDString(conn, uuid);
    if (!vdom) {
        g_warning("domain %s: gone before its VFs could be plugged", name);
        return;
    }
    for (i = 0; i < todo->len; i++)
        hookd_vf_plug(d->vf, vdom, uuid, name, g_ptr_array_index(todo, i));
    virDomainFree(vdom);
}

/* ---- the operations ----
 * @dom is hookd's record of the domain (NULL if none); @vdom the parsed
 * domain XML, parsed only for operations that need it (PARSE) or that adopt
 * a domain hookd has no record of (ADOPT): parsing a large domain XML is
 * most of a hook call's cost in hookd. */

static gboolean
op_prepare(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
           char **out_xml, GError **error)
{
    dom = ensure_preparing(d, vdom, call, FALSE, error);
    if (!dom)
        return FALSE;
    hookd_domain_note(dom, "hook", "prepare begin: %u pair(s) reserved", dom->pairs->len);
    save_for(d, dom);
    return TRUE;
}

static gboolean
op_note(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
        char **out_xml, GError **error)
{
    hookd_domain_note(dom, "hook", "%s %s", call->operation, call->sub_operation);
    hookd_registry_save_later(d->registry);
    return TRUE;
}

static gboolean
op_started(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
           char **out_xml, GError **error)
{
    /* No record: hookd restarted between prepare and started; adopt. */
    if (!dom && !(dom = ensure_preparing(d, vdom, call, FALSE, error)))
        return FALSE;
    hookd_domain_note(dom, "hook", "started begin");
    /* A phase change moves no resource: persisted soon, not before the
     * reply (a lost one is rebuilt by the resync). */
    hookd_domain_set_phase(dom, HOOKD_DOMAIN_RUNNING);
    hookd_registry_save_later(d->registry);
    if (domain_has_vf(dom))
        hookd_daemon_queue(d, hookd_hookops_plug_vfs, dom->uuid);
    return TRUE;
}

static gboolean
op_stopped(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
           char **out_xml, GError **error)
{
    guint i;

    hookd_domain_note(dom, "hook", "stopped end");
    hookd_domain_set_phase(dom, HOOKD_DOMAIN_STOPPING);
    /* QEMU is gone: whatever path was active, only the VF's config and the
     * port are left, and release frees them. */
    for (i = 0; i < dom->pairs->len; i++)
        hookd_domain_set_pair_state(dom, g_ptr_array_index(dom->pairs, i),
                                    HOOKD_PAIR_VIRTIO_ACTIVE, "domain stopped");
    hookd_registry_save_later(d->registry);
    return TRUE;
}

static gboolean
op_release(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
           char **out_xml, GError **error)
{
    gboolean held = domain_holds_resources(dom);
    guint i;

    /* The datapath's counters go with its port: keep them on the timeline
     * (a migration source's loss is read from them afterwards). */
    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        g_autoptr(JsonObject) c = hookd_dp_port_counters(d->dp, dom->name, p);
        g_autoptr(JsonNode) n = NULL;
        g_autofree char *text = NULL;

        if (!c)
            continue;
        n = json_node_init_object(json_node_alloc(), c);
        text = json_to_string(n, FALSE);
        hookd_domain_note(dom, "state", "%s: datapath counters at release %s", p->alias, text);
    }
    release_domain_resources(d, dom);
    g_message("domain %s: released", dom->name);
    hookd_registry_retire(d->registry, dom->uuid);
    if (held)
        save_now(d);
    else
        hookd_registry_save_later(d->registry);
    return TRUE;
}

/* Registry locked: a pair that got no VF here (its policy runs it
 * virtio-only) while the incoming definition still holds its VF device
 * (native mode: QEMU plugs that device itself) cannot come in: the device
 * names the source host's VF (a PCI address, a tap), which here is
 * another domain's VF, another device or nothing, and libvirt refuses a
 * hook that drops a device (ABI stability). Refuse with the way out. */
static gboolean
refuse_dangling_vf(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, GError **error)
{
    g_autoptr(GHashTable) defined = NULL;
    guint i;

    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);

        if (p->vf_pf || !p->vf_alias)
            continue;
        if (!defined)
            defined = hookd_xml_defined_vfs(call->xml, call->xml_len,
                                            vf_config_get_int(d->cfg, "hookd", "max-message-bytes"),
                                            NULL);
        if (defined && g_hash_table_contains(defined, p->vf_alias)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "domain %s: interface %s: no VF for it on this host, and its VF device %s "
                        "is in the migrated definition (native mode), naming the source's VF: "
                        "refusing the %s; managed mode (vfailoverctl migrate DOMAIN URI --mode "
                        "managed) runs it virtio-only here", dom->name, p->alias, p->vf_alias,
                        call->operation);
            return FALSE;
        }
    }
    return TRUE;
}

/* migrate begin (destination) and restore begin: reserve on this host and
 * rewrite the incoming XML for what this host gave each pair. */
static gboolean
op_incoming(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
            char **out_xml, GError **error)
{
    g_autofree VfxIncoming *changes = NULL;
    g_autofree VfxVf *vfs = NULL;
    g_autofree char *xml = NULL;
    gboolean changed = FALSE;
    guint i, n = 0;

    dom = ensure_preparing(d, vdom, NULL, strcmp(call->operation, "migrate") == 0, error);
    if (!dom)
        return FALSE;
    hookd_domain_note(dom, "hook", "%s begin: %u pair(s) reserved", call->operation,
                      dom->pairs->len);
    dom->incoming = strcmp(call->operation, "migrate") == 0;
    if (!refuse_dangling_vf(d, call, dom, error)) {
        release_domain_resources(d, dom);
        hookd_registry_remove(d->registry, vdom->uuid);
        return FALSE;
    }
    changes = g_new0(VfxIncoming, dom->pairs->len);
    vfs = g_new0(VfxVf, dom->pairs->len);
    for (i = 0; i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        const VfxPair *vp = g_ptr_array_index(vdom->pairs, i);

        if (!p->vf_pf)
            continue;
        vfs[n].backend = p->vf_pci ? VFX_BACKEND_KERNEL : VFX_BACKEND_EMULATED;
        vfs[n].pci_address = p->vf_pci;
        vfs[n].tap = p->vf_netdev;
        changes[n].alias = vp->alias;
        changes[n].mac = vp->mac;
        changes[n].vf = &vfs[n];
        n++;
    }
    if (n > 0) {
        g_autoptr(GHashTable) defined =
            hookd_xml_defined_vfs(call->xml, call->xml_len,
                                  vf_config_get_int(d->cfg, "hookd", "max-message-bytes"), NULL);
        /* Native mode migrates with the VF device in the XML (QEMU plugs
         * it on this side); managed mode unplugged it before. */
        for (i = 0; i < dom->pairs->len; i++) {
            HookdPair *p = g_ptr_array_index(dom->pairs, i);
            p->vf_defined = defined && p->vf_pf && p->vf_alias &&
                            g_hash_table_contains(defined, p->vf_alias);
        }
        xml = vfx_domain_rewrite_incoming(call->xml, call->xml_len, changes, n, &changed, error);
        if (!xml) {
            g_prefix_error(error, "domain %s: %s: ", vdom->name, call->operation);
            release_domain_resources(d, dom);
            hookd_registry_remove(d->registry, vdom->uuid);
            return FALSE;
        }
        if (changed)
            *out_xml = g_steal_pointer(&xml);
    }
    save_now(d);
    return TRUE;
}

/* reconnect begin (libvirtd restarted) and attach begin: the domain runs
 * already. Never refuse (libvirt would kill it): adopt it if unknown. */
static gboolean
op_running(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom, VfxDomain *vdom,
           char **out_xml, GError **error)
{
    if (!dom) {
        dom = hookd_hookops_record(d, vdom, HOOKD_DOMAIN_RUNNING);
        g_message("domain %s: adopted on %s", vdom->name, call->operation);
    }
    hookd_domain_note(dom, "hook", "%s %s", call->operation, call->sub_operation);
    hookd_domain_set_phase(dom, HOOKD_DOMAIN_RUNNING);
    save_now(d);
    return TRUE;
}

typedef gboolean (*HookOpFunc)(HookdDaemon *d, const HookdHookCall *call, HookdDomain *dom,
                               VfxDomain *vdom, char **out_xml, GError **error);

typedef enum {
    OP_PARSE = 1 << 0,      /* always needs the parsed XML */
    OP_ADOPT = 1 << 1,      /* needs it when hookd has no record */
    OP_REFUSE = 1 << 2,     /* may refuse: the domain does not run yet */
} HookOpFlags;

typedef struct {
    const char *operation;
    const char *sub_operation;  /* what libvirt passes; others are refused */
    HookOpFunc func;
    HookOpFlags flags;
} HookOp;

static const HookOp hook_ops[] = {
    { "prepare", "begin", op_prepare, OP_PARSE | OP_REFUSE },
    { "start", "begin", op_note, OP_REFUSE },
    { "started", "begin", op_started, OP_ADOPT | OP_REFUSE },
    { "stopped", "end", op_stopped, 0 },
    { "release", "end", op_release, 0 },
    { "migrate", "begin", op_incoming, OP_PARSE | OP_REFUSE },
    { "restore", "begin", op_incoming, OP_PARSE | OP_REFUSE },
    /* The domain already runs: refusing would make libvirt kill it. */
    { "reconnect", "begin", op_running, OP_ADOPT },
    { "attach", "begin", op_running, OP_ADOPT },
};

static const HookOp *
find_op(const HookdHookCall *call)
{
    gsize i;
    for (i = 0; i < G_N_ELEMENTS(hook_ops); i++) {
        if (strcmp(hook_ops[i].operation, call->operation) == 0 &&
            strcmp(hook_ops[i].sub_operation, call->sub_operation) == 0)
            return &hook_ops[i];
    }
    return NULL;
}

/* Registry locked: hookd's record of the domain the hook is called for,
 * found by name and confirmed by its UUID in the XML (libvirt writes
 * <uuid>UUID</uuid> verbatim), without parsing the XML. */
static HookdDomain *
find_record(HookdDaemon *d, const HookdHookCall *call)
{
    HookdDomain *dom = hookd_registry_find_by_name(d->registry, call->object);
    g_autofree char *tag = NULL;

    if (!dom)
        return NULL;
    tag = g_strdup_printf("<uuid>%s</uuid>", dom->uuid);
    return memmem(call->xml, call->xml_len, tag, strlen(tag)) ? dom : NULL;
}

gboolean
hookd_hookops_handle(const HookdHookCall *call, char **out_xml, gpointer data, GError **error)
{
    HookdDaemon *d = data;
    g_autoptr(VfxDomain) vdom = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *key = g_strdup_printf("%s %s", call->operation, call->sub_operation);
    const HookOp *op = find_op(call);
    HookdDomain *dom;
    gboolean ok;

    hookd_registry_lock(d->registry);
    hookd_daemon_count(d->hook_counts, key);
    hookd_registry_unlock(d->registry);

    if (!vfx_xml_is_annotated(call->xml, call->xml_len)) {
        if (!op)
            g_message("domain %s: unknown hook operation '%s' ignored (not annotated)",
                      call->object, key);
        return TRUE;
    }
    if (!op) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "domain %s: unknown hook operation '%s'", call->object, key);
        return FALSE;
    }

    hookd_registry_lock(d->registry);
    dom = find_record(d, call);
    if ((op->flags & OP_PARSE) || (!dom && (op->flags & OP_ADOPT))) {
        /* Parse without the lock: other hooks need not wait for it. */
        hookd_registry_unlock(d->registry);
        vdom = vfx_domain_parse_full(call->xml, call->xml_len,
                                     vf_config_get_int(d->cfg, "hookd", "max-message-bytes"), &local);
        if (!vdom || !vdom->uuid) {
            g_autofree char *named = g_strdup_printf("domain %s:", call->object);
            if (!local)
                g_set_error(&local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "the domain XML has no <uuid>");
            if (!g_str_has_prefix(local->message, named))
                g_prefix_error(&local, "%s ", named);
            if (!(op->flags & OP_REFUSE)) {
                g_warning("%s: %s (ignored: the domain already runs or stops)", key, local->message);
                return TRUE;
            }
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (vdom->pairs->len == 0)
            return TRUE;        /* our namespace, but no pair in it */
        hookd_registry_lock(d->registry);
        dom = hookd_registry_find(d->registry, vdom->uuid);
    } else if (!dom) {
        hookd_registry_unlock(d->registry);
        return TRUE;            /* nothing of this domain to act on */
    }
    ok = op->func(d, call, dom, vdom, out_xml, error);
    hookd_registry_unlock(d->registry);
    return ok;
}
