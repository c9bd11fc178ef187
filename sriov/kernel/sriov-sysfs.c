/* sysfs access for the kernel VF backend (see sriov-sysfs.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "sriov-sysfs.h"

/* sysfs attributes are at most a page; names and numbers are far smaller. */
#define SYSFS_MAX_VALUE 4096

struct _SriovSysfs {
    char *root;
    SriovSysfsWriteHook hook;
    gpointer hook_data;
};

SriovSysfs *
sriov_sysfs_new(const char *root)
{
    SriovSysfs *fs = g_new0(SriovSysfs, 1);
    fs->root = g_strdup(root && *root ? root : "/sys");
    return fs;
}

void
sriov_sysfs_free(SriovSysfs *fs)
{
    if (!fs)
        return;
    g_free(fs->root);
    g_free(fs);
}

void
sriov_sysfs_set_write_hook(SriovSysfs *fs, SriovSysfsWriteHook hook, gpointer user_data)
{
    fs->hook = hook;
    fs->hook_data = user_data;
}

const char *
sriov_sysfs_root(SriovSysfs *fs)
{
    return fs->root;
}

char *
sriov_sysfs_path(SriovSysfs *fs, const char *fmt, ...)
{
    g_autofree char *rel = NULL;
    va_list ap;

    va_start(ap, fmt);
    rel = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_build_filename(fs->root, rel, NULL);
}

int
sriov_sysfs_read(SriovSysfs *fs, const char *path, char **value)
{
    char buf[SYSFS_MAX_VALUE + 1];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err;

    if (fd < 0)
        return -errno;
    do {
        n = read(fd, buf, SYSFS_MAX_VALUE);
    } while (n < 0 && errno == EINTR);
    err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    *value = g_strdup(buf);
    return 0;
}

int
sriov_sysfs_read_uint(SriovSysfs *fs, const char *path, guint *value)
{
    g_autofree char *text = NULL;
    guint64 v;
    int rc = sriov_sysfs_read(fs, path, &text);

    if (rc < 0)
        return rc;
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &v, NULL))
        return -EINVAL;
    *value = (guint)v;
    return 0;
}

int
sriov_sysfs_write(SriovSysfs *fs, const char *path, const char *value)
{
    gsize len = strlen(value);
    ssize_t n;
    int fd, err;

    /* O_TRUNC does nothing on sysfs and makes a fake tree behave like it
     * (the file holds the last value written). */
    fd = open(path, O_WRONLY | O_CLOEXEC | (fs->hook ? O_TRUNC : 0));
    if (fd < 0)
        return -errno;
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    err = errno;
    if (close(fd) < 0 && n >= 0)
        return -errno;
    if (n < 0)
        return -err;
    if ((gsize)n != len)
        return -EIO;
    if (fs->hook)
        return fs->hook(path, value, fs->hook_data);
    return 0;
}

int
sriov_sysfs_link_name(SriovSysfs *fs, const char *path, char **name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *target = g_file_read_link(path, &error);

    if (!target)
        return error->code == G_FILE_ERROR_NOENT ? -ENOENT : -EINVAL;
    *name = g_path_get_basename(target);
    return 0;
}
