/* VF pool and policy (see sriov-pool.h). */
#include "config.h"

#include <string.h>

#include "sriov-pool-private.h"
#include "sriov-record.h"

typedef struct _SriovPf SriovPf;

struct _SriovVf {
    SriovPf *pf;
    guint index;
    gboolean kept;              /* one of the first reserved-vfs: the host's */
    char *pci_address;
    char *netdev;
    /* guarded by pool->lock */
    char *domain_uuid;          /* owner, or NULL */
    char *pair_key;
    gboolean busy;              /* reserve/release in progress */
    gboolean restore_pending;   /* release failed: out of the pool until reconcile */
    SriovVfRecord *rec;         /* saved state while owned */
};

struct _SriovPf {
    char *name;
    char *pool;
    SriovBackend *be;
    guint total;
    guint kept;
    GPtrArray *vfs;             /* SriovVf* */
};

struct _SriovPool {
    GMutex lock;                /* allocation state */
    GMutex be_lock;             /* backend calls, one at a time */
    char *state_dir;
    GPtrArray *pfs;             /* SriovPf* */
    SriovBackend *kernel;
    SriovBackend *emulated;
};

static void
vf_free(gpointer p)
{
    SriovVf *vf = p;
    g_free(vf->pci_address);
    g_free(vf->netdev);
    g_free(vf->domain_uuid);
    g_free(vf->pair_key);
    sriov_vf_record_free(vf->rec);
    g_free(vf);
}

static void
pf_free(gpointer p)
{
    SriovPf *pf = p;
    g_free(pf->name);
    g_free(pf->pool);
    g_ptr_array_unref(pf->vfs);
    g_free(pf);
}

void
sriov_pool_free(SriovPool *pool)
{
    if (!pool)
        return;
    g_ptr_array_unref(pool->pfs);
    sriov_backend_free(pool->kernel);
    sriov_backend_free(pool->emulated);
    g_free(pool->state_dir);
    g_mutex_clear(&pool->lock);
    g_mutex_clear(&pool->be_lock);
    g_free(pool);
}

static gboolean
valid_pf_name(const char *name)
{
    /* a netdev name: it becomes part of file and bridge names, and of the
     * emulated backend's nftables input (no quotes or separators) */
    return *name && strlen(name) < 16 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0 && !strpbrk(name, " \t\n:\"\\;{}#");
}

static SriovPf *
find_pf(SriovPool *pool, const char *name)
{
    guint i;
    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        if (strcmp(pf->name, name) == 0)
            return pf;
    }
    return NULL;
}

static gboolean
open_pf(SriovPool *pool, VfConfig *cfg, const char *name, GPtrArray *records, GError **error)
{
    g_autofree char *group = g_strconcat("pf:", name, NULL);
    const char *backend = vf_config_get_string(cfg, group, "backend");
    const char *uplink = vf_config_get_string(cfg, group, "uplink");
    const char *dp_port = vf_config_get_string(cfg, group, "datapath-port");
    guint want = (guint)vf_config_get_int(cfg, group, "num-vfs");
    guint kept = (guint)vf_config_get_int(cfg, group, "reserved-vfs");
    SriovPfParams params = { .uplink = uplink && *uplink ? uplink : NULL,
                             .datapath_port = dp_port && *dp_port ? dp_port : NULL };
    SriovPf *pf;
    guint num = 0, i;
    gboolean saved = FALSE;

    if (!valid_pf_name(name)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "%s: [pf:%s]: '%s' is not a network device name", vf_config_path(cfg),
                    name, name);
        return FALSE;
    }
    for (i = 0; i < 2; i++) {
        const char *port = i == 0 ? params.uplink : params.datapath_port;
        if (port && !valid_pf_name(port)) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "%s: [pf:%s]: '%s' is not a network device name", vf_config_path(cfg),
                        name, port);
            return FALSE;
        }
    }
    pf = g_new0(SriovPf, 1);
    pf->name = g_strdup(name);
    pf->pool = g_strdup(vf_config_get_string(cfg, group, "pool"));
    pf->be = strcmp(backend, "kernel") == 0 ? pool->kernel : pool->emulated;
    pf->kept = kept;
    pf->vfs = g_ptr_array_new_with_free_func(vf_free);
    g_ptr_array_add(pool->pfs, pf);
    if (!pf->be) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "PF %s: backend %s is not available", name, backend);
        return FALSE;
    }
    if (!pf->be->ops->pf_open(pf->be, name, &params, &pf->total, error))
        return FALSE;
    if (want > pf->total) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s: num-vfs = %u but the device supports at most %u VFs",
                    name, want, pf->total);
        return FALSE;
    }
    for (i = 0; i < records->len; i++) {
        SriovVfRecord *rec = g_ptr_array_index(records, i);
        if (strcmp(rec->pf, name) == 0)
            saved = TRUE;
    }
    if (!pf->be->ops->pf_get_num_vfs(pf->be, name, &num, error))
        return FALSE;
    if (want > 0 && want != num) {
        if (saved && num > 0) {
            /* Changing the count would pull VFs out from under running
             * domains: keep it until their reservations are gone. */
            g_warning("PF %s: keeping its %u VFs (num-vfs = %u): some are still reserved",
                      name, num, want);
        } else {
            if (!pf->be->ops->pf_set_num_vfs(pf->be, name, want, error))
                return FALSE;
            num = want;
        }
    }
    if (kept > num && num > 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s: reserved-vfs = %u is more than its %u VFs", name, kept, num);
        return FALSE;
    }
    for (i = 0; i < num; i++) {
        SriovVf *vf = g_new0(SriovVf, 1);
        g_auto(SriovVfInfo) info = { 0 };

        vf->pf = pf;
        vf->index = i;
        vf->kept = i < kept;
        if (pf->be->ops->vf_get_info(pf->be, name, i, &info, NULL)) {
            vf->pci_address = g_steal_pointer(&info.pci_address);
            vf->netdev = g_steal_pointer(&info.netdev);
        }
        g_ptr_array_add(pf->vfs, vf);
    }
    return TRUE;
}

static void
adopt_records(SriovPool *pool, GPtrArray *records)
{
    while (records->len > 0) {
        SriovVfRecord *rec = g_ptr_array_steal_index(records, records->len - 1);
        SriovPf *pf = find_pf(pool, rec->pf);
        SriovVf *vf;

        if (!pf || rec->vf >= pf->vfs->len) {
            g_warning("Saved state for PF %s VF %u (domain %s) names a VF this host no longer "
                      "has; leaving it in %s/vf for inspection",
                      rec->pf, rec->vf, rec->domain_uuid, pool->state_dir);
            sriov_vf_record_free(rec);
            continue;
        }
        vf = g_ptr_array_index(pf->vfs, rec->vf);
        vf->domain_uuid = g_strdup(rec->domain_uuid);
        vf->pair_key = g_strdup(rec->pair_key);
        vf->rec = rec;
    }
}

SriovPool *
sriov_pool_new_with_backends(VfConfig *cfg, const char *state_dir, SriovBackend *kernel,
                             SriovBackend *emulated, GError **error)
{
    g_autoptr(SriovPool) pool = g_new0(SriovPool, 1);
    g_auto(GStrv) names = vf_config_sections(cfg, "pf");
    g_autoptr(GPtrArray) records = NULL;
    char **n;

    g_mutex_init(&pool->lock);
    g_mutex_init(&pool->be_lock);
    pool->state_dir = g_strdup(state_dir);
    pool->pfs = g_ptr_array_new_with_free_func(pf_free);
    pool->kernel = kernel;
    pool->emulated = emulated;

    records = sriov_record_load_all(state_dir, error);
    if (!records)
        return NULL;
    for (n = names; *n; n++) {
        if (!open_pf(pool, cfg, *n, records, error))
            return NULL;
    }
    adopt_records(pool, records);
    return g_steal_pointer(&pool);
}

static gboolean
config_uses(VfConfig *cfg, const char *backend)
{
    g_auto(GStrv) names = vf_config_sections(cfg, "pf");
    char **n;

    for (n = names; *n; n++) {
        g_autofree char *group = g_strconcat("pf:", *n, NULL);
        if (strcmp(vf_config_get_string(cfg, group, "backend"), backend) == 0)
            return TRUE;
    }
    return FALSE;
}

SriovPool *
sriov_pool_new(VfConfig *cfg, const char *state_dir, const char *sysfs_root, GError **error)
{
    SriovBackend *kernel = NULL;
    SriovBackend *emulated = NULL;

    if (config_uses(cfg, "kernel") &&
        !(kernel = sriov_kernel_backend_new(sysfs_root, NULL, error)))
        return NULL;
    if (config_uses(cfg, "emulated") && !(emulated = sriov_emulated_backend_new(NULL, error))) {
        sriov_backend_free(kernel);
        return NULL;
    }
    return sriov_pool_new_with_backends(cfg, state_dir, kernel, emulated, error);
}

/* ---- allocation ---- */

static SriovVf *
lookup_locked(SriovPool *pool, const char *domain_uuid, const char *pair_key)
{
    guint i, j;
    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        for (j = 0; j < pf->vfs->len; j++) {
            SriovVf *vf = g_ptr_array_index(pf->vfs, j);
            if (vf->domain_uuid && strcmp(vf->domain_uuid, domain_uuid) == 0 &&
                strcmp(vf->pair_key, pair_key) == 0)
                return vf;
        }
    }
    return NULL;
}

SriovVf *
sriov_pool_lookup(SriovPool *pool, const char *domain_uuid, const char *pair_key)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
    return lookup_locked(pool, domain_uuid, pair_key);
}

static gboolean
vf_free_locked(const SriovVf *vf)
{
    return !vf->kept && !vf->domain_uuid && !vf->busy && !vf->restore_pending;
}

static void
describe_pf_usage(GString *s, SriovPf *pf)
{
    guint used = 0, i;
    for (i = 0; i < pf->vfs->len; i++)
        if (!vf_free_locked(g_ptr_array_index(pf->vfs, i)))
            used++;
    if (pf->vfs->len == 0)
        g_string_append_printf(s, "PF %s has no VFs (num-vfs is 0)", pf->name);
    else
        g_string_append_printf(s, "PF %s: no free VF (%u of %u in use, %u kept for the host)",
                               pf->name, used, pf->vfs->len, MIN(pf->kept, pf->vfs->len));
}

static SriovVf *
pick_locked(SriovPool *pool, const char *pf_name, const char *pool_name, GError **error)
{
    g_autoptr(GString) why = g_string_new(NULL);
    guint i, j, candidates = 0;

    if (pf_name && !find_pf(pool, pf_name)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s is not configured (no [pf:%s] in the configuration)", pf_name, pf_name);
        return NULL;
    }
    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        if (pf_name && strcmp(pf->name, pf_name) != 0)
            continue;
        if (!pf_name && pool_name && strcmp(pf->pool, pool_name) != 0)
            continue;
        candidates++;
        for (j = 0; j < pf->vfs->len; j++) {
            SriovVf *vf = g_ptr_array_index(pf->vfs, j);
            if (vf_free_locked(vf))
                return vf;
        }
        if (why->len)
            g_string_append(why, "; ");
        describe_pf_usage(why, pf);
    }
    if (candidates == 0) {
        if (pool_name)
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                        "VF pool %s has no PF (no [pf:NAME] with pool = %s)", pool_name, pool_name);
        else
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                        "No PF is configured (no [pf:NAME] group)");
        return NULL;
    }
    if (pf_name || candidates == 1)
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF, "%s", why->str);
    else
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF, "%s%s%s: %s",
                    pool_name ? "VF pool " : "", pool_name ? pool_name : "every PF",
                    pool_name ? " is full" : " is full", why->str);
    return NULL;
}

static void
unclaim(SriovPool *pool, SriovVf *vf)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
    g_clear_pointer(&vf->domain_uuid, g_free);
    g_clear_pointer(&vf->pair_key, g_free);
    vf->busy = FALSE;
}

/* @vf was claimed (busy, owner set) under the lock: read its original
 * configuration, save the reservation (on disk when this returns), and
 * publish it; on failure the claim is dropped. */
static SriovVf *
reserve_claimed(SriovPool *pool, SriovVf *vf, const char *domain_uuid, const char *pair_key,
                GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(SriovVfRecord) rec = NULL;
    g_auto(SriovVfInfo) info = { 0 };
    gboolean ok;

    rec = g_new0(SriovVfRecord, 1);
    rec->pf = g_strdup(vf->pf->name);
    rec->vf = vf->index;
    rec->backend = g_strdup(be->ops->name);
    rec->domain_uuid = g_strdup(domain_uuid);
    rec->pair_key = g_strdup(pair_key);
    rec->reserved_at = g_get_real_time() / G_USEC_PER_SEC;

    g_mutex_lock(&pool->be_lock);
    ok = be->ops->vf_reserve(be, vf->pf->name, vf->index, error) &&
         be->ops->vf_get_info(be, vf->pf->name, vf->index, &info, error) &&
         be->ops->vf_get_config(be, vf->pf->name, vf->index, &rec->original, error);
    if (ok) {
        rec->pci_address = g_strdup(info.pci_address);
        rec->original_driver = g_strdup(info.driver);
        /* On disk before the first change. */
        ok = sriov_record_save(pool->state_dir, rec, error);
        if (!ok)
            (void)be->ops->vf_release(be, vf->pf->name, vf->index, NULL);
    }
    g_mutex_unlock(&pool->be_lock);
    if (!ok) {
        unclaim(pool, vf);
        return NULL;
    }
    {
        g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
        g_free(vf->pci_address);
        vf->pci_address = g_strdup(info.pci_address);
        g_free(vf->netdev);
        vf->netdev = g_strdup(info.netdev);
        vf->rec = g_steal_pointer(&rec);
        vf->busy = FALSE;
    }
    g_info("PF %s VF %u reserved for domain %s (%s)", vf->pf->name, vf->index, domain_uuid,
           pair_key);
    return vf;
}

static void
claim_locked(SriovVf *vf, const char *domain_uuid, const char *pair_key)
{
    /* Claimed: no other caller can pick it from here on. */
    vf->busy = TRUE;
    vf->domain_uuid = g_strdup(domain_uuid);
    vf->pair_key = g_strdup(pair_key);
}

SriovVf *
sriov_pool_reserve(SriovPool *pool, const char *domain_uuid, const char *pair_key,
                   const char *pf_name, const char *pool_name, GError **error)
{
    SriovVf *vf;

    g_return_val_if_fail(domain_uuid && pair_key, NULL);
    {
        g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
        vf = lookup_locked(pool, domain_uuid, pair_key);
        if (vf)
            return vf;
        vf = pick_locked(pool, pf_name, pool_name, error);
        if (!vf)
            return NULL;
        claim_locked(vf, domain_uuid, pair_key);
    }
    return reserve_claimed(pool, vf, domain_uuid, pair_key, error);
}

/* Why @vf cannot be claimed (lock held), or NULL if it can. */
static char *
vf_unavailable_locked(const SriovVf *vf)
{
    if (vf->kept)
        return g_strdup_printf("is kept for the host (reserved-vfs = %u)", vf->pf->kept);
    if (vf->restore_pending)
        return g_strdup_printf("is waiting for its original configuration to be restored "
                               "(it was domain %s's)", vf->domain_uuid);
    if (vf->domain_uuid)
        return g_strdup_printf("is in use by domain %s (%s)%s", vf->domain_uuid, vf->pair_key,
                               vf->busy && !vf->rec ? ", being reserved" : "");
    if (vf->busy)
        return g_strdup("is being released");
    return NULL;
}

SriovVf *
sriov_pool_reserve_vf(SriovPool *pool, const char *domain_uuid, const char *pair_key,
                      const char *pf_name, guint index, GError **error)
{
    SriovVf *vf;
    SriovPf *pf;

    g_return_val_if_fail(domain_uuid && pair_key && pf_name, NULL);
    {
        g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
        g_autofree char *why = NULL;

        pf = find_pf(pool, pf_name);
        if (!pf) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                        "PF %s is not configured (no [pf:%s] in the configuration)", pf_name,
                        pf_name);
            return NULL;
        }
        if (index >= pf->vfs->len) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                        "PF %s has no VF %u (it has %u)", pf_name, index, pf->vfs->len);
            return NULL;
        }
        vf = g_ptr_array_index(pf->vfs, index);
        if (vf->domain_uuid && strcmp(vf->domain_uuid, domain_uuid) == 0 &&
            strcmp(vf->pair_key, pair_key) == 0 && !vf->busy && vf->rec)
            return vf;   /* already this pair's */
        {
            SriovVf *held = lookup_locked(pool, domain_uuid, pair_key);
            if (held && held != vf) {
                g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY,
                            "PF %s VF %u: domain %s (%s) already holds PF %s VF %u", pf_name,
                            index, domain_uuid, pair_key, held->pf->name, held->index);
                return NULL;
            }
        }
        why = vf_unavailable_locked(vf);
        if (why) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY, "PF %s VF %u %s", pf_name, index,
                        why);
            return NULL;
        }
        claim_locked(vf, domain_uuid, pair_key);
    }
    return reserve_claimed(pool, vf, domain_uuid, pair_key, error);
}

static gboolean
check_owned(SriovVf *vf, GError **error)
{
    if (!vf->rec || vf->busy) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY,
                    "PF %s VF %u is not reserved", vf->pf->name, vf->index);
        return FALSE;
    }
    return TRUE;
}

gboolean
sriov_pool_configure(SriovPool *pool, SriovVf *vf, const SriovVfConfig *cfg, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = NULL;
    g_autoptr(GError) rollback_error = NULL;

    if (!check_owned(vf, error) ||
        !sriov_vf_config_validate(cfg, vf->pf->name, vf->index, error))
        return FALSE;
    bl = g_mutex_locker_new(&pool->be_lock);
    if (!be->ops->vf_set_config(be, vf->pf->name, vf->index, cfg, error)) {
        /* A partial configuration is never left behind: the settings this
         * call touched go back to the original (what was applied before
         * for the domain, if anything, is re-applied by the caller). */
        SriovVfConfig back = vf->rec->original;
        back.set &= cfg->set;
        if (!be->ops->vf_restore(be, vf->pf->name, vf->index, &back, &rollback_error) &&
            !g_error_matches(rollback_error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED))
            g_warning("PF %s VF %u: rolling back a failed configuration failed too: %s",
                      vf->pf->name, vf->index, rollback_error->message);
        return FALSE;
    }
    /* a change of some settings (steering on: the MAC) keeps the others */
    if (!vf->rec->has_applied)
        memset(&vf->rec->applied, 0, sizeof(vf->rec->applied));
    sriov_vf_config_merge(&vf->rec->applied, cfg);
    vf->rec->has_applied = TRUE;
    return sriov_record_save_applied(pool->state_dir, vf->pf->name, vf->index, &vf->rec->applied,
                                    error);
}

gboolean
sriov_pool_bind_vfio(SriovPool *pool, SriovVf *vf, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = NULL;

    if (!check_owned(vf, error))
        return FALSE;
    bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_bind_vfio(be, vf->pf->name, vf->index, error);
}

gboolean
sriov_pool_bind_host(SriovPool *pool, SriovVf *vf, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = NULL;

    if (!check_owned(vf, error))
        return FALSE;
    bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_bind_host(be, vf->pf->name, vf->index, vf->rec->original_driver, error);
}

gboolean
sriov_pool_clear_steering(SriovPool *pool, SriovVf *vf, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = NULL;

    if (!check_owned(vf, error))
        return FALSE;
    bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_clear_steering(be, vf->pf->name, vf->index, error);
}

gboolean
sriov_pool_set_mirror(SriovPool *pool, SriovVf *vf, const guint8 *mac, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = NULL;

    if (!check_owned(vf, error))
        return FALSE;
    if (!be->ops->vf_set_mirror) {
        if (mac)
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                        "PF %s VF %u: the %s backend cannot mirror a VF's frames", vf->pf->name,
                        vf->index, be->ops->name);
        return !mac;
    }
    bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_set_mirror(be, vf->pf->name, vf->index, mac, error);
}

/* Restore, rebind, forget. Called with the VF marked busy. */
static gboolean
do_release(SriovPool *pool, SriovVf *vf, GError **error)
{
    SriovBackend *be = vf->pf->be;
    SriovVfRecord *rec = vf->rec;
    g_autoptr(GError) local = NULL;
    gboolean ok;

    g_mutex_lock(&pool->be_lock);
    ok = be->ops->vf_restore(be, rec->pf, rec->vf, &rec->original, &local) &&
         be->ops->vf_bind_host(be, rec->pf, rec->vf, rec->original_driver, &local);
    if (ok)
        ok = be->ops->vf_release(be, rec->pf, rec->vf, &local);
    g_mutex_unlock(&pool->be_lock);

    if (!ok && !g_error_matches(local, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                   "PF %s VF %u (domain %s) stays out of the pool until its "
                                   "original configuration is restored: ",
                                   rec->pf, rec->vf, rec->domain_uuid);
        return FALSE;
    }
    if (!ok)
        g_warning("%s; dropping its reservation (nothing left to restore)", local->message);
    return sriov_record_remove(pool->state_dir, rec->pf, rec->vf, error);
}

gboolean
sriov_pool_release(SriovPool *pool, SriovVf *vf, GError **error)
{
    gboolean ok;

    {
        g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
        if (!check_owned(vf, error))
            return FALSE;
        vf->busy = TRUE;
    }
    ok = do_release(pool, vf, error);
    {
        g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
        vf->busy = FALSE;
        if (ok) {
            g_info("PF %s VF %u released by domain %s", vf->pf->name, vf->index,
                   vf->domain_uuid);
            g_clear_pointer(&vf->rec, sriov_vf_record_free);
            g_clear_pointer(&vf->domain_uuid, g_free);
            g_clear_pointer(&vf->pair_key, g_free);
            vf->restore_pending = FALSE;
        } else {
            vf->restore_pending = TRUE;
        }
    }
    return ok;
}

/* VFs owned by a domain (or, with @keep, by none of @keep). */
static GPtrArray *
owned_by(SriovPool *pool, const char *domain_uuid, const char *const *keep)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
    GPtrArray *out = g_ptr_array_new();
    guint i, j;

    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        for (j = 0; j < pf->vfs->len; j++) {
            SriovVf *vf = g_ptr_array_index(pf->vfs, j);
            if (!vf->rec || vf->busy)
                continue;
            if (domain_uuid ? strcmp(vf->domain_uuid, domain_uuid) == 0
                            : !(keep && g_strv_contains(keep, vf->domain_uuid)))
                g_ptr_array_add(out, vf);
        }
    }
    return out;
}

static gboolean
release_all(SriovPool *pool, GPtrArray *vfs, GError **error)
{
    gboolean ok = TRUE;
    guint i;

    for (i = 0; i < vfs->len; i++) {
        g_autoptr(GError) local = NULL;
        if (!sriov_pool_release(pool, g_ptr_array_index(vfs, i), &local)) {
            g_warning("%s", local->message);
            if (ok)
                g_propagate_error(error, g_steal_pointer(&local));
            ok = FALSE;
        }
    }
    return ok;
}

gboolean
sriov_pool_release_domain(SriovPool *pool, const char *domain_uuid, GError **error)
{
    g_autoptr(GPtrArray) vfs = owned_by(pool, domain_uuid, NULL);
    return release_all(pool, vfs, error);
}

gboolean
sriov_pool_reconcile(SriovPool *pool, const char *const *live_domain_uuids, GError **error)
{
    static const char *const none[] = { NULL };
    g_autoptr(GPtrArray) vfs = owned_by(pool, NULL, live_domain_uuids ? live_domain_uuids : none);
    guint i;

    for (i = 0; i < vfs->len; i++) {
        SriovVf *vf = g_ptr_array_index(vfs, i);
        g_message("PF %s VF %u: domain %s is not running: restoring the VF", vf->pf->name,
                  vf->index, vf->domain_uuid);
    }
    return release_all(pool, vfs, error);
}

GPtrArray *
sriov_pool_list(SriovPool *pool)
{
    GPtrArray *out = g_ptr_array_new();
    guint i, j;

    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        for (j = 0; j < pf->vfs->len; j++)
            g_ptr_array_add(out, g_ptr_array_index(pf->vfs, j));
    }
    return out;
}

void
sriov_pool_read_lock(SriovPool *pool)
{
    g_mutex_lock(&pool->lock);
}

void
sriov_pool_read_unlock(SriovPool *pool)
{
    g_mutex_unlock(&pool->lock);
}

SriovVf *
sriov_pool_find_vf(SriovPool *pool, const char *netdev, const char *pci)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&pool->lock);
    guint i, j;

    for (i = 0; i < pool->pfs->len; i++) {
        SriovPf *pf = g_ptr_array_index(pool->pfs, i);
        for (j = 0; j < pf->vfs->len; j++) {
            SriovVf *vf = g_ptr_array_index(pf->vfs, j);
            if ((netdev && g_strcmp0(vf->netdev, netdev) == 0) ||
                (pci && g_strcmp0(vf->pci_address, pci) == 0))
                return vf;
        }
    }
    return NULL;
}

gboolean
sriov_pool_read_config(SriovPool *pool, SriovVf *vf, SriovVfConfig *cfg, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_get_config(be, vf->pf->name, vf->index, cfg, error);
}

gboolean
sriov_pool_read_stats(SriovPool *pool, SriovVf *vf, SriovVfStats *stats, GError **error)
{
    SriovBackend *be = vf->pf->be;
    g_autoptr(GMutexLocker) bl = g_mutex_locker_new(&pool->be_lock);
    return be->ops->vf_get_stats(be, vf->pf->name, vf->index, stats, error);
}

const char *sriov_vf_get_pf(const SriovVf *vf) { return vf->pf->name; }
const char *sriov_vf_get_pool(const SriovVf *vf) { return vf->pf->pool; }
guint sriov_vf_get_index(const SriovVf *vf) { return vf->index; }
const char *sriov_vf_get_backend(const SriovVf *vf) { return vf->pf->be->ops->name; }
const char *sriov_vf_get_pci_address(const SriovVf *vf) { return vf->pci_address; }
const char *sriov_vf_get_netdev(const SriovVf *vf) { return vf->netdev; }
const char *sriov_vf_get_domain(const SriovVf *vf) { return vf->domain_uuid; }
const char *sriov_vf_get_pair_key(const SriovVf *vf) { return vf->pair_key; }
gboolean sriov_vf_is_kept(const SriovVf *vf) { return vf->kept; }
gboolean sriov_vf_needs_restore(const SriovVf *vf) { return vf->restore_pending; }

gboolean
sriov_vf_get_applied(const SriovVf *vf, SriovVfConfig *cfg)
{
    if (!vf->rec || !vf->rec->has_applied)
        return FALSE;
    *cfg = vf->rec->applied;
    return TRUE;
}
