/* hookd's side of the VF manager seam (hookd-vf.h), on the VF pool of
 * libvfsriov (sriov/include/sriov-pool.h): reservations at prepare, release at
 * release, reconcile after a resync, and the asynchronous plug after
 * started (configure the VF like the pair's policy says, bind it for
 * passthrough, attach its device XML live). */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libvirt/virterror.h>

#include "sriov-pool.h"
#include "vfx-domain.h"
#include "hookd-vf.h"

struct _HookdVf {
    SriovPool *pool;
    GHashTable *vf_models;  /* PF name -> its emulated VF model ([pf:NAME] vf-model) */
};

HookdVf *
hookd_vf_new(VfConfig *cfg, GError **error)
{
    g_autoptr(HookdVf) vf = g_new0(HookdVf, 1);
    g_auto(GStrv) pfs = NULL;

    vf->pool = sriov_pool_new(cfg, vf_config_get_string(cfg, "hookd", "state-dir"),
                              vf_config_get_string(cfg, "hookd", "sysfs-root"), error);
    if (!vf->pool)
        return NULL;
    vf->vf_models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    pfs = vf_config_sections(cfg, "pf");
    for (guint i = 0; pfs && pfs[i]; i++) {
        g_autofree char *group = g_strdup_printf("pf:%s", pfs[i]);
        g_hash_table_insert(vf->vf_models, g_strdup(pfs[i]),
                            g_strdup(vf_config_get_string(cfg, group, "vf-model")));
    }
    return g_steal_pointer(&vf);
}

void
hookd_vf_free(HookdVf *vf)
{
    if (!vf)
        return;
    sriov_pool_free(vf->pool);
    if (vf->vf_models)
        g_hash_table_unref(vf->vf_models);
    g_free(vf);
}

static void
pair_set_vf(HookdPair *pair, SriovVf *svf)
{
    g_free(pair->vf_pf);
    g_free(pair->vf_pci);
    g_free(pair->vf_netdev);
    pair->vf_pf = g_strdup(sriov_vf_get_pf(svf));
    pair->vf_index = sriov_vf_get_index(svf);
    pair->vf_pci = g_strdup(sriov_vf_get_pci_address(svf));
    pair->vf_netdev = g_strdup(sriov_vf_get_netdev(svf));
}

static void
pair_clear_vf(HookdPair *pair)
{
    g_clear_pointer(&pair->vf_pf, g_free);
    g_clear_pointer(&pair->vf_pci, g_free);
    g_clear_pointer(&pair->vf_netdev, g_free);
    pair->vf_index = -1;
}

gboolean
hookd_vf_reserve(HookdVf *vf, const char *uuid, const char *domain, HookdPair *pair,
                 GError **error)
{
    const char *pf = json_object_get_string_member_with_default(pair->policy, "pf", NULL);
    const char *pool = json_object_get_string_member_with_default(pair->policy, "pool", NULL);
    g_autoptr(GError) local = NULL;
    SriovVf *svf;

    svf = sriov_pool_reserve(vf->pool, uuid, pair->alias, pf, pool, &local);
    if (svf) {
        pair_set_vf(pair, svf);
        g_message("domain %s: interface %s: reserved VF %u of PF %s", domain, pair->alias,
                  pair->vf_index, pair->vf_pf);
        return TRUE;
    }
    /* No VF to be had here (all in use, or no such PF/pool on this host):
     * the pair's policy decides. Anything else is a real failure. */
    if ((g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF) ||
         g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND)) &&
        g_strcmp0(pair->no_vf, "virtio-only") == 0) {
        g_warning("domain %s: interface %s: %s; running virtio-only", domain, pair->alias,
                  local->message);
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "domain %s: interface %s: %s%s",
                domain, pair->alias, local->message,
                g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF) ||
                g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND)
                    ? " and its policy refuses to start without a VF" : "");
    return FALSE;
}

gboolean
hookd_vf_reserve_exact(HookdVf *vf, const char *uuid, const char *domain, HookdPair *pair,
                       const char *netdev, const char *pci, GError **error)
{
    g_autoptr(GError) local = NULL;
    const char *named = netdev ? netdev : pci;
    SriovVf *target = sriov_pool_find_vf(vf->pool, netdev, pci), *svf;

    if (!target) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "domain %s: interface %s: its VF device names %s, which is no VF of a "
                    "configured PF on this host", domain, pair->alias, named);
        return FALSE;
    }
    svf = sriov_pool_reserve_vf(vf->pool, uuid, pair->alias, sriov_vf_get_pf(target),
                                sriov_vf_get_index(target), &local);
    if (!svf) {
        g_set_error(error, G_IO_ERROR,
                    g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_BUSY) ? G_IO_ERROR_BUSY
                                                                          : G_IO_ERROR_FAILED,
                    "domain %s: interface %s: its VF device names %s: %s", domain, pair->alias,
                    named, local->message);
        return FALSE;
    }
    pair_set_vf(pair, svf);
    g_message("domain %s: interface %s: reserved VF %u of PF %s (%s, named by its definition)",
              domain, pair->alias, pair->vf_index, pair->vf_pf, named);
    return TRUE;
}

gboolean
hookd_vf_set_steering(HookdVf *vf, const char *uuid, const char *domain, const HookdPair *pair,
                      gboolean on)
{
    g_autoptr(GError) error = NULL;
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC };
    gboolean ok;

    if (!svf)
        return TRUE;
    if (on) {
        sriov_mac_parse(pair->mac, cfg.mac);
        ok = sriov_pool_configure(vf->pool, svf, &cfg, &error);
    } else {
        ok = sriov_pool_clear_steering(vf->pool, svf, &error);
    }
    if (!ok) {
        g_warning("domain %s: interface %s: VF %u of PF %s: steering not %s: %s", domain,
                  pair->alias, sriov_vf_get_index(svf), sriov_vf_get_pf(svf),
                  on ? "set" : "cleared", error->message);
        return FALSE;
    }
    g_message("domain %s: interface %s: VF %u of PF %s: steering %s", domain, pair->alias,
              sriov_vf_get_index(svf), sriov_vf_get_pf(svf),
              on ? "to the VF" : "cleared (the VF gets nothing)");
    return TRUE;
}

gboolean
hookd_vf_set_mirror(HookdVf *vf, const char *uuid, const char *domain, const HookdPair *pair,
                    gboolean on)
{
    g_autoptr(GError) error = NULL;
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);
    guint8 mac[6];

    if (!svf)
        return !on;
    sriov_mac_parse(pair->mac, mac);
    if (!sriov_pool_set_mirror(vf->pool, svf, on ? mac : NULL, &error)) {
        if (g_error_matches(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED))
            g_debug("domain %s: interface %s: %s", domain, pair->alias, error->message);
        else
            g_warning("domain %s: interface %s: VF %u of PF %s: mirror to the datapath not %s: "
                      "%s", domain, pair->alias, sriov_vf_get_index(svf), sriov_vf_get_pf(svf),
                      on ? "set" : "stopped", error->message);
        return FALSE;
    }
    if (on)     /* off is asked in every state (a no-op when there is none) */
        g_message("domain %s: interface %s: VF %u of PF %s: frames for the VF also copied to the "
                  "datapath", domain, pair->alias, sriov_vf_get_index(svf), sriov_vf_get_pf(svf));
    return TRUE;
}

gint64
hookd_vf_tx_packets(HookdVf *vf, const char *uuid, const HookdPair *pair)
{
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);
    SriovVfStats stats;

    if (!svf || !sriov_pool_read_stats(vf->pool, svf, &stats, NULL))
        return -1;
    return (gint64)stats.tx_packets;
}

void
hookd_vf_release(HookdVf *vf, const char *uuid, const char *domain, HookdPair *pair)
{
    g_autoptr(GError) error = NULL;
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);

    if (svf && !sriov_pool_release(vf->pool, svf, &error))
        g_warning("domain %s: interface %s: %s", domain, pair->alias, error->message);
    else if (svf)
        g_message("domain %s: interface %s: released VF %u of PF %s", domain, pair->alias,
                  sriov_vf_get_index(svf), sriov_vf_get_pf(svf));
    pair_clear_vf(pair);
}

void
hookd_vf_reconcile(HookdVf *vf, const char *const *live_uuids)
{
    g_autoptr(GError) error = NULL;

    if (!sriov_pool_reconcile(vf->pool, live_uuids, &error))
        g_warning("VF pool reconcile: %s", error->message);
}

/* ---- plug ---- */

static SriovVfConfig
pair_vf_config(const VfxPair *vp)
{
    SriovVfConfig c = { 0 };

    c.set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN | SRIOV_VF_SET_LINK_STATE;
    sriov_mac_parse(vp->mac, c.mac);
    /* One VLAN per VF: with QinQ it is the outer 802.1ad S-tag, the
     * guest's own 802.1Q tags (the pair's vlan) travel inside it. */
    if (vp->qinq_outer) {
        c.vlan = vp->qinq_outer;
        c.vlan_proto = SRIOV_VLAN_PROTO_8021AD;
    } else {
        c.vlan = vp->vlan;
        c.vlan_proto = SRIOV_VLAN_PROTO_8021Q;
    }
    c.qos = vp->vlan_qos;
    if (vp->spoofchk != VFX_TRI_DEFAULT) {
        c.set |= SRIOV_VF_SET_SPOOFCHK;
        c.spoofchk = vp->spoofchk == VFX_TRI_ON;
    }
    if (vp->trust != VFX_TRI_DEFAULT) {
        c.set |= SRIOV_VF_SET_TRUST;
        c.trust = vp->trust == VFX_TRI_ON;
    }
    if (vp->min_tx_rate_mbps || vp->max_tx_rate_mbps) {
        c.set |= SRIOV_VF_SET_RATE;
        c.min_tx_rate_mbps = vp->min_tx_rate_mbps;
        c.max_tx_rate_mbps = vp->max_tx_rate_mbps;
    }
    c.link_state = vp->link_state == VFX_LINK_ENABLE ? SRIOV_LINK_STATE_ENABLE
                 : vp->link_state == VFX_LINK_DISABLE ? SRIOV_LINK_STATE_DISABLE
                 : SRIOV_LINK_STATE_AUTO;
    return c;
}

/* The pair's annotation as libvirt has it now (the domain XML is the
 * source of truth for the policy; hookd's record keeps a summary) and, with
 * @root_port, the domain's first free hot-plug PCIe root port (0: none). */
static VfxPair *
lookup_vfx_pair(virDomainPtr dom, const char *domain, const char *alias, guint *root_port,
                GError **error)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autoptr(VfxDomain) vdom = NULL;
    guint i;

    if (!xml) {
        virErrorPtr err = virGetLastError();
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "domain %s: cannot read its XML: %s",
                    domain, err && err->message ? err->message : "unknown error");
        return NULL;
    }
    if (!(vdom = vfx_domain_parse(xml, strlen(xml), error)))
        return NULL;
    if (root_port)
        *root_port = vdom->free_root_ports->len ?
                     g_array_index(vdom->free_root_ports, guint, 0) : 0;
    for (i = 0; i < vdom->pairs->len; i++) {
        VfxPair *vp = g_ptr_array_index(vdom->pairs, i);
        if (g_strcmp0(vp->alias ? vp->alias : vp->mac, alias) == 0)
            return vfx_pair_copy(vp);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "domain %s: interface %s: no longer annotated", domain, alias);
    return NULL;
}

void
hookd_vf_plug(HookdVf *vf, virDomainPtr dom, const char *uuid, const char *domain,
              const HookdPair *pair)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxPair) vp = NULL;
    g_autofree char *dev_xml = NULL;
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);
    SriovVfConfig cfg;
    VfxVf target = { 0 };

    if (!svf) {
        g_warning("domain %s: interface %s: no reserved VF to plug", domain, pair->alias);
        return;
    }
    if (!(vp = lookup_vfx_pair(dom, domain, pair->alias, &target.root_port, &error)))
        goto fail;
    cfg = pair_vf_config(vp);
    if (pair->vf_defined) {
        /* QEMU plugs the VF itself (its device is in the definition): set
         * the VF up, with steering only if the pair is on the VF already
         * (the steering policy, hookd-events.c, moves it later). */
        if (pair->state != HOOKD_PAIR_VF_ACTIVE)
            memset(cfg.mac, 0, sizeof(cfg.mac));
        if (!sriov_pool_configure(vf->pool, svf, &cfg, &error))
            goto fail;
        g_message("domain %s: interface %s: VF %u of PF %s configured (its device is in the "
                  "definition; steering %s)", domain, pair->alias, sriov_vf_get_index(svf),
                  sriov_vf_get_pf(svf), pair->state == HOOKD_PAIR_VF_ACTIVE ? "on" : "off");
        return;
    }
    /* Setting the MAC steers the VM's frames to the VF, which nobody
     * drives until the guest has brought it up: where the NIC can, they
     * are copied to the datapath from now on (the steering policy keeps
     * the copy until the guest transmits on the VF). */
    hookd_vf_set_mirror(vf, uuid, domain, pair, TRUE);
    if (!sriov_pool_configure(vf->pool, svf, &cfg, &error) ||
        !sriov_pool_bind_vfio(vf->pool, svf, &error))
        goto fail;
    target.pci_address = sriov_vf_get_pci_address(svf);
    target.tap = sriov_vf_get_netdev(svf);
    target.backend = target.pci_address ? VFX_BACKEND_KERNEL : VFX_BACKEND_EMULATED;
    /* The emulated stand-in: its PF's model, on the first free PCIe root
     * port lookup_vfx_pair() found (libvirt 9.0 would put a vmxnet3 on
     * conventional PCI, where a q35 guest has no hot-plug slot). Without a
     * free port libvirt chooses (an i440fx guest's PCI bus), and says so
     * when it finds no slot. */
    target.model = g_hash_table_lookup(vf->vf_models, sriov_vf_get_pf(svf));
    if (!(dev_xml = vfx_pair_render_vf(vp, &target, &error)))
        goto fail;
    if (virDomainAttachDeviceFlags(dom, dev_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        virErrorPtr err = virGetLastError();
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot attach it: %s",
                    err && err->message ? err->message : "unknown error");
        goto fail;
    }
    g_message("domain %s: interface %s: VF %u of PF %s attached as %s", domain, pair->alias,
              sriov_vf_get_index(svf), sriov_vf_get_pf(svf), pair->vf_alias);
    return;

fail:
    /* The pair stays VIRTIO_ACTIVE: the guest keeps its virtio path, so
     * the VF must not keep the MAC. */
    g_warning("domain %s: interface %s: VF %u of PF %s not plugged: %s", domain, pair->alias,
              sriov_vf_get_index(svf), sriov_vf_get_pf(svf), error->message);
    if (!pair->vf_defined && pair->state != HOOKD_PAIR_VF_ACTIVE) {
        hookd_vf_set_steering(vf, uuid, domain, pair, FALSE);
        hookd_vf_set_mirror(vf, uuid, domain, pair, FALSE);
    }
}

SriovPool *
hookd_vf_pool(HookdVf *vf)
{
    return vf->pool;
}

JsonObject *
hookd_vf_status(HookdVf *vf)
{
    JsonObject *o = json_object_new();
    g_autoptr(GPtrArray) vfs = sriov_pool_list(vf->pool);
    g_autoptr(GHashTable) pfs = g_hash_table_new(g_str_hash, g_str_equal);
    guint i, used = 0, kept = 0;

    sriov_pool_read_lock(vf->pool);
    for (i = 0; i < vfs->len; i++) {
        SriovVf *v = g_ptr_array_index(vfs, i);
        g_hash_table_add(pfs, (gpointer)sriov_vf_get_pf(v));
        if (sriov_vf_is_kept(v))
            kept++;
        else if (sriov_vf_get_domain(v))
            used++;
    }
    sriov_pool_read_unlock(vf->pool);
    json_object_set_int_member(o, "pfs", g_hash_table_size(pfs));
    json_object_set_int_member(o, "vfs", vfs->len);
    json_object_set_int_member(o, "in_use", used);
    json_object_set_int_member(o, "kept_for_host", kept);
    json_object_set_int_member(o, "free", vfs->len - used - kept);
    return o;
}

gboolean
hookd_vf_detach(HookdVf *vf, virDomainPtr dom, const char *uuid, const char *domain,
                const HookdPair *pair, GError **error)
{
    g_autoptr(VfxPair) vp = NULL;
    g_autofree char *dev_xml = NULL;
    SriovVf *svf = sriov_pool_lookup(vf->pool, uuid, pair->alias);
    VfxVf target = { 0 };

    if (!svf) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "domain %s: interface %s: no VF reserved", domain, pair->alias);
        return FALSE;
    }
    if (!(vp = lookup_vfx_pair(dom, domain, pair->alias, NULL, error)))
        return FALSE;
    target.pci_address = sriov_vf_get_pci_address(svf);
    target.tap = sriov_vf_get_netdev(svf);
    target.backend = target.pci_address ? VFX_BACKEND_KERNEL : VFX_BACKEND_EMULATED;
    if (!(dev_xml = vfx_pair_render_vf(vp, &target, error)))
        return FALSE;
    if (virDomainDetachDeviceFlags(dom, dev_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        virErrorPtr err = virGetLastError();
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "domain %s: interface %s: cannot detach VF %u of PF %s: %s", domain,
                    pair->alias, sriov_vf_get_index(svf), sriov_vf_get_pf(svf),
                    err && err->message ? err->message : "unknown error");
        return FALSE;
    }
    g_message("domain %s: interface %s: VF %u of PF %s detach requested", domain, pair->alias,
              sriov_vf_get_index(svf), sriov_vf_get_pf(svf));
    return TRUE;
}
