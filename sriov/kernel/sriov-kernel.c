/* Kernel VF backend: VFs of a real SR-IOV PF through sysfs (count, PCI
 * addresses, driver binding) and rtnetlink IFLA_VF_* on the PF (settings,
 * read-back, counters). Every sysfs path goes through sriov_sysfs_path(). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "sriov-kernel.h"
#include "sriov-netlink.h"

typedef struct {
    SriovBackend parent;
    SriovSysfs *fs;
    SriovNl *nl;
    GMutex lock;
    GHashTable *ifindex;    /* PF name -> ifindex, read from sysfs once */
} KernelBackend;

static KernelBackend *
kb(SriovBackend *be)
{
    return (KernelBackend *)be;
}

SriovSysfs *
sriov_kernel_backend_sysfs(SriovBackend *be)
{
    return kb(be)->fs;
}

/* The PF's ifindex (cached: every VF request needs it; a PF re-created
 * under the same name is picked up again by sriov_kernel_forget_pf()). */
static int
pf_ifindex(KernelBackend *k, const char *pf, GError **error)
{
    g_autofree char *path = NULL;
    gpointer cached;
    guint idx = 0;
    int rc;

    g_mutex_lock(&k->lock);
    cached = g_hash_table_lookup(k->ifindex, pf);
    g_mutex_unlock(&k->lock);
    if (cached)
        return GPOINTER_TO_INT(cached);
    path = sriov_sysfs_path(k->fs, "class/net/%s/ifindex", pf);
    rc = sriov_sysfs_read_uint(k->fs, path, &idx);
    if (rc < 0 || idx == 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s: no such network device (%s: %s)", pf, path,
                    g_strerror(rc < 0 ? -rc : EINVAL));
        return -1;
    }
    g_mutex_lock(&k->lock);
    g_hash_table_insert(k->ifindex, g_strdup(pf), GINT_TO_POINTER((int)idx));
    g_mutex_unlock(&k->lock);
    return (int)idx;
}

static void
forget_ifindex(KernelBackend *k, const char *pf)
{
    g_mutex_lock(&k->lock);
    g_hash_table_remove(k->ifindex, pf);
    g_mutex_unlock(&k->lock);
}

static gboolean
kernel_pf_open(SriovBackend *be, const char *pf, const SriovPfParams *params,
               guint *total_vfs, GError **error)
{
    KernelBackend *k = kb(be);
    g_autofree char *dev = sriov_sysfs_path(k->fs, "class/net/%s/device", pf);
    g_autofree char *total = sriov_sysfs_path(k->fs, "class/net/%s/device/sriov_totalvfs", pf);
    int rc;

    if (!g_file_test(dev, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s: no such PCI network device (%s missing)", pf, dev);
        return FALSE;
    }
    rc = sriov_sysfs_read_uint(k->fs, total, total_vfs);
    if (rc == -ENOENT) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "PF %s: the device is not SR-IOV capable (no sriov_totalvfs)", pf);
        return FALSE;
    }
    if (rc < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s: cannot read %s: %s", pf, total, g_strerror(-rc));
        return FALSE;
    }
    forget_ifindex(k, pf);
    return pf_ifindex(k, pf, error) >= 0;
}

static gboolean
kernel_pf_get_num_vfs(SriovBackend *be, const char *pf, guint *num_vfs, GError **error)
{
    KernelBackend *k = kb(be);
    g_autofree char *path = sriov_sysfs_path(k->fs, "class/net/%s/device/sriov_numvfs", pf);
    int rc = sriov_sysfs_read_uint(k->fs, path, num_vfs);

    if (rc < 0) {
        g_set_error(error, SRIOV_ERROR, rc == -ENOENT ? SRIOV_ERROR_NOT_FOUND : SRIOV_ERROR_FAILED,
                    "PF %s: cannot read %s: %s", pf, path, g_strerror(-rc));
        return FALSE;
    }
    return TRUE;
}

static gboolean
kernel_pf_set_num_vfs(SriovBackend *be, const char *pf, guint num_vfs, GError **error)
{
    KernelBackend *k = kb(be);
    g_autofree char *path = sriov_sysfs_path(k->fs, "class/net/%s/device/sriov_numvfs", pf);
    g_autofree char *total_path = sriov_sysfs_path(k->fs, "class/net/%s/device/sriov_totalvfs", pf);
    g_autofree char *value = g_strdup_printf("%u", num_vfs);
    guint current = 0, total = 0;
    int rc;

    if (sriov_sysfs_read_uint(k->fs, total_path, &total) == 0 && num_vfs > total) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s: %u VFs requested but the device supports at most %u",
                    pf, num_vfs, total);
        return FALSE;
    }
    if (!kernel_pf_get_num_vfs(be, pf, &current, error))
        return FALSE;
    if (current == num_vfs)
        return TRUE;
    /* The kernel refuses N -> M with EBUSY: go through 0. */
    if (current != 0 && (rc = sriov_sysfs_write(k->fs, path, "0")) < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s: cannot remove its %u VFs (writing 0 to %s): %s",
                    pf, current, path, g_strerror(-rc));
        return FALSE;
    }
    if (num_vfs != 0 && (rc = sriov_sysfs_write(k->fs, path, value)) < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s: cannot create %u VFs (writing %s): %s",
                    pf, num_vfs, path, g_strerror(-rc));
        return FALSE;
    }
    return TRUE;
}

/* PCI address of VF @vf ("virtfnN" link of the PF). */
static char *
vf_pci(KernelBackend *k, const char *pf, guint vf, GError **error)
{
    g_autofree char *path = sriov_sysfs_path(k->fs, "class/net/%s/device/virtfn%u", pf, vf);
    char *addr = NULL;
    int rc = sriov_sysfs_link_name(k->fs, path, &addr);

    if (rc < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: no such VF (%s: %s)", pf, vf, path, g_strerror(-rc));
        return NULL;
    }
    return addr;
}

static char *
vf_driver(KernelBackend *k, const char *addr)
{
    g_autofree char *path = sriov_sysfs_path(k->fs, "bus/pci/devices/%s/driver", addr);
    char *name = NULL;

    if (sriov_sysfs_link_name(k->fs, path, &name) < 0)
        return NULL;
    return name;
}

static gboolean
kernel_vf_get_info(SriovBackend *be, const char *pf, guint vf, SriovVfInfo *info,
                   GError **error)
{
    KernelBackend *k = kb(be);
    g_autofree char *addr = vf_pci(k, pf, vf, error);
    g_autofree char *netdir = NULL;
    g_autofree char *group = NULL;
    g_autoptr(GDir) dir = NULL;

    if (!addr)
        return FALSE;
    memset(info, 0, sizeof(*info));
    info->driver = vf_driver(k, addr);
    netdir = sriov_sysfs_path(k->fs, "bus/pci/devices/%s/net", addr);
    dir = g_dir_open(netdir, 0, NULL);
    if (dir) {
        const char *name = g_dir_read_name(dir);
        info->netdev = g_strdup(name);
    }
    group = sriov_sysfs_path(k->fs, "bus/pci/devices/%s/iommu_group", addr);
    (void)sriov_sysfs_link_name(k->fs, group, &info->iommu_group);
    info->pci_address = g_steal_pointer(&addr);
    return TRUE;
}

static gboolean
kernel_vf_reserve(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    g_autofree char *addr = vf_pci(kb(be), pf, vf, error);
    return addr != NULL;
}

static gboolean
kernel_vf_release(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    return TRUE;
}

/* driver_override + unbind + drivers_probe: the kernel's way to move one
 * device to a chosen driver without touching the driver's id table.
 * @driver NULL: leave the VF without a driver (as it was before, when
 * sriov_drivers_autoprobe was off). */
static gboolean
rebind(KernelBackend *k, const char *pf, guint vf, const char *driver, GError **error)
{
    g_autofree char *addr = vf_pci(k, pf, vf, error);
    g_autofree char *override = NULL;
    g_autofree char *current = NULL;
    g_autofree char *probe = NULL;
    g_autofree char *now = NULL;
    int rc;

    if (!addr)
        return FALSE;
    current = vf_driver(k, addr);
    if (g_strcmp0(current, driver) == 0)
        return TRUE;
    override = sriov_sysfs_path(k->fs, "bus/pci/devices/%s/driver_override", addr);
    /* vfio-pci stays the override while the VF is passed through, so a
     * re-probe cannot hand it back to the host driver; otherwise none. */
    rc = sriov_sysfs_write(k->fs, override,
                           g_strcmp0(driver, "vfio-pci") == 0 ? "vfio-pci" : "\n");
    if (rc < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u (%s): cannot write %s: %s", pf, vf, addr, override,
                    g_strerror(-rc));
        return FALSE;
    }
    if (current) {
        g_autofree char *unbind = sriov_sysfs_path(k->fs, "bus/pci/devices/%s/driver/unbind", addr);
        rc = sriov_sysfs_write(k->fs, unbind, addr);
        if (rc < 0) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                        "PF %s VF %u (%s): cannot unbind it from %s: %s", pf, vf, addr,
                        current, g_strerror(-rc));
            return FALSE;
        }
    }
    if (!driver)
        return TRUE;
    if (g_strcmp0(driver, "vfio-pci") == 0) {
        probe = sriov_sysfs_path(k->fs, "bus/pci/drivers_probe");
        rc = sriov_sysfs_write(k->fs, probe, addr);
    } else {
        /* A named host driver: bind to it directly. */
        probe = sriov_sysfs_path(k->fs, "bus/pci/drivers/%s/bind", driver);
        rc = sriov_sysfs_write(k->fs, probe, addr);
    }
    now = vf_driver(k, addr);
    if (g_strcmp0(now, driver) != 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u (%s): did not bind to %s (bound to %s%s%s)", pf, vf, addr,
                    driver, now ? now : "no driver", rc < 0 ? "; " : "",
                    rc < 0 ? g_strerror(-rc) : "");
        return FALSE;
    }
    return TRUE;
}

static gboolean
kernel_vf_bind_vfio(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    return rebind(kb(be), pf, vf, "vfio-pci", error);
}

static gboolean
kernel_vf_bind_host(SriovBackend *be, const char *pf, guint vf, const char *driver,
                    GError **error)
{
    return rebind(kb(be), pf, vf, driver, error);
}

static const char *
setting_name(SriovVfSetting s)
{
    switch (s) {
    case SRIOV_VF_SET_MAC: return "MAC";
    case SRIOV_VF_SET_VLAN: return "VLAN";
    case SRIOV_VF_SET_SPOOFCHK: return "spoofchk";
    case SRIOV_VF_SET_TRUST: return "trust";
    case SRIOV_VF_SET_RATE: return "TX rate";
    case SRIOV_VF_SET_LINK_STATE: return "link state";
    }
    return "setting";
}

static char *
setting_value(SriovVfSetting s, const SriovVfConfig *cfg)
{
    switch (s) {
    case SRIOV_VF_SET_MAC:
        return sriov_mac_to_string(cfg->mac);
    case SRIOV_VF_SET_VLAN:
        return g_strdup_printf("%u qos %u proto %s", cfg->vlan, cfg->qos,
                               cfg->vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad" : "802.1Q");
    case SRIOV_VF_SET_SPOOFCHK:
        return g_strdup(cfg->spoofchk ? "on" : "off");
    case SRIOV_VF_SET_TRUST:
        return g_strdup(cfg->trust ? "on" : "off");
    case SRIOV_VF_SET_RATE:
        return g_strdup_printf("min %u max %u Mb/s", cfg->min_tx_rate_mbps, cfg->max_tx_rate_mbps);
    case SRIOV_VF_SET_LINK_STATE:
        return g_strdup(sriov_link_state_to_string(cfg->link_state));
    }
    return g_strdup("?");
}

static gboolean
set_one(KernelBackend *k, const char *pf, int ifindex, guint vf, SriovVfSetting s,
        const SriovVfConfig *cfg, GError **error)
{
    struct nl_msg *msg = sriov_nl_vf_msg(ifindex, vf, s, cfg);
    g_autofree char *ext_ack = NULL;
    int rc = sriov_nl_talk(k->nl, msg, NULL, &ext_ack);

    nlmsg_free(msg);
    if (rc == -ENODEV)
        forget_ifindex(k, pf);
    if (rc < 0) {
        g_autofree char *value = setting_value(s, cfg);
        g_autofree char *why = sriov_nl_strerror(rc, ext_ack);
        g_set_error(error, SRIOV_ERROR,
                    rc == -EOPNOTSUPP ? SRIOV_ERROR_NOT_SUPPORTED : SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot set %s to %s: %s", pf, vf, setting_name(s), value, why);
        return FALSE;
    }
    return TRUE;
}

static const SriovVfSetting setting_order[] = {
    SRIOV_VF_SET_MAC, SRIOV_VF_SET_VLAN, SRIOV_VF_SET_SPOOFCHK, SRIOV_VF_SET_TRUST,
    SRIOV_VF_SET_RATE, SRIOV_VF_SET_LINK_STATE,
};

/* Every setting of @cfg in ONE request (as iproute2 does for one command
 * line); only if the PF refuses it, one request per setting, so that the
 * error names the setting the driver refused. @best_effort: go on after a
 * failed setting (restore), else stop at the first (configure). */
static gboolean
set_all(KernelBackend *k, const char *pf, guint vf, const SriovVfConfig *cfg,
        gboolean best_effort, GError **error)
{
    gboolean ok = TRUE;
    int ifindex;
    gsize i;

    if ((ifindex = pf_ifindex(k, pf, error)) < 0)
        return FALSE;
    if (cfg->set & (cfg->set - 1)) {
        struct nl_msg *msg = sriov_nl_vf_msg(ifindex, vf, cfg->set, cfg);
        int rc = sriov_nl_talk(k->nl, msg, NULL, NULL);

        nlmsg_free(msg);
        if (rc == 0)
            return TRUE;
        if (rc == -ENODEV)
            forget_ifindex(k, pf);
    }
    for (i = 0; i < G_N_ELEMENTS(setting_order); i++) {
        g_autoptr(GError) local = NULL;

        if (!(cfg->set & setting_order[i]) ||
            set_one(k, pf, ifindex, vf, setting_order[i], cfg, &local))
            continue;
        if (ok)
            g_propagate_error(error, g_steal_pointer(&local));
        ok = FALSE;
        if (!best_effort)
            break;
    }
    return ok;
}

static gboolean
kernel_vf_set_config(SriovBackend *be, const char *pf, guint vf, const SriovVfConfig *cfg,
                     GError **error)
{
    if (!sriov_vf_config_validate(cfg, pf, vf, error))
        return FALSE;
    return set_all(kb(be), pf, vf, cfg, FALSE, error);
}

static gboolean
read_vf(KernelBackend *k, const char *pf, guint vf, SriovVfConfig *cfg, SriovVfStats *stats,
        GError **error)
{
    g_autoptr(GBytes) reply = NULL;
    g_autofree char *ext_ack = NULL;
    SriovVfConfig dummy;
    /* Settings alone: without the counters a VF takes ~200 bytes instead
     * of ~300 in the answer (which the kernel cannot make larger than
     * IFLA_VFINFO_LIST's 64 KiB without wrapping its length). */
    guint32 mask = RTEXT_FILTER_VF | (stats ? 0 : RTEXT_FILTER_SKIP_STATS);
    int rc = sriov_nl_get_link(k->nl, pf, mask, &reply, &ext_ack);
    gsize len;
    const guint8 *data;

    if (rc < 0) {
        g_autofree char *why = sriov_nl_strerror(rc, ext_ack);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot read the VF settings: %s", pf, vf, why);
        return FALSE;
    }
    data = g_bytes_get_data(reply, &len);
    if (!sriov_nl_parse_vf(data, len, vf, cfg ? cfg : &dummy, stats, NULL)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND,
                    "PF %s VF %u: the PF reports no such VF", pf, vf);
        return FALSE;
    }
    return TRUE;
}

static gboolean
kernel_vf_get_config(SriovBackend *be, const char *pf, guint vf, SriovVfConfig *cfg,
                     GError **error)
{
    return read_vf(kb(be), pf, vf, cfg, NULL, error);
}

static gboolean
kernel_vf_get_stats(SriovBackend *be, const char *pf, guint vf, SriovVfStats *stats,
                    GError **error)
{
    return read_vf(kb(be), pf, vf, NULL, stats, error);
}

/* A zero MAC tells the embedded switch to stop steering to the VF; drivers
 * that refuse it get the VF's link forced down instead. */
static gboolean
kernel_vf_clear_steering(SriovBackend *be, const char *pf, guint vf, GError **error)
{
    KernelBackend *k = kb(be);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC, .link_state = SRIOV_LINK_STATE_DISABLE };
    g_autoptr(GError) mac_error = NULL;
    int ifindex = pf_ifindex(k, pf, error);

    if (ifindex < 0)
        return FALSE;
    if (set_one(k, pf, ifindex, vf, SRIOV_VF_SET_MAC, &cfg, &mac_error))
        return TRUE;
    if (set_one(k, pf, ifindex, vf, SRIOV_VF_SET_LINK_STATE, &cfg, NULL)) {
        g_info("%s; forced the VF's link down instead", mac_error->message);
        return TRUE;
    }
    g_propagate_prefixed_error(error, g_steal_pointer(&mac_error),
                               "PF %s VF %u: cannot clear steering (link state cannot be "
                               "forced down either): ", pf, vf);
    return FALSE;
}

/* Best effort: every setting is tried even if one fails (a driver that
 * cannot do link state must not keep the original MAC from coming back);
 * the first failure is reported. */
static gboolean
kernel_vf_restore(SriovBackend *be, const char *pf, guint vf, const SriovVfConfig *original,
                  GError **error)
{
    return set_all(kb(be), pf, vf, original, TRUE, error);
}

static void
kernel_free(SriovBackend *be)
{
    KernelBackend *k = kb(be);
    sriov_sysfs_free(k->fs);
    sriov_nl_free(k->nl);
    g_hash_table_unref(k->ifindex);
    g_mutex_clear(&k->lock);
    g_free(k);
}

static const SriovBackendOps kernel_ops = {
    .name = "kernel",
    .pf_open = kernel_pf_open,
    .pf_get_num_vfs = kernel_pf_get_num_vfs,
    .pf_set_num_vfs = kernel_pf_set_num_vfs,
    .vf_get_info = kernel_vf_get_info,
    .vf_reserve = kernel_vf_reserve,
    .vf_release = kernel_vf_release,
    .vf_bind_vfio = kernel_vf_bind_vfio,
    .vf_bind_host = kernel_vf_bind_host,
    .vf_set_config = kernel_vf_set_config,
    .vf_get_config = kernel_vf_get_config,
    .vf_get_stats = kernel_vf_get_stats,
    .vf_clear_steering = kernel_vf_clear_steering,
    .vf_restore = kernel_vf_restore,
    .free = kernel_free,
};

SriovBackend *
sriov_kernel_backend_new(const char *sysfs_root, SriovNl *nl, GError **error)
{
    KernelBackend *k;

    if (!nl && !(nl = sriov_nl_open(error)))
        return NULL;
    k = g_new0(KernelBackend, 1);
    k->parent.ops = &kernel_ops;
    k->fs = sriov_sysfs_new(sysfs_root);
    k->nl = nl;
    g_mutex_init(&k->lock);
    k->ifindex = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return &k->parent;
}
