/* Which of a domain's PCIe root ports are free for a hot-plugged device.
 *
 * The emulated backend's VF stand-in is plugged with an explicit address on
 * such a port: libvirt (before 9.3) does not know every model it may be
 * (vmxnet3 is placed as conventional PCI, and a q35 guest has no hot-plug
 * slot for that), and QEMU's failover needs the primary on a PCIe port. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "vfx-private.h"

/* libvirt reads the parts of a PCI address with base 0 ("0x02", "2"). */
static gboolean
vfx_parse_number(const char *s, int base, guint *out)
{
    char *end = NULL;
    guint64 v;

    if (!s || !*s)
        return FALSE;
    v = g_ascii_strtoull(s, &end, base);
    if (*end || v > G_MAXUINT)
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

/* The PCI bus of a device's own guest address (a direct <address> child:
 * a hostdev's <source><address> is the host's). */
static gboolean
vfx_device_bus(xmlNode *dev, guint *bus)
{
    for (xmlNode *a = dev->children; a; a = a->next) {
        g_autofree char *type = NULL, *b = NULL;

        if (!vfx_xml_is(a, "address"))
            continue;
        type = vfx_xml_prop(a, "type");
        b = vfx_xml_prop(a, "bus");
        if (g_strcmp0(type, "pci") == 0 && vfx_parse_number(b, 0, bus))
            return TRUE;
    }
    return FALSE;
}

static gboolean
vfx_is_hotplug_root_port(xmlNode *n, guint *index)
{
    g_autofree char *type = NULL, *model = NULL, *idx = NULL, *hotplug = NULL;

    if (!vfx_xml_is(n, "controller"))
        return FALSE;
    type = vfx_xml_prop(n, "type");
    model = vfx_xml_prop(n, "model");
    idx = vfx_xml_prop(n, "index");
    hotplug = vfx_xml_prop(vfx_xml_child(n, "target"), "hotplug");
    return g_strcmp0(type, "pci") == 0 && g_strcmp0(model, "pcie-root-port") == 0 &&
           g_strcmp0(hotplug, "off") != 0 && vfx_parse_number(idx, 10, index);
}

GArray *
vfx_domain_free_root_ports(xmlNode *root)
{
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    GArray *ports = g_array_new(FALSE, FALSE, sizeof(guint));

    for (xmlNode *devs = root ? root->children : NULL; devs; devs = devs->next) {
        if (!vfx_xml_is(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n; n = n->next) {
            guint bus;

            if (n->type == XML_ELEMENT_NODE && vfx_device_bus(n, &bus))
                g_hash_table_add(used, GUINT_TO_POINTER(bus));
        }
    }
    for (xmlNode *devs = root ? root->children : NULL; devs; devs = devs->next) {
        if (!vfx_xml_is(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n; n = n->next) {
            guint index;

            if (vfx_is_hotplug_root_port(n, &index) && index > 0 &&
                !g_hash_table_contains(used, GUINT_TO_POINTER(index)))
                g_array_append_val(ports, index);
        }
    }
    return ports;
}
