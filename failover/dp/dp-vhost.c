/* vhost-user ports through rte_vhost: one socket per pair, server mode (we
 * listen, QEMU reconnects) or client mode (QEMU listens, rte_vhost
 * reconnects). The socket must be reachable by the user QEMU runs as: its
 * directory chain is checked and a server socket is handed to that user.
 * Device callbacks publish the vhost device id to the worker; a device is
 * only torn down after the worker passed a quiescent state. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "dp.h"

/* Offloads stay off: the uplink gets plain frames no larger than the MTU. */
#define DP_VHOST_DISABLED_FEATURES \
	((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) | \
	 (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

static gid_t owner_groups[64];
static int n_owner_groups;

int
dp_vhost_owner_init(void)
{
	struct passwd *pw;

	/* The default socket directory is ours to create. */
	if (mkdir(dp.vhost_dir, 0755) < 0 && errno != EEXIST && errno != ENOENT)
		DP_LOG(WARNING, "cannot create vhost-user socket directory %s: %s",
		       dp.vhost_dir, strerror(errno));
	if (!dp.vhost_owner || !*dp.vhost_owner)
		return 0;
	pw = getpwnam(dp.vhost_owner);
	if (!pw) {
		DP_LOG(WARNING, "user '%s' (--vhost-owner) does not exist: vhost-user sockets stay root-only",
		       dp.vhost_owner);
		return 0;
	}
	dp.owner_uid = pw->pw_uid;
	dp.owner_gid = pw->pw_gid;
	dp.have_owner = true;
	n_owner_groups = RTE_DIM(owner_groups);
	if (getgrouplist(pw->pw_name, pw->pw_gid, owner_groups, &n_owner_groups) < 0)
		n_owner_groups = 0;
	return 0;
}

/* Whether the owner user has @want (S_IXOTH, S_IWOTH... as "other" bits)
 * on a file of this stat. */
static bool
owner_may(const struct stat *st, mode_t want)
{
	int i;

	if (st->st_uid == dp.owner_uid)
		return st->st_mode & (want << 6);
	for (i = 0; i < n_owner_groups; i++)
		if (st->st_gid == owner_groups[i])
			return st->st_mode & (want << 3);
	return st->st_mode & want;
}

/* Check that the owner user can reach @dir (search on every component;
 * write on @dir itself when QEMU creates the socket). */
static int
check_dir(const char *dir, bool need_write, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i, len = strlen(dir);

	if (len >= sizeof(path)) {
		snprintf(err, errlen, "vhost-user socket directory %s: path too long", dir);
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "vhost-user socket directory %s does not exist", dir);
		return -1;
	}
	if (!dp.have_owner)
		return 0;
	for (i = 1; i <= len; i++) {
		if (i < len && dir[i] != '/')
			continue;
		memcpy(path, dir, i);
		path[i] = '\0';
		if (stat(path, &st) < 0)
			continue;
		if (!owner_may(&st, S_IXOTH)) {
			snprintf(err, errlen,
				 "vhost-user socket directory %s is not reachable by QEMU's user %s: no search permission on %s (mode %04o)",
				 dir, dp.vhost_owner, path, (unsigned int)(st.st_mode & 07777));
			return -1;
		}
	}
	if (need_write && !owner_may(&st, S_IWOTH)) {
		snprintf(err, errlen,
			 "vhost-user socket directory %s is not writable by QEMU's user %s (mode %04o): QEMU cannot create the socket",
			 dir, dp.vhost_owner, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static struct dp_pair *
pair_by_vid(int vid)
{
	unsigned int i;

	for (i = 0; i < dp.n_pairs; i++)
		if (__atomic_load_n(&dp.pairs[i]->vid, __ATOMIC_RELAXED) == vid)
			return dp.pairs[i];
	return NULL;
}

/* The worker polls every queue: the guest need not kick us. A kick is an
 * eventfd write in the guest (a VM exit for QEMU); leaving notifications
 * on made a virtio-user generator spend most of its time kicking. */
static void
quiet_guest(int vid, uint16_t queue)
{
	if (rte_vhost_enable_guest_notification(vid, queue, 0) < 0)
		DP_LOG(DEBUG, "vhost device %d: queue %u: guest notifications stay on", vid, queue);
}

static int
on_new_device(int vid)
{
	char path[PATH_MAX] = "";
	uint64_t features = 0;
	struct dp_pair *p = NULL;
	unsigned int i;
	uint16_t nr;

	rte_vhost_get_ifname(vid, path, sizeof(path));
	rte_vhost_get_negotiated_features(vid, &features);
	nr = rte_vhost_get_vring_num(vid);
	if (nr < 2) {
		DP_LOG(ERR, "vhost-user socket %s: guest set up %u virtqueue(s), need an Rx and a Tx queue: device refused",
		       path, nr);
		return -1;
	}
	for (i = 0; i < nr; i++)
		quiet_guest(vid, i);
	pthread_mutex_lock(&dp.lock);
	for (i = 0; i < dp.n_pairs; i++)
		if (strcmp(dp.pairs[i]->socket, path) == 0)
			p = dp.pairs[i];
	if (p) {
		p->connects++;
		__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
		/* A guest whose virtio device starts runs here now: QEMU
		 * starts it when the VM runs (boot, the end of an incoming
		 * migration, a source resuming after a failed one), so the
		 * MAC is announced from here in any state: on a migration
		 * destination this is the earliest sign that the VM moved,
		 * before the guest itself sends anything (hookd hears of
		 * the resume ~0.1-0.2 s later). In vf state the VF delivers
		 * what the announcement draws here. */
		__atomic_store_n(&p->announce, DP_ANNOUNCE_ANY, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&dp.lock);
	if (!p) {
		DP_LOG(ERR, "vhost-user socket %s: device %d belongs to no pair: refused", path, vid);
		return -1;
	}
	DP_LOG(INFO, "pair %s: guest connected on %s (device %d, %u queues, features 0x%" PRIx64 "%s)",
	       p->name, path, vid, nr, features,
	       (features & (1ULL << VIRTIO_F_VERSION_1)) ? "" : ", legacy virtio");
	return 0;
}

static void
on_destroy_device(int vid)
{
	struct dp_pair *p;

	pthread_mutex_lock(&dp.lock);
	p = pair_by_vid(vid);
	if (p) {
		__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
		p->disconnects++;
	}
	pthread_mutex_unlock(&dp.lock);
	/* The worker may be inside a burst on this device: wait until it
	 * passed a quiescent state before rte_vhost frees the rings. */
	dp_rcu_synchronize();
	if (p)
		DP_LOG(INFO, "pair %s: guest disconnected from %s (device %d)",
		       p->name, p->socket, vid);
}

static int
on_vring_state_changed(int vid, uint16_t queue_id, int enable)
{
	DP_LOG(DEBUG, "vhost device %d: queue %u %s", vid, queue_id,
	       enable ? "enabled" : "disabled");
	/* No rte_vhost_enable_guest_notification() here: rte_vhost calls
	 * this with the queue's lock held (it would spin forever). */
	return 0;
}

static int
on_features_changed(int vid, uint64_t features)
{
	DP_LOG(INFO, "vhost device %d: features now 0x%" PRIx64 "%s", vid, features,
	       (features & (1ULL << VHOST_F_LOG_ALL)) ? " (dirty logging: migration)" : "");
	return 0;
}

static const struct rte_vhost_device_ops dp_vhost_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.vring_state_changed = on_vring_state_changed,
	.features_changed = on_features_changed,
};

int
dp_vhost_start(struct dp_pair *p, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;
	/* Compliant offload flags, as net_vhost registers: the legacy ones
	 * take a slower dequeue variant (and are deprecated). */
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS |
			 (p->client ? RTE_VHOST_USER_CLIENT : 0);

	snprintf(dir, sizeof(dir), "%s", p->socket);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (check_dir(dir, p->client, err, errlen) < 0)
		return -1;
	if (!p->client && lstat(p->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "vhost-user socket path %s exists and is not a socket",
				 p->socket);
			return -1;
		}
		unlink(p->socket); /* stale, from a previous run */
	}
	if (rte_vhost_driver_register(p->socket, flags) < 0) {
		snprintf(err, errlen, "cannot register vhost-user socket %s (see the log)", p->socket);
		return -1;
	}
	if (rte_vhost_driver_disable_features(p->socket, DP_VHOST_DISABLED_FEATURES) < 0 ||
	    rte_vhost_driver_callback_register(p->socket, &dp_vhost_ops) < 0 ||
	    rte_vhost_driver_start(p->socket) < 0) {
		snprintf(err, errlen, "cannot start vhost-user socket %s (%s mode; see the log)",
			 p->socket, p->client ? "client" : "server");
		rte_vhost_driver_unregister(p->socket);
		return -1;
	}
	if (!p->client && dp.have_owner) {
		if (chown(p->socket, dp.owner_uid, dp.owner_gid) < 0 ||
		    chmod(p->socket, 0660) < 0) {
			snprintf(err, errlen, "cannot give vhost-user socket %s to user %s: %s",
				 p->socket, dp.vhost_owner, strerror(errno));
			rte_vhost_driver_unregister(p->socket);
			return -1;
		}
	}
	return 0;
}

void
dp_vhost_stop(struct dp_pair *p)
{
	int i, ret;

	/* Unregister fails with -EBUSY while a connection is being torn
	 * down on the vhost thread: retry a little. */
	for (i = 0; i < 100; i++) {
		ret = rte_vhost_driver_unregister(p->socket);
		if (ret == 0)
			break;
		usleep(10000);
	}
	if (ret < 0)
		DP_LOG(WARNING, "pair %s: cannot unregister vhost-user socket %s", p->name, p->socket);
	if (!p->client)
		unlink(p->socket);
}
