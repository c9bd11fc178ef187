/* Every sysfs access of the kernel VF backend goes through here: one path
 * function rooted at --sysfs-root (tests and the benchmark point it at a fake
 * tree), small typed readers and writers, and a write hook through which a
 * fake tree emulates the kernel's reaction to a write. */
#pragma once

#include <glib.h>

typedef struct _SriovSysfs SriovSysfs;

/* Called after each successful write of @value to @path (fake trees only):
 * returns 0, or -errno to make the write fail as the kernel would. */
typedef int (*SriovSysfsWriteHook)(const char *path, const char *value, gpointer user_data);

SriovSysfs *sriov_sysfs_new(const char *root);
void sriov_sysfs_free(SriovSysfs *fs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SriovSysfs, sriov_sysfs_free)

void sriov_sysfs_set_write_hook(SriovSysfs *fs, SriovSysfsWriteHook hook, gpointer user_data);
const char *sriov_sysfs_root(SriovSysfs *fs);

/* THE path function: root + printf-style relative path ("class/net/%s/device"). */
char *sriov_sysfs_path(SriovSysfs *fs, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Read a small attribute (trailing newline removed). -errno on failure. */
int sriov_sysfs_read(SriovSysfs *fs, const char *path, char **value);
int sriov_sysfs_read_uint(SriovSysfs *fs, const char *path, guint *value);
/* Write @value (as one write(2), like echo > file). -errno on failure. */
int sriov_sysfs_write(SriovSysfs *fs, const char *path, const char *value);
/* Basename of a symlink's target ("virtfn3" -> "0000:03:10.6"). -errno. */
int sriov_sysfs_link_name(SriovSysfs *fs, const char *path, char **name);
