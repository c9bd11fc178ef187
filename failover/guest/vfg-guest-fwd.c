/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vfailover-guest-fwd: sample DPDK guest application. Builds the vfg port
 * over the VF + virtio pair and forwards on it (macswap: every received
 * frame goes back out with source and destination MAC swapped), sleeping
 * when idle. A control socket (and SIGUSR1/SIGUSR2) lets the host side
 * ask for make-before-break before it unplugs the VF.
 *
 *   vfailover-guest-fwd EAL-ARGS -- [OPTIONS]
 *   vfailover-guest-fwd ctl SOCKET COMMAND [ARG]     (client)
 */
#include <config.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "vfg.h"

#define BURST 32
#define CTL_LINE_MAX 512

static volatile int quit;
static struct vfg *the_vfg;
static int busy_poll;
static unsigned int tx_budget_us = 1000;
static uint64_t rx_total, tx_total, tx_dropped;

static void
usage(const char *prog)
{
	printf("Usage: %s EAL-ARGS -- [OPTIONS]\n"
	       "       %s ctl SOCKET COMMAND [ARG]\n"
	       "Options:\n"
	       "  --mode failsafe|bonding  datapath flavour (default failsafe, VF preferred)\n"
	       "  --vf DEVARGS            the VF (default: the probed port with the virtio MAC)\n"
	       "  --virtio DEVARGS        the virtio-net device (default: the probed virtio port)\n"
	       "  --mac MAC               the pair's MAC (default: the virtio device's)\n"
	       "  --hotplug-poll MS       net_failsafe hotplug_poll (default 100)\n"
	       "  --watch MS              VF watcher period, 0 = off (default 10)\n"
	       "  --no-hotplug-events     do not start the EAL device event monitor\n"
	       "  --stock                 do not raise RMV nor watch: stock DPDK behaviour\n"
	       "  --ctl PATH              control socket (commands: list-commands)\n"
	       "  --busy-poll             never sleep when idle\n"
	       "  --stats SECONDS         print counters every SECONDS (default 0 = never)\n"
	       "  --duration SECONDS      exit after SECONDS (default: run until signalled)\n"
	       "Signals: SIGUSR1 = prepare-unplug, SIGUSR2 = cancel-unplug, SIGINT/SIGTERM = quit.\n",
	       prog, prog);
}

/* ---- control socket ---------------------------------------------------- */

static int
ctl_client(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[CTL_LINE_MAX];
	size_t off = 0;
	ssize_t n;
	int fd;

	if (argc < 4 || strlen(argv[2]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: %s ctl SOCKET COMMAND [ARG]\n", argv[0]);
		return 2;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[2]);
	snprintf(buf, sizeof(buf), "%s%s%s\n", argv[3], argc > 4 ? " " : "",
		 argc > 4 ? argv[4] : "");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", argv[0],
			argv[2], strerror(errno));
		return 1;
	}
	if (write(fd, buf, strlen(buf)) < 0)
		return 1;
	while (off < sizeof(buf) - 1 &&
	       (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += n;
	buf[off] = '\0';
	close(fd);
	fputs(buf, stdout);
	return strncmp(buf, "ok", 2) == 0 ? 0 : 1;
}

static void
ctl_status(char *out, size_t len)
{
	struct vfg_status st;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	vfg_status_get(the_vfg, &st);
	rte_ether_format_addr(mac, sizeof(mac), &st.mac);
	snprintf(out, len,
		 "ok port=%u tx=%s vf=%s vf_state=%s virtio=%s mac=%s removals=%" PRIu64
		 " returns=%" PRIu64 " rx=%" PRIu64 " tx=%" PRIu64 " tx_dropped=%" PRIu64 "\n",
		 st.port_id, vfg_path_name(st.tx_path),
		 st.vf_name[0] ? st.vf_name : "-", vfg_vf_state_name(st.vf_state),
		 st.virtio_name, mac, st.removals, st.returns, rx_total,
		 tx_total, tx_dropped);
}

static const char *const ctl_commands =
	"list-commands status prepare-unplug cancel-unplug vf-removed vf-add quit";

static void
ctl_handle(char *line, char *out, size_t len)
{
	char *arg = strchr(line, ' ');
	int ret;

	if (arg != NULL)
		*arg++ = '\0';
	if (strcmp(line, "list-commands") == 0) {
		snprintf(out, len, "ok %s\n", ctl_commands);
		return;
	} else if (strcmp(line, "status") == 0) {
		ctl_status(out, len);
		return;
	} else if (strcmp(line, "prepare-unplug") == 0) {
		ret = vfg_prepare_unplug(the_vfg);
	} else if (strcmp(line, "cancel-unplug") == 0) {
		ret = vfg_cancel_unplug(the_vfg);
	} else if (strcmp(line, "vf-removed") == 0) {
		ret = vfg_vf_removed(the_vfg);
	} else if (strcmp(line, "vf-add") == 0) {
		ret = vfg_vf_offer(the_vfg, arg);
	} else if (strcmp(line, "quit") == 0) {
		quit = 1;
		ret = 0;
	} else {
		snprintf(out, len, "error: unknown command '%.64s' (try list-commands)\n", line);
		return;
	}
	if (ret == 0)
		snprintf(out, len, "ok\n");
	else
		snprintf(out, len, "error: %.64s: %s\n", line, strerror(-ret));
}

static int
ctl_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "Control socket path %s is too long.\n", path);
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 8) != 0) {
		umask(old);
		fprintf(stderr, "Cannot listen on control socket %s: %s.\n",
			path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static void *
ctl_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	struct timeval tv = { .tv_sec = 2 };
	char line[CTL_LINE_MAX], out[CTL_LINE_MAX];
	struct ucred cred;
	socklen_t clen;
	size_t off;
	ssize_t n;
	char *nl;
	int fd;

	while (!quit) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
		    (cred.uid != 0 && cred.uid != getuid())) {
			close(fd);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		off = 0;
		nl = NULL;
		while (off < sizeof(line) - 1 &&
		       (n = read(fd, line + off, sizeof(line) - 1 - off)) > 0) {
			off += n;
			line[off] = '\0';
			nl = strchr(line, '\n');
			if (nl != NULL)
				break;
		}
		if (nl == NULL) {
			snprintf(out, sizeof(out), "error: expected one command line of at most %d bytes\n",
				 CTL_LINE_MAX - 2);
		} else {
			*nl = '\0';
			ctl_handle(line, out, sizeof(out));
		}
		if (write(fd, out, strlen(out)) < 0) {
			/* the client went away: nothing to tell it */
		}
		close(fd);
	}
	return NULL;
}

/* ---- forwarding ---------------------------------------------------------- */

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		vfg_prepare_unplug(the_vfg);
	else if (sig == SIGUSR2)
		vfg_cancel_unplug(the_vfg);
	else
		quit = 1;
}

static void
macswap(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr tmp = eh->dst_addr;

	eh->dst_addr = eh->src_addr;
	eh->src_addr = tmp;
}

static void
forward(uint16_t port, double duration, unsigned int stats_every)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t end = duration > 0 ? rte_rdtsc() + (uint64_t)(duration * hz) : 0;
	uint64_t next_stats = stats_every ? rte_rdtsc() + stats_every * hz : 0;
	unsigned int idle = 0;
	uint16_t nb, sent, i;

	while (!quit) {
		nb = rte_eth_rx_burst(port, 0, pkts, BURST);
		if (nb == 0) {
			/* Idle-aware: spin for 256 empty polls, then sleep
			 * 10 us more after each empty poll, at most 1 ms. */
			if (!busy_poll && ++idle > 256)
				rte_delay_us_sleep(RTE_MIN((idle - 256) * 10u, 1000u));
			if ((idle & 1023) == 0) {
				uint64_t now = rte_rdtsc();

				if (end && now > end)
					break;
				if (next_stats && now > next_stats) {
					printf("fwd: rx=%" PRIu64 " tx=%" PRIu64 " dropped=%" PRIu64 "\n",
					       rx_total, tx_total, tx_dropped);
					fflush(stdout);
					next_stats = now + stats_every * hz;
				}
			}
			continue;
		}
		idle = 0;
		rx_total += nb;
		for (i = 0; i < nb; i++)
			macswap(pkts[i]);
		/* Up to 1 ms for a full ring or a VF that just went (none
		 * in --stock mode: plain rte_eth_tx_burst()). */
		sent = vfg_tx_burst(the_vfg, 0, pkts, nb, tx_budget_us);
		tx_total += sent;
		if (sent < nb) {
			tx_dropped += nb - sent;
			rte_pktmbuf_free_bulk(pkts + sent, nb - sent);
		}
		if ((rx_total & 0x3fff) < nb) {
			uint64_t now = rte_rdtsc();

			if (end && now > end)
				break;
			if (next_stats && now > next_stats) {
				printf("fwd: rx=%" PRIu64 " tx=%" PRIu64 " dropped=%" PRIu64 "\n",
				       rx_total, tx_total, tx_dropped);
				fflush(stdout);
				next_stats = now + stats_every * hz;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "vf", required_argument, NULL, 'f' },
		{ "virtio", required_argument, NULL, 'v' },
		{ "mac", required_argument, NULL, 'a' },
		{ "hotplug-poll", required_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "no-hotplug-events", no_argument, NULL, 'E' },
		{ "stock", no_argument, NULL, 'S' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "busy-poll", no_argument, NULL, 'B' },
		{ "stats", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfg_conf conf;
	struct rte_mempool *mp;
	const char *ctl_path = NULL;
	unsigned int stats_every = 0;
	double duration = 0;
	pthread_t tid;
	char *end;
	int lfd = -1;
	int ret, c;
	long v;

	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_client(argc, argv);

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "%s: EAL initialisation failed: %s.\n", argv[0],
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	vfg_conf_init(&conf);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "failsafe") == 0) {
				conf.mode = VFG_MODE_FAILSAFE;
			} else if (strcmp(optarg, "bonding") == 0) {
				conf.mode = VFG_MODE_BONDING;
			} else {
				fprintf(stderr, "--mode takes failsafe or bonding, not '%s'.\n", optarg);
				return 2;
			}
			break;
		case 'f':
			conf.vf_devargs = optarg;
			break;
		case 'v':
			conf.virtio_devargs = optarg;
			break;
		case 'a':
			if (rte_ether_unformat_addr(optarg, &conf.mac) != 0) {
				fprintf(stderr, "--mac: '%s' is not a MAC address.\n", optarg);
				return 2;
			}
			break;
		case 'p':
		case 'w':
		case 's':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 3600000) {
				fprintf(stderr, "--%s: '%s' is not a number of %s in range.\n",
					c == 'p' ? "hotplug-poll" : c == 'w' ? "watch" : "stats",
					optarg, c == 's' ? "seconds" : "milliseconds");
				return 2;
			}
			if (c == 'p')
				conf.hotplug_poll_ms = v > 0 ? v : 1;
			else if (c == 'w')
				conf.watch_ms = v;
			else
				stats_every = v;
			break;
		case 'E':
			conf.hotplug_events = 0;
			break;
		case 'S':
			conf.raise_rmv = 0;
			conf.watch_ms = 0;
			conf.hotplug_events = 0;
			tx_budget_us = 0;
			break;
		case 'c':
			ctl_path = optarg;
			break;
		case 'B':
			busy_poll = 1;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || duration < 0 || duration > 86400) {
				fprintf(stderr, "--duration: '%s' is not a number of seconds in range.\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "Unexpected argument '%s' (see --help).\n", argv[optind]);
		return 2;
	}
	mp = rte_pktmbuf_pool_create("vfg_fwd_pool", 8191, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "Cannot create the mbuf pool: %s.\n",
			rte_strerror(rte_errno));
		return 1;
	}
	conf.mp = mp;
	the_vfg = vfg_create(&conf);
	if (the_vfg == NULL) {
		fprintf(stderr, "vfailover-guest-fwd: cannot build the datapath: %s.\n",
			rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	/* A vhost-user backend that went away must not kill the guest. */
	signal(SIGPIPE, SIG_IGN);
	if (ctl_path != NULL) {
		lfd = ctl_listen(ctl_path);
		if (lfd < 0 || rte_ctrl_thread_create(&tid, "vfg-ctl", NULL,
				ctl_thread, (void *)(intptr_t)lfd) != 0) {
			vfg_destroy(the_vfg);
			rte_eal_cleanup();
			return 1;
		}
	}
	printf("vfailover-guest-fwd: forwarding on port %u\n", vfg_port(the_vfg));
	fflush(stdout);
	forward(vfg_port(the_vfg), duration, stats_every);
	quit = 1;
	printf("vfailover-guest-fwd: rx=%" PRIu64 " tx=%" PRIu64 " dropped=%" PRIu64 "\n",
	       rx_total, tx_total, tx_dropped);
	if (lfd >= 0) {
		shutdown(lfd, SHUT_RDWR);
		unlink(ctl_path);
	}
	vfg_destroy(the_vfg);
	rte_eal_cleanup();
	return 0;
}
