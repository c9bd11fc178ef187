/* hookd's side of the datapath seam (hookd-dp.h). vfailover-dp's control
 * commands are not fixed yet: port requests are logged and otherwise no-ops,
 * and status only checks that the datapath's socket accepts a connection.
 * Wiring the datapath means filling these functions, nothing else. */
#include "config.h"

#include <unistd.h>

#include "vf-socket.h"
#include "hookd-dp.h"

#define DP_CONNECT_TIMEOUT_MS 200

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

gboolean
hookd_dp_port_create(HookdDp *dp, const char *domain, const HookdPair *pair, GError **error)
{
    g_debug("domain %s: interface %s: datapath port create (not wired yet)", domain, pair->alias);
    return TRUE;
}

void
hookd_dp_port_set_state(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_debug("domain %s: interface %s: datapath state %s (not wired yet)", domain, pair->alias,
            hookd_pair_state_name(pair->state));
}

void
hookd_dp_port_delete(HookdDp *dp, const char *domain, const HookdPair *pair)
{
    g_debug("domain %s: interface %s: datapath port delete (not wired yet)", domain, pair->alias);
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
