/* The control socket (used by vfailover-hookd): root only (0600,
 * SO_PEERCRED), one framed JSON request {"command": NAME, ...} and one
 * reply {"ok": true, ...} / {"ok": false, "error": "..."} per connection
 * (common/vf-frame). Commands are a table; their arguments are declared
 * there and checked centrally (type, syntax, unknown members) before a
 * handler runs. Served on a control thread (accept) and a small pool
 * (I/O), never on the forwarding lcore; commands run one at a time. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "vf-frame.h"
#include "vf-socket.h"

#include "dp.h"

#define CTL_TIMEOUT_MS 5000
#define CTL_MAX_BYTES (64 * 1024)
#define CTL_ERR_MAX 512

enum ctl_arg_type {
	ARG_NAME,   /* 1-127 of [A-Za-z0-9_.:@+=-] */
	ARG_MAC,    /* unicast xx:xx:xx:xx:xx:xx */
	ARG_PATH,   /* socket path, absolute or relative to --vhost-dir */
	ARG_ENUM,   /* one of choices */
};

struct ctl_arg {
	const char *name;
	enum ctl_arg_type type;
	bool required;
	const char *choices[4];
};

/* Checked arguments of one request. */
struct ctl_args {
	const char *name;
	struct rte_ether_addr mac;
	const char *socket;
	const char *mode;
	const char *state;
	const char *announce;
	const char *relay;
};

struct ctl_cmd {
	const char *name;
	const char *help;
	struct ctl_arg args[5];
	int (*fn)(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen);
};

static int ctl_fd = -1;
static pthread_t ctl_tid;
static bool ctl_running;
/* Connections are read and answered on a few pool threads, so a slow peer
 * cannot hold the others; the commands themselves run one at a time. */
static GThreadPool *ctl_workers;
static GMutex ctl_cmd_lock;

static JsonObject *
pair_json(const struct dp_pair *p)
{
	JsonObject *o = json_object_new();
	JsonObject *c = json_object_new();
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	int vid = __atomic_load_n(&p->vid, __ATOMIC_RELAXED);

	dp_format_mac(mac, sizeof(mac), &p->mac);
	json_object_set_string_member(o, "name", p->name);
	json_object_set_string_member(o, "mac", mac);
	json_object_set_string_member(o, "socket", p->socket);
	json_object_set_string_member(o, "mode", p->client ? "client" : "server");
	json_object_set_string_member(o, "state",
				      dp_pair_state_name(__atomic_load_n(&p->state, __ATOMIC_RELAXED)));
	json_object_set_boolean_member(o, "connected", vid >= 0);
	json_object_set_boolean_member(o, "relay", __atomic_load_n(&p->relay, __ATOMIC_RELAXED));
	json_object_set_string_member(o, "mac_claim",
				      p->mac_claim == 0 ? "filter" :
				      p->mac_claim == 1 ? "promiscuous" : "none");
	json_object_set_int_member(c, "from_guest", p->st.from_guest);
	json_object_set_int_member(c, "to_guest", p->st.to_guest);
	json_object_set_int_member(c, "to_guest_full", p->st.to_guest_full);
	json_object_set_int_member(c, "dropped_vf_active", p->st.dropped_vf_active);
	json_object_set_int_member(c, "dropped_no_guest", p->st.dropped_no_guest);
	json_object_set_int_member(c, "announces", p->st.announces);
	json_object_set_int_member(c, "held", p->st.held);
	json_object_set_int_member(c, "dropped_hold", p->st.dropped_hold);
	json_object_set_int_member(c, "hold_expired", p->st.hold_expired);
	json_object_set_int_member(c, "relayed_out", p->st.relayed_out);
	json_object_set_int_member(c, "relayed_in", p->st.relayed_in);
	json_object_set_int_member(c, "dropped_relay_mtu", p->st.dropped_relay_mtu);
	json_object_set_int_member(c, "connects", p->connects);
	json_object_set_int_member(c, "disconnects", p->disconnects);
	json_object_set_object_member(o, "counters", c);
	return o;
}

static JsonObject *
uplink_json(bool with_counters)
{
	JsonObject *o = json_object_new();
	char name[RTE_ETH_NAME_MAX_LEN] = "";
	struct rte_eth_link link;
	struct rte_eth_stats es;

	rte_eth_dev_get_name_by_port(dp.uplink_port, name);
	json_object_set_string_member(o, "name", "uplink");
	json_object_set_string_member(o, "type", dp.uplink_bonded ? "bond" : "uplink");
	json_object_set_string_member(o, "device", name);
	json_object_set_int_member(o, "port_id", dp.uplink_port);
	json_object_set_string_member(o, "devargs", dp.uplink_args);
	if (dp.uplink2_args)
		json_object_set_string_member(o, "devargs2", dp.uplink2_args);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(dp.uplink_port, &link);
	json_object_set_boolean_member(o, "link_up", link.link_status == RTE_ETH_LINK_UP);
	json_object_set_boolean_member(o, "mac_filter", dp.uplink_filter);
	json_object_set_boolean_member(o, "promiscuous",
				       rte_eth_promiscuous_get(dp.uplink_port) == 1);
	if (!with_counters)
		return o;
	JsonObject *c = json_object_new();
	json_object_set_int_member(c, "rx", dp.up.rx);
	json_object_set_int_member(c, "tx", dp.up.tx);
	json_object_set_int_member(c, "tx_full", dp.up.tx_full);
	json_object_set_int_member(c, "dropped_unknown", dp.up.dropped_unknown);
	json_object_set_int_member(c, "alloc_failed", dp.up.alloc_failed);
	json_object_set_int_member(c, "relay_unknown", dp.up.relay_unknown);
	json_object_set_int_member(c, "relay_bad", dp.up.relay_bad);
	if (rte_eth_stats_get(dp.uplink_port, &es) == 0) {
		json_object_set_int_member(c, "ipackets", es.ipackets);
		json_object_set_int_member(c, "opackets", es.opackets);
		json_object_set_int_member(c, "imissed", es.imissed);
		json_object_set_int_member(c, "ierrors", es.ierrors);
		json_object_set_int_member(c, "oerrors", es.oerrors);
		json_object_set_int_member(c, "rx_nombuf", es.rx_nombuf);
	}
	json_object_set_object_member(o, "counters", c);
	return o;
}

static int
cmd_pair_add(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	struct dp_pair *p;
	bool client = a->mode && strcmp(a->mode, "client") == 0;
	int ret;

	ret = dp_pair_add(a->name, &a->mac, a->socket, client, err, errlen, &p);
	if (ret < 0)
		return -1;
	/* Commands are serialised: @p cannot have been deleted meanwhile. */
	pthread_mutex_lock(&dp.lock);
	json_object_set_object_member(reply, "pair", pair_json(p));
	pthread_mutex_unlock(&dp.lock);
	json_object_set_boolean_member(reply, "existed", ret == 1);
	return 0;
}

static int
cmd_pair_del(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	(void)reply;
	return dp_pair_del(a->name, err, errlen);
}

static int
cmd_pair_announce(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	(void)reply;
	return dp_pair_announce(a->name, err, errlen);
}

static int
cmd_pair_set_state(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	enum dp_pair_state state = strcmp(a->state, "virtio") == 0 ? DP_PAIR_VIRTIO_ACTIVE :
				   strcmp(a->state, "hold") == 0 ? DP_PAIR_HOLD : DP_PAIR_VF_ACTIVE;
	enum dp_pair_state previous;
	struct dp_pair *p;

	bool now = !a->announce || strcmp(a->announce, "now") == 0;
	bool relay = a->relay && strcmp(a->relay, "on") == 0;

	if (dp_pair_set_state(a->name, state, now, relay, &previous, err, errlen) < 0)
		return -1;
	json_object_set_string_member(reply, "previous", dp_pair_state_name(previous));
	pthread_mutex_lock(&dp.lock);
	p = dp_pair_find(a->name);
	if (p)
		json_object_set_object_member(reply, "pair", pair_json(p));
	pthread_mutex_unlock(&dp.lock);
	return 0;
}

static int
cmd_port_list(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	JsonArray *ports = json_array_new();
	unsigned int i;

	(void)a; (void)err; (void)errlen;
	json_array_add_object_element(ports, uplink_json(false));
	pthread_mutex_lock(&dp.lock);
	for (i = 0; i < dp.n_pairs; i++) {
		const struct dp_pair *p = dp.pairs[i];
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "name", p->name);
		json_object_set_string_member(o, "type", "vhost-user");
		json_object_set_string_member(o, "socket", p->socket);
		json_object_set_string_member(o, "mode", p->client ? "client" : "server");
		json_object_set_boolean_member(o, "connected",
					       __atomic_load_n(&p->vid, __ATOMIC_RELAXED) >= 0);
		json_array_add_object_element(ports, o);
	}
	pthread_mutex_unlock(&dp.lock);
	json_object_set_array_member(reply, "ports", ports);
	return 0;
}

static int
cmd_stats(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	JsonArray *pairs;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&dp.lock);
	if (a->name) {
		struct dp_pair *p = dp_pair_find(a->name);
		if (p) {
			json_object_set_object_member(reply, "pair", pair_json(p));
		} else {
			snprintf(err, errlen, "no pair named %s", a->name);
			ret = -1;
		}
		pthread_mutex_unlock(&dp.lock);
		return ret;
	}
	pairs = json_array_new();
	for (i = 0; i < dp.n_pairs; i++)
		json_array_add_object_element(pairs, pair_json(dp.pairs[i]));
	pthread_mutex_unlock(&dp.lock);
	json_object_set_object_member(reply, "uplink", uplink_json(true));
	json_object_set_array_member(reply, "pairs", pairs);
	json_object_set_int_member(reply, "mbufs_total", dp.n_mbufs);
	json_object_set_int_member(reply, "mbufs_in_use", rte_mempool_in_use_count(dp.pool));
	json_object_set_int_member(reply, "reserve_mbufs_in_use",
				   rte_mempool_in_use_count(dp.reserve));
	json_object_set_int_member(reply, "pool_exhausted", dp.reserve_episodes);
	json_object_set_int_member(reply, "loops", dp.loops);
	json_object_set_int_member(reply, "sleeps", dp.sleeps);
	json_object_set_boolean_member(reply, "busy_poll", dp.busy_poll);
	return 0;
}

static int
cmd_status(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	struct rte_eth_link link;

	(void)a; (void)err; (void)errlen;
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(dp.uplink_port, &link);
	json_object_set_string_member(reply, "version", PACKAGE_VERSION);
	json_object_set_int_member(reply, "pid", getpid());
	json_object_set_boolean_member(reply, "uplink_link_up", link.link_status == RTE_ETH_LINK_UP);
	pthread_mutex_lock(&dp.lock);
	json_object_set_int_member(reply, "pairs", dp.n_pairs);
	pthread_mutex_unlock(&dp.lock);
	json_object_set_boolean_member(reply, "busy_poll", dp.busy_poll);
	return 0;
}

static int cmd_list_commands(const struct ctl_args *a, JsonObject *reply, char *err,
			     size_t errlen);

static const struct ctl_cmd ctl_cmds[] = {
	{ "pair-add", "Create a pair's vhost-user port (state vf)",
	  { { "name", ARG_NAME, true, { NULL } },
	    { "mac", ARG_MAC, true, { NULL } },
	    { "socket", ARG_PATH, true, { NULL } },
	    { "mode", ARG_ENUM, false, { "server", "client", NULL } } },
	  cmd_pair_add },
	{ "pair-del", "Delete a pair and its vhost-user port",
	  { { "name", ARG_NAME, true, { NULL } } }, cmd_pair_del },
	{ "pair-set-state", "Switch a pair: vf (MAC on the VF), virtio (MAC claimed here) or hold (claimed, frames for the guest kept until virtio); relay on: while its guest's device is stopped, relay its frames to the migration's destination",
	  { { "name", ARG_NAME, true, { NULL } },
	    { "state", ARG_ENUM, true, { "vf", "virtio", "hold", NULL } },
	    { "announce", ARG_ENUM, false, { "now", "on-start", NULL } },
	    { "relay", ARG_ENUM, false, { "on", "off", NULL } } },
	  cmd_pair_set_state },
	{ "pair-announce", "Announce a pair's MAC on the uplink now (RARP/GARP), in any state",
	  { { "name", ARG_NAME, true, { NULL } } }, cmd_pair_announce },
	{ "port-list", "List the uplink and the vhost-user ports", { { NULL } }, cmd_port_list },
	{ "stats", "Counters of the uplink and every pair (or one: name)",
	  { { "name", ARG_NAME, false, { NULL } } }, cmd_stats },
	{ "status", "Version, pid, uplink link state, number of pairs", { { NULL } },
	  cmd_status },
	{ "list-commands", "List the commands this socket accepts", { { NULL } },
	  cmd_list_commands },
};

static int
cmd_list_commands(const struct ctl_args *a, JsonObject *reply, char *err, size_t errlen)
{
	JsonArray *list = json_array_new();
	unsigned int i, j;

	(void)a; (void)err; (void)errlen;
	for (i = 0; i < RTE_DIM(ctl_cmds); i++) {
		JsonObject *o = json_object_new();
		JsonArray *args = json_array_new();

		json_object_set_string_member(o, "name", ctl_cmds[i].name);
		json_object_set_string_member(o, "help", ctl_cmds[i].help);
		for (j = 0; ctl_cmds[i].args[j].name; j++) {
			g_autofree char *s = g_strdup_printf("%s%s", ctl_cmds[i].args[j].name,
							     ctl_cmds[i].args[j].required ? "" : "?");
			json_array_add_string_element(args, s);
		}
		json_object_set_array_member(o, "args", args);
		json_array_add_object_element(list, o);
	}
	json_object_set_array_member(reply, "commands", list);
	return 0;
}

static bool
valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= DP_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!g_ascii_isalnum(s[i]) && !strchr("_.:@+=-", s[i]))
			return false;
	return true;
}

static bool
valid_path(const char *s)
{
	g_auto(GStrv) parts = NULL;
	size_t n = strlen(s);
	unsigned int i;

	if (n == 0 || n >= PATH_MAX - 1 || s[n - 1] == '/')
		return false;
	parts = g_strsplit(s, "/", -1);
	for (i = 0; parts[i]; i++)
		if (strcmp(parts[i], "..") == 0)
			return false;
	return true;
}

/* Central argument checks: every member must be declared, of the right
 * type and syntax. */
static int
check_args(const struct ctl_cmd *cmd, JsonObject *req, struct ctl_args *out,
	   char *err, size_t errlen)
{
	g_autoptr(GList) members = json_object_get_members(req);
	GList *l;
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	for (l = members; l; l = l->next) {
		const char *m = l->data;
		bool known = strcmp(m, "command") == 0 || strcmp(m, "protocol") == 0;

		for (i = 0; !known && cmd->args[i].name; i++)
			known = strcmp(m, cmd->args[i].name) == 0;
		if (!known) {
			snprintf(err, errlen, "%s: unknown argument '%s'", cmd->name, m);
			return -1;
		}
	}
	for (i = 0; cmd->args[i].name; i++) {
		const struct ctl_arg *arg = &cmd->args[i];
		g_autoptr(GError) error = NULL;
		const char *v = vf_msg_get_string_opt(req, arg->name, &error);

		if (error) {
			snprintf(err, errlen, "%s: %s", cmd->name, error->message);
			return -1;
		}
		if (!v) {
			if (arg->required) {
				snprintf(err, errlen, "%s: missing argument '%s'", cmd->name, arg->name);
				return -1;
			}
			continue;
		}
		switch (arg->type) {
		case ARG_NAME:
			if (!valid_name(v)) {
				snprintf(err, errlen,
					 "%s: '%s' must be 1-%d characters of letters, digits and _.:@+=- (got '%.64s')",
					 cmd->name, arg->name, DP_NAME_MAX - 1, v);
				return -1;
			}
			out->name = v;
			break;
		case ARG_MAC:
			if (strlen(v) != 17 || rte_ether_unformat_addr(v, &out->mac) < 0 ||
			    !rte_is_valid_assigned_ether_addr(&out->mac)) {
				snprintf(err, errlen,
					 "%s: '%s' must be a unicast MAC like 52:54:00:12:34:56 (got '%.32s')",
					 cmd->name, arg->name, v);
				return -1;
			}
			break;
		case ARG_PATH:
			if (!valid_path(v)) {
				snprintf(err, errlen,
					 "%s: '%s' must be a socket path without '..' (got '%.128s')",
					 cmd->name, arg->name, v);
				return -1;
			}
			out->socket = v;
			break;
		case ARG_ENUM:
			for (j = 0; arg->choices[j]; j++)
				if (strcmp(v, arg->choices[j]) == 0)
					break;
			if (!arg->choices[j]) {
				char list[64] = "";

				for (j = 0; arg->choices[j]; j++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
						 j == 0 ? "" : arg->choices[j + 1] ? ", " : " or ",
						 arg->choices[j]);
				snprintf(err, errlen, "%s: '%s' must be %s (got '%.32s')",
					 cmd->name, arg->name, list, v);
				return -1;
			}
			if (strcmp(arg->name, "mode") == 0)
				out->mode = v;
			else if (strcmp(arg->name, "announce") == 0)
				out->announce = v;
			else if (strcmp(arg->name, "relay") == 0)
				out->relay = v;
			else
				out->state = v;
			break;
		}
	}
	return 0;
}

static void
dispatch(JsonObject *req, JsonObject *reply)
{
	g_autoptr(GError) error = NULL;
	struct ctl_args args;
	char err[CTL_ERR_MAX] = "";
	const char *name;
	unsigned int i;

	name = vf_msg_get_string(req, "command", &error);
	if (!name) {
		snprintf(err, sizeof(err), "%s", error->message);
		goto fail;
	}
	for (i = 0; i < RTE_DIM(ctl_cmds); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			break;
	if (i == RTE_DIM(ctl_cmds)) {
		snprintf(err, sizeof(err), "unknown command '%.64s' (try list-commands)", name);
		goto fail;
	}
	if (check_args(&ctl_cmds[i], req, &args, err, sizeof(err)) < 0 ||
	    ctl_cmds[i].fn(&args, reply, err, sizeof(err)) < 0)
		goto fail;
	json_object_set_boolean_member(reply, "ok", TRUE);
	return;
fail:
	DP_LOG(WARNING, "control request failed: %s", err);
	json_object_set_boolean_member(reply, "ok", FALSE);
	json_object_set_string_member(reply, "error", err);
}

/* One accepted connection, queued for the pool. */
struct ctl_conn {
	int fd;
	gint64 accepted;	/* monotonic µs */
};

/* A request slower than this is logged with where its time went: hookd
 * waits for each answer, at times while a guest is moving. */
#define CTL_SLOW_US 20000

static void
serve(const struct ctl_conn *conn)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) reply = json_object_new();
	g_autoptr(JsonObject) req = NULL;
	gint64 t_start = g_get_monotonic_time(), t_read = t_start, t_locked = t_start;
	gint64 t_done = t_start, t_end;
	int fd = conn->fd;

	if (!vf_socket_check_peer(fd, 0, &error)) {
		DP_LOG(WARNING, "control socket %s: refused connection: %s", dp.ctl_path,
		       error->message);
		json_object_set_boolean_member(reply, "ok", FALSE);
		json_object_set_string_member(reply, "error", error->message);
		goto send;
	}
	req = vf_frame_read(fd, CTL_MAX_BYTES, CTL_TIMEOUT_MS, &error);
	if (!req) {
		DP_LOG(WARNING, "control socket %s: bad request: %s", dp.ctl_path, error->message);
		json_object_set_boolean_member(reply, "ok", FALSE);
		json_object_set_string_member(reply, "error", error->message);
		goto send;
	}
	t_read = g_get_monotonic_time();
	g_mutex_lock(&ctl_cmd_lock);
	t_locked = g_get_monotonic_time();
	dispatch(req, reply);
	g_mutex_unlock(&ctl_cmd_lock);
	t_done = g_get_monotonic_time();
send:
	g_clear_error(&error);
	if (!vf_frame_write(fd, reply, CTL_MAX_BYTES, CTL_TIMEOUT_MS, &error))
		DP_LOG(DEBUG, "control socket %s: reply not delivered: %s", dp.ctl_path,
		       error->message);
	t_end = g_get_monotonic_time();
	if (req && t_end - conn->accepted >= CTL_SLOW_US)
		DP_LOG(NOTICE, "control request %s took %" G_GINT64_FORMAT " ms from accept to reply "
		       "(queued %" G_GINT64_FORMAT ", reading %" G_GINT64_FORMAT
		       ", waiting for the previous command %" G_GINT64_FORMAT ", running %" G_GINT64_FORMAT
		       ", replying %" G_GINT64_FORMAT ")",
		       json_object_get_string_member_with_default(req, "command", "?"),
		       (t_end - conn->accepted) / 1000, (t_start - conn->accepted) / 1000,
		       (t_read - t_start) / 1000, (t_locked - t_read) / 1000,
		       (t_done - t_locked) / 1000, (t_end - t_done) / 1000);
}

static void *
ctl_thread(void *arg)
{
	struct pollfd pfd = { .fd = ctl_fd, .events = POLLIN };

	(void)arg;
	while (!dp.quit) {
		struct ctl_conn *c;
		int conn;

		if (dp_port_poll_failover())
			dp_pair_announce_all();
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		conn = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno != EAGAIN && errno != EINTR)
				DP_LOG(WARNING, "control socket %s: accept failed: %s",
				       dp.ctl_path, strerror(errno));
			continue;
		}
		c = g_new(struct ctl_conn, 1);
		c->fd = conn;
		c->accepted = g_get_monotonic_time();
		g_thread_pool_push(ctl_workers, c, NULL);
	}
	return NULL;
}

static void
ctl_worker(gpointer data, gpointer user_data)
{
	g_autofree struct ctl_conn *conn = data;

	(void)user_data;
	serve(conn);
	close(conn->fd);
}

int
dp_ctl_start(void)
{
	g_autoptr(GError) error = NULL;
	int ret;

	ctl_fd = vf_socket_listen(dp.ctl_path, &error);
	if (ctl_fd < 0) {
		DP_LOG(ERR, "cannot listen on control socket %s: %s", dp.ctl_path, error->message);
		return -1;
	}
	ctl_workers = g_thread_pool_new(ctl_worker, NULL, 4, FALSE, NULL);
	ret = rte_ctrl_thread_create(&ctl_tid, "dp-ctl", NULL, ctl_thread, NULL);
	if (ret != 0) {
		DP_LOG(ERR, "cannot start the control thread: %s", strerror(ret));
		close(ctl_fd);
		unlink(dp.ctl_path);
		return -1;
	}
	ctl_running = true;
	return 0;
}

void
dp_ctl_stop(void)
{
	if (ctl_running)
		pthread_join(ctl_tid, NULL);
	ctl_running = false;
	if (ctl_workers)
		g_thread_pool_free(ctl_workers, FALSE, TRUE);
	ctl_workers = NULL;
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(dp.ctl_path);
		ctl_fd = -1;
	}
}
