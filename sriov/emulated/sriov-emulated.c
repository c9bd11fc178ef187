/* Emulated VF backend: a software SR-IOV NIC for hosts without one.
 *
 * The PF is a Linux bridge (named like the PF) playing the NIC's embedded
 * switch, with an optional uplink port (the "wire"). Each VF is a persistent
 * tap on that bridge, named PFvN, given to the guest as a hot-plugged PCIe
 * e1000e by the libvirt side. Policy is enforced by real kernel features:
 *
 *   MAC steering   static sticky FDB entry for the MAC on the VF's tap (a
 *                  frame from another port does not move it); VF ports
 *                  have learning and unicast flooding off, so unicast reaches
 *                  a VF only through its configured MAC — as on a NIC, and
 *                  clearing steering (deleting the entry) stops delivery.
 *                  Broadcast/multicast still flood (ARP, ND work).
 *   VLAN, QinQ     at the VF's port, by two tcx BPF programs on the tap
 *                  (sriov-bpf.c): push the VF's tag on what the guest sends,
 *                  pass only frames with that tag (popped) towards the guest.
 *                  The tag protocol is per VF: 802.1ad makes the VF VLAN an
 *                  outer S-tag and the guest's own 802.1Q tag travels inside
 *                  (QinQ). The bridge itself stays a MAC switch: the kernels
 *                  this was built on (Debian's minimal cloud kernels) have no
 *                  bridge VLAN filtering, 8021q or act_vlan, so VLAN-aware
 *                  bridging (vlan_protocol 802.1ad on the bridge) could not be
 *                  used; it would also force one tag protocol per PF.
 *   anti-spoof     nftables, family bridge, one table per PF named
 *                  "vfailover-PF", rebuilt atomically (nft -f -) on change.
 *   TX rate        nftables too: a byte-rate "limit ... over" policer on
 *                  what enters from the tap (tc cannot police ingress here:
 *                  no act_police, no matchall, no ifb; tbf only shapes
 *                  egress). Minimum rate is recorded, not enforced.
 *   mirror         while a re-plugged VF comes up in the guest, frames from the
 *                  uplink for its MAC are also copied to the datapath's port
 *                  (nftables, family netdev, ingress of the uplink: "dup
 *                  to"; same table name). What a switchdev NIC does with a
 *                  mirror action on the uplink representor.
 *   link state     the tap's admin state (disable = down: nothing passes).
 *   trust          recorded only (the emulated NIC has no privileged VF
 *                  requests to grant).
 *   stats          the tap's counters, seen from the VF (rx = towards guest).
 *
 * Links, bridge ports and FDB entries go through the netlink send path of
 * sriov-netlink.c; the nftables tables are sriov-nft.c's. The applied
 * configuration is kept in memory; after a restart a VF's state is its clean
 * state until the pool re-applies or restores it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <linux/if_bridge.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include "sriov-backend.h"
#include "sriov-bpf.h"
#include "sriov-emulated.h"
#include "sriov-netlink.h"

typedef struct {
    SriovBackend parent;
    SriovNl *nl;
    GHashTable *pfs;            /* name -> EmuPf* */
    gboolean no_sticky;         /* the kernel refused NTF_STICKY once */
} EmuBackend;

static EmuBackend *
eb(SriovBackend *be)
{
    return (EmuBackend *)be;
}

static void
emu_pf_free(gpointer p)
{
    EmuPf *pf = p;
    g_free(pf->name);
    g_free(pf->uplink);
    g_free(pf->datapath_port);
    g_free(pf->nft_applied);
    g_free(pf);
}

char *
sriov_emu_tap_name(const char *pf, guint vf)
{
    g_autofree char *suffix = g_strdup_printf("v%u", vf);
    int room = IFNAMSIZ - 1 - (int)strlen(suffix);
    return g_strdup_printf("%.*s%s", room, pf, suffix);
}

static EmuPf *
get_pf(EmuBackend *e, const char *pf, guint vf, GError **error)
{
    EmuPf *p = g_hash_table_lookup(e->pfs, pf);

    if (!p) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s: not an open emulated PF", pf);
        return NULL;
    }
    if (vf >= EMU_MAX_VFS) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (an emulated PF has at most %u)", pf, vf,
                    EMU_MAX_VFS);
        return NULL;
    }
    return p;
}

/* ---- netlink requests ---- */

static gboolean
talk_rc(EmuBackend *e, struct nl_msg *msg, int *rc_out, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);

/* Send @msg; on failure the error is "<fmt...>: <errno text> (kernel: ...)"
 * and *rc_out (if given) the -errno. */
static gboolean
talk_rc(EmuBackend *e, struct nl_msg *msg, int *rc_out, GError **error, const char *fmt, ...)
{
    g_autofree char *ext_ack = NULL;
    int rc = sriov_nl_talk(e->nl, msg, NULL, &ext_ack);

    nlmsg_free(msg);
    if (rc_out)
        *rc_out = rc;
    if (rc < 0) {
        g_autofree char *what = NULL;
        g_autofree char *why = sriov_nl_strerror(rc, ext_ack);
        va_list ap;
        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, SRIOV_ERROR,
                    rc == -ENODEV ? SRIOV_ERROR_NOT_FOUND
                                  : rc == -EOPNOTSUPP ? SRIOV_ERROR_NOT_SUPPORTED
                                                      : SRIOV_ERROR_FAILED,
                    "%s: %s", what, why);
        return FALSE;
    }
    return TRUE;
}

#define talk(e, msg, error, ...) talk_rc(e, msg, NULL, error, __VA_ARGS__)

static struct nl_msg *
link_msg(int type, int flags, int family, int ifindex)
{
    struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
    struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = ifindex };

    if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
        g_error("out of memory building a netlink message");
    return msg;
}

static int
ifindex_of(const char *name)
{
    return (int)if_nametoindex(name);
}

/* Create the PF's bridge (an existing bridge is used as it is). */
static gboolean
bridge_setup(EmuBackend *e, const char *name, GError **error)
{
    struct nl_msg *msg;
    struct nlattr *info;

    if (ifindex_of(name))
        return TRUE;
    msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
    nla_put_string(msg, IFLA_IFNAME, name);
    info = nla_nest_start(msg, IFLA_LINKINFO);
    nla_put_string(msg, IFLA_INFO_KIND, "bridge");
    nla_nest_end(msg, info);
    return talk(e, msg, error, "PF %s: cannot create its bridge", name);
}

static gboolean
link_set(EmuBackend *e, const char *name, int master, gboolean set_master, gboolean up,
         GError **error)
{
    int idx = ifindex_of(name);
    struct nl_msg *msg;
    struct ifinfomsg *ifi;

    if (!idx) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "network device %s does not exist", name);
        return FALSE;
    }
    msg = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, idx);
    ifi = nlmsg_data(nlmsg_hdr(msg));
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = up ? IFF_UP : 0;
    if (set_master)
        nla_put_u32(msg, IFLA_MASTER, master);
    return talk(e, msg, error, "cannot set up network device %s", name);
}

/* Bridge port flags. A VF: no learning, no unicast flooding. The uplink:
 * no learning either (a NIC's embedded switch does not learn MACs from the
 * wire: what no VF filter claims goes to the default port), but unicast
 * flooding, so that frames for MACs of the wire leave by it. A learning
 * uplink kept a VM's MAC "on the wire" after it had seen the VM's
 * broadcasts from another host, and dropped the VM's frames once the VM
 * had migrated here, until a VF steering entry replaced that. */
static gboolean
port_flags(EmuBackend *e, const char *port, gboolean vf_port, GError **error)
{
    struct nl_msg *msg = link_msg(RTM_SETLINK, 0, AF_BRIDGE, ifindex_of(port));
    struct nlattr *pi = nla_nest_start(msg, IFLA_PROTINFO);

    nla_put_u8(msg, IFLA_BRPORT_LEARNING, 0);
    nla_put_u8(msg, IFLA_BRPORT_UNICAST_FLOOD, vf_port ? 0 : 1);
    nla_nest_end(msg, pi);
    return talk(e, msg, error, "cannot set the bridge port flags of %s", port);
}

static struct nl_msg *
fdb_msg(int ifindex, const guint8 mac[6], gboolean add, gboolean sticky)
{
    struct nl_msg *msg = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
                                            NLM_F_REQUEST | NLM_F_ACK |
                                            (add ? NLM_F_CREATE | NLM_F_REPLACE : 0));
    /* "static" is NUD_NOARP | NUD_REACHABLE for iproute2 */
    struct ndmsg nd = { .ndm_family = AF_BRIDGE, .ndm_ifindex = ifindex,
                        .ndm_state = NUD_NOARP | NUD_REACHABLE,
                        .ndm_flags = NTF_MASTER | (sticky ? NTF_STICKY : 0) };

    if (!msg || nlmsg_append(msg, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0)
        g_error("out of memory building a netlink message");
    nla_put(msg, NDA_LLADDR, 6, mac);
    return msg;
}

/* `bridge fdb replace|del MAC dev PORT master static sticky`. Sticky, because
 * the bridge moves even a static entry to whatever port a frame with that
 * source MAC comes in on (a port that learns: the uplink, when the VM's MAC
 * shows up there during a migration, or the datapath announcing it); a NIC's
 * embedded switch keeps a VF's MAC on the VF. If the kernel refuses the flag
 * (EINVAL, EOPNOTSUPP) the entries are plain static ones from then on, with a
 * warning; kernels before 5.0 have no sticky entries and ignore the flag. */
static gboolean
fdb(EmuBackend *e, const char *port, const guint8 mac[6], gboolean add, GError **error)
{
    g_autofree char *text = sriov_mac_to_string(mac);
    g_autoptr(GError) local = NULL;
    int idx = ifindex_of(port);
    int rc = 0;

    if (!e->no_sticky) {
        if (talk_rc(e, fdb_msg(idx, mac, add, TRUE), &rc, &local,
                    "cannot %s the static FDB entry %s on %s", add ? "add" : "remove", text, port))
            return TRUE;
        if (!add || (rc != -EINVAL && rc != -EOPNOTSUPP)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        g_warning("The kernel refuses sticky bridge FDB entries (%s): emulated VF steering "
                  "entries are plain static ones, which a frame from another port with the "
                  "VF's MAC moves", local->message);
        e->no_sticky = TRUE;
    }
    return talk(e, fdb_msg(idx, mac, add, FALSE), error, "cannot %s the static FDB entry %s on %s",
                add ? "add" : "remove", text, port);
}

/* ---- tap devices ---- */

static gboolean
tap_create(const char *name, gboolean persist, GError **error)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED, "cannot open /dev/net/tun: %s",
                    g_strerror(errno));
        return FALSE;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, persist ? 1 : 0) < 0) {
        int err = errno;
        close(fd);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED, "cannot %s tap %s: %s",
                    persist ? "create" : "remove", name, g_strerror(err));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* ---- applying a configuration ---- */

static gboolean
apply(EmuBackend *e, EmuPf *pf, guint vf, const SriovVfConfig *want, GError **error)
{
    EmuVf *v = &pf->vfs[vf];
    SriovVfConfig next = v->cfg;
    g_autofree char *tap = sriov_emu_tap_name(pf->name, vf);

    if (!ifindex_of(tap)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: its tap %s does not exist", pf->name, vf, tap);
        return FALSE;
    }
    if (want->set & SRIOV_VF_SET_MAC)
        memcpy(next.mac, want->mac, 6);
    if (want->set & SRIOV_VF_SET_VLAN) {
        next.vlan = want->vlan;
        next.qos = want->qos;
        next.vlan_proto = want->vlan_proto ? want->vlan_proto : SRIOV_VLAN_PROTO_8021Q;
    }
    if (want->set & SRIOV_VF_SET_SPOOFCHK)
        next.spoofchk = want->spoofchk;
    if (want->set & SRIOV_VF_SET_TRUST)
        next.trust = want->trust;
    if (want->set & SRIOV_VF_SET_RATE) {
        next.min_tx_rate_mbps = want->min_tx_rate_mbps;
        next.max_tx_rate_mbps = want->max_tx_rate_mbps;
    }
    if (want->set & SRIOV_VF_SET_LINK_STATE)
        next.link_state = want->link_state;
    next.set |= want->set;

    /* VLAN: tcx programs on the tap. */
    if ((want->set & SRIOV_VF_SET_VLAN) &&
        (next.vlan != v->cfg.vlan || next.qos != v->cfg.qos ||
         next.vlan_proto != v->cfg.vlan_proto)) {
        if (!sriov_bpf_set_port_vlan(tap, next.vlan, next.qos, next.vlan_proto, error))
            goto fail_vlan;
    }
    v->cfg.vlan = next.vlan;
    v->cfg.qos = next.qos;
    v->cfg.vlan_proto = next.vlan_proto;
    v->cfg.set |= next.set & SRIOV_VF_SET_VLAN;

    /* MAC steering. */
    if (v->fdb_installed && memcmp(v->fdb_mac, next.mac, 6) != 0) {
        if (!fdb(e, tap, v->fdb_mac, FALSE, error))
            goto fail_mac;
        v->fdb_installed = FALSE;
    }
    if (!sriov_mac_is_zero(next.mac) && !v->fdb_installed) {
        if (!fdb(e, tap, next.mac, TRUE, error))
            goto fail_mac;
        memcpy(v->fdb_mac, next.mac, 6);
        v->fdb_installed = TRUE;
    }
    memcpy(v->cfg.mac, next.mac, 6);
    v->cfg.set |= next.set & SRIOV_VF_SET_MAC;

    /* Anti-spoof and rate: one nft transaction for the PF. */
    if (want->set & (SRIOV_VF_SET_SPOOFCHK | SRIOV_VF_SET_MAC | SRIOV_VF_SET_RATE)) {
        SriovVfConfig saved = v->cfg;
        v->cfg.spoofchk = next.spoofchk;
        v->cfg.min_tx_rate_mbps = next.min_tx_rate_mbps;
        v->cfg.max_tx_rate_mbps = next.max_tx_rate_mbps;
        v->cfg.set |= next.set & (SRIOV_VF_SET_SPOOFCHK | SRIOV_VF_SET_RATE);
        if (!sriov_emu_nft_sync(pf, error)) {
            v->cfg = saved;
            g_prefix_error(error, "PF %s VF %u: cannot set %s: ", pf->name, vf,
                           want->set & SRIOV_VF_SET_RATE ? "spoofchk / TX rate" : "spoofchk");
            return FALSE;
        }
    }
    v->cfg.trust = next.trust;
    v->cfg.set |= next.set & SRIOV_VF_SET_TRUST;

    if (want->set & SRIOV_VF_SET_LINK_STATE) {
        if (!link_set(e, tap, 0, FALSE, next.link_state != SRIOV_LINK_STATE_DISABLE, error)) {
            g_prefix_error(error, "PF %s VF %u: cannot set link state to %s: ", pf->name, vf,
                           sriov_link_state_to_string(next.link_state));
            return FALSE;
        }
        v->cfg.link_state = next.link_state;
        v->cfg.set |= SRIOV_VF_SET_LINK_STATE;
    }
    return TRUE;

fail_vlan:
    g_prefix_error(error, "PF %s VF %u: cannot set VLAN to %u: ", pf->name, vf, next.vlan);
    return FALSE;
fail_mac: {
        g_autofree char *mac = sriov_mac_to_string(next.mac);
        g_prefix_error(error, "PF %s VF %u: cannot set MAC to %s: ", pf->name, vf, mac);
        return FALSE;
    }
}

/* The state of a VF nobody configured. */
static void
clean_config(SriovVfConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->set = SRIOV_VF_SET_ALL;
    cfg->vlan_proto = SRIOV_VLAN_PROTO_8021Q;
    cfg->link_state = SRIOV_LINK_STATE_AUTO;
}

/* ---- operations ---- */

static gboolean
emu_pf_open(SriovBackend *be, const char *pf, const SriovPfParams *params, guint *total_vfs,
            GError **error)
{
    EmuBackend *e = eb(be);
    EmuPf *p = g_hash_table_lookup(e->pfs, pf);
    const char *uplink = params ? params->uplink : NULL;
    guint i;

    if (strlen(pf) >= IFNAMSIZ) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s: name longer than %d characters", pf, IFNAMSIZ - 1);
        return FALSE;
    }
    if (uplink && !ifindex_of(uplink)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s: uplink %s does not exist", pf, uplink);
        return FALSE;
    }
    if (!bridge_setup(e, pf, error) || !link_set(e, pf, 0, FALSE, TRUE, error))
        return FALSE;
    if (uplink && (!link_set(e, uplink, ifindex_of(pf), TRUE, TRUE, error) ||
                   !port_flags(e, uplink, FALSE, error))) {
        g_prefix_error(error, "PF %s: cannot attach uplink %s: ", pf, uplink);
        return FALSE;
    }
    if (!p) {
        p = g_new0(EmuPf, 1);
        p->name = g_strdup(pf);
        for (i = 0; i < EMU_MAX_VFS; i++)
            clean_config(&p->vfs[i].cfg);
        g_hash_table_insert(e->pfs, p->name, p);
    }
    g_free(p->uplink);
    p->uplink = g_strdup(uplink);
    g_free(p->datapath_port);
    p->datapath_port = g_strdup(params ? params->datapath_port : NULL);
    if (!sriov_emu_nft_sync(p, error))
        return FALSE;
    *total_vfs = EMU_MAX_VFS;
    return TRUE;
}

static gboolean
emu_pf_get_num_vfs(SriovBackend *be, const char *pf, guint *num_vfs, GError **error)
{
    guint i;

    if (!get_pf(eb(be), pf, 0, error))
        return FALSE;
    for (i = 0; i < EMU_MAX_VFS; i++) {
        g_autofree char *tap = sriov_emu_tap_name(pf, i);
        if (!ifindex_of(tap))
            break;
    }
    *num_vfs = i;
    return TRUE;
}

/* A VF's tap in its clean state on the PF's bridge. */
static gboolean
vf_port_setup(EmuBackend *e, EmuPf *p, guint vf, GError **error)
{
    g_autofree char *tap = sriov_emu_tap_name(p->name, vf);

    if (!ifindex_of(tap) && !tap_create(tap, TRUE, error))
        goto fail;
    if (!link_set(e, tap, ifindex_of(p->name), TRUE, TRUE, error) ||
        !port_flags(e, tap, TRUE, error))
        goto fail;
    return TRUE;
fail:
    g_prefix_error(error, "PF %s VF %u: ", p->name, vf);
    return FALSE;
}

static gboolean
emu_pf_set_num_vfs(SriovBackend *be, const char *pf, guint num_vfs, GError **error)
{
    EmuBackend *e = eb(be);
    EmuPf *p = get_pf(e, pf, 0, error);
    guint i;

    if (!p)
        return FALSE;
    if (num_vfs > EMU_MAX_VFS) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s: %u VFs requested but an emulated PF supports at most %u",
                    pf, num_vfs, EMU_MAX_VFS);
        return FALSE;
    }
    for (i = 0; i < num_vfs; i++)
        if (!vf_port_setup(e, p, i, error))
            return FALSE;
    for (i = num_vfs; i < EMU_MAX_VFS; i++) {
        g_autofree char *tap = sriov_emu_tap_name(pf, i);
        if (!ifindex_of(tap))
            break;
        if (!tap_create(tap, FALSE, error))
            return FALSE;
        clean_config(&p->vfs[i].cfg);
        p->vfs[i].fdb_installed = FALSE;
        p->vfs[i].mirror = FALSE;
    }
    return sriov_emu_nft_sync(p, error);
}

static gboolean
emu_vf_get_info(SriovBackend *be, const char *pf, guint vf, SriovVfInfo *info, GError **error)
{
    g_autofree char *tap = NULL;

    if (!get_pf(eb(be), pf, vf, error))
        return FALSE;
    tap = sriov_emu_tap_name(pf, vf);
    if (!ifindex_of(tap)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (tap %s does not exist)", pf, vf, tap);
        return FALSE;
    }
    memset(info, 0, sizeof(*info));
    info->netdev = g_steal_pointer(&tap);
    info->driver = g_strdup("tap");
    return TRUE;
}

/* Restore = a fresh tap: deleting the device drops its FDB entries, VLANs
 * and tc state whatever this process remembers (it may have restarted),
 * then the original settings are applied to the clean port. */
static gboolean
emu_vf_restore(SriovBackend *be, const char *pf, guint vf, const SriovVfConfig *original,
               GError **error)
{
    EmuBackend *e = eb(be);
    EmuPf *p = get_pf(e, pf, vf, error);
    g_autofree char *tap = NULL;
    SriovVfConfig want;
    int idx;

    if (!p)
        return FALSE;
    tap = sriov_emu_tap_name(pf, vf);
    idx = ifindex_of(tap);
    if (!idx) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (tap %s does not exist)", pf, vf, tap);
        return FALSE;
    }
    if (!talk(e, link_msg(RTM_DELLINK, 0, AF_UNSPEC, idx), error,
              "PF %s VF %u: cannot reset tap %s", pf, vf, tap))
        return FALSE;
    clean_config(&p->vfs[vf].cfg);
    p->vfs[vf].fdb_installed = FALSE;
    p->vfs[vf].mirror = FALSE;
    if (!vf_port_setup(e, p, vf, error))
        return FALSE;
    want = *original;
    /* Rebuild the nft table for the reset even if the original has no
     * spoofchk or rate setting. */
    want.set |= SRIOV_VF_SET_SPOOFCHK;
    return apply(e, p, vf, &want, error);
}

static gboolean
emu_vf_reserve(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    EmuBackend *e = eb(be);
    EmuPf *p = get_pf(e, pf, vf, error);
    g_autofree char *tap = NULL;

    if (!p)
        return FALSE;
    tap = sriov_emu_tap_name(pf, vf);
    if (!ifindex_of(tap)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (tap %s does not exist)", pf, vf, tap);
        return FALSE;
    }
    return vf_port_setup(e, p, vf, error);
}

static gboolean
emu_vf_release(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    return get_pf(eb(be), pf, vf, error) != NULL;
}

static gboolean
emu_vf_bind(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    /* The tap is handed to QEMU as is: nothing to bind. */
    return get_pf(eb(be), pf, vf, error) != NULL;
}

static gboolean
emu_vf_bind_host(SriovBackend *be, const char *pf, guint vf, const char *driver, GError **error)
{
    return emu_vf_bind(be, pf, vf, error);
}

static gboolean
emu_vf_set_config(SriovBackend *be, const char *pf, guint vf, const SriovVfConfig *cfg,
                  GError **error)
{
    EmuBackend *e = eb(be);
    EmuPf *p;

    if (!sriov_vf_config_validate(cfg, pf, vf, error) || !(p = get_pf(e, pf, vf, error)))
        return FALSE;
    return apply(e, p, vf, cfg, error);
}

static gboolean
emu_vf_get_config(SriovBackend *be, const char *pf, guint vf, SriovVfConfig *cfg, GError **error)
{
    EmuPf *p = get_pf(eb(be), pf, vf, error);
    g_autofree char *tap = NULL;

    if (!p)
        return FALSE;
    tap = sriov_emu_tap_name(pf, vf);
    if (!ifindex_of(tap)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (tap %s does not exist)", pf, vf, tap);
        return FALSE;
    }
    *cfg = p->vfs[vf].cfg;
    cfg->set = SRIOV_VF_SET_ALL;
    if (!cfg->vlan_proto)
        cfg->vlan_proto = SRIOV_VLAN_PROTO_8021Q;
    return TRUE;
}

static gboolean
emu_vf_get_stats(SriovBackend *be, const char *pf, guint vf, SriovVfStats *stats, GError **error)
{
    EmuBackend *e = eb(be);
    g_autofree char *tap = NULL;
    g_autoptr(GBytes) reply = NULL;
    g_autofree char *ext_ack = NULL;
    guint64 rxp, txp, rxb, txb, rxd, txd, mc;
    int rc;

    if (!get_pf(e, pf, vf, error))
        return FALSE;
    tap = sriov_emu_tap_name(pf, vf);
    rc = sriov_nl_get_link(e->nl, tap, 0, &reply, &ext_ack);
    if (rc < 0) {
        g_autofree char *why = sriov_nl_strerror(rc, ext_ack);
        g_set_error(error, SRIOV_ERROR, rc == -ENODEV ? SRIOV_ERROR_NOT_FOUND : SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot read the counters of tap %s: %s", pf, vf, tap, why);
        return FALSE;
    }
    if (!sriov_nl_parse_link_stats(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply), NULL,
                                   &rxp, &txp, &rxb, &txb, &rxd, &txd, &mc)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u: unexpected answer reading tap %s", pf, vf, tap);
        return FALSE;
    }
    /* The tap transmits towards the guest: that is what the VF receives. */
    memset(stats, 0, sizeof(*stats));
    stats->rx_packets = txp;
    stats->rx_bytes = txb;
    stats->tx_packets = rxp;
    stats->tx_bytes = rxb;
    stats->rx_dropped = txd;
    stats->tx_dropped = rxd;
    stats->multicast = mc;
    return TRUE;
}

static gboolean
emu_vf_clear_steering(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC };
    return emu_vf_set_config(be, pf, vf, &cfg, error);
}

static gboolean
emu_vf_set_mirror(SriovBackend *be, const char *pf, guint vf, const guint8 *mac, GError **error)
{
    EmuPf *p = get_pf(eb(be), pf, vf, error);
    EmuVf *v, saved;

    if (!p)
        return FALSE;
    v = &p->vfs[vf];
    if (mac && (!p->uplink || !p->datapath_port)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "PF %s VF %u: cannot mirror: the PF has no %s configured", pf, vf,
                    p->uplink ? "datapath-port" : "uplink");
        return FALSE;
    }
    if (mac && sriov_mac_is_zero(mac)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s VF %u: cannot mirror the zero MAC", pf, vf);
        return FALSE;
    }
    if (mac && !ifindex_of(p->datapath_port)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: cannot mirror: datapath port %s does not exist", pf, vf,
                    p->datapath_port);
        return FALSE;
    }
    if (!mac && !v->mirror)
        return TRUE;
    if (mac && v->mirror && memcmp(v->mirror_mac, mac, 6) == 0)
        return TRUE;
    saved = *v;
    v->mirror = mac != NULL;
    if (mac)
        memcpy(v->mirror_mac, mac, 6);
    if (!sriov_emu_nft_sync(p, error)) {
        *v = saved;
        g_prefix_error(error, "PF %s VF %u: cannot %s its mirror: ", pf, vf, mac ? "set" : "stop");
        return FALSE;
    }
    return TRUE;
}

static void
emu_free(SriovBackend *be)
{
    EmuBackend *e = eb(be);
    g_hash_table_unref(e->pfs);
    sriov_nl_free(e->nl);
    g_free(e);
}

static const SriovBackendOps emu_ops = {
    .name = "emulated",
    .pf_open = emu_pf_open,
    .pf_get_num_vfs = emu_pf_get_num_vfs,
    .pf_set_num_vfs = emu_pf_set_num_vfs,
    .vf_get_info = emu_vf_get_info,
    .vf_reserve = emu_vf_reserve,
    .vf_release = emu_vf_release,
    .vf_bind_vfio = emu_vf_bind,
    .vf_bind_host = emu_vf_bind_host,
    .vf_set_config = emu_vf_set_config,
    .vf_get_config = emu_vf_get_config,
    .vf_get_stats = emu_vf_get_stats,
    .vf_clear_steering = emu_vf_clear_steering,
    .vf_set_mirror = emu_vf_set_mirror,
    .vf_restore = emu_vf_restore,
    .free = emu_free,
};

SriovBackend *
sriov_emulated_backend_new(SriovNl *nl, GError **error)
{
    EmuBackend *e;

    if (!nl && !(nl = sriov_nl_open(error)))
        return NULL;
    e = g_new0(EmuBackend, 1);
    e->parent.ops = &emu_ops;
    e->nl = nl;
    e->pfs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, emu_pf_free);
    return &e->parent;
}
