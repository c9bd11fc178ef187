/* The VF device XML hookd attaches for a pair, the rewrite of a whole
 * domain XML for an incoming migration (destination VF and vhost-user
 * socket), and an interface's link state. */
#include "config.h"

#include <string.h>
#include <libxml/xmlsave.h>

#include "vfx-private.h"

char *
vfx_pair_vf_alias(const VfxPair *pair)
{
    GString *s = g_string_new("ua-vfo-");

    for (const char *p = pair->mac; p && *p; p++)
        if (*p != ':')
            g_string_append_c(s, g_ascii_tolower(*p));
    return g_string_free(s, FALSE);
}

static const char *
vfx_pair_name(const VfxPair *pair)
{
    return pair->alias ? pair->alias : pair->mac;
}

/* vmxnet3 first: its Linux driver keeps transmitting what it is handed
 * until the netdev is unregistered, as real VF drivers (iavf, mlx5,
 * ixgbevf) do, so the guest loses nothing while the VF is removed. e1000e
 * drops every frame from the start of its remove until net_failover lets
 * go of it (doc/testbed.md, "The stand-in's model"). */
const char *const vfx_emulated_models[] = { "vmxnet3", "e1000e", NULL };

gboolean
vfx_emulated_model_valid(const char *model)
{
    return model && g_strv_contains(vfx_emulated_models, model);
}

char *
vfx_pair_render_vf(const VfxPair *pair, const VfxVf *vf, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *vf_alias = vfx_pair_vf_alias(pair);
    g_autofree char *mac = g_markup_escape_text(pair->mac, -1);

    if (pair->mode == VFX_MODE_NATIVE && !pair->alias) {
        vfx_set_error(error, VFX_ERROR_INVALID,
                      "pair for interface %s: native mode needs the virtio interface's alias",
                      vfx_pair_name(pair));
        return NULL;
    }
    if (vf->backend == VFX_BACKEND_KERNEL) {
        guint d, b, sl, f;

        if (!vfx_pci_parse(vf->pci_address, &d, &b, &sl, &f)) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "pair for interface %s: VF PCI address '%s' is not DDDD:BB:SS.F",
                          vfx_pair_name(pair), vf->pci_address ? vf->pci_address : "");
            return NULL;
        }
        g_string_append(s, "<interface type='hostdev' managed='yes'>\n");
        g_string_append_printf(s, "  <mac address='%s'/>\n", mac);
        g_string_append_printf(s, "  <source>\n"
                               "    <address type='pci' domain='0x%04x' bus='0x%02x' "
                               "slot='0x%02x' function='0x%x'/>\n"
                               "  </source>\n", d, b, sl, f);
        /* libvirt sets a hostdev's VLAN as one 802.1Q tag with priority 0,
         * and without <vlan> it clears the VF's VLAN (libvirt >= 8.1). So
         * always give the VF's port VLAN (the outer tag for QinQ): the VF
         * is isolated from the moment libvirt touches it; hookd adds the
         * priority and the 802.1ad protocol after the attach. */
        if (pair->qinq_outer || pair->vlan)
            g_string_append_printf(s, "  <vlan>\n    <tag id='%u'/>\n  </vlan>\n",
                                   pair->qinq_outer ? pair->qinq_outer : pair->vlan);
        if (pair->mode == VFX_MODE_NATIVE) {
            g_autofree char *persistent = g_markup_escape_text(pair->alias, -1);
            g_string_append_printf(s, "  <teaming type='transient' persistent='%s'/>\n",
                                   persistent);
        }
        g_string_append_printf(s, "  <alias name='%s'/>\n", vf_alias);
        g_string_append(s, "</interface>\n");
    } else {
        g_autofree char *tap = NULL;

        if (!vfx_valid_ifname(vf->tap)) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "pair for interface %s: tap name '%s' is not a network interface name",
                          vfx_pair_name(pair), vf->tap ? vf->tap : "");
            return NULL;
        }
        if (vf->model && !vfx_emulated_model_valid(vf->model)) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "pair for interface %s: '%s' is not an emulated VF model",
                          vfx_pair_name(pair), vf->model);
            return NULL;
        }
        tap = g_markup_escape_text(vf->tap, -1);
        g_string_append(s, "<interface type='ethernet'>\n");
        g_string_append_printf(s, "  <mac address='%s'/>\n", mac);
        g_string_append_printf(s, "  <target dev='%s' managed='no'/>\n", tap);
        g_string_append_printf(s, "  <model type='%s'/>\n",
                               vf->model ? vf->model : vfx_emulated_models[0]);
        g_string_append(s, "  <rom enabled='no'/>\n");
        g_string_append_printf(s, "  <alias name='%s'/>\n", vf_alias);
        if (vf->root_port)
            g_string_append_printf(s, "  <address type='pci' bus='0x%02x' slot='0x00' "
                                   "function='0x0'/>\n", vf->root_port);
        g_string_append(s, "</interface>\n");
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

char *
vfx_pair_render_qemu_override(const VfxPair *pair)
{
    g_autofree char *vf_alias = NULL, *persistent = NULL;

    if (pair->mode != VFX_MODE_NATIVE || !pair->alias)
        return NULL;
    vf_alias = vfx_pair_vf_alias(pair);
    persistent = g_markup_escape_text(pair->alias, -1);
    return g_strdup_printf(
        "<qemu:device xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' alias='%s'>\n"
        "  <qemu:frontend>\n"
        "    <qemu:property name='failover_pair_id' type='string' value='%s'/>\n"
        "  </qemu:frontend>\n"
        "</qemu:device>\n", vf_alias, persistent);
}

static void
vfx_set_prop(xmlNode *n, const char *name, const char *value, gboolean *changed)
{
    xmlChar *old = xmlGetNoNsProp(n, (const xmlChar *)name);

    if (!old || strcmp((const char *)old, value) != 0) {
        xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value);
        *changed = TRUE;
    }
    if (old)
        xmlFree(old);
}

static xmlNode *
vfx_ensure_child(xmlNode *n, const char *name)
{
    xmlNode *c = vfx_xml_child(n, name);

    return c ? c : xmlNewChild(n, NULL, (const xmlChar *)name, NULL);
}

static gboolean
vfx_rewrite_one(const char *domname, GPtrArray *ifaces, const VfxIncoming *ch,
                gboolean *changed, GError **error)
{
    g_autofree char *mac = ch->mac ? vfx_mac_normalise(ch->mac) : NULL;
    const char *who = ch->alias ? ch->alias : ch->mac;
    VfxIface *virtio = NULL, *vfdev = NULL;
    g_autofree char *vf_alias = NULL;

    if (!ch->alias && !mac) {
        vfx_set_error(error, VFX_ERROR_INVALID,
                      "domain %s: incoming rewrite names no interface (alias or a valid MAC)",
                      domname);
        return FALSE;
    }
    for (guint i = 0; i < ifaces->len; i++) {
        VfxIface *iface = ifaces->pdata[i];

        if (!vfx_iface_is_virtio(iface))
            continue;
        if (ch->alias ? g_strcmp0(iface->alias, ch->alias) == 0
                      : g_strcmp0(iface->mac, mac) == 0) {
            virtio = iface;
            break;
        }
    }
    if (!virtio || !virtio->mac) {
        vfx_set_error(error, VFX_ERROR_NOT_FOUND,
                      "domain %s: pair for interface %s: no virtio interface with that %s",
                      domname, who, ch->alias ? "alias" : "MAC");
        return FALSE;
    }

    if (ch->vhost_socket) {
        xmlNode *src;

        if (g_strcmp0(virtio->type, "vhostuser") != 0) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "domain %s: pair for interface %s: not a vhost-user interface, "
                          "cannot set its socket path", domname, who);
            return FALSE;
        }
        src = vfx_ensure_child(virtio->node, "source");
        vfx_set_prop(src, "path", ch->vhost_socket, changed);
    }
    if (!ch->vf)
        return TRUE;

    {
        VfxPair tmp = { .mac = virtio->mac };
        vf_alias = vfx_pair_vf_alias(&tmp);
    }
    for (guint i = 0; i < ifaces->len && !vfdev; i++) {
        VfxIface *iface = ifaces->pdata[i];
        if (g_strcmp0(iface->alias, vf_alias) == 0)
            vfdev = iface;
    }
    for (guint i = 0; i < ifaces->len && !vfdev; i++) {
        VfxIface *iface = ifaces->pdata[i];
        if (iface != virtio && !vfx_iface_is_virtio(iface) &&
            g_strcmp0(iface->mac, virtio->mac) == 0 &&
            (g_strcmp0(iface->type, "hostdev") == 0 || g_strcmp0(iface->type, "ethernet") == 0))
            vfdev = iface;
    }
    if (!vfdev)
        return TRUE;   /* managed mode: the VF was unplugged before migrating */

    if (ch->vf->backend == VFX_BACKEND_KERNEL) {
        guint d, b, sl, f;
        char buf[8];
        xmlNode *addr;

        if (g_strcmp0(vfdev->type, "hostdev") != 0) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "domain %s: pair for interface %s: the VF device %s is type '%s', "
                          "not 'hostdev' as the kernel backend needs", domname, who,
                          vfdev->alias ? vfdev->alias : vfdev->mac, vfdev->type);
            return FALSE;
        }
        if (!vfx_pci_parse(ch->vf->pci_address, &d, &b, &sl, &f)) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "domain %s: pair for interface %s: VF PCI address '%s' is not DDDD:BB:SS.F",
                          domname, who, ch->vf->pci_address ? ch->vf->pci_address : "");
            return FALSE;
        }
        addr = vfx_ensure_child(vfx_ensure_child(vfdev->node, "source"), "address");
        vfx_set_prop(addr, "type", "pci", changed);
        g_snprintf(buf, sizeof(buf), "0x%04x", d);
        vfx_set_prop(addr, "domain", buf, changed);
        g_snprintf(buf, sizeof(buf), "0x%02x", b);
        vfx_set_prop(addr, "bus", buf, changed);
        g_snprintf(buf, sizeof(buf), "0x%02x", sl);
        vfx_set_prop(addr, "slot", buf, changed);
        g_snprintf(buf, sizeof(buf), "0x%x", f);
        vfx_set_prop(addr, "function", buf, changed);
    } else {
        if (g_strcmp0(vfdev->type, "ethernet") != 0) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "domain %s: pair for interface %s: the VF device %s is type '%s', "
                          "not 'ethernet' as the emulated backend needs", domname, who,
                          vfdev->alias ? vfdev->alias : vfdev->mac,
                          vfdev->type ? vfdev->type : "none");
            return FALSE;
        }
        if (!vfx_valid_ifname(ch->vf->tap)) {
            vfx_set_error(error, VFX_ERROR_INVALID,
                          "domain %s: pair for interface %s: tap name '%s' is not a network "
                          "interface name", domname, who, ch->vf->tap ? ch->vf->tap : "");
            return FALSE;
        }
        vfx_set_prop(vfx_ensure_child(vfdev->node, "target"), "dev", ch->vf->tap, changed);
    }
    return TRUE;
}

char *
vfx_domain_rewrite_incoming(const char *xml, gsize len, const VfxIncoming *changes,
                            guint n_changes, gboolean *changed, GError **error)
{
    return vfx_domain_rewrite_incoming_full(xml, len, 0, changes, n_changes,
                                            changed, error);
}

char *
vfx_domain_rewrite_incoming_full(const char *xml, gsize len, gsize max_bytes,
                                 const VfxIncoming *changes, guint n_changes,
                                 gboolean *changed, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;
    g_autofree char *name = NULL;
    gboolean any = FALSE;
    xmlBuffer *buf;
    xmlSaveCtxt *save;
    char *out;
    xmlNode *root;

    doc = vfx_xml_read(xml, len, max_bytes, error);
    if (!doc)
        return NULL;
    if (!(root = vfx_xml_domain_root(doc, error)))
        return NULL;
    name = vfx_xml_child_text(root, "name");
    if (!name)
        name = g_strdup("(unnamed)");
    ifaces = vfx_domain_interfaces(root);
    for (guint i = 0; i < n_changes; i++)
        if (!vfx_rewrite_one(name, ifaces, &changes[i], &any, error))
            return NULL;

    buf = xmlBufferCreate();
    save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL);
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    out = g_strndup((const char *)xmlBufferContent(buf), xmlBufferLength(buf));
    xmlBufferFree(buf);
    if (changed)
        *changed = any;
    return out;
}

char *
vfx_domain_interface_link_state(const char *xml, gsize len, const char *alias, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;
    g_autofree char *state = NULL;
    xmlNode *root;

    if (!(doc = vfx_xml_read(xml, len, 0, error)))
        return NULL;
    if (!(root = vfx_xml_domain_root(doc, error)))
        return NULL;
    ifaces = vfx_domain_interfaces(root);
    for (guint i = 0; i < ifaces->len; i++) {
        VfxIface *iface = ifaces->pdata[i];
        if (g_strcmp0(iface->alias, alias) != 0)
            continue;
        state = vfx_xml_prop(vfx_xml_child(iface->node, "link"), "state");
        return g_strdup(g_strcmp0(state, "down") == 0 ? "down" : "up");
    }
    vfx_set_error(error, VFX_ERROR_NOT_FOUND, "domain XML: no interface with alias %s", alias);
    return NULL;
}
