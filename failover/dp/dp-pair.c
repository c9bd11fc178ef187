/* Pairs (one VM interface: its MAC, its vhost-user port, its state) and
 * the forwarding table the worker reads. The control thread changes the
 * list under dp.lock, publishes a new table and waits for the worker's
 * quiescent state (RCU) before freeing anything the worker may touch; so
 * when a command returns, the worker already forwards by the new state. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <rte_malloc.h>

#include "dp.h"

const char *
dp_pair_state_name(enum dp_pair_state state)
{
	return state == DP_PAIR_VIRTIO_ACTIVE ? "virtio" : state == DP_PAIR_HOLD ? "hold" : "vf";
}

/* Called with dp.lock held. */
static int
publish_table(void)
{
	struct dp_table *t = rte_zmalloc("dp_table", sizeof(*t), 0);
	struct dp_table *old;

	if (!t)
		return -1;
	t->n = dp.n_pairs;
	memcpy(t->pair, dp.pairs, sizeof(t->pair[0]) * dp.n_pairs);
	old = __atomic_exchange_n(&dp.table, t, __ATOMIC_ACQ_REL);
	dp_rcu_synchronize();
	rte_free(old);
	return 0;
}

static int
pair_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < dp.n_pairs; i++)
		if (strcmp(dp.pairs[i]->name, name) == 0)
			return i;
	return -1;
}

struct dp_pair *
dp_pair_find(const char *name)
{
	int i = pair_index(name);

	return i < 0 ? NULL : dp.pairs[i];
}

static void
remove_index(unsigned int i)
{
	memmove(&dp.pairs[i], &dp.pairs[i + 1], sizeof(dp.pairs[0]) * (dp.n_pairs - i - 1));
	dp.n_pairs--;
	dp.pairs[dp.n_pairs] = NULL;
}

int
dp_pair_add(const char *name, const struct rte_ether_addr *mac, const char *socket,
	    bool client, char *err, size_t errlen, struct dp_pair **out)
{
	struct dp_pair *p;
	unsigned int i;
	int n;

	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "pair %s: out of memory", name);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->mac = *mac;
	p->client = client;
	p->vid = -1;
	p->state = DP_PAIR_VF_ACTIVE;
	p->mac_claim = -1;
	if (socket[0] == '/')
		n = snprintf(p->socket, sizeof(p->socket), "%s", socket);
	else
		n = snprintf(p->socket, sizeof(p->socket), "%s/%s", dp.vhost_dir, socket);
	if (n < 0 || (size_t)n >= sizeof(p->socket)) {
		snprintf(err, errlen, "pair %s: socket path too long", name);
		free(p);
		return -1;
	}

	pthread_mutex_lock(&dp.lock);
	for (i = 0; i < dp.n_pairs; i++) {
		const struct dp_pair *q = dp.pairs[i];
		char buf[RTE_ETHER_ADDR_FMT_SIZE];

		if (strcmp(q->name, name) == 0) {
			/* The same pair again (hookd resyncing after its own
			 * restart) is fine; a different one is not. */
			if (rte_is_same_ether_addr(&q->mac, mac) && q->client == client &&
			    strcmp(q->socket, p->socket) == 0) {
				pthread_mutex_unlock(&dp.lock);
				free(p);
				if (out)
					*out = (struct dp_pair *)q;
				return 1;
			}
			snprintf(err, errlen,
				 "pair %s already exists with another MAC, socket or mode (delete it first)",
				 name);
			goto fail_locked;
		}
		if (rte_is_same_ether_addr(&q->mac, mac)) {
			dp_format_mac(buf, sizeof(buf), mac);
			snprintf(err, errlen, "pair %s: MAC %s is already used by pair %s",
				 name, buf, q->name);
			goto fail_locked;
		}
		if (strcmp(q->socket, p->socket) == 0) {
			snprintf(err, errlen, "pair %s: socket %s is already used by pair %s",
				 name, p->socket, q->name);
			goto fail_locked;
		}
	}
	if (dp.n_pairs == DP_MAX_PAIRS) {
		snprintf(err, errlen, "pair %s: too many pairs (at most %d)", name, DP_MAX_PAIRS);
		goto fail_locked;
	}
	dp.pairs[dp.n_pairs++] = p;
	if (publish_table() < 0) {
		remove_index(dp.n_pairs - 1);
		snprintf(err, errlen, "pair %s: out of memory", name);
		goto fail_locked;
	}
	pthread_mutex_unlock(&dp.lock);

	if (dp_vhost_start(p, err, errlen) < 0) {
		pthread_mutex_lock(&dp.lock);
		remove_index(pair_index(name));
		publish_table();
		pthread_mutex_unlock(&dp.lock);
		free(p);
		return -1;
	}
	DP_LOG(INFO, "pair %s added: socket %s (%s mode), state vf", name, p->socket,
	       client ? "client" : "server");
	if (out)
		*out = p;
	return 0;

fail_locked:
	pthread_mutex_unlock(&dp.lock);
	free(p);
	return -1;
}

int
dp_pair_del(const char *name, char *err, size_t errlen)
{
	struct dp_pair *p;
	int i;

	pthread_mutex_lock(&dp.lock);
	i = pair_index(name);
	if (i < 0) {
		pthread_mutex_unlock(&dp.lock);
		snprintf(err, errlen, "no pair named %s", name);
		return -1;
	}
	p = dp.pairs[i];
	remove_index(i);
	while (publish_table() < 0)
		dp_rcu_synchronize();
	if (p->mac_claim >= 0)
		dp_port_release_mac(&p->mac, p->mac_claim == 1);
	pthread_mutex_unlock(&dp.lock);
	/* The worker no longer sees @p; rte_vhost may still call back. */
	dp_vhost_stop(p);
	rte_pktmbuf_free_bulk(p->held, p->n_held);
	DP_LOG(INFO, "pair %s deleted", name);
	free(p);
	return 0;
}

void
dp_pair_del_all(void)
{
	char err[256];
	char name[DP_NAME_MAX];

	for (;;) {
		pthread_mutex_lock(&dp.lock);
		if (dp.n_pairs == 0) {
			pthread_mutex_unlock(&dp.lock);
			return;
		}
		snprintf(name, sizeof(name), "%s", dp.pairs[0]->name);
		pthread_mutex_unlock(&dp.lock);
		dp_pair_del(name, err, sizeof(err));
	}
}

int
dp_pair_set_state(const char *name, enum dp_pair_state state, bool announce_now,
		  bool relay, enum dp_pair_state *previous, char *err, size_t errlen)
{
	gint64 t0 = g_get_monotonic_time(), t_locked, t_mac = 0, t_synced = 0, t_end;
	struct dp_pair *p;
	int ret = 0, claim;

	pthread_mutex_lock(&dp.lock);
	t_locked = g_get_monotonic_time();
	p = dp_pair_find(name);
	if (!p) {
		snprintf(err, errlen, "no pair named %s", name);
		ret = -1;
		goto out;
	}
	*previous = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&p->relay, relay, __ATOMIC_ACQ_REL) != relay)
		DP_LOG(INFO, "pair %s: relay %s", name, relay ? "on" : "off");
	if (*previous == state)
		goto out;
	if (state != DP_PAIR_VF_ACTIVE) {
		/* Claim first: from the moment the state flips, frames for
		 * the MAC must be able to arrive (HOLD <-> VIRTIO_ACTIVE
		 * keeps the claim). */
		if (p->mac_claim < 0) {
			t_mac = g_get_monotonic_time();
			claim = dp_port_claim_mac(&p->mac, err, errlen);
			t_mac = g_get_monotonic_time() - t_mac;
			if (claim < 0) {
				ret = -1;
				goto out;
			}
			p->mac_claim = claim;
		}
		__atomic_store_n(&p->state, state, __ATOMIC_RELEASE);
		if (announce_now)
			__atomic_store_n(&p->announce, DP_ANNOUNCE_VIRTIO, __ATOMIC_RELEASE);
		t_synced = g_get_monotonic_time();
		dp_rcu_synchronize();
		t_synced = g_get_monotonic_time() - t_synced;
	} else {
		__atomic_store_n(&p->state, state, __ATOMIC_RELEASE);
		t_synced = g_get_monotonic_time();
		dp_rcu_synchronize();
		t_synced = g_get_monotonic_time() - t_synced;
		t_mac = g_get_monotonic_time();
		if (p->mac_claim >= 0)
			dp_port_release_mac(&p->mac, p->mac_claim == 1);
		p->mac_claim = -1;
		t_mac = g_get_monotonic_time() - t_mac;
	}
	t_end = g_get_monotonic_time();
	DP_LOG(INFO, "pair %s: %s -> %s", name, dp_pair_state_name(*previous),
	       dp_pair_state_name(state));
	/* A caller (hookd at the guest's unplug) waits for this: say where
	 * the time went when it was long. */
	if (t_end - t0 >= DP_SLOW_CALL_US)
		DP_LOG(NOTICE, "pair %s: %s -> %s took %" G_GINT64_FORMAT " ms (waiting for the lock %" G_GINT64_FORMAT
		       ", the uplink's MAC filter or promiscuous mode %" G_GINT64_FORMAT
		       ", the worker's quiescent state %" G_GINT64_FORMAT ")",
		       name, dp_pair_state_name(*previous), dp_pair_state_name(state),
		       (t_end - t0) / 1000, (t_locked - t0) / 1000, t_mac / 1000, t_synced / 1000);
out:
	pthread_mutex_unlock(&dp.lock);
	return ret;
}

/* Re-announce every pair in virtio or hold state (the uplink changed). */
void
dp_pair_announce_all(void)
{
	unsigned int i;

	pthread_mutex_lock(&dp.lock);
	for (i = 0; i < dp.n_pairs; i++)
		if (__atomic_load_n(&dp.pairs[i]->state, __ATOMIC_RELAXED) != DP_PAIR_VF_ACTIVE)
			__atomic_store_n(&dp.pairs[i]->announce, DP_ANNOUNCE_VIRTIO, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dp.lock);
}

int
dp_pair_announce(const char *name, char *err, size_t errlen)
{
	struct dp_pair *p;
	int ret = 0;

	pthread_mutex_lock(&dp.lock);
	p = dp_pair_find(name);
	if (p)
		__atomic_store_n(&p->announce, DP_ANNOUNCE_ANY, __ATOMIC_RELEASE);
	else {
		snprintf(err, errlen, "no pair named %s", name);
		ret = -1;
	}
	pthread_mutex_unlock(&dp.lock);
	return ret;
}
