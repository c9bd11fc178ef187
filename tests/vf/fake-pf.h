/* A netlink peer standing in for the kernel + PF driver on the rtnetlink
 * channel: a thread answering on one end of a SOCK_SEQPACKET socketpair (the
 * other end goes to sriov_nl_new_for_fd). It keeps a VF table per PF, applies
 * the IFLA_VF_* settings it receives, answers RTM_GETLINK with an
 * RTM_NEWLINK laid out as the kernel's rtnl_fill_vf()/rtnl_fill_vfinfo()
 * lays out the VF part (x86-64: no IFLA_VF_STATS_PAD needed), and can be
 * told to fail one setting with an errno and an extended-ack text. */
#pragma once

#include <glib.h>

#include "sriov-backend.h"

typedef struct _FakePfPeer FakePfPeer;

typedef struct {
    SriovVfConfig cfg;      /* set == SRIOV_VF_SET_ALL */
    SriovVfStats stats;
} FakeVfState;

FakePfPeer *fake_pf_peer_new(void);
void fake_pf_peer_free(FakePfPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakePfPeer, fake_pf_peer_free)

/* A new client end, served by its own thread (give it to
 * sriov_nl_new_for_fd, which owns it). Every channel sees the same PFs. */
int fake_pf_peer_take_client_fd(FakePfPeer *peer);
/* A channel answered in the caller's thread, as the kernel answers rtnetlink
 * within the sender's sendmsg(): the answers are queued on the socket from
 * the send path's hook (no thread, no wake-up per request). Owned by the
 * caller; use it only while the peer lives. */
SriovNl *fake_pf_peer_open_inline(FakePfPeer *peer);

void fake_pf_peer_add_pf(FakePfPeer *peer, const char *name, int ifindex, guint num_vfs);
/* Fail every request setting IFLA_VF_* attribute @vf_attr on @pf. */
void fake_pf_peer_fail(FakePfPeer *peer, const char *pf, int vf_attr, int err,
                       const char *ext_ack);
gboolean fake_pf_peer_get_vf(FakePfPeer *peer, const char *pf, guint vf, FakeVfState *out);
guint fake_pf_peer_requests(FakePfPeer *peer);
/* Wall time spent building and sending answers (the benchmark reports the
 * stand-in driver's share of a cycle). */
double fake_pf_peer_busy_seconds(FakePfPeer *peer);

/* RTM_NEWLINK for a PF (name, ifindex, a few link attributes as the kernel
 * puts them, IFLA_NUM_VF and IFLA_VFINFO_LIST). */
GByteArray *fake_pf_build_newlink(const char *name, int ifindex, const FakeVfState *vfs,
                                  guint n, guint32 seq);
/* Append IFLA_NUM_VF + IFLA_VFINFO_LIST to an RTM_NEWLINK (fixes nlmsg_len). */
void fake_pf_append_vfinfo(GByteArray *msg, const FakeVfState *vfs, guint n);
