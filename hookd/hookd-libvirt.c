/* hookd's libvirt connection: keepalive, close callback, reconnect with
 * backoff, event table registration (see hookd-libvirt.h). */
#include "config.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "hookd-libvirt.h"
#include "hookd-pairs.h"

#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 3
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000

struct _HookdLibvirt {
    char *uri;
    virConnectPtr conn;
    GArray *domain_cb_ids;      /* int: virConnectDomainEventRegisterAny ids */
    GArray *qemu_cb_ids;        /* int: virConnectDomainQemuMonitorEventRegister ids */
    HookdLibvirtConnected on_connected;
    gpointer user_data;
    guint retry_id;
    guint backoff_ms;
    gint64 since;               /* wall clock of the last state change, µs */
    guint connects;
    char *last_error;
};

static void schedule_reconnect(HookdLibvirt *lv);

static void
set_last_error(HookdLibvirt *lv, const char *what)
{
    virErrorPtr err = virGetLastError();
    g_free(lv->last_error);
    lv->last_error = g_strdup_printf("%s: %s", what, err && err->message ? err->message : "unknown error");
}

static void
unregister_events(HookdLibvirt *lv)
{
    guint i;

    for (i = 0; i < lv->domain_cb_ids->len; i++)
        virConnectDomainEventDeregisterAny(lv->conn, g_array_index(lv->domain_cb_ids, int, i));
    for (i = 0; i < lv->qemu_cb_ids->len; i++)
        virConnectDomainQemuMonitorEventDeregister(lv->conn, g_array_index(lv->qemu_cb_ids, int, i));
    g_array_set_size(lv->domain_cb_ids, 0);
    g_array_set_size(lv->qemu_cb_ids, 0);
}

static gboolean
register_events(HookdLibvirt *lv)
{
    const HookdEventDef *def;

    for (def = hookd_event_table; def->name; def++) {
        int id;

        if (def->qemu_event)
            id = virConnectDomainQemuMonitorEventRegister(lv->conn, NULL, def->qemu_event,
                                                          def->qemu_cb, lv->user_data, NULL, 0);
        else
            id = virConnectDomainEventRegisterAny(lv->conn, NULL, def->event_id, def->cb,
                                                  lv->user_data, NULL);
        if (id < 0 && def->qemu_event &&
            virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
            /* Drivers other than qemu (test:///) have no monitor events. */
            g_info("libvirt %s: no QEMU monitor events (%s) with this driver", lv->uri, def->name);
            continue;
        }
        if (id < 0) {
            set_last_error(lv, def->name);
            g_warning("libvirt %s: cannot register for %s events: %s", lv->uri, def->name,
                      lv->last_error);
            return FALSE;
        }
        g_array_append_val(def->qemu_event ? lv->qemu_cb_ids : lv->domain_cb_ids, id);
    }
    return TRUE;
}

/* Drop the connection (dead or failed to set up). */
static void
drop_connection(HookdLibvirt *lv)
{
    if (!lv->conn)
        return;
    unregister_events(lv);
    virConnectUnregisterCloseCallback(lv->conn, NULL);
    virConnectClose(lv->conn);
    lv->conn = NULL;
    lv->since = g_get_real_time();
}

static gboolean
drop_and_reconnect(gpointer data)
{
    HookdLibvirt *lv = data;
    drop_connection(lv);
    schedule_reconnect(lv);
    return G_SOURCE_REMOVE;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    HookdLibvirt *lv = opaque;
    static const char *const reasons[] = { "error", "end of file", "keepalive timeout", "client closed" };

    if (conn != lv->conn)
        return;
    g_free(lv->last_error);
    lv->last_error = g_strdup_printf("connection closed (%s)",
                                     reason >= 0 && reason < (int)G_N_ELEMENTS(reasons) ? reasons[reason] : "unknown");
    g_warning("libvirt %s: %s; reconnecting", lv->uri, lv->last_error);
    /* Not from inside libvirt's callback: it holds the connection's lock. */
    g_idle_add(drop_and_reconnect, lv);
}

/* Empty: libvirt's default handler prints every error on stderr; hookd
 * reports the ones that matter itself, once, with context. */
static void
quiet_error_handler(void *data, virErrorPtr err)
{
}

static gboolean
try_connect(gpointer data)
{
    HookdLibvirt *lv = data;

    lv->retry_id = 0;
    lv->conn = virConnectOpen(lv->uri);
    if (!lv->conn) {
        set_last_error(lv, "cannot connect");
        g_debug("libvirt %s: %s", lv->uri, lv->last_error);
        schedule_reconnect(lv);
        return G_SOURCE_REMOVE;
    }
    if (virConnectSetKeepAlive(lv->conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) < 0)
        g_debug("libvirt %s: keepalive not supported by this driver", lv->uri);
    if (virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL) < 0)
        g_debug("libvirt %s: close callback not supported by this driver", lv->uri);
    if (!register_events(lv)) {
        drop_connection(lv);
        schedule_reconnect(lv);
        return G_SOURCE_REMOVE;
    }
    lv->backoff_ms = 0;
    lv->since = g_get_real_time();
    lv->connects++;
    g_clear_pointer(&lv->last_error, g_free);
    g_message("libvirt %s: connected%s", lv->uri, lv->connects > 1 ? " again, resyncing" : "");
    lv->on_connected(lv->conn, lv->user_data);
    return G_SOURCE_REMOVE;
}

static void
schedule_reconnect(HookdLibvirt *lv)
{
    if (lv->retry_id)
        return;
    lv->backoff_ms = lv->backoff_ms ? MIN(lv->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
    lv->retry_id = g_timeout_add(lv->backoff_ms, try_connect, lv);
}

HookdLibvirt *
hookd_libvirt_new(const char *uri, HookdLibvirtConnected on_connected, gpointer user_data)
{
    HookdLibvirt *lv = g_new0(HookdLibvirt, 1);

    virSetErrorFunc(NULL, quiet_error_handler);
    lv->uri = g_strdup(uri);
    lv->on_connected = on_connected;
    lv->user_data = user_data;
    lv->domain_cb_ids = g_array_new(FALSE, FALSE, sizeof(int));
    lv->qemu_cb_ids = g_array_new(FALSE, FALSE, sizeof(int));
    lv->since = g_get_real_time();
    lv->last_error = g_strdup("not connected yet");
    return lv;
}

void
hookd_libvirt_start(HookdLibvirt *lv)
{
    if (!lv->retry_id && !lv->conn)
        lv->retry_id = g_idle_add(try_connect, lv);
}

void
hookd_libvirt_free(HookdLibvirt *lv)
{
    if (!lv)
        return;
    if (lv->retry_id)
        g_source_remove(lv->retry_id);
    drop_connection(lv);
    g_array_unref(lv->domain_cb_ids);
    g_array_unref(lv->qemu_cb_ids);
    g_free(lv->uri);
    g_free(lv->last_error);
    g_free(lv);
}

virConnectPtr
hookd_libvirt_conn(HookdLibvirt *lv)
{
    return lv->conn;
}

JsonObject *
hookd_libvirt_status(HookdLibvirt *lv)
{
    JsonObject *o = json_object_new();
    g_autofree char *since = hookd_format_time(lv->since);

    json_object_set_string_member(o, "uri", lv->uri);
    json_object_set_string_member(o, "state", lv->conn ? "connected" : "disconnected");
    json_object_set_string_member(o, "since", since);
    json_object_set_int_member(o, "connects", lv->connects);
    if (lv->last_error)
        json_object_set_string_member(o, "last_error", lv->last_error);
    else
        json_object_set_null_member(o, "last_error");
    return o;
}
