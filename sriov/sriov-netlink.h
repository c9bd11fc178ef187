/* rtnetlink for the VF backends: ONE send path (sriov_nl_talk) that returns
 * -errno plus the kernel's extended-ack text, thin request builders for the
 * IFLA_VF_* settings (encoded exactly as iproute2 encodes `ip link set PF vf N
 * ...`), the bridge/FDB/link requests of the emulated backend, and the parser
 * of an RTM_NEWLINK carrying IFLA_VFINFO_LIST.
 *
 * libnl-route 3.7 has rtnl_link_vf_set_{addr,vlans,spoofchk,trust,rate,
 * linkstate} and the matching getters plus rtnl_link_vf_get_stat(), i.e.
 * every attribute we need. Messages are built with libnl-3's nl_msg/nla
 * API, and tests/vf checks our parser against libnl's rtnl_link_vf_*
 * reading of the same bytes. They are not sent with libnl-route's
 * rtnl_link_change() because (1) it builds the request from a
 * diff of two full rtnl_link objects, so every VF change would need a fresh
 * dump of the PF with all its VFs, and it always encodes VLANs as
 * IFLA_VF_VLAN_LIST where iproute2 (and every driver since 2.6.34) uses
 * IFLA_VF_VLAN for 802.1Q; (2) libnl 3.7 does not return the kernel's
 * extended-ack message; (3) a benchmark peer must be able to stand in for the
 * kernel on a plain socket, which our send path allows (sriov_nl_new_for_fd). */
#pragma once

#include <glib.h>
#include <netlink/msg.h>

#include "sriov-backend.h"

/* SriovNl is declared in sriov-backend.h. */

/* Open NETLINK_ROUTE with NETLINK_EXT_ACK (and NETLINK_CAP_ACK). */
SriovNl *sriov_nl_open(GError **error);
/* Talk netlink over @fd (a socketpair end whose peer answers like the
 * kernel: benchmark and tests). Takes ownership of @fd. */
SriovNl *sriov_nl_new_for_fd(int fd);
void sriov_nl_free(SriovNl *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SriovNl, sriov_nl_free)

/* Test hook: sees every request (seq already set) before it is sent.
 * Return 1 to answer it with success without sending, 0 to send it,
 * -errno to fail it as the kernel would, or 2 when the hook has queued the
 * answers on the socket itself (a stand-in answering in the caller's
 * thread, as the kernel does): they are read as if the request had been
 * sent. */
typedef int (*SriovNlHook)(const guint8 *req, gsize len, gpointer user_data);
void sriov_nl_set_hook(SriovNl *nl, SriovNlHook hook, gpointer user_data);

/* THE send path. Sends @msg (seq set here, pid 0), reads until the ACK, the
 * error, NLMSG_DONE, or (for a request without NLM_F_ACK/NLM_F_DUMP) the
 * first reply. Reply messages are appended to @replies (GBytes, one
 * nlmsghdr each) when it is non-NULL. Returns 0 or -errno; on a kernel error
 * *ext_ack gets the kernel's extended-ack text when it sent one. */
int sriov_nl_talk(SriovNl *nl, struct nl_msg *msg, GPtrArray *replies, char **ext_ack);

/* The IFLA_VF_* settings in @settings (SriovVfSetting bits) for VF @vf of
 * the PF with @pf_ifindex in one RTM_NEWLINK, as `ip link set PF vf N ...`
 * sends them (one IFLA_VF_INFO, attributes in iproute2's order). */
struct nl_msg *sriov_nl_vf_msg(int pf_ifindex, guint vf, guint settings,
                               const SriovVfConfig *cfg);
/* RTM_GETLINK for @ifname with IFLA_EXT_MASK = @ext_mask, laid out as
 * iproute2 lays it out: with RTEXT_FILTER_SKIP_STATS as its name lookup
 * does (AF_UNSPEC, mask, name), otherwise as `ip -s link show dev NAME`
 * (AF_PACKET, name, mask). */
struct nl_msg *sriov_nl_getlink_msg(const char *ifname, guint32 ext_mask);

/* Fetch one link's RTM_NEWLINK (the kernel's whole message). */
int sriov_nl_get_link(SriovNl *nl, const char *ifname, guint32 ext_mask, GBytes **reply,
                      char **ext_ack);

/* Find VF @vf in an RTM_NEWLINK message. Returns FALSE if the message
 * carries no entry for it. @cfg gets every setting present (cfg->set tells
 * which), @stats the IFLA_VF_STATS counters (zero when absent). *num_vfs
 * (may be NULL) gets IFLA_NUM_VF (0 when absent). */
gboolean sriov_nl_parse_vf(const guint8 *msg, gsize len, guint vf, SriovVfConfig *cfg,
                           SriovVfStats *stats, guint *num_vfs);

/* A link's IFLA_STATS64 counters and ifindex from an RTM_NEWLINK message. */
gboolean sriov_nl_parse_link_stats(const guint8 *msg, gsize len, int *ifindex,
                                   guint64 *rx_packets, guint64 *tx_packets,
                                   guint64 *rx_bytes, guint64 *tx_bytes,
                                   guint64 *rx_dropped, guint64 *tx_dropped,
                                   guint64 *multicast);

/* Message for an errno from sriov_nl_talk: "reason (kernel: ext-ack)". */
char *sriov_nl_strerror(int rc, const char *ext_ack);
