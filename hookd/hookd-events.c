/* The libvirt domain events hookd listens to, as a table (see
 * hookd-events.h), and what each does to the pair registry. They run on the
 * main loop; only annotated domains hookd has a record for are touched. */
#include "config.h"

#include <string.h>

#include "hookd-daemon.h"
#include "hookd-events.h"

static const char *const lifecycle_names[] = {
    "DEFINED", "UNDEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED",
    "SHUTDOWN", "PMSUSPENDED", "CRASHED",
};

static const char *
lifecycle_detail(int event, int detail)
{
    static const char *const started[] = { "BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP" };
    static const char *const suspended[] = { "PAUSED", "MIGRATED", "IOERROR", "WATCHDOG", "RESTORED",
                                             "FROM_SNAPSHOT", "API_ERROR", "POSTCOPY", "POSTCOPY_FAILED" };
    static const char *const resumed[] = { "UNPAUSED", "MIGRATED", "FROM_SNAPSHOT", "POSTCOPY",
                                           "POSTCOPY_FAILED" };
    static const char *const stopped[] = { "SHUTDOWN", "DESTROYED", "CRASHED", "MIGRATED", "SAVED",
                                           "FAILED", "FROM_SNAPSHOT" };
#define PICK(arr) (detail >= 0 && detail < (int)G_N_ELEMENTS(arr) ? arr[detail] : "OTHER")
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED: return PICK(started);
    case VIR_DOMAIN_EVENT_SUSPENDED: return PICK(suspended);
    case VIR_DOMAIN_EVENT_RESUMED: return PICK(resumed);
    case VIR_DOMAIN_EVENT_STOPPED: return PICK(stopped);
    default: return "-";
    }
#undef PICK
}

/* Look the domain up and lock the registry; NULL (unlocked) if hookd has
 * no record of it. Counts the event for annotated domains. */
static HookdDomain *
event_domain(HookdDaemon *d, virDomainPtr vdom, const char *event)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    HookdDomain *dom;

    if (virDomainGetUUIDString(vdom, uuid) < 0)
        return NULL;
    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, uuid);
    if (!dom) {
        hookd_registry_unlock(d->registry);
        return NULL;
    }
    hookd_daemon_count(d->event_counts, event);
    return dom;
}

/* Registry locked: transition a pair found by device alias, then tell the
 * datapath (after the state is persisted). */
static void
move_pair(HookdDaemon *d, HookdDomain *dom, const char *alias, HookdPairState state,
          const char *reason)
{
    HookdPair *p = alias ? hookd_domain_find_pair(dom, alias) : NULL;
    g_autoptr(GError) error = NULL;

    if (!p || p->state == state)
        return;
    hookd_domain_set_pair_state(dom, p, state, reason);
    if (!hookd_registry_save(d->registry, &error))
        g_warning("%s", error->message);
    hookd_dp_port_set_state(d->dp, dom->name, p);
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr vdom, int event, int detail, void *opaque)
{
    HookdDaemon *d = opaque;
    const char *name = event >= 0 && event < (int)G_N_ELEMENTS(lifecycle_names) ? lifecycle_names[event] : "OTHER";
    g_autofree char *key = g_strdup_printf("LIFECYCLE %s", name);
    HookdDomain *dom = event_domain(d, vdom, key);

    if (!dom)
        return 0;
    hookd_domain_note(dom, "event", "lifecycle %s %s", name, lifecycle_detail(event, detail));
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
    return 0;
}

/* The three device events: only the VF's device moves its pair (the
 * virtio one is always there). */
static void
device_event(HookdDaemon *d, virDomainPtr vdom, const char *alias, const char *event,
             const char *what, HookdPairState state, const char *reason)
{
    HookdDomain *dom = event_domain(d, vdom, event);
    HookdPair *p;

    if (!dom)
        return;
    hookd_domain_note(dom, "event", "%s %s", what, alias);
    p = hookd_domain_find_pair(dom, alias);
    if (p && g_strcmp0(p->vf_alias, alias) == 0)
        move_pair(d, dom, alias, state, reason);
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

static void
on_device_added(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_ADDED", "device added", HOOKD_PAIR_VF_ACTIVE,
                 "VF device added");
}

static void
on_device_removed(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_REMOVED", "device removed",
                 HOOKD_PAIR_VIRTIO_ACTIVE, "VF device removed");
}

static void
on_device_removal_failed(virConnectPtr conn, virDomainPtr vdom, const char *alias, void *opaque)
{
    device_event(opaque, vdom, alias, "DEVICE_REMOVAL_FAILED", "device removal failed",
                 HOOKD_PAIR_VF_ACTIVE, "VF unplug failed, the guest keeps it");
}

static void
on_job_completed(virConnectPtr conn, virDomainPtr vdom, virTypedParameterPtr params,
                 int nparams, void *opaque)
{
    HookdDaemon *d = opaque;
    HookdDomain *dom = event_domain(d, vdom, "JOB_COMPLETED");
    int operation = -1;
    unsigned long long downtime = 0;

    if (!dom)
        return;
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &operation);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &downtime);
    hookd_domain_note(dom, "event", "job completed (operation %d, downtime %llu ms)",
                      operation, downtime);
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

/* QEMU's failover events carry {"device-id": ID} in their details. */
static char *
device_id(const char *details)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    JsonNode *root;

    if (!details || !json_parser_load_from_data(parser, details, -1, NULL))
        return NULL;
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(json_node_get_object(root),
                                                               "device-id", NULL));
}

static void
on_qemu_event(virConnectPtr conn, virDomainPtr vdom, const char *event, long long seconds,
              unsigned int micros, const char *details, void *opaque)
{
    HookdDaemon *d = opaque;
    HookdDomain *dom = event_domain(d, vdom, event);
    g_autofree char *dev = device_id(details);

    if (!dom)
        return;
    hookd_domain_note(dom, "event", "qemu %s %s (at %lld.%06u)", event, dev ? dev : "-",
                      seconds, micros);
    /* QEMU unplugs the primary (VF) itself at migration start: the pair is
     * switching until DEVICE_REMOVED says the guest let it go. */
    if (strcmp(event, "UNPLUG_PRIMARY") == 0 && dev)
        move_pair(d, dom, dev, HOOKD_PAIR_SWITCHING, "QEMU unplugs the VF for migration");
    hookd_registry_save_later(d->registry);
    hookd_registry_unlock(d->registry);
}

const HookdEventDef hookd_event_table[] = {
    { "LIFECYCLE", VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL },
    { "DEVICE_ADDED", VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_added), NULL, NULL },
    { "DEVICE_REMOVED", VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), NULL, NULL },
    { "DEVICE_REMOVAL_FAILED", VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
      VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), NULL, NULL },
    { "JOB_COMPLETED", VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_job_completed), NULL, NULL },
    { "UNPLUG_PRIMARY", 0, NULL, "UNPLUG_PRIMARY", on_qemu_event },
    { "FAILOVER_NEGOTIATED", 0, NULL, "FAILOVER_NEGOTIATED", on_qemu_event },
    { NULL, 0, NULL, NULL, NULL },
};
