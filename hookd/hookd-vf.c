/* hookd's side of the VF manager seam (hookd-vf.h). The VF manager library
 * (hookd/sriov-*, libsriov.a) is not linked yet: this build has no VF
 * backend, so no VF is ever free. Pairs whose policy is "virtio-only" run on
 * their virtio path; "refuse" pairs refuse to start with a clear reason.
 * Wiring libsriov means filling these four functions, nothing else. */
#include "config.h"

#include <gio/gio.h>

#include "hookd-vf.h"

struct _HookdVf {
    char *backend;      /* configured vf-backend (kernel|emulated) */
};

HookdVf *
hookd_vf_new(VfConfig *cfg, GError **error)
{
    HookdVf *vf = g_new0(HookdVf, 1);
    vf->backend = g_strdup(vf_config_get_string(cfg, "hookd", "vf-backend"));
    return vf;
}

void
hookd_vf_free(HookdVf *vf)
{
    if (!vf)
        return;
    g_free(vf->backend);
    g_free(vf);
}

static const char *
pair_pool(const HookdPair *pair, const char **kind)
{
    const char *pf = json_object_get_string_member_with_default(pair->policy, "pf", NULL);
    if (pf) {
        *kind = "PF";
        return pf;
    }
    *kind = "pool";
    return json_object_get_string_member_with_default(pair->policy, "pool", "default");
}

gboolean
hookd_vf_reserve(HookdVf *vf, const char *domain, HookdPair *pair, GError **error)
{
    const char *kind;
    const char *where = pair_pool(pair, &kind);

    if (g_strcmp0(pair->no_vf, "virtio-only") == 0) {
        g_message("domain %s: interface %s: no VF free on %s %s (no VF manager in this build); "
                  "running virtio-only", domain, pair->alias, kind, where);
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "domain %s: interface %s: no VF free on %s %s (no VF manager in this build) "
                "and its policy refuses to start without one",
                domain, pair->alias, kind, where);
    return FALSE;
}

void
hookd_vf_plug(HookdVf *vf, virDomainPtr dom, const char *domain, const HookdPair *pair)
{
    g_debug("domain %s: interface %s: no VF to plug", domain, pair->alias);
}

void
hookd_vf_release(HookdVf *vf, const char *domain, HookdPair *pair)
{
    g_clear_pointer(&pair->vf_pf, g_free);
    g_clear_pointer(&pair->vf_pci, g_free);
    pair->vf_index = -1;
}

JsonObject *
hookd_vf_status(HookdVf *vf)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "backend", vf->backend);
    json_object_set_boolean_member(o, "available", FALSE);
    json_object_set_string_member(o, "reason", "VF manager not linked in this build");
    return o;
}
