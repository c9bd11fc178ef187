/* A fake sysfs tree shaped like the kernel's for SR-IOV PFs and their VFs,
 * and a small fake "kernel" that reacts to writes the way drivers/pci does.
 * The tree is plain files and symlinks, so writes cannot trigger anything by
 * themselves: the reaction is emulated synchronously in the test harness,
 * through the backend's sysfs write hook (sriov_sysfs_set_write_hook), right
 * after each write — no inotify race between a write and the next read.
 *
 * Layout (as on a real host):
 *   devices/pci0000:00/DDDD:BB:DD.F/{vendor,device,sriov_totalvfs,sriov_numvfs,
 *       sriov_drivers_autoprobe,driver_override,iommu_group->,driver->,
 *       virtfnN-> (PF), physfn-> (VF), net/NAME/{ifindex,device->}}
 *   bus/pci/devices/ADDR -> ../../../devices/pci0000:00/ADDR
 *   bus/pci/drivers/{DRV}/{bind,unbind,ADDR->}, bus/pci/drivers_probe
 *   class/net/NAME -> ../../devices/pci0000:00/ADDR/net/NAME
 *   kernel/iommu_groups/N/devices/ADDR -> ... */
#pragma once

#include <glib.h>

#include "sriov-sysfs.h"

typedef struct _FakeSysfs FakeSysfs;

/* Create the skeleton under a new temporary directory. */
FakeSysfs *fake_sysfs_new(void);
void fake_sysfs_free(FakeSysfs *fk);   /* removes the tree */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeSysfs, fake_sysfs_free)

const char *fake_sysfs_root(FakeSysfs *fk);

/* Add a PF: netdev @name at PCI function @pci (e.g. "0000:03:00.0"),
 * @total_vfs in sriov_totalvfs, @ifindex in net/NAME/ifindex; the PF is
 * bound to @pf_driver, its VFs probe @vf_driver (when autoprobe is on). */
void fake_sysfs_add_pf(FakeSysfs *fk, const char *name, const char *pci, guint total_vfs,
                       int ifindex, const char *pf_driver, const char *vf_driver);
/* A network device that is not SR-IOV capable (no sriov_totalvfs). */
void fake_sysfs_add_plain_netdev(FakeSysfs *fk, const char *name, const char *pci, int ifindex);

/* Make the fake kernel react to @fs's writes. */
void fake_sysfs_attach(FakeSysfs *fk, SriovSysfs *fs);

/* Remove a VF's device directory as a surprise hot-unplug would. */
void fake_sysfs_remove_vf(FakeSysfs *fk, const char *pf, guint vf);

/* Inspect: the driver a PCI function is bound to (NULL: none), the PCI
 * address of a PF's VF (NULL: none). Free the result. */
char *fake_sysfs_driver_of(FakeSysfs *fk, const char *pci);
char *fake_sysfs_vf_pci(FakeSysfs *fk, const char *pf, guint vf);

/* Number of writes seen, per kind: numvfs, unbind, probe, override. */
guint fake_sysfs_count(FakeSysfs *fk, const char *kind);

/* Wall time spent emulating the kernel's reactions to writes (the benchmark
 * reports the stand-in kernel's share of a cycle). */
double fake_sysfs_busy_seconds(FakeSysfs *fk);
