/* Fake SR-IOV sysfs tree and the kernel's reactions to writes (see
 * fake-sysfs.h). The reactions follow drivers/pci/iov.c (sriov_numvfs:
 * EBUSY when changing a non-zero count, ERANGE above sriov_totalvfs),
 * drivers/pci/pci-sysfs.c + bus.c (driver_override, drivers_probe picks the
 * override first, unbind/bind). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-sysfs.h"

typedef struct {
    char *name;
    char *pci;
    char *vf_driver;
    guint total;
    guint devfn_base;   /* bus << 8 | devfn of the PF */
    char *domain;       /* "0000" */
} FakePf;

struct _FakeSysfs {
    char *root;
    GPtrArray *pfs;     /* FakePf* */
    GHashTable *counts; /* kind -> count */
    guint next_group;
    GMutex lock;        /* writes may come from several threads */
    gint64 busy_us;     /* time spent in the kernel's reactions (benchmark) */
};

static void
fake_pf_free(gpointer p)
{
    FakePf *pf = p;
    g_free(pf->name);
    g_free(pf->pci);
    g_free(pf->vf_driver);
    g_free(pf->domain);
    g_free(pf);
}

static char *
P(FakeSysfs *fk, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static char *
P(FakeSysfs *fk, const char *fmt, ...)
{
    g_autofree char *rel = NULL;
    va_list ap;
    va_start(ap, fmt);
    rel = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_build_filename(fk->root, rel, NULL);
}

static void
put(const char *path, const char *value)
{
    g_autoptr(GError) error = NULL;
    /* sysfs is not a disk: no fsync, no rename dance */
    if (!g_file_set_contents_full(path, value, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error))
        g_error("fake sysfs: %s", error->message);
}

static void
mkdirs(const char *path)
{
    if (g_mkdir_with_parents(path, 0755) < 0)
        g_error("fake sysfs: mkdir %s: %s", path, g_strerror(errno));
}

static void
link_to(const char *target, const char *path)
{
    (void)unlink(path);
    if (symlink(target, path) < 0)
        g_error("fake sysfs: symlink %s -> %s: %s", path, target, g_strerror(errno));
}

FakeSysfs *
fake_sysfs_new(void)
{
    FakeSysfs *fk = g_new0(FakeSysfs, 1);
    g_autoptr(GError) error = NULL;
    const char *drivers[] = { "vfio-pci", "ixgbe", "ixgbevf", "i40e", "iavf", NULL };
    const char **d;

    fk->root = g_dir_make_tmp("vf-fake-sysfs-XXXXXX", &error);
    g_assert_no_error(error);
    fk->pfs = g_ptr_array_new_with_free_func(fake_pf_free);
    fk->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fk->next_group = 10;
    g_mutex_init(&fk->lock);
    {
        g_autofree char *a = P(fk, "devices/pci0000:00");
        g_autofree char *b = P(fk, "bus/pci/devices");
        g_autofree char *c = P(fk, "class/net");
        g_autofree char *e = P(fk, "kernel/iommu_groups");
        g_autofree char *f = P(fk, "bus/pci/drivers_probe");
        mkdirs(a);
        mkdirs(b);
        mkdirs(c);
        mkdirs(e);
        put(f, "");
    }
    for (d = drivers; *d; d++) {
        g_autofree char *dir = P(fk, "bus/pci/drivers/%s", *d);
        g_autofree char *bind = g_build_filename(dir, "bind", NULL);
        g_autofree char *unbind = g_build_filename(dir, "unbind", NULL);
        mkdirs(dir);
        put(bind, "");
        put(unbind, "");
    }
    return fk;
}

static void
rm_rf(const char *path)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;

    if (g_file_test(path, G_FILE_TEST_IS_SYMLINK) || !g_file_test(path, G_FILE_TEST_IS_DIR)) {
        (void)unlink(path);
        return;
    }
    dir = g_dir_open(path, 0, NULL);
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        rm_rf(child);
    }
    (void)rmdir(path);
}

void
fake_sysfs_free(FakeSysfs *fk)
{
    if (!fk)
        return;
    rm_rf(fk->root);
    g_free(fk->root);
    g_ptr_array_unref(fk->pfs);
    g_hash_table_unref(fk->counts);
    g_mutex_clear(&fk->lock);
    g_free(fk);
}

const char *
fake_sysfs_root(FakeSysfs *fk)
{
    return fk->root;
}

static void
count(FakeSysfs *fk, const char *kind)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(fk->counts, kind));
    g_hash_table_replace(fk->counts, g_strdup(kind), GUINT_TO_POINTER(n + 1));
}

guint
fake_sysfs_count(FakeSysfs *fk, const char *kind)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&fk->lock);
    return GPOINTER_TO_UINT(g_hash_table_lookup(fk->counts, kind));
}

/* A PCI function directory with the attributes every device has. */
static void
add_function(FakeSysfs *fk, const char *pci, const char *device_id)
{
    g_autofree char *dir = P(fk, "devices/pci0000:00/%s", pci);
    g_autofree char *vendor = g_build_filename(dir, "vendor", NULL);
    g_autofree char *device = g_build_filename(dir, "device", NULL);
    g_autofree char *override = g_build_filename(dir, "driver_override", NULL);
    g_autofree char *bus = P(fk, "bus/pci/devices/%s", pci);
    g_autofree char *bus_target = g_strdup_printf("../../../devices/pci0000:00/%s", pci);
    g_autofree char *group_dir = P(fk, "kernel/iommu_groups/%u/devices", fk->next_group);
    g_autofree char *group_member = g_build_filename(group_dir, pci, NULL);
    g_autofree char *member_target = g_strdup_printf("../../../../devices/pci0000:00/%s", pci);
    g_autofree char *group_link = g_build_filename(dir, "iommu_group", NULL);
    g_autofree char *group_target = g_strdup_printf("../../../kernel/iommu_groups/%u",
                                                    fk->next_group);

    mkdirs(dir);
    put(vendor, "0x8086\n");
    put(device, device_id);
    put(override, "(null)\n");
    link_to(bus_target, bus);
    mkdirs(group_dir);
    link_to(member_target, group_member);
    link_to(group_target, group_link);
    fk->next_group++;
}

/* The net/ directory of a device: empty directories, one per netdev (as
 * cheap as the kernel's own removal: no stat of every entry). */
static void
remove_net_dir(const char *net)
{
    g_autoptr(GDir) dir = g_dir_open(net, 0, NULL);
    const char *name;

    if (!dir)
        return;
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(net, name, NULL);
        if (rmdir(child) < 0)
            rm_rf(child);
    }
    (void)rmdir(net);
}

/* Bind @pci to @drv (NULL: unbind): driver link, the driver's device link,
 * and the net/ directory that a network driver creates. */
static void
set_driver(FakeSysfs *fk, const char *pci, const char *drv, const char *netdev)
{
    g_autofree char *dir = P(fk, "devices/pci0000:00/%s", pci);
    g_autofree char *link = g_build_filename(dir, "driver", NULL);
    g_autofree char *net = g_build_filename(dir, "net", NULL);
    g_autofree char *old = NULL;
    g_autofree char *target = g_file_read_link(link, NULL);

    if (target) {
        g_autofree char *oldname = g_path_get_basename(target);
        g_autofree char *back = P(fk, "bus/pci/drivers/%s/%s", oldname, pci);
        (void)unlink(back);
        (void)unlink(link);
    }
    remove_net_dir(net);
    if (!drv)
        return;
    {
        g_autofree char *t = g_strdup_printf("../../../bus/pci/drivers/%s", drv);
        g_autofree char *back = P(fk, "bus/pci/drivers/%s/%s", drv, pci);
        g_autofree char *back_target = g_strdup_printf("../../../../devices/pci0000:00/%s", pci);
        link_to(t, link);
        link_to(back_target, back);
    }
    if (netdev && strcmp(drv, "vfio-pci") != 0) {
        g_autofree char *nd = g_build_filename(net, netdev, NULL);
        if ((mkdir(net, 0755) < 0 && errno != EEXIST) || (mkdir(nd, 0755) < 0 && errno != EEXIST))
            g_error("fake sysfs: mkdir %s: %s", nd, g_strerror(errno));
    }
}

static char *
pci_name(const char *domain, guint busdevfn)
{
    return g_strdup_printf("%s:%02x:%02x.%u", domain, (busdevfn >> 8) & 0xff,
                           (busdevfn >> 3) & 0x1f, busdevfn & 7);
}

void
fake_sysfs_add_pf(FakeSysfs *fk, const char *name, const char *pci, guint total_vfs,
                  int ifindex, const char *pf_driver, const char *vf_driver)
{
    FakePf *pf = g_new0(FakePf, 1);
    guint bus, dev, fn;
    char domain[5] = { 0 };
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;

    if (sscanf(pci, "%4[0-9a-f]:%x:%x.%u", domain, &bus, &dev, &fn) != 4)
        g_error("fake sysfs: bad PCI address %s", pci);
    pf->name = g_strdup(name);
    pf->pci = g_strdup(pci);
    pf->vf_driver = g_strdup(vf_driver);
    pf->total = total_vfs;
    pf->domain = g_strdup(domain);
    pf->devfn_base = bus << 8 | dev << 3 | fn;
    g_ptr_array_add(fk->pfs, pf);

    add_function(fk, pci, "0x10fb\n");
    dir = P(fk, "devices/pci0000:00/%s", pci);
    path = g_build_filename(dir, "sriov_totalvfs", NULL);
    {
        g_autofree char *value = g_strdup_printf("%u\n", total_vfs);
        put(path, value);
    }
    g_clear_pointer(&path, g_free);
    path = g_build_filename(dir, "sriov_numvfs", NULL);
    put(path, "0\n");
    g_clear_pointer(&path, g_free);
    path = g_build_filename(dir, "sriov_drivers_autoprobe", NULL);
    put(path, "1\n");
    g_clear_pointer(&path, g_free);
    fake_sysfs_add_plain_netdev(fk, name, pci, ifindex);
    set_driver(fk, pci, pf_driver, NULL);
    /* set_driver() wiped net/: put the PF's netdev back. */
    fake_sysfs_add_plain_netdev(fk, name, pci, ifindex);
}

void
fake_sysfs_add_plain_netdev(FakeSysfs *fk, const char *name, const char *pci, int ifindex)
{
    g_autofree char *dir = P(fk, "devices/pci0000:00/%s", pci);
    g_autofree char *nd = g_build_filename(dir, "net", name, NULL);
    g_autofree char *ifx = g_build_filename(nd, "ifindex", NULL);
    g_autofree char *dev = g_build_filename(nd, "device", NULL);
    g_autofree char *cls = P(fk, "class/net/%s", name);
    g_autofree char *cls_target = g_strdup_printf("../../devices/pci0000:00/%s/net/%s", pci, name);
    g_autofree char *value = g_strdup_printf("%d\n", ifindex);

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        add_function(fk, pci, "0x1533\n");
    mkdirs(nd);
    put(ifx, value);
    {
        g_autofree char *dev_target = g_strdup_printf("../../../%s", pci);
        link_to(dev_target, dev);
    }
    link_to(cls_target, cls);
}

static FakePf *
pf_by_pci(FakeSysfs *fk, const char *pci)
{
    guint i;
    for (i = 0; i < fk->pfs->len; i++) {
        FakePf *pf = g_ptr_array_index(fk->pfs, i);
        if (strcmp(pf->pci, pci) == 0)
            return pf;
    }
    return NULL;
}

static FakePf *
pf_by_name(FakeSysfs *fk, const char *name)
{
    guint i;
    for (i = 0; i < fk->pfs->len; i++) {
        FakePf *pf = g_ptr_array_index(fk->pfs, i);
        if (strcmp(pf->name, name) == 0)
            return pf;
    }
    return NULL;
}

/* VF i sits at First VF Offset 0x80, VF Stride 1 after the PF (ixgbe-like). */
static char *
vf_pci_of(FakePf *pf, guint i)
{
    return pci_name(pf->domain, pf->devfn_base + 0x80 + i);
}

static char *
vf_netdev(FakePf *pf, guint i)
{
    return g_strdup_printf("%.10sv%u", pf->name, i);
}

/* The VF's PF, from its physfn link; NULL if @pci is not a VF. The index
 * follows from the routing ID (offset 0x80, stride 1). */
static FakePf *
pf_of_vf(FakeSysfs *fk, const char *pci, guint *index)
{
    g_autofree char *physfn = P(fk, "devices/pci0000:00/%s/physfn", pci);
    g_autofree char *target = g_file_read_link(physfn, NULL);
    g_autofree char *pfpci = NULL;
    char domain[5] = { 0 };
    guint bus, dev, fn, rid;
    FakePf *pf;

    if (!target)
        return NULL;
    pfpci = g_path_get_basename(target);
    pf = pf_by_pci(fk, pfpci);
    if (!pf || sscanf(pci, "%4[0-9a-f]:%x:%x.%u", domain, &bus, &dev, &fn) != 4)
        return NULL;
    rid = bus << 8 | dev << 3 | fn;
    if (rid < pf->devfn_base + 0x80 || rid - pf->devfn_base - 0x80 >= pf->total)
        return NULL;
    *index = rid - pf->devfn_base - 0x80;
    return pf;
}

static void
create_vfs(FakeSysfs *fk, FakePf *pf, guint n)
{
    g_autofree char *pfdir = P(fk, "devices/pci0000:00/%s", pf->pci);
    g_autofree char *autoprobe_path = g_build_filename(pfdir, "sriov_drivers_autoprobe", NULL);
    g_autofree char *autoprobe = NULL;
    guint i;

    g_file_get_contents(autoprobe_path, &autoprobe, NULL, NULL);
    for (i = 0; i < n; i++) {
        g_autofree char *vf = vf_pci_of(pf, i);
        g_autofree char *virtfn = g_strdup_printf("%s/virtfn%u", pfdir, i);
        g_autofree char *vt = g_strdup_printf("../%s", vf);
        g_autofree char *physfn = P(fk, "devices/pci0000:00/%s/physfn", vf);
        g_autofree char *pt = g_strdup_printf("../%s", pf->pci);
        g_autofree char *nd = vf_netdev(pf, i);

        add_function(fk, vf, "0x10ed\n");
        link_to(vt, virtfn);
        link_to(pt, physfn);
        if (autoprobe && autoprobe[0] == '1')
            set_driver(fk, vf, pf->vf_driver, nd);
    }
}

static void
destroy_vfs(FakeSysfs *fk, FakePf *pf)
{
    g_autofree char *pfdir = P(fk, "devices/pci0000:00/%s", pf->pci);
    guint i;

    for (i = 0; i < pf->total; i++) {
        g_autofree char *virtfn = g_strdup_printf("%s/virtfn%u", pfdir, i);
        g_autofree char *vf = vf_pci_of(pf, i);
        g_autofree char *vfdir = P(fk, "devices/pci0000:00/%s", vf);
        g_autofree char *bus = P(fk, "bus/pci/devices/%s", vf);

        if (!g_file_test(virtfn, G_FILE_TEST_EXISTS) && !g_file_test(vfdir, G_FILE_TEST_EXISTS))
            continue;
        set_driver(fk, vf, NULL, NULL);
        (void)unlink(virtfn);
        (void)unlink(bus);
        rm_rf(vfdir);
    }
}

void
fake_sysfs_remove_vf(FakeSysfs *fk, const char *pfname, guint vf)
{
    FakePf *pf = pf_by_name(fk, pfname);
    g_autofree char *pci = vf_pci_of(pf, vf);
    g_autofree char *vfdir = P(fk, "devices/pci0000:00/%s", pci);
    g_autofree char *virtfn = P(fk, "devices/pci0000:00/%s/virtfn%u", pf->pci, vf);
    g_autofree char *bus = P(fk, "bus/pci/devices/%s", pci);

    set_driver(fk, pci, NULL, NULL);
    (void)unlink(virtfn);
    (void)unlink(bus);
    rm_rf(vfdir);
}

/* drivers_probe: the override wins; otherwise the VF driver of the PF. */
static int
probe(FakeSysfs *fk, const char *pci)
{
    g_autofree char *drv = fake_sysfs_driver_of(fk, pci);
    g_autofree char *override_path = P(fk, "devices/pci0000:00/%s/driver_override", pci);
    g_autofree char *override = NULL;
    FakePf *pf;
    guint idx = 0;

    if (drv)
        return 0;
    if (!g_file_get_contents(override_path, &override, NULL, NULL))
        return -ENODEV;
    g_strstrip(override);
    pf = pf_of_vf(fk, pci, &idx);
    if (strcmp(override, "(null)") != 0 && *override) {
        g_autofree char *ddir = P(fk, "bus/pci/drivers/%s", override);
        g_autofree char *nd = pf ? vf_netdev(pf, idx) : NULL;
        if (g_file_test(ddir, G_FILE_TEST_IS_DIR))
            set_driver(fk, pci, override, nd);
        return 0;   /* an override naming no driver leaves the device unbound */
    }
    if (pf) {
        g_autofree char *nd = vf_netdev(pf, idx);
        set_driver(fk, pci, pf->vf_driver, nd);
    }
    return 0;
}

static int react(FakeSysfs *fk, const char *path, const char *value);

static int
on_write(const char *path, const char *value, gpointer user_data)
{
    FakeSysfs *fk = user_data;
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&fk->lock);
    gint64 t0 = g_get_monotonic_time();
    int rc = react(fk, path, value);

    fk->busy_us += g_get_monotonic_time() - t0;
    return rc;
}

double
fake_sysfs_busy_seconds(FakeSysfs *fk)
{
    g_autoptr(GMutexLocker) l = g_mutex_locker_new(&fk->lock);
    return fk->busy_us / 1e6;
}

static int
react(FakeSysfs *fk, const char *path, const char *value)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *real_dir = NULL;
    g_autofree char *arg = g_strstrip(g_strdup(value));

    /* Which PF or driver a write is for: the directory's own name, or
     * where it links to (class/net/PF/device, devices/ADDR/driver). */
    if (strcmp(base, "sriov_numvfs") == 0 || strcmp(base, "unbind") == 0 ||
        strcmp(base, "bind") == 0) {
        g_autofree char *target = g_file_read_link(dir, NULL);
        real_dir = target ? g_strdup(target) : g_strdup(dir);
    }

    if (strcmp(base, "sriov_numvfs") == 0) {
        g_autofree char *pci = g_path_get_basename(real_dir);
        FakePf *pf = pf_by_pci(fk, pci);
        guint64 n;

        count(fk, "numvfs");
        if (!pf || !g_ascii_string_to_unsigned(arg, 10, 0, G_MAXUINT, &n, NULL))
            return -EINVAL;
        {
            g_autofree char *pfdir = P(fk, "devices/pci0000:00/%s", pf->pci);
            guint cur = 0;
            guint i;
            for (i = 0; i < pf->total; i++) {
                g_autofree char *v = g_strdup_printf("%s/virtfn%u", pfdir, i);
                if (g_file_test(v, G_FILE_TEST_IS_SYMLINK))
                    cur = i + 1;
            }
            if (n > pf->total) {
                g_autofree char *back = g_strdup_printf("%u\n", cur);
                put(path, back);
                return -ERANGE;
            }
            if (cur != 0 && n != 0 && n != cur) {
                g_autofree char *back = g_strdup_printf("%u\n", cur);
                put(path, back);
                return -EBUSY;
            }
            if (n == 0)
                destroy_vfs(fk, pf);
            else if (cur == 0)
                create_vfs(fk, pf, (guint)n);
        }
        return 0;
    }
    if (strcmp(base, "driver_override") == 0) {
        count(fk, "override");
        if (*arg == '\0')
            put(path, "(null)\n");
        return 0;
    }
    if (strcmp(base, "drivers_probe") == 0) {
        count(fk, "probe");
        return probe(fk, arg);
    }
    if (strcmp(base, "unbind") == 0) {
        g_autofree char *drv = g_path_get_basename(real_dir);
        g_autofree char *cur = fake_sysfs_driver_of(fk, arg);
        count(fk, "unbind");
        if (g_strcmp0(cur, drv) != 0)
            return -ENODEV;
        set_driver(fk, arg, NULL, NULL);
        return 0;
    }
    if (strcmp(base, "bind") == 0) {
        g_autofree char *drv = g_path_get_basename(real_dir);
        g_autofree char *cur = fake_sysfs_driver_of(fk, arg);
        FakePf *pf;
        guint idx = 0;
        g_autofree char *nd = NULL;
        count(fk, "bind");
        if (cur)
            return -EBUSY;
        pf = pf_of_vf(fk, arg, &idx);
        nd = pf ? vf_netdev(pf, idx) : NULL;
        set_driver(fk, arg, drv, nd);
        return 0;
    }
    return 0;
}

void
fake_sysfs_attach(FakeSysfs *fk, SriovSysfs *fs)
{
    sriov_sysfs_set_write_hook(fs, on_write, fk);
}

char *
fake_sysfs_driver_of(FakeSysfs *fk, const char *pci)
{
    g_autofree char *link = P(fk, "devices/pci0000:00/%s/driver", pci);
    g_autofree char *target = g_file_read_link(link, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

char *
fake_sysfs_vf_pci(FakeSysfs *fk, const char *pfname, guint vf)
{
    FakePf *pf = pf_by_name(fk, pfname);
    g_autofree char *virtfn = NULL;
    g_autofree char *target = NULL;

    if (!pf)
        return NULL;
    virtfn = P(fk, "devices/pci0000:00/%s/virtfn%u", pf->pci, vf);
    target = g_file_read_link(virtfn, NULL);
    return target ? g_path_get_basename(target) : NULL;
}
