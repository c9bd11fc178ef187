/* rtnetlink send path, VF request builders and VF info parser (see
 * sriov-netlink.h for why this is not rtnl_link_change()). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>

#include "sriov-netlink.h"

/* A PF with 256 VFs answers a getlink with ~80 KiB; refuse absurd sizes. */
#define NL_MAX_REPLY (8u * 1024u * 1024u)
#define NL_RCVBUF (4 * 1024 * 1024)

struct _SriovNl {
    GMutex lock;        /* one request at a time on the socket */
    int fd;
    guint32 seq;
    SriovNlHook hook;
    gpointer hook_data;
    guint8 *buf;        /* NL_MAX_REPLY bytes, for answers (under lock) */
};

SriovNl *
sriov_nl_new_for_fd(int fd)
{
    SriovNl *nl = g_new0(SriovNl, 1);
    g_mutex_init(&nl->lock);
    nl->fd = fd;
    nl->seq = (guint32)g_get_real_time();
    return nl;
}

SriovNl *
sriov_nl_open(GError **error)
{
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
    int one = 1, rcvbuf = NL_RCVBUF;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

    if (fd < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "Cannot open an rtnetlink socket: %s", g_strerror(errno));
        return NULL;
    }
    /* Extended acks carry the driver's reason ("VF link state not
     * supported"); capped acks keep the echo of our request out of them. */
    if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "Cannot set up the rtnetlink socket: %s", g_strerror(errno));
        close(fd);
        return NULL;
    }
    /* Best effort: a large PF dump must not overrun the default buffer. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return sriov_nl_new_for_fd(fd);
}

void
sriov_nl_free(SriovNl *nl)
{
    if (!nl)
        return;
    if (nl->fd >= 0)
        close(nl->fd);
    g_mutex_clear(&nl->lock);
    g_free(nl->buf);
    g_free(nl);
}

void
sriov_nl_set_hook(SriovNl *nl, SriovNlHook hook, gpointer user_data)
{
    nl->hook = hook;
    nl->hook_data = user_data;
}

/* The kernel's extended-ack text from an NLMSG_ERROR, if any. */
static char *
parse_ext_ack(const struct nlmsghdr *h)
{
    const struct nlmsgerr *err = NLMSG_DATA(h);
    gsize off = NLMSG_HDRLEN + sizeof(*err);
    struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return NULL;
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += NLMSG_ALIGN(err->msg.nlmsg_len) - NLMSG_HDRLEN;
    if (off >= h->nlmsg_len)
        return NULL;
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((guint8 *)h + off),
                  h->nlmsg_len - off, NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
        return NULL;
    return g_strndup(nla_data(tb[NLMSGERR_ATTR_MSG]), nla_len(tb[NLMSGERR_ATTR_MSG]));
}

/* One datagram into nl->buf, in one recv(2): the buffer is as large as the
 * largest answer we accept (its pages are only touched as far as answers
 * reach), and MSG_TRUNC tells the real size of anything larger. */
static int
recv_datagram(SriovNl *nl, gsize *len)
{
    ssize_t n;

    if (!nl->buf)
        nl->buf = g_malloc(NL_MAX_REPLY);
    do {
        n = recv(nl->fd, nl->buf, NL_MAX_REPLY, MSG_TRUNC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ECONNRESET;
    if ((gsize)n > NL_MAX_REPLY)
        return -EMSGSIZE;
    *len = n;
    return 0;
}

int
sriov_nl_talk(SriovNl *nl, struct nl_msg *msg, GPtrArray *replies, char **ext_ack)
{
    struct nlmsghdr *req = nlmsg_hdr(msg);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&nl->lock);
    gboolean want_ack = (req->nlmsg_flags & NLM_F_ACK) != 0;
    gboolean dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    int hooked = 0;
    ssize_t n;

    req->nlmsg_seq = ++nl->seq;
    req->nlmsg_pid = 0;
    if (nl->hook) {
        hooked = nl->hook((const guint8 *)req, req->nlmsg_len, nl->hook_data);
        if (hooked < 0)
            return hooked;
        if (hooked == 1)
            return 0;
    }
    if (hooked != 2) {
        do {
            n = send(nl->fd, req, req->nlmsg_len, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return -errno;
        if ((gsize)n != req->nlmsg_len)
            return -EIO;
    }

    for (;;) {
        gsize len = 0;
        struct nlmsghdr *h;
        int rem, rc = recv_datagram(nl, &len);

        if (rc < 0)
            return rc;
        rem = (int)len;
        for (h = (struct nlmsghdr *)nl->buf; NLMSG_OK(h, (guint)rem); h = NLMSG_NEXT(h, rem)) {
            if (h->nlmsg_seq != req->nlmsg_seq)
                continue;   /* a late answer to an earlier request */
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *err = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
                    return -EBADMSG;
                if (err->error != 0 && ext_ack)
                    *ext_ack = parse_ext_ack(h);
                return err->error; /* 0 = ACK */
            }
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (replies)
                g_ptr_array_add(replies, g_bytes_new(h, h->nlmsg_len));
            if (!want_ack && !dump && !(h->nlmsg_flags & NLM_F_MULTI))
                return 0;
        }
    }
}

char *
sriov_nl_strerror(int rc, const char *ext_ack)
{
    if (ext_ack && *ext_ack)
        return g_strdup_printf("%s (kernel: %s)", g_strerror(-rc), ext_ack);
    return g_strdup(g_strerror(-rc));
}

/* libnl 3.7 marks nests with NLA_F_NESTED; iproute2 (and the kernel's own
 * dumps) do not, and the IFLA_VF_* code predates the flag: send what
 * iproute2 sends. */
static struct nlattr *
nest_start(struct nl_msg *msg, int type)
{
    struct nlattr *nest = nla_nest_start(msg, type);

    if (!nest)
        g_error("netlink message too small");
    nest->nla_type &= ~NLA_F_NESTED;
    return nest;
}

/* RTM_NEWLINK on the PF with IFLA_VFINFO_LIST > IFLA_VF_INFO open. */
static struct nl_msg *
vf_msg_begin(int pf_ifindex, struct nlattr **list, struct nlattr **info)
{
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = pf_ifindex };

    if (!msg)
        g_error("out of memory building a netlink message");
    if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
        g_error("netlink message too small");
    *list = nest_start(msg, IFLA_VFINFO_LIST);
    *info = nest_start(msg, IFLA_VF_INFO);
    return msg;
}

static void
put_setting(struct nl_msg *msg, guint vf, SriovVfSetting setting, const SriovVfConfig *cfg)
{
    int rc = 0;

    switch (setting) {
    case SRIOV_VF_SET_MAC: {
        struct ifla_vf_mac ivm = { .vf = vf };
        memcpy(ivm.mac, cfg->mac, 6);
        rc = nla_put(msg, IFLA_VF_MAC, sizeof(ivm), &ivm);
        break;
    }
    case SRIOV_VF_SET_VLAN:
        /* As iproute2: 802.1Q through the original IFLA_VF_VLAN (every
         * driver takes it; the kernel turns it into proto 802.1Q), 802.1ad
         * through IFLA_VF_VLAN_LIST, the only way to name a protocol. */
        if (cfg->vlan_proto == SRIOV_VLAN_PROTO_8021AD) {
            struct ifla_vf_vlan_info ivvi;
            struct nlattr *vlist;

            /* the struct ends in 2 bytes of padding: they go on the wire */
            memset(&ivvi, 0, sizeof(ivvi));
            ivvi.vf = vf;
            ivvi.vlan = cfg->vlan;
            ivvi.qos = cfg->qos;
            ivvi.vlan_proto = g_htons(SRIOV_VLAN_PROTO_8021AD);
            vlist = nest_start(msg, IFLA_VF_VLAN_LIST);
            rc = nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(ivvi), &ivvi);
            nla_nest_end(msg, vlist);
        } else {
            struct ifla_vf_vlan ivv = { .vf = vf, .vlan = cfg->vlan, .qos = cfg->qos };
            rc = nla_put(msg, IFLA_VF_VLAN, sizeof(ivv), &ivv);
        }
        break;
    case SRIOV_VF_SET_SPOOFCHK: {
        struct ifla_vf_spoofchk ivs = { .vf = vf, .setting = cfg->spoofchk ? 1 : 0 };
        rc = nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(ivs), &ivs);
        break;
    }
    case SRIOV_VF_SET_TRUST: {
        struct ifla_vf_trust ivt = { .vf = vf, .setting = cfg->trust ? 1 : 0 };
        rc = nla_put(msg, IFLA_VF_TRUST, sizeof(ivt), &ivt);
        break;
    }
    case SRIOV_VF_SET_RATE: {
        struct ifla_vf_rate ivr = {
            .vf = vf, .min_tx_rate = cfg->min_tx_rate_mbps, .max_tx_rate = cfg->max_tx_rate_mbps,
        };
        rc = nla_put(msg, IFLA_VF_RATE, sizeof(ivr), &ivr);
        break;
    }
    case SRIOV_VF_SET_LINK_STATE: {
        struct ifla_vf_link_state ivl = { .vf = vf, .link_state = cfg->link_state };
        rc = nla_put(msg, IFLA_VF_LINK_STATE, sizeof(ivl), &ivl);
        break;
    }
    default:
        g_error("sriov_nl_vf_msg: unknown setting 0x%x", setting);
    }
    if (rc < 0)
        g_error("netlink message too small");
}

/* iproute2 emits the settings in command-line order except the rate, which
 * it adds after parsing the rest; this order matches
 * `ip link set PF vf N mac M vlan V qos Q [proto P] spoofchk S trust T
 *  state L min_tx_rate A max_tx_rate B`. */
static const SriovVfSetting wire_order[] = {
    SRIOV_VF_SET_MAC, SRIOV_VF_SET_VLAN, SRIOV_VF_SET_SPOOFCHK, SRIOV_VF_SET_TRUST,
    SRIOV_VF_SET_LINK_STATE, SRIOV_VF_SET_RATE,
};

struct nl_msg *
sriov_nl_vf_msg(int pf_ifindex, guint vf, guint settings, const SriovVfConfig *cfg)
{
    struct nlattr *list, *info;
    struct nl_msg *msg = vf_msg_begin(pf_ifindex, &list, &info);
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(wire_order); i++)
        if (settings & wire_order[i])
            put_setting(msg, vf, wire_order[i], cfg);
    nla_nest_end(msg, info);
    nla_nest_end(msg, list);
    return msg;
}

struct nl_msg *
sriov_nl_getlink_msg(const char *ifname, guint32 ext_mask)
{
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST);
    gboolean skip_stats = (ext_mask & RTEXT_FILTER_SKIP_STATS) != 0;
    /* The two layouts iproute2 uses: without counters (its name lookup,
     * lib/ll_map.c) AF_UNSPEC with the mask first; with counters (`ip -s
     * link show`) AF_PACKET with the name first. The kernel answers any
     * family alike. */
    struct ifinfomsg ifi = { .ifi_family = skip_stats ? AF_UNSPEC : AF_PACKET };

    if (!msg)
        g_error("out of memory building a netlink message");
    if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
        (skip_stats && nla_put_u32(msg, IFLA_EXT_MASK, ext_mask) < 0) ||
        nla_put_string(msg, IFLA_IFNAME, ifname) < 0 ||
        (!skip_stats && nla_put_u32(msg, IFLA_EXT_MASK, ext_mask) < 0))
        g_error("netlink message too small");
    return msg;
}

int
sriov_nl_get_link(SriovNl *nl, const char *ifname, guint32 ext_mask, GBytes **reply,
                  char **ext_ack)
{
    struct nl_msg *msg = sriov_nl_getlink_msg(ifname, ext_mask);
    g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    int rc = sriov_nl_talk(nl, msg, replies, ext_ack);

    nlmsg_free(msg);
    if (rc < 0)
        return rc;
    if (replies->len < 1)
        return -ENODATA;
    *reply = g_bytes_ref(g_ptr_array_index(replies, 0));
    return 0;
}

/* The top-level attributes of an RTM_NEWLINK message. */
static gboolean
parse_newlink(const guint8 *buf, gsize len, struct nlattr **tb, struct ifinfomsg **ifi)
{
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

    if (len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || h->nlmsg_len > len ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || h->nlmsg_type != RTM_NEWLINK)
        return FALSE;
    if (ifi)
        *ifi = NLMSG_DATA(h);
    return nla_parse(tb, IFLA_MAX, (struct nlattr *)((guint8 *)NLMSG_DATA(h) +
                                                      NLMSG_ALIGN(sizeof(struct ifinfomsg))),
                     h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct ifinfomsg))),
                     NULL) == 0;
}

/* Every IFLA_VF_* struct starts with the VF number. */
static gboolean
attr_vf_is(struct nlattr *a, gsize size, guint vf)
{
    return a && (gsize)nla_len(a) >= size && *(guint32 *)nla_data(a) == vf;
}

static guint64
get_u64(struct nlattr *a)
{
    return a && nla_len(a) >= 8 ? nla_get_u64(a) : 0;
}

/* The kernel writes IFLA_VFINFO_LIST's 16-bit length modulo 64 KiB: a PF
 * with more than ~200 VFs and their stats overflows it, and the declared
 * length then ends in the middle of the list. The entries themselves are
 * intact and follow each other up to the next top-level attribute (never of
 * type IFLA_VF_INFO = 1 in rtnl_fill_ifinfo(): IFLA_VF_PORTS, IFLA_XDP,
 * ...), so keep walking IFLA_VF_INFO entries past the declared end. */
static struct nlattr *
next_vfinfo(struct nlattr *pos, const guint8 *list_start, const guint8 *msg_end)
{
    const guint8 *p = pos ? (const guint8 *)pos + NLA_ALIGN(pos->nla_len) : list_start;
    struct nlattr *a = (struct nlattr *)p;

    if (p + NLA_HDRLEN > msg_end || a->nla_len < NLA_HDRLEN || p + a->nla_len > msg_end ||
        (a->nla_type & NLA_TYPE_MASK) != IFLA_VF_INFO)
        return NULL;
    return a;
}

gboolean
sriov_nl_parse_vf(const guint8 *msg, gsize len, guint vf, SriovVfConfig *cfg,
                  SriovVfStats *stats, guint *num_vfs)
{
    struct nlattr *tb[IFLA_MAX + 1];
    struct nlattr *pos;
    const guint8 *msg_end;

    memset(cfg, 0, sizeof(*cfg));
    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (num_vfs)
        *num_vfs = 0;
    if (!parse_newlink(msg, len, tb, NULL))
        return FALSE;
    msg_end = msg + ((const struct nlmsghdr *)msg)->nlmsg_len;
    if (num_vfs && tb[IFLA_NUM_VF])
        *num_vfs = nla_get_u32(tb[IFLA_NUM_VF]);
    if (!tb[IFLA_VFINFO_LIST])
        return FALSE;

    for (pos = next_vfinfo(NULL, nla_data(tb[IFLA_VFINFO_LIST]), msg_end); pos;
         pos = next_vfinfo(pos, NULL, msg_end)) {
        struct nlattr *vt[IFLA_VF_MAX + 1];

        if (nla_parse_nested(vt, IFLA_VF_MAX, pos, NULL) < 0)
            continue;
        /* IFLA_VF_MAC is always present and names the VF. */
        if (!attr_vf_is(vt[IFLA_VF_MAC], sizeof(struct ifla_vf_mac), vf))
            continue;

        memcpy(cfg->mac, ((struct ifla_vf_mac *)nla_data(vt[IFLA_VF_MAC]))->mac, 6);
        cfg->set |= SRIOV_VF_SET_MAC;
        if (attr_vf_is(vt[IFLA_VF_VLAN], sizeof(struct ifla_vf_vlan), vf)) {
            struct ifla_vf_vlan *v = nla_data(vt[IFLA_VF_VLAN]);
            cfg->vlan = v->vlan;
            cfg->qos = v->qos;
            cfg->vlan_proto = SRIOV_VLAN_PROTO_8021Q;
            cfg->set |= SRIOV_VF_SET_VLAN;
        }
        /* The list, when there, is the truth about the protocol. */
        if (vt[IFLA_VF_VLAN_LIST]) {
            struct nlattr *vp;
            int vrem;
            nla_for_each_nested(vp, vt[IFLA_VF_VLAN_LIST], vrem) {
                if (nla_type(vp) == IFLA_VF_VLAN_INFO &&
                    attr_vf_is(vp, sizeof(struct ifla_vf_vlan_info), vf)) {
                    struct ifla_vf_vlan_info *vi = nla_data(vp);
                    cfg->vlan = vi->vlan;
                    cfg->qos = vi->qos;
                    cfg->vlan_proto = g_ntohs(vi->vlan_proto);
                    cfg->set |= SRIOV_VF_SET_VLAN;
                    break;
                }
            }
        }
        if (attr_vf_is(vt[IFLA_VF_SPOOFCHK], sizeof(struct ifla_vf_spoofchk), vf)) {
            guint32 s = ((struct ifla_vf_spoofchk *)nla_data(vt[IFLA_VF_SPOOFCHK]))->setting;
            /* (u32)-1: the driver cannot do it; leave it unset. */
            if (s != G_MAXUINT32) {
                cfg->spoofchk = s != 0;
                cfg->set |= SRIOV_VF_SET_SPOOFCHK;
            }
        }
        if (attr_vf_is(vt[IFLA_VF_TRUST], sizeof(struct ifla_vf_trust), vf)) {
            guint32 s = ((struct ifla_vf_trust *)nla_data(vt[IFLA_VF_TRUST]))->setting;
            if (s != G_MAXUINT32) {
                cfg->trust = s != 0;
                cfg->set |= SRIOV_VF_SET_TRUST;
            }
        }
        if (attr_vf_is(vt[IFLA_VF_RATE], sizeof(struct ifla_vf_rate), vf)) {
            struct ifla_vf_rate *r = nla_data(vt[IFLA_VF_RATE]);
            cfg->min_tx_rate_mbps = r->min_tx_rate;
            cfg->max_tx_rate_mbps = r->max_tx_rate;
            cfg->set |= SRIOV_VF_SET_RATE;
        }
        if (attr_vf_is(vt[IFLA_VF_LINK_STATE], sizeof(struct ifla_vf_link_state), vf)) {
            cfg->link_state = ((struct ifla_vf_link_state *)nla_data(vt[IFLA_VF_LINK_STATE]))->link_state;
            cfg->set |= SRIOV_VF_SET_LINK_STATE;
        }
        if (stats && vt[IFLA_VF_STATS]) {
            struct nlattr *st[IFLA_VF_STATS_MAX + 1];
            if (nla_parse_nested(st, IFLA_VF_STATS_MAX, vt[IFLA_VF_STATS], NULL) == 0) {
                stats->rx_packets = get_u64(st[IFLA_VF_STATS_RX_PACKETS]);
                stats->tx_packets = get_u64(st[IFLA_VF_STATS_TX_PACKETS]);
                stats->rx_bytes = get_u64(st[IFLA_VF_STATS_RX_BYTES]);
                stats->tx_bytes = get_u64(st[IFLA_VF_STATS_TX_BYTES]);
                stats->broadcast = get_u64(st[IFLA_VF_STATS_BROADCAST]);
                stats->multicast = get_u64(st[IFLA_VF_STATS_MULTICAST]);
                stats->rx_dropped = get_u64(st[IFLA_VF_STATS_RX_DROPPED]);
                stats->tx_dropped = get_u64(st[IFLA_VF_STATS_TX_DROPPED]);
            }
        }
        return TRUE;
    }
    return FALSE;
}

gboolean
sriov_nl_parse_link_stats(const guint8 *msg, gsize len, int *ifindex,
                          guint64 *rx_packets, guint64 *tx_packets,
                          guint64 *rx_bytes, guint64 *tx_bytes,
                          guint64 *rx_dropped, guint64 *tx_dropped, guint64 *multicast)
{
    struct nlattr *tb[IFLA_MAX + 1];
    struct ifinfomsg *ifi = NULL;
    struct rtnl_link_stats64 s;

    if (!parse_newlink(msg, len, tb, &ifi))
        return FALSE;
    if (ifindex)
        *ifindex = ifi->ifi_index;
    memset(&s, 0, sizeof(s));
    if (tb[IFLA_STATS64])
        memcpy(&s, nla_data(tb[IFLA_STATS64]),
               MIN(sizeof(s), (gsize)nla_len(tb[IFLA_STATS64])));
    *rx_packets = s.rx_packets;
    *tx_packets = s.tx_packets;
    *rx_bytes = s.rx_bytes;
    *tx_bytes = s.tx_bytes;
    *rx_dropped = s.rx_dropped;
    *tx_dropped = s.tx_dropped;
    *multicast = s.multicast;
    return TRUE;
}
