/* Internal helpers shared by the files of libvfxml (not installed, not for
 * callers outside xml/). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "vfx-domain.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* Every libvfxml error goes through here: the message is made one printable
 * line (control characters shown as \xNN) of bounded length, because it
 * quotes untrusted values and ends up in libvirt's one-line hook error. */
void vfx_set_error(GError **error, VfxErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Kernel netdev name rules (dev_valid_name) minus ':'. */
gboolean vfx_valid_ifname(const char *s);

/* The one way libvfxml turns untrusted bytes into a tree: size limit,
 * XML_PARSE_NONET, no entity substitution, DOCTYPE refused before any of
 * its declarations is read. */
xmlDoc *vfx_xml_read(const char *xml, gsize len, gsize max_bytes, GError **error);

/* @doc's root element if it is <domain>; else NULL + VFX_ERROR_NOT_DOMAIN
 * ("domain XML: the root element is <X>, not <domain>"). */
xmlNode *vfx_xml_domain_root(xmlDoc *doc, GError **error);

/* Element helpers: the first child element called @name in no namespace. */
xmlNode *vfx_xml_child(xmlNode *node, const char *name);
/* An attribute in no namespace as a g_malloc'd string, or NULL. */
char *vfx_xml_prop(xmlNode *node, const char *name);
/* Text content of the child element @name, trimmed, or NULL. */
char *vfx_xml_child_text(xmlNode *node, const char *name);
/* Is @node an element called @name in no namespace? */
gboolean vfx_xml_is(xmlNode *node, const char *name);

/* A domain's <interface> as vfailover sees it. */
typedef struct {
    xmlNode *node;
    char *type;       /* type attribute */
    char *mac;        /* normalised lower-case, or NULL */
    char *alias;      /* <alias name>, or NULL */
    char *model;      /* <model type>, or NULL */
    char *source_path;  /* vhostuser: <source path>, or NULL */
    char *source_mode;  /* vhostuser: <source mode> */
    char *teaming;    /* <teaming type>, or NULL */
} VfxIface;

void vfx_iface_free(VfxIface *iface);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VfxIface, vfx_iface_free)
/* Every <devices>/<interface> of the domain root @root. */
GPtrArray *vfx_domain_interfaces(xmlNode *root);
gboolean vfx_iface_is_virtio(const VfxIface *iface);
/* vfx-pcie.c: the domain's free hot-plug PCIe root ports (VfxDomain). */
GArray *vfx_domain_free_root_ports(xmlNode *root);

/* "52:54:00:AB:cd:01" -> "52:54:00:ab:cd:01"; NULL if not a MAC. */
char *vfx_mac_normalise(const char *mac);
/* "0000:3b:02.1" -> its parts; FALSE if not that syntax. */
gboolean vfx_pci_parse(const char *addr, guint *domain, guint *bus,
                       guint *slot, guint *function);
