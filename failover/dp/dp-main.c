/* vfailover-dp entry point: EAL initialisation, the datapath's own options
 * (after "--"), start-up order (pool, uplink, RCU, control socket,
 * telemetry), the forwarding loop on the main lcore, and orderly shutdown
 * on SIGINT/SIGTERM. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"

struct dp_ctx dp = {
	.ctl_path = RUNSTATEDIR "/vfailover/dp.sock",
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.vhost_dir = RUNSTATEDIR "/vfailover/vhost",
	.vhost_owner = "libvirt-qemu",
	.n_mbufs = 16383,
	.hold_ms = DP_HOLD_MS,
};
int dp_logtype;

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- --uplink DEVARGS [options]\n"
	       "  --ctl PATH           control socket, root only, 0600 (default %s)\n"
	       "  --uplink DEVARGS     uplink port (e.g. net_af_packet0,iface=eth1)\n"
	       "  --uplink2 DEVARGS    backup uplink: both bonded active-backup\n"
	       "  --vhost-dir DIR      directory of relative vhost-user socket names\n"
	       "                       (default %s)\n"
	       "  --vhost-owner USER   user QEMU runs as; sockets are given to it\n"
	       "                       (default libvirt-qemu, \"\" for none)\n"
	       "  --busy-poll          never sleep when idle (dedicated core)\n"
	       "  --mbufs N            mbufs in the pool (default 16383)\n"
	       "  --hold-ms MS         longest a pair in hold state keeps frames\n"
	       "                       (default %d)\n"
	       "  --help               this text\n", prog, RUNSTATEDIR "/vfailover/dp.sock",
	       RUNSTATEDIR "/vfailover/vhost", DP_HOLD_MS);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "uplink2", required_argument, NULL, 'U' },
		{ "vhost-dir", required_argument, NULL, 'd' },
		{ "vhost-owner", required_argument, NULL, 'o' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long n;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': dp.ctl_path = optarg; break;
		case 'u': dp.uplink_args = optarg; break;
		case 'U': dp.uplink2_args = optarg; break;
		case 'd': dp.vhost_dir = optarg; break;
		case 'o': dp.vhost_owner = optarg; break;
		case 'b': dp.busy_poll = true; break;
		case 'm':
			n = strtoul(optarg, &end, 10);
			if (*end || n < 1024 || n > 1048576) {
				fprintf(stderr, "vfailover-dp: --mbufs takes a number from 1024 to 1048576, not '%s'\n",
					optarg);
				return -1;
			}
			dp.n_mbufs = n;
			break;
		case 'H':
			n = strtoul(optarg, &end, 10);
			if (*end || !*optarg || n < 1 || n > 60000) {
				fprintf(stderr, "vfailover-dp: --hold-ms takes a number from 1 to 60000, not '%s'\n",
					optarg);
				return -1;
			}
			dp.hold_ms = n;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vfailover-dp: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!dp.uplink_args) {
		fprintf(stderr, "vfailover-dp: --uplink DEVARGS is required (see --help)\n");
		return -1;
	}
	if (dp.uplink2_args && strcmp(dp.uplink_args, dp.uplink2_args) == 0) {
		fprintf(stderr, "vfailover-dp: --uplink and --uplink2 name the same device '%s'\n",
			dp.uplink_args);
		return -1;
	}
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	dp.quit = true;
}

static int
rcu_init(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);

	dp.rcu = rte_zmalloc("dp_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!dp.rcu || rte_rcu_qsbr_init(dp.rcu, 1) != 0) {
		DP_LOG(ERR, "cannot set up RCU for the forwarding table");
		return -1;
	}
	dp.table = rte_zmalloc("dp_table", sizeof(*dp.table), 0);
	if (!dp.table) {
		DP_LOG(ERR, "cannot allocate the forwarding table");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int ret, rc = 1;

	/* Help without EAL noise. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(argv[0]);
			return 0;
		}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vfailover-dp: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"vfailover-dp";
	dp_logtype = rte_log_register_type_and_pick_level("vfailover.dp", RTE_LOG_INFO);
	if (dp_logtype < 0)
		dp_logtype = RTE_LOGTYPE_USER1;
	if (parse_args(argc, argv) < 0)
		goto out_eal;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (dp_vhost_owner_init() < 0 || rcu_init() < 0)
		goto out_eal;
	if (dp_port_init() < 0)
		goto out_port;
	if (dp_telemetry_register() < 0)
		goto out_port;
	if (dp_ctl_start() < 0)
		goto out_port;
	DP_LOG(INFO, "ready: control socket %s, uplink port %u (%s%s), %s polling",
	       dp.ctl_path, dp.uplink_port, dp.uplink_args,
	       dp.uplink_bonded ? " bonded active-backup" : "",
	       dp.busy_poll ? "busy" : "adaptive");

	rc = dp_fwd_loop() < 0;

	dp_ctl_stop();
	dp_pair_del_all();
out_port:
	dp_port_close();
	if (dp.pool)
		DP_LOG(INFO, "stopped: %u mbufs still in use",
		       rte_mempool_in_use_count(dp.pool) +
		       (dp.reserve ? rte_mempool_in_use_count(dp.reserve) : 0));
out_eal:
	rte_eal_cleanup();
	return rc;
}
