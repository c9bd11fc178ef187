/* dp-traffic: the guest and the wire for vfailover-dp tests and benchmarks,
 * in one DPDK process on one lcore. Port 0 is the guest (a net_virtio_user
 * on the pair's vhost-user socket), port 1 the wire (net_af_packet on the
 * far end of the uplink veth, or another virtio-user for benchmarks).
 * Frames carry a stream id and a sequence number; the receiver counts
 * unique, duplicate and foreign frames, and RARP/GARP from the guest MAC.
 *
 *   dp-traffic [EAL] -- --guest-mac M --wire-mac M [--dir g2w|w2g|both|none]
 *      [--count N] [--rate PPS] [--go-file F] [--drain-ms T] [--duration-s S]
 *      [--burst-gen]   (benchmark: send 32x64B bursts as fast as possible
 *                       guest->wire for --duration-s, print Mpps per second)
 *      [--late-guest DEVARGS]  the EAL probes only the wire (port 0); print
 *                       "wire-ready", then attach the guest from DEVARGS
 *                       (retrying until its vhost-user socket is there): for
 *                       a wire the datapath's uplink must connect to first
 *      [--vhost-rarp MAC]  at go, send VHOST_USER_SEND_RARP with MAC on the
 *                       guest's vhost-user connection, as QEMU does after a
 *                       migration (virtio-user has no API for it)
 *      [--wire-hold-ms T]  at the first go, leave the wire unread for T ms
 *      [--loopback]     the datapath's uplink loops back (net_ring): the
 *                       guest's g2w stream (--wire-mac = the guest's MAC)
 *                       comes back to the guest and is counted as "g2w recv"
 *      [--wire-mac-table]  a net_vhost wire offers VIRTIO_NET_F_CTRL_MAC_ADDR,
 *                       so a virtio-user uplink with cq=1 accepts MAC filter
 *                       entries (virtio-user answers the control queue
 *                       itself and does not filter: the entry is accepted,
 *                       nothing more)
 * Output: "g2w sent=.. recv=.. dup=..", "w2g ...", "wire_rarp=.. wire_garp=..
 * ... vhost_rarp=N" (N: RARPs from the --vhost-rarp MAC seen on the wire). */
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#define TRAFFIC_ETHERTYPE 0x88b5
#define TRAFFIC_MAGIC 0x56464450u /* "VFDP" */
#define BURST 32

struct payload {
    uint32_t magic;
    uint32_t stream;
    uint32_t seq;
} __attribute__((packed));

struct stream {
    uint64_t sent, recv, dup, foreign;
    uint8_t *seen;
};

static struct rte_mempool *pool;
static struct rte_ether_addr guest_mac, wire_mac;
static struct stream streams[2]; /* 0: g2w, 1: w2g */
static uint64_t wire_rarp, wire_garp, guest_other, wire_other, vhost_rarp;
static struct rte_ether_addr rarp_mac;
static bool send_vhost_rarp;
static uint64_t wire_hold_ms;
static uint64_t wire_hold_until; /* timer cycles */
static uint16_t gport = 0, wport = 1; /* guest, wire */
static bool loopback; /* the uplink loops back: g2w frames come back to the guest */
static uint32_t guest_ip, garp_ip; /* network order */
static uint64_t count = 1000, rate = 10000, drain_ms = 1000, duration_s = 10, rounds = 1;
static const char *go_file;
static bool do_g2w, do_w2g, burst_gen;
static volatile bool quit;

static void
on_signal(int sig)
{
    (void)sig;
    quit = true;
}

static struct rte_mbuf *
make_frame(uint32_t stream, uint32_t seq)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    struct rte_ether_hdr *eth;
    struct payload *pl;
    char *data;

    if (!m)
        return NULL;
    data = rte_pktmbuf_append(m, 60);
    if (!data) {
        rte_pktmbuf_free(m);
        return NULL;
    }
    memset(data, 0, 60);
    eth = (struct rte_ether_hdr *)data;
    eth->src_addr = stream == 0 ? guest_mac : wire_mac;
    eth->dst_addr = stream == 0 ? wire_mac : guest_mac;
    eth->ether_type = rte_cpu_to_be_16(TRAFFIC_ETHERTYPE);
    pl = (struct payload *)(eth + 1);
    pl->magic = TRAFFIC_MAGIC;
    pl->stream = stream;
    pl->seq = seq;
    return m;
}

static void
account(uint16_t port, struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    uint16_t type = rte_be_to_cpu_16(eth->ether_type);
    const struct payload *pl = (const void *)(eth + 1);
    uint32_t want = port == gport && !loopback ? 1 : 0;

    if (port == wport && send_vhost_rarp && type == 0x8035 &&
        rte_is_same_ether_addr(&eth->src_addr, &rarp_mac)) {
        vhost_rarp++;
        return;
    }
    if (port == wport && rte_is_same_ether_addr(&eth->src_addr, &guest_mac)) {
        if (type == 0x8035) {
            wire_rarp++;
            return;
        }
        if (type == RTE_ETHER_TYPE_ARP && rte_is_broadcast_ether_addr(&eth->dst_addr)) {
            const struct rte_arp_hdr *arp = (const void *)(eth + 1);
            garp_ip = arp->arp_data.arp_sip;
            wire_garp++;
            return;
        }
    }
    if (type != TRAFFIC_ETHERTYPE || rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*pl) ||
        pl->magic != TRAFFIC_MAGIC || pl->stream != want) {
        if (port == gport)
            guest_other++;
        else
            wire_other++;
        return;
    }
    struct stream *s = &streams[want];
    if (pl->seq >= count || !s->seen) {
        s->foreign++;
        return;
    }
    if (s->seen[pl->seq]) {
        s->dup++;
        return;
    }
    s->seen[pl->seq] = 1;
    s->recv++;
}

static unsigned int
poll_rx(void)
{
    struct rte_mbuf *pkts[BURST];
    unsigned int total = 0;
    const uint16_t ports[2] = { gport, wport };
    uint16_t port, n, i, k;

    for (k = 0; k < 2; k++) {
        port = ports[k];
        if (port == wport && wire_hold_until && rte_get_timer_cycles() < wire_hold_until)
            continue;
        n = rte_eth_rx_burst(port, 0, pkts, BURST);
        for (i = 0; i < n; i++) {
            if (!burst_gen)
                account(port, pkts[i]);
            else if (port == wport)
                streams[0].recv++;
        }
        if (n)
            rte_pktmbuf_free_bulk(pkts, n);
        total += n;
    }
    return total;
}

static void
send_stream(uint32_t stream, uint32_t n)
{
    struct rte_mbuf *pkts[BURST];
    uint16_t port = stream == 0 ? gport : wport;
    uint32_t i, k = 0, sent;

    for (i = 0; i < n; i++) {
        pkts[k] = make_frame(stream, streams[stream].sent + k);
        if (!pkts[k])
            break;
        k++;
    }
    sent = 0;
    /* Retry a full ring a little: the sender must not lose frames. */
    for (int tries = 0; sent < k && tries < 1000; tries++) {
        sent += rte_eth_tx_burst(port, 0, pkts + sent, k - sent);
        if (sent < k) {
            poll_rx();
            rte_delay_us(10);
        }
    }
    if (sent < k)
        rte_pktmbuf_free_bulk(pkts + sent, k - sent);
    streams[stream].sent += sent;
}

/* A gratuitous ARP from the guest, so the datapath learns its address. */
static void
send_guest_arp(void)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    struct rte_ether_hdr *eth;
    struct rte_arp_hdr *arp;
    char *data;

    if (!m || !(data = rte_pktmbuf_append(m, 60))) {
        rte_pktmbuf_free(m);
        return;
    }
    memset(data, 0, 60);
    eth = (struct rte_ether_hdr *)data;
    memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
    eth->src_addr = guest_mac;
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
    arp = (struct rte_arp_hdr *)(eth + 1);
    arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = RTE_ETHER_ADDR_LEN;
    arp->arp_plen = 4;
    arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    arp->arp_data.arp_sha = guest_mac;
    arp->arp_data.arp_sip = guest_ip;
    arp->arp_data.arp_tip = guest_ip;
    if (rte_eth_tx_burst(gport, 0, &m, 1) != 1)
        rte_pktmbuf_free(m);
}

/* VHOST_USER_SEND_RARP (request 19, payload: the MAC in a u64) on the
 * guest's vhost-user connection: virtio-user keeps that socket to itself,
 * so find it among our descriptors by its peer (or, in server mode, local)
 * address. QEMU sends this after a migration when the guest cannot
 * announce itself; rte_vhost then injects a RARP in its next dequeue. */
static int
vhost_send_rarp(const char *path)
{
    struct {
        uint32_t request, flags, size;
        uint64_t mac;
    } __attribute__((packed)) msg = { 19, 0x1, 8, 0 };
    struct dirent *de;
    DIR *d = opendir("/proc/self/fd");
    int sent = -1;

    memcpy(&msg.mac, rarp_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
    while (d && sent < 0 && (de = readdir(d))) {
        struct sockaddr_un peer, local;
        socklen_t pl = sizeof(peer), ll = sizeof(local);
        int fd = atoi(de->d_name);

        memset(&peer, 0, sizeof(peer));
        memset(&local, 0, sizeof(local));
        if (de->d_name[0] == '.' || getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 ||
            peer.sun_family != AF_UNIX)
            continue;
        getsockname(fd, (struct sockaddr *)&local, &ll);
        if (strcmp(peer.sun_path, path) != 0 && strcmp(local.sun_path, path) != 0)
            continue;
        if (send(fd, &msg, sizeof(msg), MSG_NOSIGNAL) == (ssize_t)sizeof(msg))
            sent = 0;
    }
    if (d)
        closedir(d);
    if (sent < 0)
        fprintf(stderr, "dp-traffic: no vhost-user connection to %s found for SEND_RARP\n", path);
    return sent;
}

/* The path= of the guest's devargs. */
static void
guest_path(const char *devargs, char *buf, size_t len)
{
    const char *p = strstr(devargs, "path=");
    size_t n;

    buf[0] = '\0';
    if (!p)
        return;
    p += 5;
    n = strcspn(p, ",");
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

/* The devargs given with --vdev for a device whose name starts with @prefix. */
static const char *
vdev_args(int argc, char **argv, const char *prefix)
{
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "--vdev") == 0 && strncmp(argv[i + 1], prefix, strlen(prefix)) == 0)
            return argv[i + 1];
    return NULL;
}

/* Offer VIRTIO_NET_F_CTRL_MAC_ADDR (23) on the net_vhost wire's socket,
 * before the uplink connects and reads the features. */
static int
wire_offer_mac_table(const char *devargs)
{
    const char *p = devargs ? strstr(devargs, "iface=") : NULL;
    char path[108];
    uint64_t f;

    if (!p) {
        fprintf(stderr, "dp-traffic: --wire-mac-table needs a net_vhost wire with iface=\n");
        return -1;
    }
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(p + 6, ","), p + 6);
    if (rte_vhost_driver_get_features(path, &f) < 0 ||
        rte_vhost_driver_set_features(path, f | (1ULL << 23)) < 0) {
        fprintf(stderr, "dp-traffic: cannot set the features of %s\n", path);
        return -1;
    }
    return 0;
}

static int
setup_port(uint16_t port)
{
    struct rte_eth_conf conf;
    uint16_t nrx = 1024, ntx = 1024;

    struct rte_eth_dev_info info;

    memset(&conf, 0, sizeof(conf));
    /* virtio-user in server mode reconnects from its link-state
     * interrupt handler. */
    if (rte_eth_dev_info_get(port, &info) == 0 && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC))
        conf.intr_conf.lsc = 1;
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
        rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx) < 0 ||
        rte_eth_rx_queue_setup(port, 0, nrx, rte_eth_dev_socket_id(port), NULL, pool) < 0 ||
        rte_eth_tx_queue_setup(port, 0, ntx, rte_eth_dev_socket_id(port), NULL) < 0 ||
        rte_eth_dev_start(port) < 0) {
        fprintf(stderr, "dp-traffic: cannot start port %u\n", port);
        return -1;
    }
    rte_eth_promiscuous_enable(port);
    return 0;
}

static int
run_bench(void)
{
    struct rte_mbuf *pkts[BURST];
    uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
    uint64_t next = start + hz, last = 0, sec = 0;
    uint16_t i, n;

    while (!quit && sec < duration_s) {
        if (rte_pktmbuf_alloc_bulk(pool, pkts, BURST) == 0) {
            for (i = 0; i < BURST; i++) {
                struct rte_ether_hdr *eth;

                pkts[i]->data_len = pkts[i]->pkt_len = 60;
                eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
                eth->src_addr = guest_mac;
                eth->dst_addr = wire_mac;
                eth->ether_type = rte_cpu_to_be_16(TRAFFIC_ETHERTYPE);
            }
            n = rte_eth_tx_burst(gport, 0, pkts, BURST);
            streams[0].sent += n;
            if (n < BURST)
                rte_pktmbuf_free_bulk(pkts + n, BURST - n);
        }
        poll_rx();
        if (rte_get_timer_cycles() >= next) {
            printf("sec %" PRIu64 " rx_mpps %.3f\n", sec, (streams[0].recv - last) / 1e6);
            fflush(stdout);
            last = streams[0].recv;
            next += hz;
            sec++;
        }
    }
    return 0;
}

static uint64_t
min3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a < b ? a : b;
    return m < c ? m : c;
}

static void
print_stream(const char *name, unsigned int round, const struct stream *s)
{
    char label[32];

    if (round > 1)
        snprintf(label, sizeof(label), "%s%u", name, round);
    else
        snprintf(label, sizeof(label), "%s", name);
    name = label;
    printf("%s sent=%" PRIu64 " recv=%" PRIu64 " dup=%" PRIu64 " foreign=%" PRIu64 "\n",
           name, s->sent, s->recv, s->dup, s->foreign);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "guest-mac", required_argument, NULL, 'g' },
        { "wire-mac", required_argument, NULL, 'w' },
        { "dir", required_argument, NULL, 'd' },
        { "count", required_argument, NULL, 'n' },
        { "rate", required_argument, NULL, 'r' },
        { "go-file", required_argument, NULL, 'f' },
        { "drain-ms", required_argument, NULL, 'D' },
        { "duration-s", required_argument, NULL, 's' },
        { "burst-gen", no_argument, NULL, 'b' },
        { "rounds", required_argument, NULL, 'R' },
        { "guest-ip", required_argument, NULL, 'i' },
        { "late-guest", required_argument, NULL, 'L' },
        { "vhost-rarp", required_argument, NULL, 'V' },
        { "wire-hold-ms", required_argument, NULL, 'H' },
        { "wire-mac-table", no_argument, NULL, 'M' },
        { "loopback", no_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "both", *late_guest = NULL, *gdevargs, *wdevargs;
    bool mac_table = false;
    char gpath[108] = "";
    uint64_t hz, t0, now, due, drain_end;
    int ret, c;

    gdevargs = vdev_args(argc, argv, "virtio_user");
    wdevargs = vdev_args(argc, argv, "net_vhost");
    ret = rte_eal_init(argc, argv);
    if (ret < 0) {
        fprintf(stderr, "dp-traffic: EAL init failed\n");
        return 2;
    }
    argc -= ret;
    argv += ret;
    rte_ether_unformat_addr("02:00:00:00:00:01", &guest_mac);
    rte_ether_unformat_addr("02:00:00:00:00:02", &wire_mac);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': rte_ether_unformat_addr(optarg, &guest_mac); break;
        case 'w': rte_ether_unformat_addr(optarg, &wire_mac); break;
        case 'd': dir = optarg; break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 'r': rate = strtoull(optarg, NULL, 10); break;
        case 'f': go_file = optarg; break;
        case 'D': drain_ms = strtoull(optarg, NULL, 10); break;
        case 's': duration_s = strtoull(optarg, NULL, 10); break;
        case 'b': burst_gen = true; break;
        case 'R': rounds = strtoull(optarg, NULL, 10); break;
        case 'i':
            if (inet_pton(AF_INET, optarg, &guest_ip) != 1) {
                fprintf(stderr, "dp-traffic: bad --guest-ip\n");
                return 2;
            }
            break;
        case 'L': late_guest = optarg; gdevargs = optarg; break;
        case 'V':
            if (rte_ether_unformat_addr(optarg, &rarp_mac) < 0) {
                fprintf(stderr, "dp-traffic: bad --vhost-rarp MAC\n");
                return 2;
            }
            send_vhost_rarp = true;
            break;
        case 'H': wire_hold_ms = strtoull(optarg, NULL, 10); break;
        case 'M': mac_table = true; break;
        case 'l': loopback = true; break;
        default:
            fprintf(stderr, "dp-traffic: bad option\n");
            return 2;
        }
    }
    do_g2w = strcmp(dir, "g2w") == 0 || strcmp(dir, "both") == 0;
    do_w2g = strcmp(dir, "w2g") == 0 || strcmp(dir, "both") == 0;
    if (rate == 0)
        rate = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (gdevargs)
        guest_path(gdevargs, gpath, sizeof(gpath));
    if (rte_eth_dev_count_avail() < (late_guest ? 1 : 2)) {
        fprintf(stderr, "dp-traffic: need 2 ports (guest, wire), have %u\n",
                rte_eth_dev_count_avail());
        return 2;
    }
    pool = rte_pktmbuf_pool_create("traffic", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_socket_id());
    if (!pool)
        return 2;
    if (late_guest) {
        char name[RTE_DEV_NAME_MAX_LEN];
        size_t n = strcspn(late_guest, ",");
        int tries;

        wport = 0;
        if (setup_port(wport) < 0 || (mac_table && wire_offer_mac_table(wdevargs) < 0))
            return 2;
        printf("wire-ready\n");
        fflush(stdout);
        for (tries = 0; tries < 300 && !quit; tries++) {
            if (rte_dev_probe(late_guest) == 0)
                break;
            usleep(100000);
        }
        snprintf(name, sizeof(name), "%.*s", (int)n, late_guest);
        if (tries == 300 || rte_eth_dev_get_port_by_name(name, &gport) != 0) {
            fprintf(stderr, "dp-traffic: cannot attach the guest %s\n", late_guest);
            return 2;
        }
        if (setup_port(gport) < 0)
            return 2;
    } else if (setup_port(gport) < 0 || setup_port(wport) < 0) {
        return 2;
    }
    streams[0].seen = calloc(count, 1);
    streams[1].seen = calloc(count, 1);
    printf("ready\n");
    fflush(stdout);

    for (unsigned int round = 1; round <= rounds && !quit; round++) {
        char go[4096];

        if (go_file && round > 1)
            snprintf(go, sizeof(go), "%s.%u", go_file, round);
        else if (go_file)
            snprintf(go, sizeof(go), "%s", go_file);
        if (round > 1) {
            memset(streams[0].seen, 0, count);
            memset(streams[1].seen, 0, count);
            for (int i = 0; i < 2; i++)
                streams[i].sent = streams[i].recv = streams[i].dup = streams[i].foreign = 0;
            wire_rarp = wire_garp = guest_other = wire_other = vhost_rarp = 0;
        }
        /* Wait for the go signal, draining (and counting) meanwhile. */
        while (go_file && !quit && access(go, F_OK) != 0) {
            if (poll_rx() == 0)
                usleep(1000);
        }
        if (guest_ip)
            send_guest_arp();
        if (send_vhost_rarp)
            vhost_send_rarp(gpath);
        if (wire_hold_ms && round == 1)
            wire_hold_until = rte_get_timer_cycles() + wire_hold_ms * rte_get_timer_hz() / 1000;
        if (burst_gen) {
            run_bench();
        } else {
            hz = rte_get_timer_hz();
            t0 = rte_get_timer_cycles();
            while (!quit && ((do_g2w && streams[0].sent < count) ||
                             (do_w2g && streams[1].sent < count))) {
                now = rte_get_timer_cycles();
                due = (now - t0) * rate / hz;
                if (do_g2w && streams[0].sent < due && streams[0].sent < count)
                    send_stream(0, min3(due - streams[0].sent, count - streams[0].sent, BURST));
                if (do_w2g && streams[1].sent < due && streams[1].sent < count)
                    send_stream(1, min3(due - streams[1].sent, count - streams[1].sent, BURST));
                if (poll_rx() == 0)
                    rte_delay_us(5);
            }
            drain_end = rte_get_timer_cycles() + drain_ms * hz / 1000;
            while (!quit && rte_get_timer_cycles() < drain_end)
                if (poll_rx() == 0)
                    usleep(200);
        }
        print_stream("g2w", round, &streams[0]);
        print_stream("w2g", round, &streams[1]);
        char ipbuf[INET_ADDRSTRLEN] = "-";
        if (garp_ip)
            inet_ntop(AF_INET, &garp_ip, ipbuf, sizeof(ipbuf));
        printf("wire_rarp%s=%" PRIu64 " wire_garp=%" PRIu64 " guest_other=%" PRIu64
               " wire_other=%" PRIu64 " garp_ip=%s vhost_rarp=%" PRIu64 "\n",
               round > 1 ? "_next" : "", wire_rarp, wire_garp, guest_other, wire_other, ipbuf,
               vhost_rarp);
        fflush(stdout);
    }
    rte_eth_dev_stop(gport);
    rte_eth_dev_stop(wport);
    rte_eth_dev_close(gport);
    rte_eth_dev_close(wport);
    rte_eal_cleanup();
    return 0;
}
