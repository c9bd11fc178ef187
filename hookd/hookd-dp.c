/* hookd's side of the datapath seam (hookd-dp.h): the pair commands of
 * vfailover-dp's control socket (vfailover-dp(8), CONTROL PROTOCOL).
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

struct _HookdDp {
    char *socket;
};

HookdDp *
hookd_dp_new(VfConfig *cfg)
{
    HookdDp *dp = g_new0(HookdDp, 1);
    dp->socket = g_strdup(vf_config_get_string(cfg, "datapath", "ctl-socket"));
    return dp;
}

void
hookd_dp_free(HookdDp *dp)
{
    if (!dp)
        return;
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

/* One command; FALSE + error (naming the datapath) on any failure. */
static gboolean
dp_call(HookdDp *dp, JsonObject *request, GError **error)
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
    return TRUE;
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

void
hookd_dp_port_set_state(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(GError) error = NULL;

    if (!pair_socket(pair))
        return;
    name = port_name(domain, pair);
    req = request_new("pair-set-state", name);
    /* SWITCHING stays on the VF: until the guest lets go of it, net_failover
     * drops what arrives on virtio (see the steering policy, hookd-events.c).
     * A held pair (incoming migration) must not claim or announce the MAC
     * while the VM still runs on the source. */
    json_object_set_string_member(req, "state",
                                  pair->state == HOOKD_PAIR_VIRTIO_ACTIVE && !pair->dp_held
                                      ? "virtio" : "vf");
    if (!dp_call(dp, req, &error))
        g_warning("domain %s: interface %s: datapath state not set: %s", domain, pair->alias,
                  error->message);
}

void
hookd_dp_port_delete(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_autofree char *name = NULL;
    g_autoptr(JsonObject) req = NULL;
    g_autoptr(GError) error = NULL;

    if (!pair_socket(pair))
        return;
    name = port_name(domain, pair);
    req = request_new("pair-del", name);
    if (!dp_call(dp, req, &error))
        g_warning("domain %s: interface %s: datapath port not deleted: %s", domain, pair->alias,
                  error->message);
}

JsonObject *
hookd_dp_status(HookdDp *dp)
{
    JsonObject *o = json_object_new();
    g_autoptr(GError) error = NULL;
    int fd = vf_socket_connect(dp->socket, DP_CONNECT_TIMEOUT_MS, &error);

    json_object_set_string_member(o, "socket", dp->socket);
    json_object_set_boolean_member(o, "reachable", fd >= 0);
    if (fd >= 0)
        close(fd);
    else
        json_object_set_string_member(o, "error", error->message);
    return o;
}
