/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vfg-peer: the host side of the guest-failover tests and benchmark. One
 * DPDK process, one lcore: it sends sequence-numbered frames at a fixed
 * rate to the guest on the virtio path (net_vhost), receives the guest's
 * macswapped replies on both paths (net_vhost, and a packet socket on the
 * kernel netdev of the guest's VF stand-in, re-bound by name whenever that
 * netdev vanishes and comes back), and reports, per path switch seen by
 * the receiver, when it happened and how many sequence numbers never came
 * back.
 *
 *   vfg-peer EAL-ARGS -- --dst MAC --rate PPS --duration S
 *            --virtio-port NAME --vf-iface NETDEV [--warmup MS]
 *            [--send virtio|vf-first] [--attrib-ms MS]
 *
 * A run of lost frames counts for the nearest switch if it is within
 * --attrib-ms (default 50) of traffic from it, else as lost_other.
 *
 * --send vf-first sends on the VF path while its netdev is there (as the
 * host's embedded switch steers the VM's MAC to the VF), else on virtio:
 * net_bonding mode 1 receives only on its active slave.
 *
 * Frames sent in the first --warmup ms after the guest took the first one
 * are not analysed (the guest is still bringing its VF in).
 *
 * Output (stdout): key=value lines; "switch ..." one per path change;
 * "gap ..." one per run of lost frames.
 */
#include <config.h>
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32
#define PEER_ETHERTYPE 0x88b5
#define PEER_MAGIC 0x76666721u
#define MAX_SWITCHES 64

struct peer_payload {
	uint32_t magic;
	uint64_t seq;
} __rte_packed;

enum { PATH_VIRTIO = 0, PATH_VF = 1 };
static const char *const path_names[] = { "virtio", "vf" };

struct sw_event {
	int from, to;
	uint64_t first_seq;     /* first seq received on the new path */
	uint64_t prev_max_seq;  /* highest seq seen before, on any path */
	double t_ms;            /* wall clock (CLOCK_REALTIME) */
	double gap_ms;          /* rx time since the last frame on the old path */
};

static volatile int quit;

/* The VF path: a packet socket on the stand-in's netdev. When that netdev
 * goes, frames the guest sent before may still be queued on the socket
 * (the kernel keeps them; the first read after the netdev went down fails
 * once with ENETDOWN): the old socket is kept as old_fd and read until it
 * is empty before it is closed. */
struct vf_sock {
	const char *iface;
	unsigned int ifindex;
	int fd;
	int old_fd;
};

/* Stop using the current socket; what it queued is still read. */
static void
vf_sock_retire(struct vf_sock *vs)
{
	if (vs->fd >= 0) {
		if (vs->old_fd >= 0)
			close(vs->old_fd);
		vs->old_fd = vs->fd;
	}
	vs->fd = -1;
	vs->ifindex = 0;
}

static void
vf_sock_refresh(struct vf_sock *vs)
{
	struct sockaddr_ll sll;
	unsigned int idx = if_nametoindex(vs->iface);
	int rcvbuf = 8 << 20;

	if (vs->fd >= 0 && idx == vs->ifindex)
		return;
	vf_sock_retire(vs);
	vs->ifindex = 0;
	if (idx == 0)
		return;
	vs->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));
	if (vs->fd < 0)
		return;
	setsockopt(vs->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = idx;
	if (bind(vs->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		close(vs->fd);
		vs->fd = -1;
		return;
	}
	vs->ifindex = idx;
}

/* Read up to BURST frames from the VF path: first what is left on a
 * replaced socket (closed once empty), then the current one. Returns the
 * number read, 0 if none. */
static int
vf_sock_recv(struct vf_sock *vs, struct mmsghdr *msgs)
{
	int n, tries;

	for (tries = 0; vs->old_fd >= 0 && tries < 3; tries++) {
		/* ENETDOWN is reported once; the queue is still there. */
		n = recvmmsg(vs->old_fd, msgs, BURST, MSG_DONTWAIT, NULL);
		if (n > 0)
			return n;
		if (n < 0 && (errno == ENETDOWN || errno == EINTR))
			continue;
		break;
	}
	if (vs->old_fd >= 0) {
		close(vs->old_fd);
		vs->old_fd = -1;
	}
	if (vs->fd < 0)
		return 0;
	n = recvmmsg(vs->fd, msgs, BURST, MSG_DONTWAIT, NULL);
	if (n >= 0)
		return n;
	/* ENETDOWN: the netdev went down; what it queued stays readable
	 * and the refresh replaces the socket if the netdev is gone. */
	if (errno != EAGAIN && errno != EINTR && errno != ENETDOWN)
		vf_sock_retire(vs);
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
setup_port(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), NULL, mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		rte_eth_promiscuous_enable(port);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 't' },
		{ "virtio-port", required_argument, NULL, 'v' },
		{ "vf-iface", required_argument, NULL, 'f' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "send", required_argument, NULL, 's' },
		{ "attrib-ms", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct rte_ether_addr dst, src = {{ 0x02, 0, 0, 0, 0, 0xfe }};
	const char *virtio_name = NULL, *vf_name = NULL;
	double rate = 10000, duration = 5, warmup_ms = 0;
	uint64_t warm_seq = 0, warm_end = 0;
	int send_vf_first = 0;
	double attrib_ms = 50;
	static uint8_t tbuf[BURST][64];
	struct mmsghdr tmsgs[BURST];
	struct iovec tiovs[BURST];
	uint16_t ports[1];
	struct vf_sock vs = { .fd = -1, .old_fd = -1 };
	static uint8_t vbuf[BURST][128];
	struct mmsghdr msgs[BURST];
	struct iovec iovs[BURST];
	uint64_t next_refresh = 0;
	struct rte_mempool *mp;
	struct rte_mbuf *pkts[BURST];
	struct sw_event ev[MAX_SWITCHES];
	uint8_t *seen;
	uint64_t nb_seq, seq = 0, rx[2] = { 0, 0 }, dup = 0, foreign = 0;
	uint64_t max_seq = 0, lost = 0, hz, start, end, now, tx_full = 0;
	double last_rx_ms[2] = { 0, 0 };
	int nb_ev = 0, last_path = -1, have_dst = 0, ret, c, p;
	uint16_t nb, i, sent;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vfg-peer: EAL initialisation failed.\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			have_dst = rte_ether_unformat_addr(optarg, &dst) == 0;
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 't':
			duration = strtod(optarg, NULL);
			break;
		case 'v':
			virtio_name = optarg;
			break;
		case 'f':
			vf_name = optarg;
			break;
		case 'w':
			warmup_ms = strtod(optarg, NULL);
			break;
		case 's':
			send_vf_first = strcmp(optarg, "vf-first") == 0;
			break;
		case 'a':
			attrib_ms = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (!have_dst || virtio_name == NULL || vf_name == NULL ||
	    rate <= 0 || rate > 1e8 || duration <= 0 || duration > 600) {
		fprintf(stderr, "vfg-peer: need --dst MAC, --virtio-port, --vf-iface, a rate and a duration in range.\n");
		return 2;
	}
	if (rte_eth_dev_get_port_by_name(virtio_name, &ports[PATH_VIRTIO]) != 0) {
		fprintf(stderr, "vfg-peer: port %s must exist.\n", virtio_name);
		return 1;
	}
	vs.iface = vf_name;
	for (i = 0; i < BURST; i++) {
		iovs[i].iov_base = vbuf[i];
		iovs[i].iov_len = sizeof(vbuf[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		tiovs[i].iov_base = tbuf[i];
		tiovs[i].iov_len = sizeof(tbuf[i]);
		memset(&tmsgs[i], 0, sizeof(tmsgs[i]));
		tmsgs[i].msg_hdr.msg_iov = &tiovs[i];
		tmsgs[i].msg_hdr.msg_iovlen = 1;
	}
	mp = rte_pktmbuf_pool_create("peer_pool", 16383, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL || setup_port(ports[0], mp) != 0) {
		fprintf(stderr, "vfg-peer: port setup failed.\n");
		return 1;
	}
	nb_seq = (uint64_t)(rate * duration) + BURST;
	seen = calloc(nb_seq, 1);
	if (seen == NULL)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("peer: ready\n");
	fflush(stdout);

	hz = rte_get_tsc_hz();
	start = rte_rdtsc();
	end = start + (uint64_t)(duration * hz);
	/* Run for duration, then 300 ms more to drain replies in flight. */
	while (!quit && (now = rte_rdtsc()) < end + hz * 3 / 10) {
		if (now < end && seq < nb_seq - BURST) {
			uint64_t due = (uint64_t)((double)(now - start) * rate / hz);
			uint16_t want = due > seq ? (due - seq > BURST ? BURST : due - seq) : 0;

			if (want > 0 && send_vf_first && vs.fd >= 0) {
				int n;

				for (i = 0; i < want; i++) {
					struct rte_ether_hdr *eh = (struct rte_ether_hdr *)tbuf[i];
					struct peer_payload *pl = (struct peer_payload *)(eh + 1);

					eh->dst_addr = dst;
					eh->src_addr = src;
					eh->ether_type = rte_cpu_to_be_16(PEER_ETHERTYPE);
					pl->magic = PEER_MAGIC;
					pl->seq = seq + i;
				}
				n = sendmmsg(vs.fd, tmsgs, want, MSG_DONTWAIT);
				if (n < 0 && errno != EAGAIN && errno != ENOBUFS &&
				    errno != EINTR)
					vf_sock_retire(&vs);
				if (n > 0) {
					if (seq == 0)
						warm_end = now + (uint64_t)(warmup_ms * hz / 1e3);
					seq += n;
					if (now < warm_end || warm_end == 0)
						warm_seq = seq;
				}
			} else if (want > 0 && rte_pktmbuf_alloc_bulk(mp, pkts, want) == 0) {
				for (i = 0; i < want; i++) {
					struct rte_ether_hdr *eh;
					struct peer_payload *pl;

					eh = (struct rte_ether_hdr *)rte_pktmbuf_append(pkts[i], 60);
					eh->dst_addr = dst;
					eh->src_addr = src;
					eh->ether_type = rte_cpu_to_be_16(PEER_ETHERTYPE);
					pl = (struct peer_payload *)(eh + 1);
					pl->magic = PEER_MAGIC;
					pl->seq = seq + i;
				}
				sent = rte_eth_tx_burst(ports[PATH_VIRTIO], 0, pkts, want);
				/* Unsent frames were never offered: their seq is
				 * reused, so a gap always means a lost frame. */
				if (sent < want) {
					tx_full += want - sent;
					rte_pktmbuf_free_bulk(pkts + sent, want - sent);
				}
				if (seq == 0 && sent > 0)
					warm_end = now + (uint64_t)(warmup_ms * hz / 1e3);
				seq += sent;
				if (now < warm_end || warm_end == 0)
					warm_seq = seq;
			}
		}
		if (now > next_refresh) {
			vf_sock_refresh(&vs);
			next_refresh = now + hz / 100;
		}
		for (p = 0; p < 2; p++) {
			int n = 0, k;

			if (p == PATH_VIRTIO) {
				nb = rte_eth_rx_burst(ports[PATH_VIRTIO], 0, pkts, BURST);
				n = nb;
			} else {
				n = vf_sock_recv(&vs, msgs);
			}
			for (k = 0; k < n; k++) {
				const uint8_t *frame;
				uint32_t flen;
				const struct rte_ether_hdr *eh;
				const struct peer_payload *pl;
				uint64_t s;

				if (p == PATH_VIRTIO) {
					frame = rte_pktmbuf_mtod(pkts[k], const uint8_t *);
					flen = rte_pktmbuf_data_len(pkts[k]);
				} else {
					frame = vbuf[k];
					flen = msgs[k].msg_len;
				}
				eh = (const struct rte_ether_hdr *)frame;
				pl = (const struct peer_payload *)(eh + 1);
				if (flen < sizeof(*eh) + sizeof(*pl) ||
				    eh->ether_type != rte_cpu_to_be_16(PEER_ETHERTYPE) ||
				    pl->magic != PEER_MAGIC || pl->seq >= nb_seq) {
					foreign++;
					continue;
				}
				s = pl->seq;
				if (seen[s]) {
					dup++;
					continue;
				}
				seen[s] = 1;
				rx[p]++;
				if (p != last_path) {
					double t = now_ms();

					if (last_path >= 0 && nb_ev < MAX_SWITCHES &&
					    s >= warm_seq) {
						ev[nb_ev].from = last_path;
						ev[nb_ev].to = p;
						ev[nb_ev].first_seq = s;
						ev[nb_ev].prev_max_seq = max_seq;
						ev[nb_ev].t_ms = t;
						ev[nb_ev].gap_ms = t - last_rx_ms[last_path];
						nb_ev++;
					}
					last_path = p;
				}
				if (s > max_seq)
					max_seq = s;
			}
			if (n > 0) {
				last_rx_ms[p] = now_ms();
				if (p == PATH_VIRTIO)
					rte_pktmbuf_free_bulk(pkts, n);
			}
		}
	}

	/* Losses: runs of unseen seqs; each run goes to the nearest switch. */
	{
		uint64_t ev_lost[MAX_SWITCHES] = { 0 };
		uint64_t other_lost = 0, s = warm_seq, run_start;
		int k, best;

		while (s < seq) {
			if (seen[s]) {
				s++;
				continue;
			}
			run_start = s;
			while (s < seq && !seen[s])
				s++;
			lost += s - run_start;
			best = -1;
			for (k = 0; k < nb_ev; k++) {
				uint64_t d = ev[k].first_seq > run_start ?
					ev[k].first_seq - run_start : run_start - ev[k].first_seq;
				if (d <= (uint64_t)(attrib_ms * rate / 1e3) &&
				    (best < 0 || d < (ev[best].first_seq > run_start ?
					ev[best].first_seq - run_start : run_start - ev[best].first_seq)))
					best = k;
			}
			if (best >= 0)
				ev_lost[best] += s - run_start;
			else
				other_lost += s - run_start;
			printf("gap first_seq=%" PRIu64 " lost=%" PRIu64 " at_ms=%.1f\n",
			       run_start, s - run_start, run_start * 1e3 / rate);
		}
		{
			/* Background loss (away from every switch), scaled to
			 * one attribution window: what a switch window would
			 * have lost anyway. excess = lost - that. */
			double win = 2 * attrib_ms * rate / 1e3;
			double away = (double)(seq - warm_seq) - nb_ev * win;
			double bg = away > 0 ? other_lost * win / away : 0;

			for (k = 0; k < nb_ev; k++) {
				double ex = ev_lost[k] - bg;

				printf("switch n=%d from=%s to=%s t_ms=%.1f rx_gap_ms=%.2f first_seq=%" PRIu64
				       " background=%.0f excess=%.0f lost=%" PRIu64 "\n", k,
				       path_names[ev[k].from], path_names[ev[k].to],
				       ev[k].t_ms, ev[k].gap_ms, ev[k].first_seq, bg,
				       ex > 0 ? ex : 0, ev_lost[k]);
			}
		}
		printf("lost_other=%" PRIu64 "\n", other_lost);
	}
	printf("sent=%" PRIu64 "\nreceived=%" PRIu64 "\nlost=%" PRIu64 "\nrx_vf=%" PRIu64
	       "\nrx_virtio=%" PRIu64 "\ndup=%" PRIu64 "\nforeign=%" PRIu64
	       "\ntx_ring_full=%" PRIu64 "\nswitches=%d\nlast_path=%s\noffered_pps=%.0f\nwarmup_frames=%" PRIu64 "\n",
	       seq, rx[0] + rx[1], lost, rx[PATH_VF], rx[PATH_VIRTIO], dup, foreign,
	       tx_full, nb_ev, last_path >= 0 ? path_names[last_path] : "none",
	       seq / duration, warm_seq);
	fflush(stdout);
	free(seen);
	rte_eth_dev_stop(ports[0]);
	if (vs.fd >= 0)
		close(vs.fd);
	if (vs.old_fd >= 0)
		close(vs.old_fd);
	rte_eal_cleanup();
	return 0;
}
