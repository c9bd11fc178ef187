/* Emulated VF backend (sriov/emulated/) through the pool, with real
 * frames: the test runs in its own network namespace, builds two emulated
 * PFs whose uplinks are veth pairs, plays the
 * guests by opening the VF taps, and plays the wire with packet sockets on
 * the veth peers. It asserts MAC steering, anti-spoof, 802.1Q and QinQ
 * tags, a TX rate cap (loosely: within 30 %), a disabled link, clearing
 * steering, counters, the mirror of a VF's MAC to the datapath's port, and
 * that release leaves a clean VF. The steering FDB
 * entry is sticky (a frame with the VF's MAC from the uplink does not move
 * it) and its requests are what `bridge fdb replace|del ... master static
 * sticky` sends, byte for byte. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <glib/gstdio.h>

#include "sriov-netlink.h"
#include "sriov-pool-private.h"
#include "sriov-record.h"
#include "iproute2-capture.h"
#include "vf-test.h"

#define TEST_ETHERTYPE 0x88b5   /* IEEE local experimental */
#define MARK "vfailover-emu-test"

static SriovPool *pool;
static GByteArray *neigh_sent;     /* the last RTM_NEWNEIGH/DELNEIGH the backend sent */
static gboolean refuse_sticky;     /* play a kernel that refuses NTF_STICKY */
static char *state_dir;
static char *conf_path;
static VfConfig *cfg;

static const guint8 MAC_A[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 };
static const guint8 MAC_B[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x02 };
static const guint8 MAC_C[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x03 };
static const guint8 MAC_D[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x04 };
static const guint8 MAC_E[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x05 };
static const guint8 MAC_SPOOF[6] = { 0x52, 0x54, 0x00, 0xbb, 0x00, 0x66 };
static const guint8 MAC_FAR[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };  /* behind the wire */

static void
run_or_die(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, &error) || !g_spawn_check_wait_status(status, &error))
        g_error("%s %s: %s %s", argv[0], argv[1], error ? error->message : "", err ? err : "");
}

/* Sees every request of the pool's emulated backend before the kernel does. */
static int
nl_hook(const guint8 *req, gsize len, gpointer user_data)
{
    const struct nlmsghdr *h = (const struct nlmsghdr *)req;
    const struct ndmsg *nd = (const struct ndmsg *)(req + NLMSG_HDRLEN);

    if ((h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) ||
        len < NLMSG_HDRLEN + sizeof(*nd))
        return 0;
    g_byte_array_set_size(neigh_sent, 0);
    g_byte_array_append(neigh_sent, req, len);
    if (refuse_sticky && h->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_flags & NTF_STICKY))
        return -EINVAL;
    return 0;
}

/* The pool over an emulated backend whose requests nl_hook sees. */
static SriovPool *
pool_open(void)
{
    g_autoptr(GError) error = NULL;
    SriovNl *nl = sriov_nl_open(&error);
    SriovBackend *emu;
    SriovPool *p;

    g_assert_no_error(error);
    sriov_nl_set_hook(nl, nl_hook, NULL);
    emu = sriov_emulated_backend_new(nl, &error);
    g_assert_no_error(error);
    p = sriov_pool_new_with_backends(cfg, state_dir, NULL, emu, &error);
    g_assert_no_error(error);
    return p;
}

/* `bridge -d fdb show br BRIDGE` lines for @mac ("" if none). */
static char *
fdb_lines(const char *bridge, const guint8 mac[6])
{
    const char *const show[] = { "bridge", "-d", "fdb", "show", "br", bridge, NULL };
    g_autofree char *out = NULL;
    g_autofree char *text = sriov_mac_to_string(mac);
    g_auto(GStrv) lines = NULL;
    GString *s = g_string_new(NULL);
    int status;
    char **l;

    g_assert_true(g_spawn_sync(NULL, (char **)show, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, NULL));
    lines = g_strsplit(out, "\n", -1);
    for (l = lines; *l; l++)
        if (g_str_has_prefix(*l, text))
            g_string_append_printf(s, "%s\n", *l);
    return g_string_free(s, FALSE);
}

static int
tap_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

    g_assert_cmpint(fd, >=, 0);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        g_error("attach to tap %s: %s", name, g_strerror(errno));
    return fd;
}

static int
wire_open(const char *ifname)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = (int)if_nametoindex(ifname) };
    int one = 1;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)), ==, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);
    return fd;
}

typedef struct {
    guint16 tpid;
    guint16 tci;
} Tag;

static GByteArray *
frame(const guint8 dst[6], const guint8 src[6], const Tag *tags, guint ntags, gsize size)
{
    GByteArray *f = g_byte_array_new();
    guint16 et = htons(TEST_ETHERTYPE);
    guint i;

    g_byte_array_append(f, dst, 6);
    g_byte_array_append(f, src, 6);
    for (i = 0; i < ntags; i++) {
        guint16 tp = htons(tags[i].tpid), tci = htons(tags[i].tci);
        g_byte_array_append(f, (guint8 *)&tp, 2);
        g_byte_array_append(f, (guint8 *)&tci, 2);
    }
    g_byte_array_append(f, (guint8 *)&et, 2);
    g_byte_array_append(f, (const guint8 *)MARK, strlen(MARK));
    while (f->len < MAX(size, 60u)) {
        guint8 z = 0;
        g_byte_array_append(f, &z, 1);
    }
    return f;
}

static void
send_frame(int fd, GByteArray *f)
{
    ssize_t n = write(fd, f->data, f->len);
    (void)n;    /* a disabled link refuses writes: that is the point */
}

/* One received frame, VLAN tags put back in place from the aux data. */
static GByteArray *
recv_one(int fd, gboolean packet_socket)
{
    guint8 buf[4096];
    GByteArray *f;
    ssize_t n;

    if (!packet_socket) {
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return NULL;
        f = g_byte_array_new();
        g_byte_array_append(f, buf, n);
        return f;
    }
    {
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } ctl;
        struct sockaddr_ll from;
        struct iovec iov = { buf, sizeof(buf) };
        struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
                             .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
        struct cmsghdr *c;

        n = recvmsg(fd, &mh, 0);
        if (n <= 0)
            return NULL;
        f = g_byte_array_new();
        g_byte_array_append(f, buf, n);
        if (from.sll_pkttype == PACKET_OUTGOING) {
            g_byte_array_set_size(f, 0);
            return f;
        }
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            struct tpacket_auxdata *aux;
            guint16 tag[2];
            if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                continue;
            aux = (struct tpacket_auxdata *)CMSG_DATA(c);
            if (!(aux->tp_status & TP_STATUS_VLAN_VALID) || n < 12)
                continue;
            tag[0] = htons((aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid : 0x8100);
            tag[1] = htons(aux->tp_vlan_tci);
            {
                GByteArray *g = g_byte_array_new();
                g_byte_array_append(g, f->data, 12);
                g_byte_array_append(g, (guint8 *)tag, 4);
                g_byte_array_append(g, f->data + 12, f->len - 12);
                g_byte_array_unref(f);
                f = g;
            }
        }
        return f;
    }
}

static gboolean
is_ours(GByteArray *f, guint *tag_off)
{
    guint off = 12;

    while (off + 4 <= f->len && (f->data[off] == 0x81 || f->data[off] == 0x88) &&
           (f->data[off + 1] == 0x00 || f->data[off + 1] == 0xa8))
        off += 4;
    if (off + 2 + strlen(MARK) > f->len)
        return FALSE;
    if (tag_off)
        *tag_off = off;
    return ((f->data[off] << 8) | f->data[off + 1]) == TEST_ETHERTYPE &&
           memcmp(f->data + off + 2, MARK, strlen(MARK)) == 0;
}

/* Our test frames arriving on @fd within @ms (all of them returned). */
static GPtrArray *
collect(int fd, gboolean packet_socket, int ms)
{
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    gint64 end = g_get_monotonic_time() + ms * 1000;

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        GByteArray *f;

        if (left <= 0)
            break;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        while ((f = recv_one(fd, packet_socket))) {
            if (is_ours(f, NULL))
                g_ptr_array_add(got, f);
            else
                g_byte_array_unref(f);
        }
    }
    return got;
}

static void
drain(int fd, gboolean packet_socket)
{
    g_autoptr(GPtrArray) g = collect(fd, packet_socket, 50);
}

/* Broadcasts flood to every port: once one reaches @tap, the port forwards
 * (carrier changes reach the bridge through linkwatch, asynchronously). */
static void
wait_port_forwarding_tagged(int wire, int tap, const Tag *tag)
{
    static const guint8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    g_autoptr(GByteArray) b = frame(bcast, MAC_FAR, tag, tag ? 1 : 0, 0);
    guint i;

    for (i = 0; i < 30; i++) {
        g_autoptr(GPtrArray) got = NULL;
        send_frame(wire, b);
        got = collect(tap, FALSE, 100);
        if (got->len > 0)
            return;
    }
    g_error("the VF's port never started forwarding");
}

static void
wait_port_forwarding(int wire, int tap)
{
    wait_port_forwarding_tagged(wire, tap, NULL);
}

static SriovVf *
reserve_configure(const char *pf, const char *dom, const SriovVfConfig *c)
{
    g_autoptr(GError) error = NULL;
    SriovVf *vf = sriov_pool_reserve(pool, dom, "net0", pf, NULL, &error);

    g_assert_no_error(error);
    g_assert_true(sriov_pool_configure(pool, vf, c, &error));
    g_assert_no_error(error);
    return vf;
}

static int taps[4];
static int qtap;
static int wire0, wire1;
static SriovVf *vfs[4];
static SriovVf *qvf;

static void
test_steering_and_vlan(void)
{
    g_autoptr(GByteArray) to_a = frame(MAC_A, MAC_FAR, NULL, 0, 0);
    Tag t100 = { 0x8100, 100 };
    g_autoptr(GByteArray) to_b_tagged = frame(MAC_B, MAC_FAR, &t100, 1, 0);
    g_autoptr(GByteArray) to_b_untagged = frame(MAC_B, MAC_FAR, NULL, 0, 0);
    g_autoptr(GPtrArray) got = NULL;
    guint i;

    send_frame(wire0, to_a);
    got = collect(taps[0], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    g_clear_pointer(&got, g_ptr_array_unref);
    for (i = 1; i < 4; i++) {
        got = collect(taps[i], FALSE, 30);
        g_assert_cmpuint(got->len, ==, 0);    /* no unicast flooding to VFs */
        g_clear_pointer(&got, g_ptr_array_unref);
    }

    /* VF1 has VLAN 100: tagged frames reach it untagged, untagged ones don't */
    send_frame(wire0, to_b_tagged);
    got = collect(taps[1], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    g_assert_true(((GByteArray *)got->pdata[0])->data[12] == (TEST_ETHERTYPE >> 8));
    g_clear_pointer(&got, g_ptr_array_unref);
    send_frame(wire0, to_b_untagged);
    got = collect(taps[1], FALSE, 150);
    g_assert_cmpuint(got->len, ==, 0);
    g_clear_pointer(&got, g_ptr_array_unref);

    /* ...and what it sends leaves on the wire tagged 802.1Q 100 */
    drain(wire0, TRUE);
    {
        g_autoptr(GByteArray) from_b = frame(MAC_FAR, MAC_B, NULL, 0, 0);
        GByteArray *f;
        send_frame(taps[1], from_b);
        got = collect(wire0, TRUE, 300);
        g_assert_cmpuint(got->len, ==, 1);
        f = got->pdata[0];
        g_assert_cmphex((f->data[12] << 8) | f->data[13], ==, 0x8100);
        g_assert_cmpuint(((f->data[14] << 8) | f->data[15]) & 0xfff, ==, 100);
    }
}

/* The steering entry stays on the VF's port whatever arrives from another
 * one: a frame with the VF's MAC as source from the wire (the VM's MAC
 * announced from elsewhere during a migration) would move a plain static
 * entry to the uplink, which learns, and unicast for the VF would go there. */
static void
test_steering_sticky(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) as_a = frame(MAC_FAR, MAC_A, NULL, 0, 0);
    g_autoptr(GByteArray) to_a = frame(MAC_A, MAC_FAR, NULL, 0, 0);
    g_autoptr(GPtrArray) got = NULL;
    g_autofree char *lines = NULL;
    g_autofree char *mac = sriov_mac_to_string(MAC_A);
    SriovVfConfig steer = { .set = SRIOV_VF_SET_MAC };
    guint i;

    /* our delete is iproute2's, byte for byte (the kernel refuses
     * iproute2's: the entry is gone already) */
    g_assert_true(sriov_pool_clear_steering(pool, vfs[0], &error));
    g_assert_no_error(error);
    {
        const char *const del[] = { "bridge", "fdb", "del", mac, "dev", "vfbr0v0", "master",
                                    "static", "sticky", NULL };
        g_autoptr(GByteArray) theirs = iproute2_capture(del, RTM_DELNEIGH, AF_BRIDGE);
        g_autoptr(GByteArray) ours = g_byte_array_ref(neigh_sent);
        iproute2_assert_same_request(ours, theirs, "bridge fdb del ... master static sticky");
        neigh_sent = g_byte_array_new();
    }
    memcpy(steer.mac, MAC_A, 6);
    g_assert_true(sriov_pool_configure(pool, vfs[0], &steer, &error));
    g_assert_no_error(error);
    lines = fdb_lines("vfbr0", MAC_A);
    g_test_message("FDB: %s", lines);
    g_assert_true(g_str_has_prefix(lines, "52:54:00:aa:00:01 dev vfbr0v0 "));
    g_assert_nonnull(strstr(lines, " sticky "));
    g_assert_nonnull(strstr(lines, " static"));
    g_clear_pointer(&lines, g_free);

    /* the VF's MAC comes in from the wire (the uplink learns) */
    for (i = 0; i < 3; i++)
        send_frame(wire0, as_a);
    drain(taps[0], FALSE);
    lines = fdb_lines("vfbr0", MAC_A);
    g_assert_true(g_str_has_prefix(lines, "52:54:00:aa:00:01 dev vfbr0v0 "));
    g_assert_cmpuint(strlen(lines), ==, strchr(lines, '\n') - lines + 1);   /* one entry */
    send_frame(wire0, to_a);
    got = collect(taps[0], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);    /* still steered to the VF */

    /* last (iproute2's request really replaces the entry): our add is
     * iproute2's, byte for byte */
    {
        const char *const add[] = { "bridge", "fdb", "replace", mac, "dev", "vfbr0v0", "master",
                                    "static", "sticky", NULL };
        g_autoptr(GByteArray) theirs = iproute2_capture(add, RTM_NEWNEIGH, AF_BRIDGE);
        g_autoptr(GByteArray) ours = g_byte_array_ref(neigh_sent);
        iproute2_assert_same_request(ours, theirs, "bridge fdb replace ... master static sticky");
        neigh_sent = g_byte_array_new();
    }
}

static void
test_antispoof(void)
{
    g_autoptr(GByteArray) good = frame(MAC_FAR, MAC_A, NULL, 0, 0);
    g_autoptr(GByteArray) spoofed = frame(MAC_FAR, MAC_SPOOF, NULL, 0, 0);
    g_autoptr(GPtrArray) got = NULL;

    drain(wire0, TRUE);
    send_frame(taps[0], good);
    got = collect(wire0, TRUE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    g_clear_pointer(&got, g_ptr_array_unref);
    send_frame(taps[0], spoofed);
    send_frame(taps[0], spoofed);
    got = collect(wire0, TRUE, 300);
    g_assert_cmpuint(got->len, ==, 0);
    g_clear_pointer(&got, g_ptr_array_unref);

    /* VF3 has no spoofchk: any source passes */
    send_frame(taps[3], spoofed);
    got = collect(wire0, TRUE, 300);
    g_assert_cmpuint(got->len, ==, 1);
}

static void
test_qinq(void)
{
    Tag inner = { 0x8100, 10 };
    Tag both[2] = { { 0x88a8, 200 }, { 0x8100, 10 } };
    g_autoptr(GByteArray) out = frame(MAC_FAR, MAC_E, &inner, 1, 0);
    g_autoptr(GByteArray) in = frame(MAC_E, MAC_FAR, both, 2, 0);
    g_autoptr(GPtrArray) got = NULL;
    g_autoptr(GError) error = NULL;
    GByteArray *f;

    drain(wire1, TRUE);
    send_frame(qtap, out);
    got = collect(wire1, TRUE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    f = got->pdata[0];
    /* outer S-tag 802.1ad 200, the guest's C-tag 10 inside */
    g_assert_cmphex((f->data[12] << 8) | f->data[13], ==, 0x88a8);
    g_assert_cmpuint(((f->data[14] << 8) | f->data[15]) & 0xfff, ==, 200);
    g_assert_cmphex((f->data[16] << 8) | f->data[17], ==, 0x8100);
    g_assert_cmpuint(((f->data[18] << 8) | f->data[19]) & 0xfff, ==, 10);
    g_clear_pointer(&got, g_ptr_array_unref);

    send_frame(wire1, in);
    got = collect(qtap, FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    f = got->pdata[0];
    g_assert_cmphex((f->data[12] << 8) | f->data[13], ==, 0x8100);   /* S-tag gone */
    g_assert_cmpuint(((f->data[14] << 8) | f->data[15]) & 0xfff, ==, 10);
    g_clear_pointer(&got, g_ptr_array_unref);

    /* a frame for the VF without its S-tag does not reach it */
    {
        g_autoptr(GByteArray) c_only = frame(MAC_E, MAC_FAR, &inner, 1, 0);
        send_frame(wire1, c_only);
        got = collect(qtap, FALSE, 200);
        g_assert_cmpuint(got->len, ==, 0);
    }
    (void)error;
}

/* Offer ~34 Mb/s (3 x 1400 B per ms) for @us; count what reaches the wire. */
static guint64
offer(int tap, GByteArray *f, gint64 us)
{
    gint64 end = g_get_monotonic_time() + us;
    guint64 bytes = 0;

    while (g_get_monotonic_time() < end) {
        guint i;
        GByteArray *r;
        for (i = 0; i < 3; i++)
            send_frame(tap, f);
        while ((r = recv_one(wire0, TRUE))) {
            if (is_ours(r, NULL))
                bytes += r->len;
            g_byte_array_unref(r);
        }
        g_usleep(1000);
    }
    return bytes;
}

static void
test_rate(void)
{
    g_autoptr(GByteArray) f = frame(MAC_FAR, MAC_C, NULL, 0, 1400);
    guint64 bytes;
    double mbps;

    drain(wire0, TRUE);
    /* nftables' byte-rate limiter starts with a full bucket of one second
     * of traffic plus the burst: drain it before measuring. */
    (void)offer(taps[2], f, 1200 * 1000);
    bytes = offer(taps[2], f, 1500 * 1000);
    mbps = bytes * 8.0 / 1.5 / 1e6;
    g_test_message("rate cap 10 Mb/s: measured %.2f Mb/s over 1.5 s", mbps);
    /* loose on purpose: the limiter counts L2 payload (no Ethernet header),
     * kbytes are 1024 bytes, and the machine is shared */
    g_assert_cmpfloat(mbps, >, 7.0);
    g_assert_cmpfloat(mbps, <, 13.0);
}

static void
test_link_disable_and_clear(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) to_d = frame(MAC_D, MAC_FAR, NULL, 0, 0);
    g_autoptr(GByteArray) from_d = frame(MAC_FAR, MAC_D, NULL, 0, 0);
    g_autoptr(GPtrArray) got = NULL;
    SriovVfConfig off = { .set = SRIOV_VF_SET_LINK_STATE, .link_state = SRIOV_LINK_STATE_DISABLE };
    SriovVfConfig on = { .set = SRIOV_VF_SET_LINK_STATE, .link_state = SRIOV_LINK_STATE_AUTO };
    guint i;

    send_frame(wire0, to_d);
    got = collect(taps[3], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);   /* steered while up */
    g_clear_pointer(&got, g_ptr_array_unref);

    g_assert_true(sriov_pool_configure(pool, vfs[3], &off, &error));
    g_assert_no_error(error);
    drain(wire0, TRUE);
    send_frame(wire0, to_d);
    send_frame(taps[3], from_d);
    got = collect(taps[3], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 0);
    g_clear_pointer(&got, g_ptr_array_unref);
    got = collect(wire0, TRUE, 100);
    g_assert_cmpuint(got->len, ==, 0);
    g_clear_pointer(&got, g_ptr_array_unref);

    g_assert_true(sriov_pool_configure(pool, vfs[3], &on, &error));
    wait_port_forwarding(wire0, taps[3]);
    for (i = 0; i < 4; i++)   /* the broadcasts reached the others too */
        drain(taps[i], FALSE);
    send_frame(wire0, to_d);
    got = collect(taps[3], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    g_clear_pointer(&got, g_ptr_array_unref);

    /* clearing steering: the MAC is no longer delivered to the VF, nor to any other */
    g_assert_true(sriov_pool_clear_steering(pool, vfs[3], &error));
    g_assert_no_error(error);
    send_frame(wire0, to_d);
    for (i = 0; i < 4; i++) {
        got = collect(taps[i], FALSE, i == 3 ? 300 : 30);
        g_assert_cmpuint(got->len, ==, 0);
        g_clear_pointer(&got, g_ptr_array_unref);
    }
}

static void
test_stats(void)
{
    g_autoptr(GError) error = NULL;
    SriovVfStats st;

    g_assert_true(sriov_pool_read_stats(pool, vfs[0], &st, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(st.rx_packets, >=, 1);   /* the frame to MAC A */
    g_assert_cmpuint(st.tx_packets, >=, 3);   /* good + 2 spoofed (dropped after the tap) */
    g_assert_true(sriov_pool_read_stats(pool, vfs[2], &st, &error));
    g_assert_cmpuint(st.tx_packets, >, 1000);
}

static void
test_release_restores(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) to_a = frame(MAC_A, MAC_FAR, NULL, 0, 0);
    g_autoptr(GPtrArray) got = NULL;
    g_autofree char *rules = NULL;
    const char *const list[] = { "nft", "list", "table", "bridge", "vfailover-vfbr0", NULL };
    SriovVfConfig now;
    guint i;
    int status;

    for (i = 0; i < 4; i++)
        close(taps[i]);
    close(qtap);
    g_assert_true(sriov_pool_release_domain(pool, "dom-0", &error));
    g_assert_true(sriov_pool_release_domain(pool, "dom-1", &error));
    g_assert_true(sriov_pool_release_domain(pool, "dom-2", &error));
    g_assert_true(sriov_pool_release_domain(pool, "dom-3", &error));
    g_assert_true(sriov_pool_release_domain(pool, "dom-q", &error));
    g_assert_no_error(error);

    g_assert_true(sriov_pool_read_config(pool, vfs[0], &now, &error));
    g_assert_true(sriov_mac_is_zero(now.mac));
    g_assert_cmpuint(now.vlan, ==, 0);
    g_assert_true(g_spawn_sync(NULL, (char **)list, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &rules,
                               NULL, &status, &error));
    g_assert_null(strstr(rules, "vfbr0v0"));

    taps[0] = tap_open("vfbr0v0");
    wait_port_forwarding(wire0, taps[0]);
    send_frame(wire0, to_a);
    got = collect(taps[0], FALSE, 300);
    g_assert_cmpuint(got->len, ==, 0);
    close(taps[0]);
    {
        g_autofree char *dir = sriov_record_dir(state_dir);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_assert_null(d ? g_dir_read_name(d) : NULL);
    }
}

/* hookd dies with a configured VF; the restarted pool sees the saved
 * reservation and, the domain being gone, puts the VF back to clean. */
static void
test_crash_and_reconcile(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) to_x = NULL;
    g_autoptr(GPtrArray) got = NULL;
    g_autofree char *rules = NULL;
    const char *const list[] = { "nft", "list", "table", "bridge", "vfailover-vfbr1", NULL };
    static const guint8 MAC_X[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x09 };
    SriovVfConfig c = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_SPOOFCHK | SRIOV_VF_SET_RATE,
                        .spoofchk = TRUE, .max_tx_rate_mbps = 50 };
    SriovVf *vf;
    int tap, status;

    memcpy(c.mac, MAC_X, 6);
    vf = reserve_configure("vfbr1", "dom-crash", &c);
    g_assert_cmpstr(sriov_vf_get_netdev(vf), ==, "vfbr1v0");
    tap = tap_open("vfbr1v0");
    wait_port_forwarding(wire1, tap);
    to_x = frame(MAC_X, MAC_FAR, NULL, 0, 0);
    send_frame(wire1, to_x);
    got = collect(tap, FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    g_clear_pointer(&got, g_ptr_array_unref);
    close(tap);

    /* "crash": the pool goes away without releasing */
    sriov_pool_free(pool);
    pool = pool_open();
    vf = sriov_pool_lookup(pool, "dom-crash", "net0");
    g_assert_nonnull(vf);
    g_assert_true(sriov_pool_reconcile(pool, NULL, &error));
    g_assert_no_error(error);
    g_assert_null(sriov_pool_lookup(pool, "dom-crash", "net0"));

    tap = tap_open("vfbr1v0");
    wait_port_forwarding(wire1, tap);
    send_frame(wire1, to_x);
    got = collect(tap, FALSE, 300);
    g_assert_cmpuint(got->len, ==, 0);   /* no steering left */
    close(tap);
    g_assert_true(g_spawn_sync(NULL, (char **)list, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &rules,
                               NULL, &status, &error));
    g_assert_null(strstr(rules, "vfbr1v0"));
}

/* A kernel that refuses sticky entries: steering still works, with plain
 * static entries (and one warning). */
static void
test_sticky_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) to_x = NULL;
    g_autoptr(GPtrArray) got = NULL;
    g_autofree char *lines = NULL;
    static const guint8 MAC_Y[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x0a };
    SriovVfConfig c = { .set = SRIOV_VF_SET_MAC };
    SriovVf *vf;
    int tap;

    memcpy(c.mac, MAC_Y, 6);
    vf = sriov_pool_reserve(pool, "dom-nosticky", "net0", "vfbr1", NULL, &error);
    g_assert_no_error(error);
    refuse_sticky = TRUE;
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "The kernel refuses sticky bridge FDB entries (cannot add the static "
                          "FDB entry 52:54:00:aa:00:0a on vfbr1v0: Invalid argument)*");
    g_assert_true(sriov_pool_configure(pool, vf, &c, &error));
    g_test_assert_expected_messages();
    g_assert_no_error(error);
    lines = fdb_lines("vfbr1", MAC_Y);
    g_assert_true(g_str_has_prefix(lines, "52:54:00:aa:00:0a dev vfbr1v0 "));
    g_assert_null(strstr(lines, "sticky"));
    g_assert_nonnull(strstr(lines, " static"));

    tap = tap_open("vfbr1v0");
    wait_port_forwarding(wire1, tap);
    to_x = frame(MAC_Y, MAC_FAR, NULL, 0, 0);
    send_frame(wire1, to_x);
    got = collect(tap, FALSE, 300);
    g_assert_cmpuint(got->len, ==, 1);
    close(tap);
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_no_error(error);
    refuse_sticky = FALSE;
}

/* `nft list table netdev vfailover-vfbr1`, or NULL if there is none. */
static char *
mirror_table(void)
{
    const char *const list[] = { "nft", "list", "table", "netdev", "vfailover-vfbr1", NULL };
    char *out = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)list, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        g_clear_pointer(&out, g_free);
    return out;
}

/* One frame from @wire reaches the VF's @tap once and the datapath's
 * port @dp @copies times (0 or 1). */
static void
send_and_count(int wire, GByteArray *f, int tap, int dp, guint copies)
{
    g_autoptr(GPtrArray) at_vf = NULL;
    g_autoptr(GPtrArray) at_dp = NULL;

    send_frame(wire, f);
    at_vf = collect(tap, FALSE, 300);
    at_dp = collect(dp, TRUE, copies ? 300 : 100);
    g_assert_cmpuint(at_vf->len, ==, 1);
    g_assert_cmpuint(at_dp->len, ==, copies);
    if (copies)
        g_assert_cmpmem(((GByteArray *)at_dp->pdata[0])->data, 6, f->data, 6);
}

/* The mirror (a re-plugged VF coming up): what the wire sends to the VF's
 * MAC reaches the VF and, once each, the datapath's port; it is an nftables
 * netdev table on the uplink, gone when the mirror stops. A PF without a
 * datapath port cannot mirror. */
static void
test_mirror(void)
{
    static const guint8 MAC_M[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x0b };
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) to_m = frame(MAC_M, MAC_FAR, NULL, 0, 0);
    g_autofree char *out = NULL;
    SriovVfConfig c = { .set = SRIOV_VF_SET_MAC };
    SriovVf *vf, *other;
    int tap, dp;

    memcpy(c.mac, MAC_M, 6);
    vf = reserve_configure("vfbr1", "dom-mirror", &c);
    tap = tap_open(sriov_vf_get_netdev(vf));
    dp = wire_open("dpu1");
    wait_port_forwarding(wire1, tap);
    drain(tap, FALSE);
    drain(dp, TRUE);

    /* steered, no mirror: the VF alone */
    send_and_count(wire1, to_m, tap, dp, 0);

    g_assert_true(sriov_pool_set_mirror(pool, vf, MAC_M, &error));
    g_assert_no_error(error);
    out = mirror_table();
    g_assert_nonnull(out);
    g_assert_nonnull(strstr(out, "dup to \"dpp1\""));
    g_assert_nonnull(strstr(out, "52:54:00:aa:00:0b"));
    send_and_count(wire1, to_m, tap, dp, 1);

    /* idempotent, then off: the VF alone again, and no table left */
    g_assert_true(sriov_pool_set_mirror(pool, vf, MAC_M, &error));
    g_assert_true(sriov_pool_set_mirror(pool, vf, NULL, &error));
    g_assert_no_error(error);
    g_assert_null(mirror_table());
    send_and_count(wire1, to_m, tap, dp, 0);

    /* release while mirrored: the reset drops the mirror */
    g_assert_true(sriov_pool_set_mirror(pool, vf, MAC_M, &error));
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_no_error(error);
    g_assert_null(mirror_table());
    close(tap);
    close(dp);

    /* vfbr0 has no datapath port */
    other = sriov_pool_reserve(pool, "dom-nomirror", "net0", "vfbr0", NULL, &error);
    g_assert_no_error(error);
    g_assert_false(sriov_pool_set_mirror(pool, other, MAC_M, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
    g_assert_nonnull(strstr(error->message, "no datapath-port configured"));
    g_clear_error(&error);
    g_assert_true(sriov_pool_set_mirror(pool, other, NULL, &error));
    g_assert_true(sriov_pool_release(pool, other, &error));
    g_assert_no_error(error);
}

static void
setup(void)
{
    const char *const lo[] = { "ip", "link", "set", "lo", "up", NULL };
    const char *const v0[] = { "ip", "link", "add", "upl0", "type", "veth", "peer", "name", "wire0", NULL };
    const char *const v1[] = { "ip", "link", "add", "upl1", "type", "veth", "peer", "name", "wire1", NULL };
    const char *const w0[] = { "ip", "link", "set", "wire0", "up", NULL };
    const char *const w1[] = { "ip", "link", "set", "wire1", "up", NULL };
    const char *const d1[] = { "ip", "link", "add", "dpp1", "type", "veth", "peer", "name", "dpu1", NULL };
    const char *const du1[] = { "ip", "link", "set", "dpu1", "up", NULL };
    const char *const dm1[] = { "ip", "link", "set", "dpp1", "master", "vfbr1", "up", NULL };
    const char *const dl1[] = { "bridge", "link", "set", "dev", "dpp1", "learning", "off", NULL };
    g_autoptr(GError) error = NULL;
    int fd;
    SriovVfConfig c0 = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_SPOOFCHK, .spoofchk = TRUE };
    SriovVfConfig c1 = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN, .vlan = 100, .qos = 3 };
    SriovVfConfig c2 = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_RATE, .max_tx_rate_mbps = 10 };
    SriovVfConfig c3 = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_SPOOFCHK, .spoofchk = FALSE };
    SriovVfConfig cq = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN, .vlan = 200,
                         .vlan_proto = SRIOV_VLAN_PROTO_8021AD };
    guint i;

    if (unshare(CLONE_NEWNET) < 0)
        g_error("unshare(CLONE_NEWNET): %s", g_strerror(errno));
    run_or_die(lo);
    run_or_die(v0);
    run_or_die(v1);
    run_or_die(w0);
    run_or_die(w1);
    run_or_die(d1);
    run_or_die(du1);

    state_dir = g_dir_make_tmp("vf-emu-state-XXXXXX", &error);
    g_assert_no_error(error);
    fd = g_file_open_tmp("vf-emu-XXXXXX.conf", &conf_path, &error);
    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(conf_path,
        "[pf:vfbr0]\nbackend = emulated\nnum-vfs = 4\nuplink = upl0\n"
        "[pf:vfbr1]\nbackend = emulated\nnum-vfs = 2\nuplink = upl1\ndatapath-port = dpp1\n",
        -1, NULL));
    cfg = vf_config_load(conf_path, &error);
    g_assert_no_error(error);
    neigh_sent = g_byte_array_new();
    pool = pool_open();
    /* the datapath's port on the PF, as the testbed makes it */
    run_or_die(dm1);
    run_or_die(dl1);

    memcpy(c0.mac, MAC_A, 6);
    memcpy(c1.mac, MAC_B, 6);
    memcpy(c2.mac, MAC_C, 6);
    memcpy(c3.mac, MAC_D, 6);
    memcpy(cq.mac, MAC_E, 6);
    vfs[0] = reserve_configure("vfbr0", "dom-0", &c0);
    vfs[1] = reserve_configure("vfbr0", "dom-1", &c1);
    vfs[2] = reserve_configure("vfbr0", "dom-2", &c2);
    vfs[3] = reserve_configure("vfbr0", "dom-3", &c3);
    qvf = reserve_configure("vfbr1", "dom-q", &cq);
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(sriov_vf_get_index(vfs[i]), ==, i);
        taps[i] = tap_open(sriov_vf_get_netdev(vfs[i]));
    }
    g_assert_cmpstr(sriov_vf_get_netdev(qvf), ==, "vfbr1v0");
    qtap = tap_open(sriov_vf_get_netdev(qvf));
    wire0 = wire_open("wire0");
    wire1 = wire_open("wire1");
    {
        Tag t100 = { 0x8100, 100 }, s200 = { 0x88a8, 200 };
        wait_port_forwarding(wire0, taps[0]);
        wait_port_forwarding_tagged(wire0, taps[1], &t100);
        wait_port_forwarding(wire0, taps[2]);
        wait_port_forwarding(wire0, taps[3]);
        wait_port_forwarding_tagged(wire1, qtap, &s200);
    }
    for (i = 0; i < 4; i++)
        drain(taps[i], FALSE);
    drain(qtap, FALSE);
    drain(wire0, TRUE);
    drain(wire1, TRUE);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0)
        vf_test_skip_all("needs root (network namespace, bridges, taps, nftables, tc)");
    setup();
    g_test_add_func("/sriov-emulated/steering-and-vlan", test_steering_and_vlan);
    g_test_add_func("/sriov-emulated/steering-sticky", test_steering_sticky);
    g_test_add_func("/sriov-emulated/antispoof", test_antispoof);
    g_test_add_func("/sriov-emulated/qinq", test_qinq);
    g_test_add_func("/sriov-emulated/rate", test_rate);
    g_test_add_func("/sriov-emulated/link-disable-and-clear-steering", test_link_disable_and_clear);
    g_test_add_func("/sriov-emulated/stats", test_stats);
    g_test_add_func("/sriov-emulated/release-restores", test_release_restores);
    g_test_add_func("/sriov-emulated/crash-and-reconcile", test_crash_and_reconcile);
    g_test_add_func("/sriov-emulated/sticky-refused", test_sticky_refused);
    g_test_add_func("/sriov-emulated/mirror", test_mirror);
    rc = g_test_run();
    sriov_pool_free(pool);
    g_byte_array_unref(neigh_sent);
    vf_config_free(cfg);
    g_unlink(conf_path);
    {
        g_autofree char *dir = sriov_record_dir(state_dir);
        g_rmdir(dir);
        g_rmdir(state_dir);
    }
    /* the namespace, its bridges, taps, nft tables and qdiscs go with us */
    return rc;
}
