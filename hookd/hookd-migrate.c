/* Managed-mode migration, started from the control socket (`migrate`,
 * vfailoverctl migrate): move the pairs to SWITCHING (the datapath claims
 * the MAC and holds the guest's frames, the VF's steering is cleared),
 * detach the domain's VFs live, wait (bounded) for DEVICE_REMOVED (the
 * pairs are VIRTIO_ACTIVE by then, or earlier, as soon as the guest
 * transmits on virtio; the hold ends at DEVICE_REMOVED), then run libvirt's
 * peer-to-peer live migration. All of it on a worker thread: the main loop
 * keeps serving events (DEVICE_REMOVED among them). On failure the VFs are
 * plugged back on the main loop (DEVICE_ADDED -> VF_ACTIVE, steering back).
 * The destination's hookd plugs its VF once the domain resumed there
 * (hookd-events.c, RESUMED MIGRATED). `migrate-status DOMAIN`
 * reports the job. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libvirt/virterror.h>

#include "hookd-daemon.h"

#define DETACH_TIMEOUT_US (15 * G_USEC_PER_SEC)
#define DETACH_RESEND_US (6 * G_USEC_PER_SEC)

typedef struct {
    HookdDaemon *d;
    char *uuid, *name, *dest_uri;
    virDomainPtr dom;
    char *state;        /* detaching, migrating, completed, failed */
    char *error;
    gint64 started, finished;
    GThread *thread;
} HookdMigration;

static void
migration_free(HookdMigration *m)
{
    if (!m)
        return;
    if (m->thread)
        g_thread_join(m->thread);
    if (m->dom)
        virDomainFree(m->dom);
    g_free(m->uuid);
    g_free(m->name);
    g_free(m->dest_uri);
    g_free(m->state);
    g_free(m->error);
    g_free(m);
}

/* Registry lock taken here. */
static void
set_state(HookdMigration *m, const char *state, const char *error)
{
    HookdDomain *dom;

    hookd_registry_lock(m->d->registry);
    g_free(m->state);
    m->state = g_strdup(state);
    if (error) {
        g_free(m->error);
        m->error = g_strdup(error);
    }
    if (strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0)
        m->finished = g_get_real_time();
    dom = hookd_registry_find(m->d->registry, m->uuid);
    if (dom)
        hookd_domain_note(dom, "state", "managed migration to %s: %s%s%s", m->dest_uri, state,
                          error ? ": " : "", error ? error : "");
    hookd_registry_unlock(m->d->registry);
    if (error)
        g_warning("domain %s: managed migration to %s: %s", m->name, m->dest_uri, error);
    else
        g_message("domain %s: managed migration to %s: %s", m->name, m->dest_uri, state);
}

/* Mark the pairs whose VF leaves for the migration (persisted before the
 * detach: a restarted hookd still plugs them back if the migration fails,
 * hookd-sync.c), or clear the marks; the number of pairs changed. */
static guint
mark_migrating(HookdMigration *m, GPtrArray *pairs, gboolean on)
{
    g_autoptr(GError) error = NULL;
    HookdDomain *dom;
    guint i, n = 0;

    hookd_registry_lock(m->d->registry);
    dom = hookd_registry_find(m->d->registry, m->uuid);
    for (i = 0; dom && i < pairs->len; i++) {
        HookdPair *p = hookd_domain_find_pair(dom, ((HookdPair *)g_ptr_array_index(pairs, i))->alias);
        if (p && p->migrating != on) {
            p->migrating = on;
            n++;
        }
    }
    if (n && !hookd_registry_save(m->d->registry, &error))
        g_warning("%s", error->message);
    hookd_registry_unlock(m->d->registry);
    return n;
}

/* Pairs with a VF plugged now (copies): not yet VIRTIO_ACTIVE, or their
 * detach requested and not yet confirmed by DEVICE_REMOVED. With
 * @switching, only those that are not SWITCHING yet. */
static GPtrArray *
plugged_pairs(HookdMigration *m, gboolean switching)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hookd_pair_free);
    HookdDomain *dom;
    guint i;

    hookd_registry_lock(m->d->registry);
    dom = hookd_registry_find(m->d->registry, m->uuid);
    for (i = 0; dom && i < dom->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(dom->pairs, i);
        if (!p->vf_pf)
            continue;
        if (switching ? p->state == HOOKD_PAIR_VF_ACTIVE
                      : p->state != HOOKD_PAIR_VIRTIO_ACTIVE || p->vf_detaching)
            g_ptr_array_add(out, hookd_pair_copy(p));
    }
    hookd_registry_unlock(m->d->registry);
    return out;
}

/* Detach requested for @p's VF (registry lock taken here). */
static void
set_detaching(HookdMigration *m, const HookdPair *copy, gboolean on)
{
    HookdDomain *dom;
    HookdPair *p;

    hookd_registry_lock(m->d->registry);
    dom = hookd_registry_find(m->d->registry, m->uuid);
    p = dom ? hookd_domain_find_pair(dom, copy->alias) : NULL;
    if (p)
        p->vf_detaching = on;
    hookd_registry_unlock(m->d->registry);
}

/* libvirt reports a hook that refused with the hook's whole command line
 * and environment ("Hook script execution failed: internal error: Child
 * process (LC_ALL=C PATH=... /etc/libvirt/hooks/qemu.d/50-vfailover DOM
 * migrate begin -) unexpected exit status 1: vfailover: domain ..."): the
 * hook's own line, or NULL for any other message. */
static const char *
hook_refusal(const char *message)
{
    static const char lead[] = "Hook script execution failed";
    static const char status[] = "unexpected exit status ";
    const char *p;

    if (!g_str_has_prefix(message, lead) || !(p = strstr(message, status)))
        return NULL;
    p += sizeof(status) - 1;
    while (g_ascii_isdigit(*p))
        p++;
    return p[0] == ':' && p[1] == ' ' && p[2] ? p + 2 : NULL;
}

/* The guest has not answered the unplug of @left's VFs yet: ask again. A
 * failure here (QEMU still inside its pending window, the device gone
 * meanwhile) is not the migration's: DEVICE_REMOVED or the deadline is. */
static void
resend_detach(HookdMigration *m, GPtrArray *left)
{
    guint i;

    for (i = 0; i < left->len; i++) {
        g_autoptr(GError) error = NULL;
        if (!hookd_vf_detach(m->d->vf, m->dom, m->uuid, m->name, g_ptr_array_index(left, i),
                             &error))
            g_info("%s (the first unplug request stands)", error->message);
    }
}

static gpointer
migrate_thread(gpointer data)
{
    HookdMigration *m = data;
    g_autoptr(GPtrArray) pairs = plugged_pairs(m, FALSE);
    g_autoptr(GError) error = NULL;
    gint64 deadline, resend;
    gboolean plug;
    guint i;

    mark_migrating(m, pairs, TRUE);
    /* Make before break: the pairs go SWITCHING first (main loop): the
     * datapath claims and announces the MAC while the VF keeps its
     * steering; the guest's first frame on virtio or DEVICE_REMOVED moves
     * them on (hookd-events.c). Bounded: a main loop that does not get to
     * it only costs the claim's head start. */
    hookd_daemon_queue(m->d, hookd_events_begin_detach, m->uuid);
    deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        g_autoptr(GPtrArray) left = plugged_pairs(m, TRUE);
        if (left->len == 0)
            break;
        g_usleep(5 * 1000);
    }
    for (i = 0; i < pairs->len; i++) {
        set_detaching(m, g_ptr_array_index(pairs, i), TRUE);
        if (!hookd_vf_detach(m->d->vf, m->dom, m->uuid, m->name, g_ptr_array_index(pairs, i),
                             &error))
            goto rollback;
    }
    /* DEVICE_REMOVED (main loop) ends the detach; wait for it, bounded.
     * A PCIe unplug is a request the guest answers: one that was booting or
     * resetting can miss it, so it is sent again every DETACH_RESEND_US
     * (QEMU accepts it again once its own 5 s pending window has passed). */
    deadline = g_get_monotonic_time() + DETACH_TIMEOUT_US;
    resend = g_get_monotonic_time() + DETACH_RESEND_US;
    while (pairs->len > 0) {
        g_autoptr(GPtrArray) left = plugged_pairs(m, FALSE);
        if (left->len == 0)
            break;
        if (g_get_monotonic_time() > resend) {
            resend_detach(m, left);
            resend = g_get_monotonic_time() + DETACH_RESEND_US;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "the guest did not release its VF within %d s (no DEVICE_REMOVED)",
                        (int)(DETACH_TIMEOUT_US / G_USEC_PER_SEC));
            goto rollback;
        }
        g_usleep(20 * 1000);
    }
    set_state(m, "migrating", NULL);
    if (virDomainMigrateToURI3(m->dom, m->dest_uri, NULL, 0,
                               VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER) < 0) {
        virErrorPtr err = virGetLastError();
        const char *msg = err && err->message ? err->message : "unknown error";
        const char *refusal = hook_refusal(msg);

        if (refusal)
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "a libvirt hook refused it: %s",
                        refusal);
        else
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "libvirt: %s", msg);
        goto rollback;
    }
    set_state(m, "completed", NULL);
    return NULL;

rollback:
    /* The domain keeps running here: plug its VFs back (DEVICE_ADDED moves
     * the pairs to VF_ACTIVE and the steering back to the VF) unless the
     * QEMU event of the failure did already (hookd-events.c). */
    set_state(m, "failed", error->message);
    plug = mark_migrating(m, pairs, FALSE) > 0;
    /* A pair still SWITCHING kept its VF (no DEVICE_REMOVED): back on it. */
    hookd_daemon_queue(m->d, hookd_events_cancel_detach, m->uuid);
    if (plug)
        hookd_daemon_queue(m->d, hookd_hookops_plug_vfs, m->uuid);
    return NULL;
}

gboolean
hookd_migrate_running(HookdDaemon *d, const char *name)
{
    HookdMigration *m = d->migrations ? g_hash_table_lookup(d->migrations, name) : NULL;
    return m && !m->finished;
}

static JsonObject *
migration_json(HookdMigration *m)
{
    JsonObject *o = json_object_new();
    g_autofree char *started = hookd_format_time(m->started);

    json_object_set_string_member(o, "domain", m->name);
    json_object_set_string_member(o, "dest_uri", m->dest_uri);
    json_object_set_string_member(o, "mode", "managed");
    json_object_set_string_member(o, "state", m->state);
    json_object_set_string_member(o, "started", started);
    if (m->finished) {
        g_autofree char *finished = hookd_format_time(m->finished);
        json_object_set_string_member(o, "finished", finished);
        json_object_set_int_member(o, "duration_ms", (m->finished - m->started) / 1000);
    }
    if (m->error)
        json_object_set_string_member(o, "error", m->error);
    return o;
}

static gboolean
cmd_migrate(JsonObject *request, JsonObject *reply, gpointer data, GError **error)
{
    HookdDaemon *d = data;
    const char *name = json_object_get_string_member_with_default(request, "domain", NULL);
    const char *uri = json_object_get_string_member_with_default(request, "dest_uri", NULL);
    const char *mode = json_object_get_string_member_with_default(request, "mode", "managed");
    virConnectPtr conn = hookd_libvirt_conn(d->libvirt);
    HookdMigration *m, *old;
    HookdDomain *dom;
    virDomainPtr vdom;

    if (!name || !uri || strlen(name) > 256 || strlen(uri) > 1024) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "migrate needs \"domain\" and \"dest_uri\"");
        return FALSE;
    }
    if (strcmp(mode, "managed") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "mode '%.32s': only managed migrations are started by hookd (native mode "
                    "is libvirt's own: virsh migrate --live)", mode);
        return FALSE;
    }
    if (!conn) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "libvirt is not connected");
        return FALSE;
    }
    m = g_new0(HookdMigration, 1);
    m->d = d;
    m->name = g_strdup(name);
    m->dest_uri = g_strdup(uri);
    m->state = g_strdup("detaching");
    m->started = g_get_real_time();

    hookd_registry_lock(d->registry);
    dom = hookd_registry_find_by_name(d->registry, name);
    old = g_hash_table_lookup(d->migrations, name);
    if (!dom || dom->phase != HOOKD_DOMAIN_RUNNING || (old && !old->finished)) {
        hookd_registry_unlock(d->registry);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "domain %.256s: %s", name,
                    !dom ? "not an annotated domain known to hookd"
                    : dom->phase != HOOKD_DOMAIN_RUNNING ? "not running"
                    : "a migration is already in progress");
        migration_free(m);
        return FALSE;
    }
    m->uuid = g_strdup(dom->uuid);
    hookd_registry_unlock(d->registry);

    vdom = virDomainLookupByUUIDString(conn, m->uuid);
    if (!vdom) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "domain %s: not found in libvirt", name);
        migration_free(m);
        return FALSE;
    }
    m->dom = vdom;
    hookd_registry_lock(d->registry);
    g_hash_table_replace(d->migrations, g_strdup(name), m);   /* joins an older one */
    if ((dom = hookd_registry_find(d->registry, m->uuid)))
        hookd_domain_note(dom, "state", "managed migration to %s: started", uri);
    hookd_registry_unlock(d->registry);
    g_message("domain %s: managed migration to %s: started", name, uri);
    m->thread = g_thread_new("hookd-migrate", migrate_thread, m);
    json_object_set_object_member(reply, "migration", migration_json(m));
    return TRUE;
}

static gboolean
cmd_migrate_status(JsonObject *request, JsonObject *reply, gpointer data, GError **error)
{
    HookdDaemon *d = data;
    const char *name = json_object_get_string_member_with_default(request, "domain", NULL);
    HookdMigration *m;

    hookd_registry_lock(d->registry);
    m = name ? g_hash_table_lookup(d->migrations, name) : NULL;
    if (m)
        json_object_set_object_member(reply, "migration", migration_json(m));
    hookd_registry_unlock(d->registry);
    if (!m) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no managed migration of domain '%.256s'",
                    name ? name : "");
        return FALSE;
    }
    return TRUE;
}

void
hookd_migrate_register(HookdDaemon *d)
{
    d->migrations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)migration_free);
    hookd_ctl_register(d->ctl, "migrate",
                       "Managed-mode live migration: {\"domain\", \"dest_uri\", \"mode\": \"managed\"}; "
                       "returns at once, see migrate-status", cmd_migrate, d);
    hookd_ctl_register(d->ctl, "migrate-status",
                       "The last managed migration of {\"domain\"}: state detaching|migrating|"
                       "completed|failed", cmd_migrate_status, d);
}

void
hookd_migrate_free_all(HookdDaemon *d)
{
    if (d->migrations)
        g_hash_table_unref(d->migrations);
    d->migrations = NULL;
}
