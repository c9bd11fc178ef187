/* Which VF devices a domain XML already holds (native mode: the VF
 * stand-in is in the definition, because libvirt 9.0 does not apply
 * <qemu:override> to hot-plugged devices): found by the alias vfailover
 * gives them (ua-vfo-..., vfx_pair_vf_alias()). */
#pragma once

#include <glib.h>

typedef struct {
    char *netdev;   /* <interface type='ethernet'>: its <target dev> */
    char *pci;      /* <interface type='hostdev'>: "DDDD:BB:SS.F" */
} HookdDefinedVf;

void hookd_defined_vf_free(HookdDefinedVf *v);

/* alias -> HookdDefinedVf* for every <interface> whose alias starts with
 * "ua-vfo-". NULL + @error if the XML cannot be read (the caller parsed it
 * already, so this does not happen in practice). */
GHashTable *hookd_xml_defined_vfs(const char *xml, gsize len, gsize max_bytes, GError **error);
