/* `vfs` and `stats` control commands (see hookd-vfs.h). */
#include "config.h"

#include <string.h>

#include "vf-frame.h"
#include "hookd-vfs.h"

static const char *
vf_state(const SriovVf *vf)
{
    if (sriov_vf_needs_restore(vf))
        return "restore-pending";
    if (sriov_vf_get_domain(vf))
        return "reserved";
    if (sriov_vf_is_kept(vf))
        return "kept";
    return "free";
}

/* Optional "pf" filter, checked against the configured PFs. */
static gboolean
get_pf_filter(JsonObject *request, SriovPool *pool, const char **pf, GError **error)
{
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GError) local = NULL;
    guint i;

    *pf = vf_msg_get_string_opt(request, "pf", &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!*pf)
        return TRUE;
    all = sriov_pool_list(pool);
    for (i = 0; i < all->len; i++)
        if (strcmp(sriov_vf_get_pf(all->pdata[i]), *pf) == 0)
            return TRUE;
    g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                "PF %s is not configured or has no VFs", *pf);
    return FALSE;
}

gboolean
hookd_vfs_vfs(JsonObject *request, JsonObject *reply, gpointer user_data, GError **error)
{
    SriovPool *pool = user_data;
    g_autoptr(GPtrArray) all = sriov_pool_list(pool);
    JsonArray *list;
    const char *pf = NULL;
    guint i;

    if (!get_pf_filter(request, pool, &pf, error))
        return FALSE;
    list = json_array_new();
    sriov_pool_read_lock(pool);
    for (i = 0; i < all->len; i++) {
        SriovVf *vf = all->pdata[i];
        JsonObject *o;
        SriovVfConfig applied;

        if (pf && strcmp(sriov_vf_get_pf(vf), pf) != 0)
            continue;
        o = json_object_new();
        json_object_set_string_member(o, "pf", sriov_vf_get_pf(vf));
        json_object_set_string_member(o, "pool", sriov_vf_get_pool(vf));
        json_object_set_int_member(o, "vf", sriov_vf_get_index(vf));
        json_object_set_string_member(o, "backend", sriov_vf_get_backend(vf));
        if (sriov_vf_get_pci_address(vf))
            json_object_set_string_member(o, "pci-address", sriov_vf_get_pci_address(vf));
        if (sriov_vf_get_netdev(vf))
            json_object_set_string_member(o, "netdev", sriov_vf_get_netdev(vf));
        json_object_set_string_member(o, "state", vf_state(vf));
        if (sriov_vf_get_domain(vf)) {
            json_object_set_string_member(o, "domain", sriov_vf_get_domain(vf));
            json_object_set_string_member(o, "pair", sriov_vf_get_pair_key(vf));
        }
        if (sriov_vf_get_applied(vf, &applied))
            json_object_set_object_member(o, "config", sriov_vf_config_to_json(&applied));
        json_array_add_object_element(list, o);
    }
    sriov_pool_read_unlock(pool);
    json_object_set_array_member(reply, "vfs", list);
    return TRUE;
}

gboolean
hookd_vfs_stats(JsonObject *request, JsonObject *reply, gpointer user_data, GError **error)
{
    SriovPool *pool = user_data;
    g_autoptr(GPtrArray) all = sriov_pool_list(pool);
    const char *pf = NULL;
    gint64 want_vf = -1;
    gboolean every = FALSE;
    JsonArray *list;
    guint i;

    if (!get_pf_filter(request, pool, &pf, error))
        return FALSE;
    if (json_object_has_member(request, "vf")) {
        if (!vf_msg_get_int(request, "vf", &want_vf, error))
            return FALSE;
        if (!pf) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'vf' needs 'pf'");
            return FALSE;
        }
    }
    if (json_object_has_member(request, "all") && !vf_msg_get_bool(request, "all", &every, error))
        return FALSE;

    list = json_array_new();
    for (i = 0; i < all->len; i++) {
        SriovVf *vf = all->pdata[i];
        g_autoptr(GError) local = NULL;
        g_autofree char *domain = NULL;
        SriovVfStats st;
        JsonObject *o;

        if (pf && strcmp(sriov_vf_get_pf(vf), pf) != 0)
            continue;
        if (want_vf >= 0 && sriov_vf_get_index(vf) != want_vf)
            continue;
        /* Not held across the counters' read (a backend call). */
        sriov_pool_read_lock(pool);
        domain = g_strdup(sriov_vf_get_domain(vf));
        sriov_pool_read_unlock(pool);
        if (want_vf < 0 && !every && !domain)
            continue;
        o = json_object_new();
        json_object_set_string_member(o, "pf", sriov_vf_get_pf(vf));
        json_object_set_int_member(o, "vf", sriov_vf_get_index(vf));
        if (domain)
            json_object_set_string_member(o, "domain", domain);
        if (!sriov_pool_read_stats(pool, vf, &st, &local)) {
            json_object_set_string_member(o, "error", local->message);
        } else {
            json_object_set_int_member(o, "rx-packets", (gint64)st.rx_packets);
            json_object_set_int_member(o, "tx-packets", (gint64)st.tx_packets);
            json_object_set_int_member(o, "rx-bytes", (gint64)st.rx_bytes);
            json_object_set_int_member(o, "tx-bytes", (gint64)st.tx_bytes);
            json_object_set_int_member(o, "broadcast", (gint64)st.broadcast);
            json_object_set_int_member(o, "multicast", (gint64)st.multicast);
            json_object_set_int_member(o, "rx-dropped", (gint64)st.rx_dropped);
            json_object_set_int_member(o, "tx-dropped", (gint64)st.tx_dropped);
        }
        json_array_add_object_element(list, o);
    }
    if (want_vf >= 0 && json_array_get_length(list) == 0) {
        json_array_unref(list);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND, "PF %s has no VF %" G_GINT64_FORMAT,
                    pf, want_vf);
        return FALSE;
    }
    json_object_set_array_member(reply, "vfs", list);
    return TRUE;
}

void
hookd_vfs_register(HookdCtl *ctl, SriovPool *pool)
{
    hookd_ctl_register(ctl, "vfs", "list every VF: PF, index, address, state, owner, settings",
                       hookd_vfs_vfs, pool);
    hookd_ctl_register(ctl, "stats", "counters of the VFs in use ('pf', 'vf', 'all' to choose)",
                       hookd_vfs_stats, pool);
}
