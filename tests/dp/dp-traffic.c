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
 * Output: "g2w sent=.. recv=.. dup=..", "w2g ...", "wire_rarp=.. wire_garp=..". */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

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
static uint64_t wire_rarp, wire_garp, guest_other, wire_other;
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
    uint32_t want = port == 0 ? 1 : 0;

    if (port == 1 && rte_is_same_ether_addr(&eth->src_addr, &guest_mac)) {
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
        if (port == 0)
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
    uint16_t port, n, i;

    for (port = 0; port < 2; port++) {
        n = rte_eth_rx_burst(port, 0, pkts, BURST);
        for (i = 0; i < n; i++) {
            if (!burst_gen)
                account(port, pkts[i]);
            else if (port == 1)
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
    uint16_t port = stream == 0 ? 0 : 1;
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
    if (rte_eth_tx_burst(0, 0, &m, 1) != 1)
        rte_pktmbuf_free(m);
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
            n = rte_eth_tx_burst(0, 0, pkts, BURST);
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
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "both";
    uint64_t hz, t0, now, due, drain_end;
    int ret, c;

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

    if (rte_eth_dev_count_avail() < 2) {
        fprintf(stderr, "dp-traffic: need 2 ports (guest, wire), have %u\n",
                rte_eth_dev_count_avail());
        return 2;
    }
    pool = rte_pktmbuf_pool_create("traffic", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_socket_id());
    if (!pool || setup_port(0) < 0 || setup_port(1) < 0)
        return 2;
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
            wire_rarp = wire_garp = guest_other = wire_other = 0;
        }
        /* Wait for the go signal, draining (and counting) meanwhile. */
        while (go_file && !quit && access(go, F_OK) != 0) {
            if (poll_rx() == 0)
                usleep(1000);
        }
        if (guest_ip)
            send_guest_arp();
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
               " wire_other=%" PRIu64 " garp_ip=%s\n", round > 1 ? "_next" : "", wire_rarp,
               wire_garp, guest_other, wire_other, ipbuf);
        fflush(stdout);
    }
    rte_eth_dev_stop(0);
    rte_eth_dev_stop(1);
    rte_eth_dev_close(0);
    rte_eth_dev_close(1);
    rte_eal_cleanup();
    return 0;
}
