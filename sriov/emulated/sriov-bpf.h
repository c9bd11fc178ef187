/* Port VLAN of an emulated VF, enforced with two tiny BPF programs attached
 * with tcx to the VF's tap (this host's kernel has no bridge VLAN filtering,
 * no 8021q and no act_vlan; tcx and bpf_skb_vlan_push/pop are there):
 *   ingress (what the guest sends): push the VF's tag (802.1Q, or 802.1ad
 *     for QinQ: a guest's own 802.1Q tag then travels inside), QoS bits set;
 *   egress (what the switch delivers): only frames carrying the VF's tag
 *     pass, with the tag popped; everything else is dropped.
 * The programs are hand-assembled (no compiler, no libbpf) and attached with
 * BPF_PROG_ATTACH, so they stay without an open fd, like tc filters, until
 * replaced or the tap is deleted. */
#pragma once

#include <glib.h>

/* Make @ifname's port VLAN @vid (0: no VLAN, programs removed). */
gboolean sriov_bpf_set_port_vlan(const char *ifname, guint16 vid, guint8 qos, guint16 proto,
                                 GError **error);
