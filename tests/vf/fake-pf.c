/* Netlink peer standing in for a PF driver (see fake-pf.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>

#include "sriov-netlink.h"
#include "fake-pf.h"

typedef struct {
    char *name;
    int ifindex;
    GArray *vfs;        /* FakeVfState */
    int fail_attr;
    int fail_err;
    char *fail_text;
} PeerPf;

typedef struct {
    FakePfPeer *peer;
    int server_fd;
    GThread *thread;
} PeerConn;

struct _FakePfPeer {
    GPtrArray *conns;   /* PeerConn*: one per client fd handed out */
    GMutex lock;
    GPtrArray *pfs;
    guint requests;
    gint64 busy_us;     /* time spent answering (benchmark) */
};

static void
peer_pf_free(gpointer p)
{
    PeerPf *pf = p;
    g_free(pf->name);
    g_array_unref(pf->vfs);
    g_free(pf->fail_text);
    g_free(pf);
}

/* ---- attribute writer (kernel layout: 4-byte aligned, zero padded) ---- */

static void
put_attr(GByteArray *b, guint16 type, const void *data, guint16 len)
{
    struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
    static const guint8 zero[4];

    g_byte_array_append(b, (guint8 *)&a, sizeof(a));
    if (len)
        g_byte_array_append(b, data, len);
    g_byte_array_append(b, zero, NLA_ALIGN(len) - len);
}

static guint
nest_start(GByteArray *b, guint16 type)
{
    guint off = b->len;
    put_attr(b, type, NULL, 0);
    return off;
}

static void
nest_end(GByteArray *b, guint off)
{
    ((struct nlattr *)(b->data + off))->nla_len = b->len - off;
}

static void
put_u64(GByteArray *b, guint16 type, guint64 v)
{
    put_attr(b, type, &v, sizeof(v));
}

/* rtnl_fill_vfinfo(): the order and sizes below are the kernel's. */
static void
fill_vfinfo(GByteArray *b, guint vf, const FakeVfState *s, gboolean with_stats)
{
    struct ifla_vf_mac mac = { .vf = vf };
    struct ifla_vf_broadcast bcast;
    struct ifla_vf_vlan vlan = { .vf = vf, .vlan = s->cfg.vlan, .qos = s->cfg.qos };
    struct ifla_vf_rate rate = { .vf = vf, .min_tx_rate = s->cfg.min_tx_rate_mbps,
                                 .max_tx_rate = s->cfg.max_tx_rate_mbps };
    struct ifla_vf_tx_rate tx_rate = { .vf = vf, .rate = s->cfg.max_tx_rate_mbps };
    struct ifla_vf_spoofchk spoof = { .vf = vf, .setting = s->cfg.spoofchk };
    struct ifla_vf_link_state ls = { .vf = vf, .link_state = s->cfg.link_state };
    struct ifla_vf_rss_query_en rss = { .vf = vf, .setting = (guint32)-1 };
    struct ifla_vf_trust trust = { .vf = vf, .setting = s->cfg.trust };
    struct ifla_vf_vlan_info vi;
    guint info, list, stats;

    memset(&vi, 0, sizeof(vi));   /* trailing padding, as the kernel's memset */
    vi.vf = vf;
    vi.vlan = s->cfg.vlan;
    vi.qos = s->cfg.qos;
    vi.vlan_proto = g_htons(s->cfg.vlan_proto ? s->cfg.vlan_proto : 0x8100);

    memcpy(mac.mac, s->cfg.mac, 6);
    memset(&bcast, 0, sizeof(bcast));
    memset(bcast.broadcast, 0xff, 6);
    info = nest_start(b, IFLA_VF_INFO);
    put_attr(b, IFLA_VF_MAC, &mac, sizeof(mac));
    put_attr(b, IFLA_VF_BROADCAST, &bcast, sizeof(bcast));
    put_attr(b, IFLA_VF_VLAN, &vlan, sizeof(vlan));
    put_attr(b, IFLA_VF_RATE, &rate, sizeof(rate));
    put_attr(b, IFLA_VF_TX_RATE, &tx_rate, sizeof(tx_rate));
    put_attr(b, IFLA_VF_SPOOFCHK, &spoof, sizeof(spoof));
    put_attr(b, IFLA_VF_LINK_STATE, &ls, sizeof(ls));
    put_attr(b, IFLA_VF_RSS_QUERY_EN, &rss, sizeof(rss));
    put_attr(b, IFLA_VF_TRUST, &trust, sizeof(trust));
    list = nest_start(b, IFLA_VF_VLAN_LIST);
    put_attr(b, IFLA_VF_VLAN_INFO, &vi, sizeof(vi));
    nest_end(b, list);
    if (!with_stats) {
        nest_end(b, info);
        return;
    }
    stats = nest_start(b, IFLA_VF_STATS);
    put_u64(b, IFLA_VF_STATS_RX_PACKETS, s->stats.rx_packets);
    put_u64(b, IFLA_VF_STATS_TX_PACKETS, s->stats.tx_packets);
    put_u64(b, IFLA_VF_STATS_RX_BYTES, s->stats.rx_bytes);
    put_u64(b, IFLA_VF_STATS_TX_BYTES, s->stats.tx_bytes);
    put_u64(b, IFLA_VF_STATS_BROADCAST, s->stats.broadcast);
    put_u64(b, IFLA_VF_STATS_MULTICAST, s->stats.multicast);
    put_u64(b, IFLA_VF_STATS_RX_DROPPED, s->stats.rx_dropped);
    put_u64(b, IFLA_VF_STATS_TX_DROPPED, s->stats.tx_dropped);
    nest_end(b, stats);
    nest_end(b, info);
}

static void
append_vfinfo(GByteArray *b, const FakeVfState *vfs, guint n, gboolean with_stats)
{
    guint32 num = n;
    guint list, i;

    put_attr(b, IFLA_NUM_VF, &num, sizeof(num));
    list = nest_start(b, IFLA_VFINFO_LIST);
    for (i = 0; i < n; i++)
        fill_vfinfo(b, i, &vfs[i], with_stats);
    nest_end(b, list);
    ((struct nlmsghdr *)b->data)->nlmsg_len = b->len;
}

void
fake_pf_append_vfinfo(GByteArray *b, const FakeVfState *vfs, guint n)
{
    append_vfinfo(b, vfs, n, TRUE);
}

static GByteArray *
build_newlink(const char *name, int ifindex, const FakeVfState *vfs, guint n, guint32 seq,
              gboolean with_stats)
{
    GByteArray *b = g_byte_array_sized_new(512 + n * 320);
    struct nlmsghdr h = { .nlmsg_type = RTM_NEWLINK, .nlmsg_seq = seq };
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_type = 1 /* ARPHRD_ETHER */,
                             .ifi_index = ifindex, .ifi_flags = 0x11043 };
    guint32 txqlen = 1000, mtu = 1500;
    guint8 operstate = 6, linkmode = 0;
    guint8 addr[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, (guint8)ifindex };

    g_byte_array_append(b, (guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (guint8 *)&ifi, sizeof(ifi));
    /* rtnl_fill_ifinfo() begins like this. */
    put_attr(b, IFLA_IFNAME, name, strlen(name) + 1);
    put_attr(b, IFLA_TXQLEN, &txqlen, sizeof(txqlen));
    put_attr(b, IFLA_OPERSTATE, &operstate, sizeof(operstate));
    put_attr(b, IFLA_LINKMODE, &linkmode, sizeof(linkmode));
    put_attr(b, IFLA_MTU, &mtu, sizeof(mtu));
    put_attr(b, IFLA_ADDRESS, addr, sizeof(addr));
    append_vfinfo(b, vfs, n, with_stats);
    return b;
}

GByteArray *
fake_pf_build_newlink(const char *name, int ifindex, const FakeVfState *vfs, guint n,
                      guint32 seq)
{
    return build_newlink(name, ifindex, vfs, n, seq, TRUE);
}

/* ---- the peer thread ---- */

static PeerPf *
find_pf_locked(FakePfPeer *peer, const char *name, int ifindex)
{
    guint i;
    for (i = 0; i < peer->pfs->len; i++) {
        PeerPf *pf = g_ptr_array_index(peer->pfs, i);
        if ((name && strcmp(pf->name, name) == 0) || (!name && pf->ifindex == ifindex))
            return pf;
    }
    return NULL;
}

static void
send_error(PeerConn *conn, const struct nlmsghdr *req, int err, const char *text)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    struct nlmsghdr h = { .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = req->nlmsg_seq,
                          .nlmsg_flags = NLM_F_CAPPED };
    struct nlmsgerr e = { .error = err, .msg = *req };

    if (text && err)
        h.nlmsg_flags |= NLM_F_ACK_TLVS;
    g_byte_array_append(b, (guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (guint8 *)&e, sizeof(e));
    if (text && err)
        put_attr(b, NLMSGERR_ATTR_MSG, text, strlen(text) + 1);
    ((struct nlmsghdr *)b->data)->nlmsg_len = b->len;
    (void)send(conn->server_fd, b->data, b->len, MSG_NOSIGNAL);
}

/* One IFLA_VF_INFO: apply its settings (one request carries one in practice). */
static int
apply_vfinfo(PeerPf *pf, struct nlattr *info)
{
    struct nlattr *vt[IFLA_VF_MAX + 1];
    int t;

    if (nla_parse_nested(vt, IFLA_VF_MAX, info, NULL) < 0)
        return -EINVAL;
    for (t = 1; t <= IFLA_VF_MAX; t++) {
        guint32 vf;
        FakeVfState *s;

        if (!vt[t])
            continue;
        if (pf->fail_attr == t)
            return pf->fail_err;
        if (nla_len(vt[t]) < 4 && t != IFLA_VF_VLAN_LIST)
            return -EINVAL;
        if (t == IFLA_VF_VLAN_LIST) {
            struct nlattr *vi = nla_data(vt[t]);
            if (nla_len(vi) < (int)sizeof(struct ifla_vf_vlan_info))
                return -EINVAL;
            vf = ((struct ifla_vf_vlan_info *)nla_data(vi))->vf;
        } else {
            vf = *(guint32 *)nla_data(vt[t]);
        }
        if (vf >= pf->vfs->len)
            return -EINVAL;
        s = &g_array_index(pf->vfs, FakeVfState, vf);
        switch (t) {
        case IFLA_VF_MAC:
            memcpy(s->cfg.mac, ((struct ifla_vf_mac *)nla_data(vt[t]))->mac, 6);
            break;
        case IFLA_VF_VLAN: {
            struct ifla_vf_vlan *v = nla_data(vt[t]);
            s->cfg.vlan = v->vlan;
            s->cfg.qos = v->qos;
            s->cfg.vlan_proto = 0x8100;
            break;
        }
        case IFLA_VF_VLAN_LIST: {
            struct ifla_vf_vlan_info *v = nla_data(nla_data(vt[t]));
            s->cfg.vlan = v->vlan;
            s->cfg.qos = v->qos;
            s->cfg.vlan_proto = g_ntohs(v->vlan_proto);
            break;
        }
        case IFLA_VF_SPOOFCHK:
            s->cfg.spoofchk = ((struct ifla_vf_spoofchk *)nla_data(vt[t]))->setting;
            break;
        case IFLA_VF_TRUST:
            s->cfg.trust = ((struct ifla_vf_trust *)nla_data(vt[t]))->setting;
            break;
        case IFLA_VF_RATE: {
            struct ifla_vf_rate *r = nla_data(vt[t]);
            if (r->max_tx_rate && r->min_tx_rate > r->max_tx_rate)
                return -EINVAL;
            s->cfg.min_tx_rate_mbps = r->min_tx_rate;
            s->cfg.max_tx_rate_mbps = r->max_tx_rate;
            break;
        }
        case IFLA_VF_LINK_STATE:
            s->cfg.link_state = ((struct ifla_vf_link_state *)nla_data(vt[t]))->link_state;
            break;
        default:
            return -EOPNOTSUPP;
        }
    }
    return 0;
}

static void
handle(PeerConn *conn, struct nlmsghdr *h)
{
    FakePfPeer *peer = conn->peer;
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    struct nlattr *tb[IFLA_MAX + 1];
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);
    PeerPf *pf;

    peer->requests++;
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
        nla_parse(tb, IFLA_MAX, (struct nlattr *)((guint8 *)ifi + NLMSG_ALIGN(sizeof(*ifi))),
                  h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ifi))), NULL) < 0) {
        send_error(conn, h, -EINVAL, "malformed request");
        return;
    }
    if (h->nlmsg_type == RTM_GETLINK) {
        g_autoptr(GByteArray) b = NULL;
        pf = tb[IFLA_IFNAME] ? find_pf_locked(peer, nla_get_string(tb[IFLA_IFNAME]), 0)
                             : find_pf_locked(peer, NULL, ifi->ifi_index);
        if (!pf) {
            send_error(conn, h, -ENODEV, NULL);
            return;
        }
        b = build_newlink(pf->name, pf->ifindex, (FakeVfState *)pf->vfs->data, pf->vfs->len,
                          h->nlmsg_seq,
                          !(tb[IFLA_EXT_MASK] &&
                            (nla_get_u32(tb[IFLA_EXT_MASK]) & RTEXT_FILTER_SKIP_STATS)));
        (void)send(conn->server_fd, b->data, b->len, MSG_NOSIGNAL);
        return;
    }
    if (h->nlmsg_type == RTM_NEWLINK) {
        struct nlattr *pos;
        int rem, rc = 0;

        pf = find_pf_locked(peer, NULL, ifi->ifi_index);
        if (!pf) {
            send_error(conn, h, -ENODEV, NULL);
            return;
        }
        if (tb[IFLA_VFINFO_LIST]) {
            nla_for_each_nested(pos, tb[IFLA_VFINFO_LIST], rem) {
                if (nla_type(pos) != IFLA_VF_INFO) {
                    rc = -EINVAL;
                    break;
                }
                if ((rc = apply_vfinfo(pf, pos)) < 0)
                    break;
            }
        }
        send_error(conn, h, rc, rc == pf->fail_err ? pf->fail_text : NULL);
        return;
    }
    send_error(conn, h, -EOPNOTSUPP, NULL);
}

static gpointer
peer_thread(gpointer data)
{
    PeerConn *conn = data;
    guint8 *buf = g_malloc(65536);

    for (;;) {
        ssize_t n = recv(conn->server_fd, buf, 65536, 0);
        struct nlmsghdr *h;
        int rem;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        rem = (int)n;
        {
            gint64 t0 = g_get_monotonic_time();
            for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (guint)rem); h = NLMSG_NEXT(h, rem))
                handle(conn, h);
            g_mutex_lock(&conn->peer->lock);
            conn->peer->busy_us += g_get_monotonic_time() - t0;
            g_mutex_unlock(&conn->peer->lock);
        }
    }
    g_free(buf);
    return NULL;
}

FakePfPeer *
fake_pf_peer_new(void)
{
    FakePfPeer *peer = g_new0(FakePfPeer, 1);

    g_mutex_init(&peer->lock);
    peer->pfs = g_ptr_array_new_with_free_func(peer_pf_free);
    peer->conns = g_ptr_array_new();
    return peer;
}

/* Each call opens a new channel served by its own thread; all channels see
 * the same PFs (a restarted daemon talks to the same driver). */
int
fake_pf_peer_take_client_fd(FakePfPeer *peer)
{
    PeerConn *conn = g_new0(PeerConn, 1);
    int sv[2];
    int big = 4 * 1024 * 1024;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        g_error("socketpair: %s", g_strerror(errno));
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    if (setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    conn->peer = peer;
    conn->server_fd = sv[0];
    conn->thread = g_thread_new("fake-pf", peer_thread, conn);
    g_ptr_array_add(peer->conns, conn);
    return sv[1];
}

/* Answers in the caller's thread, from the send path's hook. */
static int
inline_hook(const guint8 *req, gsize len, gpointer data)
{
    PeerConn *conn = data;
    gint64 t0 = g_get_monotonic_time();

    handle(conn, (struct nlmsghdr *)req);
    g_mutex_lock(&conn->peer->lock);
    conn->peer->busy_us += g_get_monotonic_time() - t0;
    g_mutex_unlock(&conn->peer->lock);
    return 2;
}

SriovNl *
fake_pf_peer_open_inline(FakePfPeer *peer)
{
    PeerConn *conn = g_new0(PeerConn, 1);
    SriovNl *nl;
    int sv[2];
    int big = 4 * 1024 * 1024;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        g_error("socketpair: %s", g_strerror(errno));
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    conn->peer = peer;
    conn->server_fd = sv[0];
    g_ptr_array_add(peer->conns, conn);
    nl = sriov_nl_new_for_fd(sv[1]);
    sriov_nl_set_hook(nl, inline_hook, conn);
    return nl;
}

void
fake_pf_peer_free(FakePfPeer *peer)
{
    guint i;

    if (!peer)
        return;
    for (i = 0; i < peer->conns->len; i++) {
        PeerConn *conn = g_ptr_array_index(peer->conns, i);
        /* Ends the thread even if the client end is still open. */
        shutdown(conn->server_fd, SHUT_RDWR);
        if (conn->thread)
            g_thread_join(conn->thread);
        close(conn->server_fd);
        g_free(conn);
    }
    g_ptr_array_unref(peer->conns);
    g_ptr_array_unref(peer->pfs);
    g_mutex_clear(&peer->lock);
    g_free(peer);
}

void
fake_pf_peer_add_pf(FakePfPeer *peer, const char *name, int ifindex, guint num_vfs)
{
    PeerPf *pf = g_new0(PeerPf, 1);
    guint i;
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);

    pf->name = g_strdup(name);
    pf->ifindex = ifindex;
    pf->vfs = g_array_sized_new(FALSE, TRUE, sizeof(FakeVfState), num_vfs);
    g_array_set_size(pf->vfs, num_vfs);
    for (i = 0; i < num_vfs; i++) {
        FakeVfState *s = &g_array_index(pf->vfs, FakeVfState, i);
        /* A driver's defaults: random MAC, spoofchk on, link auto. */
        s->cfg.set = SRIOV_VF_SET_ALL;
        s->cfg.mac[0] = 0x02;
        s->cfg.mac[1] = 0xfa;
        s->cfg.mac[4] = (guint8)(ifindex);
        s->cfg.mac[5] = (guint8)i;
        s->cfg.spoofchk = TRUE;
        s->cfg.vlan_proto = 0x8100;
        s->stats.rx_packets = 1000 + i;
        s->stats.tx_packets = 2000 + i;
        s->stats.rx_bytes = 64000 + i;
        s->stats.tx_bytes = 128000 + i;
        s->stats.broadcast = 3;
        s->stats.multicast = 5;
        s->stats.rx_dropped = 7;
        s->stats.tx_dropped = 11;
    }
    g_ptr_array_add(peer->pfs, pf);
}

void
fake_pf_peer_fail(FakePfPeer *peer, const char *name, int vf_attr, int err, const char *text)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);
    PeerPf *pf = find_pf_locked(peer, name, 0);

    g_assert_nonnull(pf);
    pf->fail_attr = vf_attr;
    pf->fail_err = err;
    g_free(pf->fail_text);
    pf->fail_text = g_strdup(text);
}

gboolean
fake_pf_peer_get_vf(FakePfPeer *peer, const char *name, guint vf, FakeVfState *out)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);
    PeerPf *pf = find_pf_locked(peer, name, 0);

    if (!pf || vf >= pf->vfs->len)
        return FALSE;
    *out = g_array_index(pf->vfs, FakeVfState, vf);
    return TRUE;
}

double
fake_pf_peer_busy_seconds(FakePfPeer *peer)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);
    return peer->busy_us / 1e6;
}

guint
fake_pf_peer_requests(FakePfPeer *peer)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&peer->lock);
    return peer->requests;
}
