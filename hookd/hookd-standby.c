/* The guest's virtio standby after an incoming migration. QEMU starts a
 * vhost-user backend when the domain resumes here only if the virtio link
 * it brought along is up; when the source's backend went away during the
 * migration (its vfailover-dp restarted), the source QEMU set the link down
 * and that state migrated, so the standby never starts here although the
 * datapath is up: the guest runs on its VF with no working standby. A few
 * seconds after the resume hookd asks the datapath whether each pair's
 * virtio device started and, where not, sets the interface's link up in
 * QEMU. A link an operator set down in libvirt is left as it is. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "hookd-daemon.h"

#define STANDBY_CHECK_SECONDS 3
/* After the link was set up: how often to look again before giving up. */
#define STANDBY_RECHECKS 5

typedef struct {
    HookdDaemon *d;
    char *uuid;
    guint rechecks;     /* looks since the link was set up (0: not set) */
} StandbyCheck;

static void
standby_check_free(StandbyCheck *c)
{
    g_free(c->uuid);
    g_free(c);
}

/* {"execute":"set_link","arguments":{"name":ALIAS,"up":true}} */
static char *
set_link_command(const char *alias)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonObject) cmd = json_object_new();
    g_autoptr(JsonNode) node = json_node_alloc();

    json_object_set_string_member(args, "name", alias);
    json_object_set_boolean_member(args, "up", TRUE);
    json_object_set_string_member(cmd, "execute", "set_link");
    json_object_set_object_member(cmd, "arguments", json_object_ref(args));
    json_node_init_object(node, cmd);
    return json_to_string(node, FALSE);
}

/* Bring the standby's link up in QEMU (QMP set_link on the virtio NIC,
 * whose id is the interface's alias). Not through libvirt's
 * virDomainUpdateDeviceFlags with <link state='up'/> as `virsh
 * domif-setlink` does: libvirt 9.0 refuses any change to a vhostuser
 * interface ("unable to change config on 'vhostuser' network type"). The
 * monitor command marks the domain tainted (custom-monitor) in libvirt's
 * log. TRUE if done; FALSE if an operator set the link down in libvirt
 * (left as it is) or on an error (logged). */
static gboolean
link_up(virDomainPtr vdom, const char *domain, const char *alias)
{
    g_autofree char *xml = virDomainGetXMLDesc(vdom, 0);
    g_autofree char *current = NULL, *cmd = NULL;
    g_autoptr(GError) error = NULL;
    char *reply = NULL;

    if (!xml) {
        virErrorPtr err = virGetLastError();
        g_warning("domain %s: interface %s: standby not restarted: cannot read the domain's XML: %s",
                  domain, alias, err && err->message ? err->message : "unknown error");
        return FALSE;
    }
    current = vfx_domain_interface_link_state(xml, strlen(xml), alias, &error);
    if (!current) {
        g_warning("domain %s: interface %s: standby not restarted: %s", domain, alias,
                  error->message);
        return FALSE;
    }
    if (g_strcmp0(current, "down") == 0) {
        g_message("domain %s: interface %s: the standby's link is set down in libvirt: left down",
                  domain, alias);
        return FALSE;
    }
    cmd = set_link_command(alias);
    if (virDomainQemuMonitorCommand(vdom, cmd, &reply, VIR_DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT) < 0) {
        virErrorPtr err = virGetLastError();
        g_warning("domain %s: interface %s: cannot set the standby's link up: %s", domain, alias,
                  err && err->message ? err->message : "unknown error");
        return FALSE;
    }
    free(reply);
    return TRUE;
}

static gboolean
standby_check(gpointer data)
{
    StandbyCheck *c = data;
    HookdDaemon *d = c->d;
    virConnectPtr conn = hookd_libvirt_conn(d->libvirt);
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func((GDestroyNotify)hookd_pair_free);
    g_autoptr(GPtrArray) down = g_ptr_array_new();
    g_autofree char *name = NULL;
    virDomainPtr vdom = NULL;
    HookdDomain *dom;
    gboolean kicked = FALSE;
    guint i;

    hookd_registry_lock(d->registry);
    dom = hookd_registry_find(d->registry, c->uuid);
    if (dom && dom->phase == HOOKD_DOMAIN_RUNNING && !dom->released) {
        name = g_strdup(dom->name);
        for (i = 0; i < dom->pairs->len; i++) {
            HookdPair *p = g_ptr_array_index(dom->pairs, i);
            if (!p->migrating)
                g_ptr_array_add(pairs, hookd_pair_copy(p));
        }
    }
    hookd_registry_unlock(d->registry);
    if (!name)
        return G_SOURCE_REMOVE;     /* gone, stopping or migrating away */

    /* The datapath calls do not take the registry lock. */
    for (i = 0; i < pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(pairs, i);
        if (hookd_dp_port_connected(d->dp, name, p) == 0)
            g_ptr_array_add(down, p);
    }
    if (c->rechecks && !down->len)
        g_message("domain %s: the standby's virtio device started after its link was set up",
                  name);
    if (!down->len)
        return G_SOURCE_REMOVE;
    if (c->rechecks) {
        if (++c->rechecks <= STANDBY_RECHECKS)
            return G_SOURCE_CONTINUE;
        for (i = 0; i < down->len; i++)
            g_warning("domain %s: interface %s: the standby's virtio device did not start after "
                      "its link was set up: the pair has no working virtio path",
                      name, ((HookdPair *)g_ptr_array_index(down, i))->alias);
        return G_SOURCE_REMOVE;
    }
    if (!conn || !(vdom = virDomainLookupByUUIDString(conn, c->uuid)))
        return G_SOURCE_REMOVE;
    for (i = 0; i < down->len; i++) {
        HookdPair *p = g_ptr_array_index(down, i);
        if (!link_up(vdom, name, p->alias))
            continue;
        kicked = TRUE;
        g_message("domain %s: interface %s: the standby's virtio device did not start after the "
                  "migration (its link came down with it): link set up", name, p->alias);
        hookd_registry_lock(d->registry);
        dom = hookd_registry_find(d->registry, c->uuid);
        if (dom)
            hookd_domain_note(dom, "state", "%s: standby restarted (link set up)",
                              p->alias);
        hookd_registry_unlock(d->registry);
    }
    virDomainFree(vdom);
    if (!kicked)
        return G_SOURCE_REMOVE;
    /* Look again, to report whether it worked. */
    c->rechecks = 1;
    return G_SOURCE_CONTINUE;
}

void
hookd_standby_check_later(HookdDaemon *d, const char *uuid)
{
    StandbyCheck *c = g_new0(StandbyCheck, 1);

    c->d = d;
    c->uuid = g_strdup(uuid);
    g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, STANDBY_CHECK_SECONDS, standby_check, c,
                               (GDestroyNotify)standby_check_free);
}
