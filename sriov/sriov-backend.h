/* The VF backend interface: what hookd needs from an SR-IOV NIC (or from the
 * emulated one), as one table of operations. Two implementations exist:
 * sriov-kernel.c (sysfs + rtnetlink on a real PF) and sriov-emulated.c (a
 * Linux bridge playing the NIC's embedded switch, one tap per VF). The pool
 * (sriov-pool.c) decides which VF goes to which domain; backends only act. */
#pragma once

#include <glib.h>

#include "sriov-vf.h"

/* Where a VF lives on the host. */
typedef struct {
    char *pci_address;          /* kernel: "0000:03:10.2"; emulated: NULL */
    char *netdev;               /* kernel: VF netdev when bound to a host driver
                                 * (or NULL); emulated: the tap name */
    char *driver;               /* kernel: bound driver or NULL; emulated: "tap" */
    char *iommu_group;          /* kernel: group number; emulated: NULL */
} SriovVfInfo;

void sriov_vf_info_clear(SriovVfInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SriovVfInfo, sriov_vf_info_clear)

/* Per-PF settings from the configuration file. */
typedef struct {
    const char *uplink;         /* emulated: netdev enslaved as the uplink port (may be NULL) */
    const char *datapath_port;  /* emulated: the bridge port leading to vfailover-dp's
                                 * uplink, where vf_set_mirror copies frames (may be NULL) */
} SriovPfParams;

typedef struct _SriovBackend SriovBackend;

typedef struct {
    const char *name;
    /* Check that @pf exists and can have VFs (emulated: create the bridge
     * and attach the uplink); tell how many VFs it can have at most. */
    gboolean (*pf_open)(SriovBackend *be, const char *pf, const SriovPfParams *params,
                        guint *total_vfs, GError **error);
    gboolean (*pf_get_num_vfs)(SriovBackend *be, const char *pf, guint *num_vfs, GError **error);
    /* Change the VF count (kernel: 0 first, then N). */
    gboolean (*pf_set_num_vfs)(SriovBackend *be, const char *pf, guint num_vfs, GError **error);
    gboolean (*vf_get_info)(SriovBackend *be, const char *pf, guint vf, SriovVfInfo *info,
                            GError **error);
    /* Take the VF for a domain / give it back to the host (after restore). */
    gboolean (*vf_reserve)(SriovBackend *be, const char *pf, guint vf, GError **error);
    gboolean (*vf_release)(SriovBackend *be, const char *pf, guint vf, GError **error);
    /* Bind to vfio-pci for passthrough; back to @driver (NULL: no driver,
     * as a VF created with sriov_drivers_autoprobe off). */
    gboolean (*vf_bind_vfio)(SriovBackend *be, const char *pf, guint vf, GError **error);
    gboolean (*vf_bind_host)(SriovBackend *be, const char *pf, guint vf, const char *driver,
                             GError **error);
    /* Apply the settings flagged in cfg->set, one request per setting, in a
     * fixed order; stops at the first failure (the caller rolls back). */
    gboolean (*vf_set_config)(SriovBackend *be, const char *pf, guint vf,
                              const SriovVfConfig *cfg, GError **error);
    gboolean (*vf_get_config)(SriovBackend *be, const char *pf, guint vf, SriovVfConfig *cfg,
                              GError **error);
    gboolean (*vf_get_stats)(SriovBackend *be, const char *pf, guint vf, SriovVfStats *stats,
                             GError **error);
    /* Stop the embedded switch steering the VF's MAC to it (VF unplugged,
     * traffic moves to the virtio path). */
    gboolean (*vf_clear_steering)(SriovBackend *be, const char *pf, guint vf, GError **error);
    /* While a re-plugged VF comes up in the guest: also copy the frames from
     * the wire for @mac (the VM's) to the datapath's port; @mac NULL: stop.
     * Independent of the VF's steering (set the mirror first, clear it
     * last: make before break). On a switchdev NIC this is a mirror action
     * beside the redirect in the uplink representor's rule for the MAC.
     * NULL op, or SRIOV_ERROR_NOT_SUPPORTED: the NIC cannot (the VF alone
     * gets the frames). */
    gboolean (*vf_set_mirror)(SriovBackend *be, const char *pf, guint vf, const guint8 *mac,
                              GError **error);
    /* Put back the configuration saved before the first change. */
    gboolean (*vf_restore)(SriovBackend *be, const char *pf, guint vf,
                           const SriovVfConfig *original, GError **error);
    void (*free)(SriovBackend *be);
} SriovBackendOps;

struct _SriovBackend {
    const SriovBackendOps *ops;
};

void sriov_backend_free(SriovBackend *be);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SriovBackend, sriov_backend_free)

/* Backends. @sysfs_root is "/sys" in production. @nl is the rtnetlink
 * channel to use (NULL: open one to the kernel); the backend owns it. */
typedef struct _SriovNl SriovNl;
SriovBackend *sriov_kernel_backend_new(const char *sysfs_root, SriovNl *nl, GError **error);
SriovBackend *sriov_emulated_backend_new(SriovNl *nl, GError **error);
