/* vfailover's view of a libvirt domain XML: the annotations in our
 * namespace inside <metadata> (see vfailover-annotations(5) and
 * xml/vfailover-annotations.rng), the VF device XML hookd attaches, and the
 * rewrite of a domain XML for an incoming migration.
 *
 * Every function parses untrusted XML the same way: libxml2 with
 * XML_PARSE_NONET, no entity substitution, no DTD loading, any DOCTYPE
 * rejected before its declarations are read, at most
 * VFX_MAX_DOCUMENT_BYTES (or the caller's limit) and libxml2's default
 * nesting limit (256). Errors are one line naming the object, e.g.
 * "domain vm1: pair for interface ua-net1: no virtio interface with that alias". */
#pragma once

#include <glib.h>
#include <stdio.h>

/* The annotation namespace (conventional prefix "vfo"). */
#define VFX_NAMESPACE "http://vfailover.org/schemas/domain/1.0"
#define VFX_NAMESPACE_PREFIX "vfo"
/* Default size limit of a domain XML; hookd passes its max-message-bytes. */
#define VFX_MAX_DOCUMENT_BYTES (4 * 1024 * 1024)

#define VFX_ERROR (vfx_error_quark())
GQuark vfx_error_quark(void);
typedef enum {
    VFX_ERROR_TOO_LARGE,    /* document over the size limit */
    VFX_ERROR_MALFORMED,    /* not well-formed XML, too deep, empty, binary */
    VFX_ERROR_FORBIDDEN,    /* DOCTYPE / entity declarations (XXE, billion laughs) */
    VFX_ERROR_NOT_DOMAIN,   /* root is not <domain>, or no <name> */
    VFX_ERROR_VERSION,      /* unknown annotation version */
    VFX_ERROR_INVALID,      /* an annotation or the interface it names is wrong */
    VFX_ERROR_NOT_FOUND,    /* rewrite/render: the device to change is missing */
} VfxErrorCode;

typedef enum { VFX_MODE_NATIVE, VFX_MODE_MANAGED } VfxMigrationMode;
typedef enum { VFX_NO_VF_REFUSE, VFX_NO_VF_VIRTIO_ONLY } VfxNoVfPolicy;
/* DEFAULT = vfailover leaves the VF's setting as the driver has it. */
typedef enum { VFX_TRI_DEFAULT, VFX_TRI_ON, VFX_TRI_OFF } VfxTristate;
typedef enum { VFX_LINK_AUTO, VFX_LINK_ENABLE, VFX_LINK_DISABLE } VfxLinkState;

typedef struct {
    char *alias;            /* virtio interface alias (e.g. ua-backup0), or NULL
                             * if the interface has none (managed mode only) */
    char *mac;              /* virtio interface MAC, lower-case aa:bb:.. (always set) */
    char *vhost_socket;     /* <interface type='vhostuser'> source path, or NULL */
    gboolean vhost_server;  /* source mode='server' (QEMU is server) */
    char *pf, *pool;        /* exactly one set: PF netdev name or pool name */
    guint vlan, vlan_qos, qinq_outer;  /* 0 = none; qos 0..7; qinq needs vlan */
    VfxTristate spoofchk, trust;
    VfxLinkState link_state;
    guint min_tx_rate_mbps, max_tx_rate_mbps;  /* 0 = no limit */
    VfxMigrationMode mode;
    VfxNoVfPolicy no_vf;
} VfxPair;

typedef struct {
    char *name;
    char *uuid;             /* NULL if the XML has no <uuid> */
    GPtrArray *pairs;       /* VfxPair*, in annotation order; owns them */
    GArray *free_root_ports;  /* guint: index of each pcie-root-port controller
                               * that allows hot-plug and has no device on
                               * its bus, in document order */
} VfxDomain;

/* Parse @xml (@len bytes, need not be NUL-terminated) with the default size
 * limit. Returns NULL and sets @error (one line) on any problem; an
 * unannotated domain gives a VfxDomain with 0 pairs. */
VfxDomain *vfx_domain_parse(const char *xml, gsize len, GError **error);
/* Same with an explicit size limit in bytes (0 = VFX_MAX_DOCUMENT_BYTES). */
VfxDomain *vfx_domain_parse_full(const char *xml, gsize len, gsize max_bytes,
                                 GError **error);
void vfx_domain_free(VfxDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VfxDomain, vfx_domain_free)

void vfx_pair_free(VfxPair *pair);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VfxPair, vfx_pair_free)
VfxPair *vfx_pair_copy(const VfxPair *pair);

/* Cheap and never fails: does @xml mention our namespace URI anywhere?
 * A plain byte search, no parsing: the hook uses it to fail closed (TRUE)
 * or open (FALSE) when hookd is unreachable, so a false positive is the
 * safe side. */
gboolean vfx_xml_is_annotated(const char *xml, gsize len);

/* Names for enums as they appear in the annotations and the JSON/text
 * output ("native", "virtio-only", "on", "default", "enable", ...). */
const char *vfx_mode_to_string(VfxMigrationMode mode);
const char *vfx_no_vf_to_string(VfxNoVfPolicy policy);
const char *vfx_tristate_to_string(VfxTristate t);
const char *vfx_link_state_to_string(VfxLinkState state);

/* ---- VF device XML ------------------------------------------------------ */

typedef enum {
    VFX_BACKEND_KERNEL,     /* a real VF: <interface type='hostdev'> */
    VFX_BACKEND_EMULATED,   /* a tap "VF": an emulated NIC <interface type='ethernet'> */
} VfxBackend;

/* The emulated backend's VF stand-in models: PCIe NICs QEMU can use as a
 * failover primary. NULL-terminated; the first is the default. */
extern const char *const vfx_emulated_models[];
gboolean vfx_emulated_model_valid(const char *model);

/* The VF a pair gets on this host. */
typedef struct {
    VfxBackend backend;
    const char *pci_address;  /* kernel: VF PCI address "DDDD:BB:SS.F" */
    const char *tap;          /* emulated: tap device name (exists, up) */
    const char *model;        /* emulated: NIC model (NULL = the default) */
    guint root_port;          /* emulated: index of the free pcie-root-port to
                               * plug it on (VfxDomain.free_root_ports), or 0:
                               * no address, libvirt chooses */
} VfxVf;

/* The alias vfailover gives the VF device of @pair: "ua-vfo-" followed by
 * the MAC's 12 hex digits (stable across hosts, user-alias syntax so it
 * survives migration). Used by render, rewrite and <qemu:override>. */
char *vfx_pair_vf_alias(const VfxPair *pair);

/* The <interface> XML to attach (virDomainAttachDeviceFlags) for @pair on
 * @vf. Kernel backend:
 *   <interface type='hostdev' managed='yes'> MAC, <source><address
 *   type='pci' .../>, <vlan><tag id='N'/></vlan> with N = the VF's port
 *   VLAN (the pair's vlan, or its qinq_outer for QinQ), native mode adds
 *   <teaming type='transient' persistent='ALIAS'/>, and <alias
 *   name='ua-vfo-...'/>. libvirt 9.0 cannot express more: its hostdev
 *   <vlan> is one 802.1Q tag with priority 0, and with no <vlan> it
 *   CLEARS the VF's VLAN on attach (NEWS 8.1.0). So the caller must set
 *   vlan_qos and the 802.1ad protocol (QinQ) on the VF AFTER libvirt has
 *   attached it (and after libvirt prepared the hostdev on a migration
 *   destination); until then the VF is on the right VLAN id already.
 * Emulated backend: <interface type='ethernet'> with MAC, <target dev='TAP'
 *   managed='no'/>, <model type='MODEL'/> (vfx_emulated_models),
 *   <rom enabled='no'/>, alias and, with a root_port, <address type='pci'
 *   bus='0xNN' slot='0x00' function='0x0'/> on it. VLAN/rate/etc. are enforced by the emulated NIC's bridge, not here;
 *   for native mode QEMU's failover_pair_id comes from
 *   vfx_pair_render_qemu_override().
 * Returns NULL + error if @vf does not fit (bad PCI address, no tap, a
 * native-mode pair without a virtio alias, an unknown model). */
char *vfx_pair_render_vf(const VfxPair *pair, const VfxVf *vf, GError **error);

/* For the emulated backend in native mode: the <qemu:device> element
 * (namespace http://libvirt.org/schemas/domain/qemu/1.0, prefix "qemu",
 * declared on the element) that sets failover_pair_id=ALIAS on the VF's
 * emulated NIC frontend, for <qemu:override> in the domain definition. Returns
 * NULL for managed mode or a pair without alias. */
char *vfx_pair_render_qemu_override(const VfxPair *pair);

/* ---- Incoming migration -------------------------------------------------- */

/* What changes for one pair on the destination. */
typedef struct {
    const char *alias;        /* the pair's virtio alias, or NULL to use mac */
    const char *mac;          /* the pair's virtio MAC (used if alias is NULL) */
    const VfxVf *vf;          /* destination VF, or NULL: leave the VF device */
    const char *vhost_socket; /* destination vhost-user path, NULL = keep */
} VfxIncoming;

/* Rewrite a whole domain XML (from the destination's `migrate begin` hook)
 * for this host: for each @changes entry, the pair's VF device (found by
 * its vfailover alias, else by being the non-virtio interface with the
 * pair's MAC) gets the destination's PCI address (hostdev source) or tap
 * (ethernet target dev); the virtio interface's vhost-user source path is
 * replaced if it differs. A pair whose VF device is absent (managed mode
 * unplugs it before migrating) is not an error. A VF device of the other
 * backend's type is. Returns the whole document (no XML declaration),
 * everything else byte-for-byte as libxml2 re-serialises it; @changed
 * (optional) tells whether anything was replaced. */
char *vfx_domain_rewrite_incoming(const char *xml, gsize len,
                                  const VfxIncoming *changes, guint n_changes,
                                  gboolean *changed, GError **error);
/* Same with an explicit size limit in bytes (0 = VFX_MAX_DOCUMENT_BYTES). */
char *vfx_domain_rewrite_incoming_full(const char *xml, gsize len, gsize max_bytes,
                                       const VfxIncoming *changes, guint n_changes,
                                       gboolean *changed, GError **error);

/* The link state libvirt's domain XML @xml gives the interface with alias
 * @alias: "down" for <link state='down'/>, else "up". NULL + error (one
 * line) if there is no such interface. */
char *vfx_domain_interface_link_state(const char *xml, gsize len, const char *alias,
                                      GError **error);

/* ---- Offline CLI (vfailoverctl validate-xml / render-xml) ---------------- */

/* Read the domain XML at @path, parse it and print the pairs to @out (text,
 * one line per pair, or one JSON object with --json, see
 * vfailover-annotations(5)). Returns 0, or 1 after one error line on @err. */
int vfx_cli_validate(const char *path, gboolean json, FILE *out, FILE *err);
/* Read and parse @path and print, for every pair, the VF device XML it
 * would get on each backend with a placeholder VF (kernel: PCI address
 * 0000:00:00.0; emulated: tap "vfo-tapN", N = pair index), plus the
 * <qemu:override> element where one applies. Returns 0, or 1 after one
 * error line on @err. */
int vfx_cli_render(const char *path, FILE *out, FILE *err);

/* The pairs of @dom as a JSON document (what validate-xml --json prints),
 * and as text lines. */
char *vfx_domain_to_json(const VfxDomain *dom);
char *vfx_domain_to_text(const VfxDomain *dom);
