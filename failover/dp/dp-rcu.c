/* Waiting for the forwarding worker to leave what it read under RCU (the
 * table, a pair's vhost device id), for every control-side file. */
#include "config.h"

#include <unistd.h>

#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "dp.h"

/* Wait until the worker has passed a quiescent state (or is offline).
 * Not rte_rcu_qsbr_synchronize: that spins until the worker reports, and
 * when the worker's core is shared (a test bed, a busy host) the worker
 * may be waiting for the very CPU time the spin takes; nor does anything
 * here need the answer within microseconds. So a few pauses, then naps
 * growing to 1 ms. */
void
dp_rcu_synchronize(void)
{
	uint64_t token = rte_rcu_qsbr_start(dp.rcu);
	unsigned int pauses = 0, nap_us = 10;

	while (rte_rcu_qsbr_check(dp.rcu, token, false) == 0) {
		if (pauses < 100) {
			pauses++;
			rte_pause();
			continue;
		}
		usleep(nap_us);
		if (nap_us < 1000)
			nap_us *= 2;
	}
}
