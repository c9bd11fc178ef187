/* hookd's control commands beyond list-commands: status and pairs. Their
 * JSON replies are documented in vfailoverctl(8). They run on the main loop
 * (hookd-ctl.c) and only read state. */
#include "config.h"

#include <unistd.h>

#include "hookd-daemon.h"

static JsonObject *
counts_to_json(GHashTable *counts)
{
    JsonObject *o = json_object_new();
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(counts), (GCompareFunc)g_strcmp0);
    GList *l;

    for (l = keys; l; l = l->next)
        json_object_set_int_member(o, l->data, GPOINTER_TO_UINT(g_hash_table_lookup(counts, l->data)));
    return o;
}

static gboolean
cmd_status(JsonObject *request, JsonObject *reply, gpointer data, GError **error)
{
    HookdDaemon *d = data;
    g_autofree char *started = hookd_format_time(d->started);
    JsonObject *hook = json_object_new();
    JsonObject *sync = json_object_new();
    g_auto(GStrv) uuids = NULL;
    guint64 served, refused, bad;
    guint n_pairs = 0;
    char **u;

    json_object_set_string_member(reply, "version", PACKAGE_VERSION);
    json_object_set_int_member(reply, "pid", getpid());
    json_object_set_string_member(reply, "started", started);
    json_object_set_int_member(reply, "uptime_s", (g_get_real_time() - d->started) / G_USEC_PER_SEC);
    json_object_set_object_member(reply, "libvirt", hookd_libvirt_status(d->libvirt));
    json_object_set_object_member(reply, "datapath", hookd_dp_status(d->dp));
    json_object_set_object_member(reply, "vf_manager", hookd_vf_status(d->vf));

    hookd_hook_counters(d->hook, &served, &refused, &bad);
    json_object_set_string_member(hook, "socket", vf_config_get_string(d->cfg, "hookd", "socket"));
    json_object_set_int_member(hook, "served", served);
    json_object_set_int_member(hook, "refused", refused);
    json_object_set_int_member(hook, "bad_requests", bad);

    hookd_registry_lock(d->registry);
    json_object_set_object_member(hook, "calls", counts_to_json(d->hook_counts));
    json_object_set_int_member(sync, "count", d->syncs);
    if (d->last_sync) {
        g_autofree char *last = hookd_format_time(d->last_sync);
        json_object_set_string_member(sync, "last", last);
    } else {
        json_object_set_null_member(sync, "last");
    }
    uuids = hookd_registry_uuids(d->registry);
    for (u = uuids; *u; u++)
        n_pairs += hookd_registry_find(d->registry, *u)->pairs->len;
    hookd_registry_unlock(d->registry);

    json_object_set_object_member(reply, "hook", hook);
    json_object_set_object_member(reply, "events", counts_to_json(d->event_counts));
    json_object_set_object_member(reply, "resync", sync);
    json_object_set_int_member(reply, "domains", g_strv_length(uuids));
    json_object_set_int_member(reply, "pairs", n_pairs);
    return TRUE;
}

static gboolean
cmd_pairs(JsonObject *request, JsonObject *reply, gpointer data, GError **error)
{
    HookdDaemon *d = data;
    g_autoptr(JsonNode) doc = NULL;
    const char *want = json_object_get_string_member_with_default(request, "domain", NULL);
    g_autoptr(GPtrArray) released = NULL;
    JsonArray *all, *out;
    guint i;

    hookd_registry_lock(d->registry);
    doc = hookd_registry_to_json(d->registry);
    if (want)
        released = hookd_registry_released_json(d->registry, want);
    hookd_registry_unlock(d->registry);
    all = json_object_get_array_member(json_node_get_object(doc), "domains");
    if (!want) {
        json_object_set_array_member(reply, "domains", json_array_ref(all));
        return TRUE;
    }
    /* pairs DOMAIN: that domain only, by name or UUID. */
    out = json_array_new();
    for (i = 0; i < json_array_get_length(all); i++) {
        JsonObject *dom = json_array_get_object_element(all, i);
        if (g_strcmp0(json_object_get_string_member_with_default(dom, "name", NULL), want) == 0 ||
            g_strcmp0(json_object_get_string_member_with_default(dom, "uuid", NULL), want) == 0)
            json_array_add_object_element(out, json_object_ref(dom));
    }
    /* Then what is left of it after earlier releases here (the source of
     * a migration), newest first. */
    for (i = 0; i < released->len; i++)
        json_array_add_object_element(out, json_object_ref(g_ptr_array_index(released, i)));
    if (json_array_get_length(out) == 0) {
        json_array_unref(out);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "no annotated domain '%.64s' is known to hookd", want);
        return FALSE;
    }
    json_object_set_array_member(reply, "domains", out);
    return TRUE;
}

void
hookd_commands_register(HookdDaemon *d)
{
    hookd_ctl_register(d->ctl, "status",
                       "Daemon health: libvirt connection, datapath, VF manager, hook and event counters",
                       cmd_status, d);
    hookd_ctl_register(d->ctl, "pairs",
                       "Every annotated domain (or one: \"domain\": NAME|UUID, then its records released here), its pairs, their states and timeline", cmd_pairs, d);
}
