/* hookd's side of the datapath seam (hookd-dp.h): the pair commands of
 * vfailover-dp's control socket (vfailover-dp(8), CONTROL PROTOCOL), and
 * the watcher that notices the datapath going away and coming back.
 * Only pairs whose virtio interface is a vhost-user one have a datapath
 * port; the others (a tap, user networking) are left alone. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "vf-frame.h"
#include "vf-socket.h"
#include "hookd-dp.h"

#define DP_TIMEOUT_MS 5000
#define DP_CONNECT_TIMEOUT_MS 200
#define DP_MAX_BYTES (64 * 1024)
#define DP_WATCH_INTERVAL_US G_USEC_PER_SEC
#define DP_WATCH_TIMEOUT_MS 2000

typedef enum {
    DP_UNKNOWN,     /* not checked yet */
    DP_UP,
    DP_DOWN,
} DpHealth;

struct _HookdDp {
    char *socket;
    /* The watcher thread and what it saw, under lock. */
    GThread *watcher;
    HookdRegistry *registry;
    GMutex lock;
    GCond wake;
    gboolean quit;
    DpHealth health;
    gint64 since;           /* wall clock, µs: health changed */
    char *error;            /* why it is down */
    gint64 pid;             /* the datapath's, from status */
    guint downs;            /* times it went away */
    guint recreated;        /* ports re-created after it came back */
    GPtrArray *degraded;    /* "DOMAIN/ALIAS" of pairs without their port */
};

HookdDp *
hookd_dp_new(VfConfig *cfg)
{
    HookdDp *dp = g_new0(HookdDp, 1);
    dp->socket = g_strdup(vf_config_get_string(cfg, "datapath", "ctl-socket"));
    g_mutex_init(&dp->lock);
    g_cond_init(&dp->wake);
    dp->degraded = g_ptr_array_new_with_free_func(g_free);
    return dp;
}

void
hookd_dp_free(HookdDp *dp)
{
    if (!dp)
        return;
    if (dp->watcher) {
        g_mutex_lock(&dp->lock);
        dp->quit = TRUE;
        g_cond_signal(&dp->wake);
        g_mutex_unlock(&dp->lock);
        g_thread_join(dp->watcher);
    }
    g_ptr_array_unref(dp->degraded);
    g_free(dp->error);
    g_mutex_clear(&dp->lock);
    g_cond_clear(&dp->wake);
    g_free(dp->socket);
    g_free(dp);
}

static const char *
pair_socket(const HookdPair *pair)
{
    return json_object_get_string_member_with_default(pair->policy, "vhost_socket", NULL);
}

/* The datapath's name for a pair: DOMAIN:ALIAS, with any character its
 * names do not allow replaced by '_'. */
static char *
port_name(const char *domain, const HookdPair *pair)
{
    g_autofree char *name = g_strdup_printf("%s:%s", domain, pair->alias);
    char *c;

    for (c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("_.:@+=-", *c))
            *c = '_';
    if (strlen(name) > 127)
        name[127] = '\0';
    return g_steal_pointer(&name);
}

/* One command; FALSE + error (naming the datapath) on any failure. The
 * reply goes to @out if given. */
static gboolean
dp_call_reply(HookdDp *dp, JsonObject *request, JsonObject **out, GError **error)
{
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(GError) local = NULL;

    reply = vf_socket_call(dp->socket, request, DP_MAX_BYTES, DP_TIMEOUT_MS, &local);
    if (!reply) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the datapath is not reachable on %s: %s",
                    dp->socket, local->message);
        return FALSE;
    }
    if (!json_object_get_boolean_member_with_default(reply, "ok", FALSE)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the datapath refused %s: %s",
                    json_object_get_string_member_with_default(request, "command", "?"),
                    json_object_get_string_member_with_default(reply, "error", "no reason given"));
        return FALSE;
    }
    if (out)
        *out = g_steal_pointer(&reply);
    return TRUE;
}

static gboolean
dp_call(HookdDp *dp, JsonObject *request, GError **error)
{
    return dp_call_reply(dp, request, NULL, error);
}

static JsonObject *
request_new(const char *command, const char *name)
{
    JsonObject *req = json_object_new();
    json_object_set_string_member(req, "command", command);
    json_object_set_string_member(req, "name", name);
    return req;
}

gboolean
hookd_dp_port_create(HookdDp *dp, const char *domain, const HookdPair *pair, GError **error)
{
    const char *socket = pair_socket(pair);
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(GError) local = NULL;

    if (!socket)
        return TRUE;
    name = port_name(domain, pair);
    req = request_new("pair-add", name);
    json_object_set_string_member(req, "mac", pair->mac);
    json_object_set_string_member(req, "socket", socket);
    /* QEMU's <source mode='server'> means the datapath connects. */
    json_object_set_string_member(req, "mode",
                                  json_object_get_boolean_member_with_default(pair->policy, "vhost_server", FALSE)
                                      ? "client" : "server");
    if (!dp_call(dp, req, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "domain %s: interface %s: cannot create its vhost-user port %s: %s",
                    domain, pair->alias, socket, local->message);
        return FALSE;
    }
    /* The port starts in state vf; tell it what the pair really is. */
    hookd_dp_port_set_state(dp, domain, pair);
    return TRUE;
}

gboolean
hookd_dp_port_set_state(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(GError) error = NULL;

    if (!pair_socket(pair))
        return FALSE;
    name = port_name(domain, pair);
    req = request_new("pair-set-state", name);
    /* SWITCHING claims already and holds the frames for the guest while
     * its VF is leaving (vf_leaving: net_failover would drop them; see the
     * steering policy, hookd-events.c). A held pair (incoming migration)
     * must not announce the MAC while the VM still runs on the source: it
     * claims it quietly and the datapath announces when the guest's virtio
     * device starts, i.e. when the VM runs here (QEMU starts it then;
     * hookd hears of the resume 0.1-0.2 s later). Once the source has
     * stopped the VM (dp_catching) the pair holds, which announces at once:
     * the network stops sending to the source 20-50 ms before the VM
     * resumes here, and what arrives meanwhile waits. A VF_ACTIVE pair that
     * is joining (its frames copied to the datapath while the guest brings
     * the VF up) keeps the claim: the guest may take them on virtio until
     * it registers the VF. */
    gboolean vf = pair->state == HOOKD_PAIR_VF_ACTIVE && !pair->vf_joining;

    json_object_set_string_member(req, "state", vf                                        ? "vf"
                                                : pair->vf_leaving || pair->dp_catching ? "hold"
                                                                                        : "virtio");
    if (!vf && pair->dp_held && !pair->dp_catching)
        json_object_set_string_member(req, "announce", "on-start");
    /* The VM migrates away: from the moment QEMU stops it here until the
     * network learnt that it runs on the destination, the datapath relays
     * what still arrives for it to the destination's datapath (which keeps
     * it until the VM runs there) instead of dropping it. */
    if (pair->migrating || pair->dp_relay)
        json_object_set_string_member(req, "relay", "on");
    if (!dp_call(dp, req, &error)) {
        g_warning("domain %s: interface %s: datapath state not set: %s", domain, pair->alias,
                  error->message);
        return FALSE;
    }
    return TRUE;
}

/* One named request about a pair's port whose reply carries nothing;
 * a failure is logged as "domain D: interface I: WHAT: error". */
static void
port_request(HookdDp *dp, const char *domain, const HookdPair *pair, const char *command,
             const char *what)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(GError) error = NULL;

    if (!pair_socket(pair))
        return;
    name = port_name(domain, pair);
    req = request_new(command, name);
    if (!dp_call(dp, req, &error))
        g_warning("domain %s: interface %s: %s: %s", domain, pair->alias, what, error->message);
}

void
hookd_dp_port_announce(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    port_request(dp, domain, pair, "pair-announce", "MAC not announced");
}

/* The port's entry of vfailover-dp's stats ({"name", "connected",
 * "counters", ...}), or NULL (no port, datapath unreachable: logged as
 * @what not read). */
static JsonObject *
port_stats(HookdDp *dp, const char *domain, const HookdPair *pair, const char *what)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(GError) error = NULL;
    JsonNode *pr;

    if (!pair_socket(pair))
        return NULL;
    name = port_name(domain, pair);
    req = request_new("stats", name);
    if (!dp_call_reply(dp, req, &reply, &error)) {
        g_warning("domain %s: interface %s: %s not read: %s", domain, pair->alias, what,
                  error->message);
        return NULL;
    }
    pr = json_object_get_member(reply, "pair");
    return pr && JSON_NODE_HOLDS_OBJECT(pr) ? json_object_ref(json_node_get_object(pr)) : NULL;
}

int
hookd_dp_port_connected(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_autoptr(JsonObject) pr = port_stats(dp, domain, pair, "the datapath port's connection");

    if (!pr || !json_object_has_member(pr, "connected"))
        return -1;
    return json_object_get_boolean_member(pr, "connected") ? 1 : 0;
}

JsonObject *
hookd_dp_port_counters(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_autoptr(JsonObject) pr = port_stats(dp, domain, pair, "datapath counters");

    if (!pr || !json_object_has_member(pr, "counters") ||
        !JSON_NODE_HOLDS_OBJECT(json_object_get_member(pr, "counters")))
        return NULL;
    return json_object_ref(json_object_get_object_member(pr, "counters"));
}

void
hookd_dp_port_delete(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    port_request(dp, domain, pair, "pair-del", "datapath port not deleted");
}

JsonObject *
hookd_dp_status(HookdDp *dp)
{
    JsonObject *o = json_object_new();
    JsonArray *degraded = json_array_new();
    g_autoptr(GError) error = NULL;
    int fd = vf_socket_connect(dp->socket, DP_CONNECT_TIMEOUT_MS, &error);
    guint i;

    json_object_set_string_member(o, "socket", dp->socket);
    json_object_set_boolean_member(o, "reachable", fd >= 0);
    if (fd >= 0)
        close(fd);
    else
        json_object_set_string_member(o, "error", error->message);
    g_mutex_lock(&dp->lock);
    json_object_set_string_member(o, "state", dp->health == DP_UP ? "up" :
                                  dp->health == DP_DOWN ? "down" : "unknown");
    if (dp->since) {
        g_autofree char *since = hookd_format_time(dp->since);
        json_object_set_string_member(o, "since", since);
    }
    if (dp->health == DP_DOWN && dp->error)
        json_object_set_string_member(o, "last_error", dp->error);
    if (dp->pid)
        json_object_set_int_member(o, "pid", dp->pid);
    json_object_set_int_member(o, "downs", dp->downs);
    json_object_set_int_member(o, "ports_recreated", dp->recreated);
    for (i = 0; i < dp->degraded->len; i++)
        json_array_add_string_element(degraded, g_ptr_array_index(dp->degraded, i));
    g_mutex_unlock(&dp->lock);
    json_object_set_array_member(o, "degraded_pairs", degraded);
    return o;
}

/* The datapath's port names and pid; NULL + @error when unreachable. */
static GHashTable *
dp_ports(HookdDp *dp, gint64 *pid, GError **error)
{
    g_autoptr(JsonObject) req = json_object_new();
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonArray *ports;
    guint i;

    json_object_set_string_member(req, "command", "status");
    reply = vf_socket_call(dp->socket, req, DP_MAX_BYTES, DP_WATCH_TIMEOUT_MS, error);
    if (!reply)
        return NULL;
    *pid = json_object_get_int_member_with_default(reply, "pid", 0);
    g_clear_pointer(&reply, json_object_unref);
    json_object_set_string_member(req, "command", "port-list");
    reply = vf_socket_call(dp->socket, req, DP_MAX_BYTES, DP_WATCH_TIMEOUT_MS, error);
    if (!reply)
        return NULL;
    if (!json_object_has_member(reply, "ports") ||
        !JSON_NODE_HOLDS_ARRAY(json_object_get_member(reply, "ports"))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the datapath's port-list reply has no ports");
        return NULL;
    }
    ports = json_object_get_array_member(reply, "ports");
    for (i = 0; i < json_array_get_length(ports); i++) {
        JsonObject *port = json_array_get_object_element(ports, i);
        const char *name = port ? json_object_get_string_member_with_default(port, "name", NULL) : NULL;
        if (name)
            g_hash_table_add(names, g_strdup(name));
    }
    return g_steal_pointer(&names);
}

/* One look: is the datapath there, and does it have every port hookd's
 * records say it should? Ports it lacks (it restarted, or was down when a
 * state was set) are re-created in the pair's state. Runs on the watcher
 * thread; the registry lock is held while ports are re-created, so a
 * prepare or release cannot interleave (they create/delete under it). */
static void
watch_once(HookdDp *dp)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) degraded = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) ports = NULL;
    g_auto(GStrv) uuids = NULL;
    DpHealth before;
    gint64 pid = 0, old_pid;
    guint recreated = 0;
    char **u;

    ports = dp_ports(dp, &pid, &error);
    g_mutex_lock(&dp->lock);
    before = dp->health;
    old_pid = dp->pid;
    g_mutex_unlock(&dp->lock);

    if (ports && before == DP_DOWN)
        g_message("datapath: %s reachable again (pid %" G_GINT64_FORMAT "): re-creating missing ports",
                  dp->socket, pid);
    else if (ports && before == DP_UP && old_pid && pid != old_pid)
        g_message("datapath: %s restarted (pid %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT ")",
                  dp->socket, old_pid, pid);
    else if (!ports && before != DP_DOWN)
        g_warning("datapath: %s is down (%s): pairs with a vhost-user port are degraded until it returns",
                  dp->socket, error->message);

    hookd_registry_lock(dp->registry);
    uuids = hookd_registry_uuids(dp->registry);
    for (u = uuids; *u; u++) {
        HookdDomain *dom = hookd_registry_find(dp->registry, *u);
        guint i;

        if (dom->phase == HOOKD_DOMAIN_STOPPING)
            continue;
        for (i = 0; i < dom->pairs->len; i++) {
            HookdPair *p = g_ptr_array_index(dom->pairs, i);
            g_autofree char *name = NULL;
            g_autoptr(GError) cerr = NULL;

            if (!pair_socket(p))
                continue;
            name = port_name(dom->name, p);
            if (ports && g_hash_table_contains(ports, name))
                continue;
            if (ports && hookd_dp_port_create(dp, dom->name, p, &cerr)) {
                g_message("domain %s: interface %s: datapath port %s re-created (state %s)",
                          dom->name, p->alias, name, hookd_pair_state_name(p->state));
                hookd_domain_note(dom, "state", "%s: datapath port re-created", p->alias);
                recreated++;
                continue;
            }
            if (cerr)
                g_warning("%s", cerr->message);
            if (before != DP_DOWN || cerr)
                hookd_domain_note(dom, "state", "%s: degraded: no datapath port (%s)", p->alias,
                                  cerr ? cerr->message : "the datapath is down");
            g_ptr_array_add(degraded, g_strdup_printf("%s/%s", dom->name, p->alias));
        }
    }
    hookd_registry_unlock(dp->registry);

    g_mutex_lock(&dp->lock);
    if ((ports ? DP_UP : DP_DOWN) != before) {
        dp->health = ports ? DP_UP : DP_DOWN;
        dp->since = g_get_real_time();
        if (!ports)
            dp->downs++;
    }
    g_free(dp->error);
    dp->error = ports ? NULL : g_strdup(error->message);
    if (ports)
        dp->pid = pid;
    dp->recreated += recreated;
    g_ptr_array_unref(dp->degraded);
    dp->degraded = g_steal_pointer(&degraded);
    g_mutex_unlock(&dp->lock);
}

static gpointer
watcher_thread(gpointer data)
{
    HookdDp *dp = data;

    g_mutex_lock(&dp->lock);
    while (!dp->quit) {
        gint64 until;

        g_mutex_unlock(&dp->lock);
        watch_once(dp);
        g_mutex_lock(&dp->lock);
        until = g_get_monotonic_time() + DP_WATCH_INTERVAL_US;
        while (!dp->quit && g_cond_wait_until(&dp->wake, &dp->lock, until))
            ;
    }
    g_mutex_unlock(&dp->lock);
    return NULL;
}

void
hookd_dp_watch_start(HookdDp *dp, HookdRegistry *registry)
{
    dp->registry = registry;
    dp->watcher = g_thread_new("hookd-dp-watch", watcher_thread, dp);
}
