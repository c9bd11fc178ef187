/* The VF devices already in a domain XML (hookd-vfxml.h), read with
 * libvfxml's hardened parser. */
#include "config.h"

#include <string.h>

#include "vfx-private.h"
#include "hookd-vfxml.h"

void
hookd_defined_vf_free(HookdDefinedVf *v)
{
    if (!v)
        return;
    g_free(v->netdev);
    g_free(v->pci);
    g_free(v);
}

/* <source><address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/> */
static char *
hostdev_pci(xmlNode *iface)
{
    xmlNode *addr = vfx_xml_child(vfx_xml_child(iface, "source"), "address");
    const char *names[] = { "domain", "bus", "slot", "function" };
    guint64 v[4];
    guint i;

    if (!addr)
        return NULL;
    for (i = 0; i < 4; i++) {
        g_autofree char *s = vfx_xml_prop(addr, names[i]);
        if (!s || !g_ascii_string_to_unsigned(g_str_has_prefix(s, "0x") ? s + 2 : s, 16, 0,
                                              0xffff, &v[i], NULL))
            return NULL;
    }
    return g_strdup_printf("%04x:%02x:%02x.%x", (guint)v[0], (guint)v[1], (guint)v[2], (guint)v[3]);
}

GHashTable *
hookd_xml_defined_vfs(const char *xml, gsize len, gsize max_bytes, GError **error)
{
    g_autoptr(xmlDoc) doc = vfx_xml_read(xml, len, max_bytes, error);
    g_autoptr(GPtrArray) ifaces = NULL;
    GHashTable *out;
    guint i;

    if (!doc)
        return NULL;
    out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify)hookd_defined_vf_free);
    ifaces = vfx_domain_interfaces(xmlDocGetRootElement(doc));
    for (i = 0; i < ifaces->len; i++) {
        VfxIface *f = g_ptr_array_index(ifaces, i);
        HookdDefinedVf *v;

        if (!f->alias || !g_str_has_prefix(f->alias, "ua-vfo-") || !f->type)
            continue;
        v = g_new0(HookdDefinedVf, 1);
        if (strcmp(f->type, "hostdev") == 0)
            v->pci = hostdev_pci(f->node);
        else
            v->netdev = vfx_xml_prop(vfx_xml_child(f->node, "target"), "dev");
        g_hash_table_replace(out, g_strdup(f->alias), v);
    }
    return out;
}
