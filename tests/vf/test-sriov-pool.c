/* VF pool and policy (sriov/pool/) on the kernel backend with the fake
 * SR-IOV kernel (fake sysfs tree + fake PF netlink peer): allocation across
 * PFs and pools, the "no free VF" message, concurrent reservations from many
 * threads, state saved before changes, rollback of a partial configuration,
 * restore on release, crash recovery through reconcile, vanished VFs. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <linux/if_link.h>

#include "hookd-vfs.h"
#include "sriov-kernel.h"
#include "sriov-netlink.h"
#include "sriov-pool-private.h"
#include "sriov-record.h"
#include "fake-sysfs.h"
#include "fake-pf.h"
#include "vf-test.h"

typedef struct {
    FakeSysfs *fk;
    FakePfPeer *peer;
    char *state_dir;
    char *conf_path;
    VfConfig *cfg;
} Fixture;

static const char *conf_text =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 4\nreserved-vfs = 1\npool = fabric-a\n"
    "[pf:enp3s0f1]\nbackend = kernel\nnum-vfs = 4\npool = fabric-a\n"
    "[pf:enp4s0f0]\nbackend = kernel\nnum-vfs = 2\npool = fabric-b\n";

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    int fd;

    f->fk = fake_sysfs_new();
    fake_sysfs_add_pf(f->fk, "enp3s0f0", "0000:03:00.0", 8, 7, "ixgbe", "ixgbevf");
    fake_sysfs_add_pf(f->fk, "enp3s0f1", "0000:03:00.1", 8, 8, "ixgbe", "ixgbevf");
    fake_sysfs_add_pf(f->fk, "enp4s0f0", "0000:04:00.0", 8, 9, "i40e", "iavf");
    fake_sysfs_add_plain_netdev(f->fk, "eno1", "0000:00:19.0", 2);   /* no SR-IOV */
    f->peer = fake_pf_peer_new();
    fake_pf_peer_add_pf(f->peer, "enp3s0f0", 7, 4);
    fake_pf_peer_add_pf(f->peer, "enp3s0f1", 8, 4);
    fake_pf_peer_add_pf(f->peer, "enp4s0f0", 9, 2);
    f->state_dir = g_dir_make_tmp("vf-pool-state-XXXXXX", &error);
    g_assert_no_error(error);
    fd = g_file_open_tmp("vf-pool-XXXXXX.conf", &f->conf_path, &error);
    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(f->conf_path, data ? data : conf_text, -1, NULL));
    f->cfg = vf_config_load(f->conf_path, &error);
    g_assert_no_error(error);
}

static void
rm_tree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR))
            rm_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    vf_config_free(f->cfg);
    g_unlink(f->conf_path);
    g_free(f->conf_path);
    rm_tree(f->state_dir);
    g_free(f->state_dir);
    fake_pf_peer_free(f->peer);
    fake_sysfs_free(f->fk);
}

/* A pool on the fixture's fake kernel (a new netlink channel each time, as a
 * restarted hookd would open). */
static SriovPool *
open_pool(Fixture *f, GError **error)
{
    SriovBackend *be;
    SriovNl *nl;
    int fd = fake_pf_peer_take_client_fd(f->peer);

    nl = sriov_nl_new_for_fd(fd);
    be = sriov_kernel_backend_new(fake_sysfs_root(f->fk), nl, error);
    fake_sysfs_attach(f->fk, sriov_kernel_backend_sysfs(be));
    return sriov_pool_new_with_backends(f->cfg, f->state_dir, be, NULL, error);
}

/* The same on a channel answered in the caller's thread (the benchmark's). */
static SriovPool *
open_pool_inline(Fixture *f, GError **error)
{
    SriovBackend *be = sriov_kernel_backend_new(fake_sysfs_root(f->fk),
                                                fake_pf_peer_open_inline(f->peer), error);

    fake_sysfs_attach(f->fk, sriov_kernel_backend_sysfs(be));
    return sriov_pool_new_with_backends(f->cfg, f->state_dir, be, NULL, error);
}

static void
assert_error_mentions(const GError *error, const char *fragment)
{
    g_assert_nonnull(error);
    if (!strstr(error->message, fragment))
        g_error("error '%s' does not mention '%s'", error->message, fragment);
}

static guint
count_state_files(Fixture *f)
{
    g_autofree char *dir = sriov_record_dir(f->state_dir);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;
    const char *name;

    /* reservations (not their applied configurations) */
    while (d && (name = g_dir_read_name(d)))
        if (!g_str_has_suffix(name, ".applied.json"))
            n++;
    return n;
}

static void
test_reserve_configure_release(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN | SRIOV_VF_SET_SPOOFCHK |
                                 SRIOV_VF_SET_RATE,
                          .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x42 }, .vlan = 100,
                          .spoofchk = TRUE, .max_tx_rate_mbps = 500 };
    FakeVfState before, during, after;
    SriovVf *vf, *again;
    g_autofree char *drv = NULL;

    g_assert_no_error(error);
    /* num-vfs = 4 created the VFs through sysfs */
    g_assert_cmpuint(fake_sysfs_count(f->fk, "numvfs"), ==, 3);

    vf = sriov_pool_reserve(pool, "uuid-1", "net0", "enp3s0f0", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(sriov_vf_get_pf(vf), ==, "enp3s0f0");
    g_assert_cmpuint(sriov_vf_get_index(vf), ==, 1);   /* VF 0 is kept for the host */
    g_assert_cmpstr(sriov_vf_get_pci_address(vf), ==, "0000:03:10.1");
    g_assert_cmpstr(sriov_vf_get_domain(vf), ==, "uuid-1");
    g_assert_cmpuint(count_state_files(f), ==, 1);
    again = sriov_pool_reserve(pool, "uuid-1", "net0", NULL, NULL, &error);
    g_assert_true(again == vf);   /* idempotent */

    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f0", 1, &before));
    g_assert_true(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f0", 1, &during));
    g_assert_cmpmem(during.cfg.mac, 6, cfg.mac, 6);
    g_assert_cmpuint(during.cfg.vlan, ==, 100);
    g_assert_cmpuint(during.cfg.max_tx_rate_mbps, ==, 500);
    /* changing one setting (steering back on) keeps the others applied */
    {
        SriovVfConfig mac_only = { .set = SRIOV_VF_SET_MAC,
                                   .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x47 } };
        SriovVfConfig applied;
        g_assert_true(sriov_pool_configure(pool, vf, &mac_only, &error));
        g_assert_true(sriov_vf_get_applied(vf, &applied));
        g_assert_cmpmem(applied.mac, 6, mac_only.mac, 6);
        g_assert_cmpuint(applied.set, ==, cfg.set);
        g_assert_cmpuint(applied.vlan, ==, 100);
        g_assert_cmpuint(applied.max_tx_rate_mbps, ==, 500);
    }

    g_assert_true(sriov_pool_bind_vfio(pool, vf, &error));
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.1");
    g_assert_cmpstr(drv, ==, "vfio-pci");
    g_clear_pointer(&drv, g_free);

    g_assert_true(sriov_pool_clear_steering(pool, vf, &error));
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f0", 1, &during));
    g_assert_true(sriov_mac_is_zero(during.cfg.mac));

    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_no_error(error);
    g_assert_null(sriov_vf_get_domain(vf));
    g_assert_cmpuint(count_state_files(f), ==, 0);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f0", 1, &after));
    g_assert_cmpmem(&after.cfg, sizeof(after.cfg), &before.cfg, sizeof(before.cfg));
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.1");
    g_assert_cmpstr(drv, ==, "ixgbevf");   /* back to the original driver */

    /* releasing twice is an error naming the VF */
    g_assert_false(sriov_pool_release(pool, vf, &error));
    assert_error_mentions(error, "PF enp3s0f0 VF 1 is not reserved");
}

/* The send path reads answers a hook queued (the benchmark's peer). */
static void
test_inline_peer(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool_inline(f, &error);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN,
                          .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x48 }, .vlan = 7 };
    FakeVfState before, during, after;
    SriovVf *vf;

    g_assert_no_error(error);
    vf = sriov_pool_reserve(pool, "uuid-1", "net0", "enp4s0f0", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 0, &before));
    g_assert_true(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 0, &during));
    g_assert_cmpuint(during.cfg.vlan, ==, 7);
    fake_pf_peer_fail(f->peer, "enp4s0f0", IFLA_VF_LINK_STATE, -EOPNOTSUPP, "no link state");
    cfg.set = SRIOV_VF_SET_LINK_STATE;
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    assert_error_mentions(error, "(kernel: no link state)");
    g_clear_error(&error);
    fake_pf_peer_fail(f->peer, "enp4s0f0", 0, 0, NULL);
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 0, &after));
    g_assert_cmpmem(&after.cfg, sizeof(after.cfg), &before.cfg, sizeof(before.cfg));
}

static void
test_no_free_vf_and_pools(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    guint i;

    g_assert_no_error(error);
    for (i = 0; i < 3; i++) {
        g_autofree char *uuid = g_strdup_printf("uuid-%u", i);
        g_assert_nonnull(sriov_pool_reserve(pool, uuid, "net0", "enp3s0f0", NULL, &error));
        g_assert_no_error(error);
    }
    g_assert_null(sriov_pool_reserve(pool, "uuid-x", "net0", "enp3s0f0", NULL, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF);
    g_assert_cmpstr(error->message, ==, "PF enp3s0f0: no free VF (4 of 4 in use, 1 kept for the host)");
    g_clear_error(&error);

    /* the pool falls over to its other PF */
    {
        SriovVf *vf = sriov_pool_reserve(pool, "uuid-x", "net0", NULL, "fabric-a", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(sriov_vf_get_pf(vf), ==, "enp3s0f1");
        g_assert_cmpstr(sriov_vf_get_pool(vf), ==, "fabric-a");
    }
    for (i = 0; i < 3; i++) {
        g_autofree char *uuid = g_strdup_printf("uuid-y%u", i);
        g_assert_nonnull(sriov_pool_reserve(pool, uuid, "net0", NULL, "fabric-a", &error));
    }
    g_assert_null(sriov_pool_reserve(pool, "uuid-z", "net0", NULL, "fabric-a", &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF);
    assert_error_mentions(error, "VF pool fabric-a is full");
    assert_error_mentions(error, "PF enp3s0f1: no free VF (4 of 4 in use, 0 kept for the host)");
    g_clear_error(&error);

    g_assert_null(sriov_pool_reserve(pool, "uuid-z", "net0", "eth9", NULL, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "PF eth9 is not configured");
    g_clear_error(&error);
    g_assert_null(sriov_pool_reserve(pool, "uuid-z", "net0", NULL, "nosuchpool", &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "VF pool nosuchpool has no PF");
}

typedef struct {
    SriovPool *pool;
    guint thread;
    GPtrArray *got;     /* SriovVf* reserved by this thread */
    guint refused;
} Worker;

static gpointer
worker(gpointer data)
{
    Worker *w = data;
    guint i;

    for (i = 0; i < 6; i++) {
        g_autofree char *uuid = g_strdup_printf("dom-%u-%u", w->thread, i);
        g_autoptr(GError) error = NULL;
        SriovVf *vf = sriov_pool_reserve(w->pool, uuid, "net0", NULL, i % 2 ? "fabric-a" : NULL,
                                         &error);
        if (vf) {
            g_ptr_array_add(w->got, vf);
        } else {
            g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NO_FREE_VF);
            w->refused++;
        }
    }
    return NULL;
}

static void
test_concurrent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    Worker w[8];
    GThread *t[8];
    guint i, j, total = 0;

    g_assert_no_error(error);
    for (i = 0; i < 8; i++) {
        w[i] = (Worker){ .pool = pool, .thread = i, .got = g_ptr_array_new() };
        t[i] = g_thread_new("reserve", worker, &w[i]);
    }
    for (i = 0; i < 8; i++)
        g_thread_join(t[i]);
    for (i = 0; i < 8; i++) {
        for (j = 0; j < w[i].got->len; j++) {
            SriovVf *vf = g_ptr_array_index(w[i].got, j);
            g_assert_false(g_hash_table_contains(seen, vf));   /* never two owners */
            g_hash_table_add(seen, vf);
            total++;
        }
        g_ptr_array_unref(w[i].got);
    }
    /* 4 + 4 + 2 VFs, one kept for the host */
    g_assert_cmpuint(total, ==, 9);
    g_assert_cmpuint(count_state_files(f), ==, 9);
}

/* Exact reservation (a definition that names its VF). */
static void
test_reserve_exact(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    SriovVf *vf, *other;

    g_assert_no_error(error);
    /* a free VF that is not the first free one */
    vf = sriov_pool_reserve_vf(pool, "uuid-a", "net0", "enp3s0f0", 3, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(sriov_vf_get_pf(vf), ==, "enp3s0f0");
    g_assert_cmpuint(sriov_vf_get_index(vf), ==, 3);
    g_assert_cmpstr(sriov_vf_get_domain(vf), ==, "uuid-a");
    g_assert_cmpstr(sriov_vf_get_pci_address(vf), ==, "0000:03:10.3");
    /* found by the PCI address a domain's definition names */
    g_assert_true(sriov_pool_find_vf(pool, NULL, "0000:03:10.3") == vf);
    g_assert_null(sriov_pool_find_vf(pool, "no-such-netdev", "0000:99:00.0"));
    g_assert_null(sriov_pool_find_vf(pool, NULL, NULL));
    g_assert_cmpuint(count_state_files(f), ==, 1);   /* persisted like the others */
    {
        g_autoptr(GPtrArray) recs = sriov_record_load_all(f->state_dir, &error);
        SriovVfRecord *r = recs->pdata[0];
        g_assert_cmpuint(recs->len, ==, 1);
        g_assert_cmpstr(r->pf, ==, "enp3s0f0");
        g_assert_cmpuint(r->vf, ==, 3);
        g_assert_cmpstr(r->domain_uuid, ==, "uuid-a");
        g_assert_true(r->original.set & SRIOV_VF_SET_MAC);
    }
    /* idempotent for its holder */
    g_assert_true(sriov_pool_reserve_vf(pool, "uuid-a", "net0", "enp3s0f0", 3, &error) == vf);
    g_assert_true(sriov_pool_reserve(pool, "uuid-a", "net0", NULL, NULL, &error) == vf);
    /* the first-free allocation skips it */
    other = sriov_pool_reserve(pool, "uuid-b", "net0", "enp3s0f0", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sriov_vf_get_index(other), ==, 1);

    /* taken: by another domain, kept for the host */
    g_assert_null(sriov_pool_reserve_vf(pool, "uuid-c", "net0", "enp3s0f0", 3, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY);
    g_assert_cmpstr(error->message, ==, "PF enp3s0f0 VF 3 is in use by domain uuid-a (net0)");
    g_clear_error(&error);
    g_assert_null(sriov_pool_reserve_vf(pool, "uuid-c", "net0", "enp3s0f0", 0, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY);
    g_assert_cmpstr(error->message, ==, "PF enp3s0f0 VF 0 is kept for the host (reserved-vfs = 1)");
    g_clear_error(&error);
    /* the pair already holds another VF */
    g_assert_null(sriov_pool_reserve_vf(pool, "uuid-a", "net0", "enp3s0f0", 2, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY);
    g_assert_cmpstr(error->message, ==,
                    "PF enp3s0f0 VF 2: domain uuid-a (net0) already holds PF enp3s0f0 VF 3");
    g_clear_error(&error);

    /* unknown VF, unknown PF */
    g_assert_null(sriov_pool_reserve_vf(pool, "uuid-c", "net0", "enp3s0f0", 4, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    g_assert_cmpstr(error->message, ==, "PF enp3s0f0 has no VF 4 (it has 4)");
    g_clear_error(&error);
    g_assert_null(sriov_pool_reserve_vf(pool, "uuid-c", "net0", "eth9", 0, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    g_assert_cmpstr(error->message, ==, "PF eth9 is not configured (no [pf:eth9] in the configuration)");
    g_clear_error(&error);
    g_assert_cmpuint(count_state_files(f), ==, 2);   /* the refusals saved nothing */

    /* released, it can be had again */
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_true(sriov_pool_reserve_vf(pool, "uuid-c", "net0", "enp3s0f0", 3, &error) == vf);
    g_assert_no_error(error);
}

/* Many threads asking for the same VFs by name: each VF gets one owner. */
typedef struct {
    SriovPool *pool;
    guint thread;
    GPtrArray *got;
    guint busy;
} ExactWorker;

static gpointer
exact_worker(gpointer data)
{
    ExactWorker *w = data;
    guint round, vf;

    for (round = 0; round < 3; round++) {
        for (vf = 0; vf < 4; vf++) {
            g_autofree char *uuid = g_strdup_printf("dom-%u-%u-%u", w->thread, round, vf);
            g_autoptr(GError) error = NULL;
            SriovVf *got = sriov_pool_reserve_vf(w->pool, uuid, "net0", "enp3s0f1", vf, &error);
            if (got) {
                g_assert_cmpuint(sriov_vf_get_index(got), ==, vf);
                g_ptr_array_add(w->got, got);
            } else {
                g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_BUSY);
                g_assert_true(g_str_has_prefix(error->message, "PF enp3s0f1 VF "));
                w->busy++;
            }
        }
    }
    return NULL;
}

static void
test_reserve_exact_concurrent(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    ExactWorker w[8];
    GThread *t[8];
    guint i, j, total = 0, busy = 0;

    g_assert_no_error(error);
    for (i = 0; i < 8; i++) {
        w[i] = (ExactWorker){ .pool = pool, .thread = i, .got = g_ptr_array_new() };
        t[i] = g_thread_new("reserve-vf", exact_worker, &w[i]);
    }
    for (i = 0; i < 8; i++)
        g_thread_join(t[i]);
    for (i = 0; i < 8; i++) {
        for (j = 0; j < w[i].got->len; j++) {
            SriovVf *vf = g_ptr_array_index(w[i].got, j);
            g_assert_false(g_hash_table_contains(seen, vf));   /* never two owners */
            g_hash_table_add(seen, vf);
            total++;
        }
        busy += w[i].busy;
        g_ptr_array_unref(w[i].got);
    }
    g_assert_cmpuint(total, ==, 4);
    g_assert_cmpuint(busy, ==, 8 * 3 * 4 - 4);
    g_assert_cmpuint(count_state_files(f), ==, 4);
}

/* One line, naming what it must name. */
static void
assert_one_line(const GError *error, const char *expected)
{
    g_assert_nonnull(error);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpstr(error->message, ==, expected);
}

/* The bad input, through the pool: each refusal is one line naming
 * PF, VF and setting; nothing is sent for what is refused up front; a
 * setting the driver refuses (EOPNOTSUPP, with the kernel's extended ack)
 * rolls the others back and leaves nothing behind. (Unknown PF and PF
 * without SR-IOV at start, VF count above the total: the bad-config tests; a VF
 * whose sysfs entry vanishes: vf-vanished; a crash: crash-and-reconcile.) */
static void
test_bad_input(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    g_autofree char *record = NULL;
    g_autofree char *record_after = NULL;
    g_autofree char *dir = sriov_record_dir(f->state_dir);
    g_autofree char *path = g_build_filename(dir, "enp4s0f0-vf1.json", NULL);
    SriovVfConfig cfg = { 0 };
    FakeVfState before, after;
    SriovVf *vf;
    guint sent;

    g_assert_no_error(error);
    g_assert_null(sriov_pool_reserve(pool, "uuid-1", "net0", "eth9", NULL, &error));
    assert_one_line(error, "PF eth9 is not configured (no [pf:eth9] in the configuration)");
    g_clear_error(&error);

    vf = sriov_pool_reserve_vf(pool, "uuid-1", "net0", "enp4s0f0", 1, &error);
    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 1, &before));
    g_assert_true(g_file_get_contents(path, &record, NULL, NULL));
    sent = fake_pf_peer_requests(f->peer);

    cfg.set = SRIOV_VF_SET_VLAN;
    cfg.vlan = 4095;
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_one_line(error, "PF enp4s0f0 VF 1: VLAN 4095 is outside 0..4094");
    g_clear_error(&error);
    cfg.set = SRIOV_VF_SET_RATE;
    cfg.min_tx_rate_mbps = 200;
    cfg.max_tx_rate_mbps = 100;
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_one_line(error, "PF enp4s0f0 VF 1: minimum TX rate 200 Mb/s is above the maximum "
                           "100 Mb/s");
    g_clear_error(&error);
    g_assert_cmpuint(fake_pf_peer_requests(f->peer), ==, sent);   /* nothing sent */

    /* the driver refuses one setting of several */
    fake_pf_peer_fail(f->peer, "enp4s0f0", IFLA_VF_LINK_STATE, -EOPNOTSUPP,
                      "VF link state is not supported by this driver");
    cfg = (SriovVfConfig){ .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN | SRIOV_VF_SET_TRUST |
                                  SRIOV_VF_SET_LINK_STATE,
                           .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x46 }, .vlan = 300,
                           .trust = TRUE, .link_state = SRIOV_LINK_STATE_DISABLE };
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
    assert_one_line(error, "PF enp4s0f0 VF 1: cannot set link state to disable: Operation not "
                           "supported (kernel: VF link state is not supported by this driver)");
    g_clear_error(&error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 1, &after));
    g_assert_cmpmem(&after.cfg, sizeof(after.cfg), &before.cfg, sizeof(before.cfg));
    {
        SriovVfConfig applied;
        g_assert_false(sriov_vf_get_applied(vf, &applied));
    }
    g_assert_true(g_file_get_contents(path, &record_after, NULL, NULL));
    g_assert_cmpstr(record_after, ==, record);   /* the saved state is as it was */
    g_assert_cmpuint(count_state_files(f), ==, 1);

    /* still the domain's, and released cleanly */
    g_assert_true(sriov_pool_lookup(pool, "uuid-1", "net0") == vf);
    fake_pf_peer_fail(f->peer, "enp4s0f0", 0, 0, NULL);
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_state_files(f), ==, 0);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 1, &after));
    g_assert_cmpmem(&after.cfg, sizeof(after.cfg), &before.cfg, sizeof(before.cfg));
}

static void
test_rollback(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN | SRIOV_VF_SET_LINK_STATE,
                          .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x43 }, .vlan = 7,
                          .link_state = SRIOV_LINK_STATE_ENABLE };
    FakeVfState before, after;
    SriovVf *vf = sriov_pool_reserve(pool, "uuid-1", "net0", "enp4s0f0", NULL, &error);

    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 0, &before));
    fake_pf_peer_fail(f->peer, "enp4s0f0", IFLA_VF_LINK_STATE, -EOPNOTSUPP,
                      "link state not supported");
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
    assert_error_mentions(error, "PF enp4s0f0 VF 0: cannot set link state to enable");
    assert_error_mentions(error, "kernel: link state not supported");
    g_clear_error(&error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp4s0f0", 0, &after));
    g_assert_cmpmem(after.cfg.mac, 6, before.cfg.mac, 6);
    g_assert_cmpuint(after.cfg.vlan, ==, before.cfg.vlan);

    /* bad input is refused before anything is sent */
    fake_pf_peer_fail(f->peer, "enp4s0f0", 0, 0, NULL);
    cfg.set = SRIOV_VF_SET_VLAN;
    cfg.vlan = 5000;
    g_assert_false(sriov_pool_configure(pool, vf, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_error_mentions(error, "PF enp4s0f0 VF 0: VLAN 5000 is outside 0..4094");
}

static void
test_crash_and_reconcile(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    SriovPool *pool = open_pool(f, &error);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_TRUST,
                          .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x44 }, .trust = TRUE };
    FakeVfState orig1, orig2, now;
    SriovVf *a, *b;

    g_assert_no_error(error);
    a = sriov_pool_reserve(pool, "uuid-live", "net0", "enp3s0f1", NULL, &error);
    b = sriov_pool_reserve(pool, "uuid-gone", "net0", "enp3s0f1", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f1", 0, &orig1));
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f1", 1, &orig2));
    g_assert_true(sriov_pool_configure(pool, a, &cfg, &error));
    g_assert_true(sriov_pool_configure(pool, b, &cfg, &error));
    g_assert_true(sriov_pool_bind_vfio(pool, b, &error));
    g_assert_no_error(error);

    /* "crash": the daemon goes away without releasing anything; the
     * driver (the peer) keeps the VFs as they were configured. */
    sriov_pool_free(pool);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f1", 1, &now));
    g_assert_true(now.cfg.trust);
    pool = open_pool(f, &error);
    g_assert_no_error(error);
    /* both reservations are back and count as in use */
    a = sriov_pool_lookup(pool, "uuid-live", "net0");
    b = sriov_pool_lookup(pool, "uuid-gone", "net0");
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_cmpuint(sriov_vf_get_index(a), ==, 0);
    g_assert_cmpuint(sriov_vf_get_index(b), ==, 1);
    {
        SriovVfConfig applied;
        g_assert_true(sriov_vf_get_applied(b, &applied));
        g_assert_true(applied.trust);
    }

    {
        const char *const live[] = { "uuid-live", "uuid-other", NULL };
        g_assert_true(sriov_pool_reconcile(pool, live, &error));
        g_assert_no_error(error);
    }
    g_assert_nonnull(sriov_pool_lookup(pool, "uuid-live", "net0"));
    g_assert_null(sriov_pool_lookup(pool, "uuid-gone", "net0"));
    g_assert_cmpuint(count_state_files(f), ==, 1);
    /* the gone domain's VF got its original MAC/trust and driver back */
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f1", 1, &now));
    g_assert_cmpmem(now.cfg.mac, 6, orig2.cfg.mac, 6);
    g_assert_false(now.cfg.trust);
    {
        g_autofree char *drv = fake_sysfs_driver_of(f->fk, "0000:03:10.1");
        g_assert_cmpstr(drv, ==, "ixgbevf");
    }
    /* the freed VF can be handed out again */
    g_assert_true(sriov_pool_reserve(pool, "uuid-new", "net0", "enp3s0f1", NULL, &error) == b);
    g_assert_true(fake_pf_peer_get_vf(f->peer, "enp3s0f1", 0, &now));
    g_assert_true(now.cfg.trust);   /* the live domain's VF was left alone */
    (void)orig1;
    sriov_pool_free(pool);
}

static void
test_vf_vanished(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    SriovVf *vf = sriov_pool_reserve(pool, "uuid-1", "net0", "enp4s0f0", NULL, &error);

    g_assert_no_error(error);
    fake_sysfs_remove_vf(f->fk, "enp4s0f0", 0);
    g_assert_false(sriov_pool_bind_vfio(pool, vf, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "PF enp4s0f0 VF 0: no such VF");
    g_clear_error(&error);
    g_test_expect_message("vfailover", G_LOG_LEVEL_WARNING, "*PF enp4s0f0 VF 0*dropping its reservation*");
    g_assert_true(sriov_pool_release(pool, vf, &error));
    g_test_assert_expected_messages();
    g_assert_no_error(error);
    g_assert_cmpuint(count_state_files(f), ==, 0);
}

static JsonObject *
request(const char *json)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

static void
test_ctl(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_VLAN,
                          .mac = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x45 }, .vlan = 12,
                          .vlan_proto = SRIOV_VLAN_PROTO_8021AD };
    SriovVf *a, *b;
    JsonArray *list;
    JsonObject *o;

    g_assert_no_error(error);
    a = sriov_pool_reserve(pool, "uuid-a", "net0", "enp3s0f0", NULL, &error);
    b = sriov_pool_reserve(pool, "uuid-b", "net1", "enp4s0f0", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(sriov_pool_configure(pool, a, &cfg, &error));
    (void)b;

    {
        g_autoptr(JsonObject) req = request("{\"command\": \"vfs\"}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_true(hookd_vfs_vfs(req, reply, pool, &error));
        list = json_object_get_array_member(reply, "vfs");
        g_assert_cmpuint(json_array_get_length(list), ==, 10);
        o = json_array_get_object_element(list, 0);
        g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "kept");
        o = json_array_get_object_element(list, 1);
        g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "reserved");
        g_assert_cmpstr(json_object_get_string_member(o, "domain"), ==, "uuid-a");
        g_assert_cmpstr(json_object_get_string_member(o, "pci-address"), ==, "0000:03:10.1");
        o = json_object_get_object_member(o, "config");
        g_assert_cmpstr(json_object_get_string_member(o, "mac"), ==, "52:54:00:00:00:45");
        g_assert_cmpint(json_object_get_int_member(o, "vlan"), ==, 12);
        g_assert_cmpstr(json_object_get_string_member(o, "vlan-protocol"), ==, "802.1ad");
        o = json_array_get_object_element(list, 2);
        g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "free");
    }
    {
        g_autoptr(JsonObject) req = request("{\"command\": \"vfs\", \"pf\": \"enp4s0f0\"}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_true(hookd_vfs_vfs(req, reply, pool, &error));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(reply, "vfs")), ==, 2);
    }
    {
        g_autoptr(JsonObject) req = request("{\"command\": \"stats\"}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_true(hookd_vfs_stats(req, reply, pool, &error));
        list = json_object_get_array_member(reply, "vfs");
        g_assert_cmpuint(json_array_get_length(list), ==, 2);   /* VFs in use */
        o = json_array_get_object_element(list, 0);
        g_assert_cmpint(json_object_get_int_member(o, "rx-packets"), ==, 1001);
        g_assert_cmpint(json_object_get_int_member(o, "tx-dropped"), ==, 11);
    }
    {
        g_autoptr(JsonObject) req = request("{\"command\": \"stats\", \"pf\": \"enp3s0f1\", \"vf\": 3}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_true(hookd_vfs_stats(req, reply, pool, &error));
        o = json_array_get_object_element(json_object_get_array_member(reply, "vfs"), 0);
        g_assert_cmpint(json_object_get_int_member(o, "tx-packets"), ==, 2003);
    }
    {
        g_autoptr(JsonObject) req = request("{\"command\": \"stats\", \"pf\": \"eth7\"}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_false(hookd_vfs_stats(req, reply, pool, &error));
        assert_error_mentions(error, "PF eth7 is not configured");
        g_clear_error(&error);
    }
    {
        g_autoptr(JsonObject) req = request("{\"command\": \"stats\", \"pf\": \"enp3s0f1\", \"vf\": 9}");
        g_autoptr(JsonObject) reply = json_object_new();
        g_assert_false(hookd_vfs_stats(req, reply, pool, &error));
        assert_error_mentions(error, "PF enp3s0f1 has no VF 9");
    }
}

/* Leftovers of an interrupted save are discarded; an unreadable record is
 * reported and left on disk; a record for a VF the host no longer has does
 * not stop the start. */
static void
test_state_files(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = sriov_record_dir(f->state_dir);
    g_autofree char *tmp = g_build_filename(dir, "enp3s0f0-vf1.json.tmp", NULL);
    g_autofree char *bad = g_build_filename(dir, "enp3s0f0-vf2.json", NULL);
    g_autofree char *gone = g_build_filename(dir, "enp9s0f0-vf0.json", NULL);
    g_autofree char *cut = g_build_filename(dir, "enp3s0f1-vf2.json", NULL);
    g_autofree char *empty = g_build_filename(dir, "enp3s0f1-vf3.json", NULL);
    g_autofree char *orphan = g_build_filename(dir, "enp3s0f1-vf1.applied.json", NULL);
    g_autoptr(SriovPool) pool = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(tmp, "{\"version\": 1, \"pf\": \"enp3", -1, NULL));
    g_assert_true(g_file_set_contents(bad, "{\"version\": 1, \"pf\": 3}", -1, NULL));
    g_assert_true(g_file_set_contents(gone,
        "{\"version\":1,\"pf\":\"enp9s0f0\",\"vf\":0,\"backend\":\"kernel\","
        "\"domain-uuid\":\"u\",\"pair-key\":\"net0\",\"original\":{\"mac\":\"02:00:00:00:00:01\"}}",
        -1, NULL));
    /* a crash while a reservation was being written: its record is cut
     * short (or empty); an applied configuration whose record is gone */
    g_assert_true(g_file_set_contents(cut, "{\n  \"version\" : 1,\n  \"pf\" : \"enp3s0f1\",\n", -1,
                                      NULL));
    g_assert_true(g_file_set_contents(empty, "", -1, NULL));
    g_assert_true(g_file_set_contents(orphan, "{\"mac\": \"02:00:00:00:00:02\"}", -1, NULL));
    g_test_expect_message("vfailover", G_LOG_LEVEL_MESSAGE, "*interrupted reservation*");
    g_test_expect_message("vfailover", G_LOG_LEVEL_MESSAGE, "*interrupted reservation*");
    g_test_expect_message("vfailover", G_LOG_LEVEL_WARNING, "*Ignoring unreadable VF state file*enp3s0f0-vf2.json*'pf' must be a string*");
    g_test_expect_message("vfailover", G_LOG_LEVEL_WARNING, "*PF enp9s0f0 VF 0 (domain u)*no longer has*");
    pool = open_pool(f, &error);
    g_test_assert_expected_messages();
    g_assert_no_error(error);
    g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(bad, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(gone, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(cut, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(empty, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(orphan, G_FILE_TEST_EXISTS));
    /* the records written by the pool read back */
    {
        SriovVf *vf = sriov_pool_reserve(pool, "uuid-s", "net0", "enp3s0f1", NULL, &error);
        g_autoptr(GPtrArray) recs = NULL;
        guint i, found = 0;
        g_assert_no_error(error);
        g_test_expect_message("vfailover", G_LOG_LEVEL_WARNING, "*Ignoring unreadable*");
        recs = sriov_record_load_all(f->state_dir, &error);
        g_test_assert_expected_messages();
        for (i = 0; i < recs->len; i++) {
            SriovVfRecord *r = recs->pdata[i];
            if (g_strcmp0(r->domain_uuid, "uuid-s") == 0) {
                found++;
                g_assert_cmpstr(r->pf, ==, "enp3s0f1");
                g_assert_cmpuint(r->vf, ==, sriov_vf_get_index(vf));
                g_assert_cmpstr(r->pci_address, ==, sriov_vf_get_pci_address(vf));
                g_assert_cmpstr(r->original_driver, ==, "ixgbevf");
                g_assert_true(r->original.set & SRIOV_VF_SET_MAC);
            }
        }
        g_assert_cmpuint(found, ==, 1);
    }
    /* the unreadable leftover is replaced when its VF is reserved */
    {
        SriovVf *vf = sriov_pool_reserve_vf(pool, "uuid-t", "net0", "enp3s0f0", 2, &error);
        g_autoptr(GPtrArray) recs = NULL;
        guint i, found = 0;
        g_assert_no_error(error);
        g_assert_nonnull(vf);
        recs = sriov_record_load_all(f->state_dir, &error);
        for (i = 0; i < recs->len; i++)
            if (g_strcmp0(((SriovVfRecord *)recs->pdata[i])->domain_uuid, "uuid-t") == 0)
                found++;
        g_assert_cmpuint(found, ==, 1);
    }
}

static const char *bad_conf =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 2\nreserved-vfs = 3\n";
static const char *too_many_conf =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 9\n";
static const char *not_sriov_conf =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 2\n[pf:eno1]\nbackend = kernel\n";
static const char *unknown_pf_conf =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 2\n[pf:nosuch0]\nbackend = kernel\n";
/* a port name that would end up in the emulated backend's nftables input */
static const char *bad_port_conf =
    "[pf:enp3s0f0]\nbackend = kernel\nnum-vfs = 2\ndatapath-port = dp\"; flush ruleset\n";

static void
test_bad_config(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovPool) pool = open_pool(f, &error);

    g_assert_null(pool);
    if (data == not_sriov_conf) {
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
        assert_one_line(error, "PF eno1: the device is not SR-IOV capable (no sriov_totalvfs)");
    } else if (data == unknown_pf_conf) {
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
        assert_error_mentions(error, "PF nosuch0: no such PCI network device");
        g_assert_null(strchr(error->message, '\n'));
    } else if (data == bad_port_conf) {
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
        g_assert_null(strchr(error->message, '\n'));
        assert_error_mentions(error, "[pf:enp3s0f0]: 'dp\"; flush ruleset' is not a network device name");
    } else if (data == bad_conf) {
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
        assert_one_line(error, "PF enp3s0f0: reserved-vfs = 3 is more than its 2 VFs");
    } else {
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
        assert_one_line(error, "PF enp3s0f0: num-vfs = 9 but the device supports at most 8 VFs");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/sriov-pool/reserve-configure-release", Fixture, NULL, fixture_setup,
               test_reserve_configure_release, fixture_teardown);
    g_test_add("/sriov-pool/inline-peer", Fixture, NULL, fixture_setup, test_inline_peer,
               fixture_teardown);
    g_test_add("/sriov-pool/no-free-vf-and-pools", Fixture, NULL, fixture_setup,
               test_no_free_vf_and_pools, fixture_teardown);
    g_test_add("/sriov-pool/concurrent", Fixture, NULL, fixture_setup, test_concurrent,
               fixture_teardown);
    g_test_add("/sriov-pool/reserve-exact", Fixture, NULL, fixture_setup, test_reserve_exact,
               fixture_teardown);
    g_test_add("/sriov-pool/reserve-exact-concurrent", Fixture, NULL, fixture_setup,
               test_reserve_exact_concurrent, fixture_teardown);
    g_test_add("/sriov-pool/rollback", Fixture, NULL, fixture_setup, test_rollback,
               fixture_teardown);
    g_test_add("/sriov-pool/crash-and-reconcile", Fixture, NULL, fixture_setup,
               test_crash_and_reconcile, fixture_teardown);
    g_test_add("/sriov-pool/vf-vanished", Fixture, NULL, fixture_setup, test_vf_vanished,
               fixture_teardown);
    g_test_add("/sriov-pool/ctl-vfs-stats", Fixture, NULL, fixture_setup, test_ctl,
               fixture_teardown);
    g_test_add("/sriov-pool/state-files", Fixture, NULL, fixture_setup, test_state_files,
               fixture_teardown);
    g_test_add("/sriov-pool/bad-config/reserved", Fixture, bad_conf, fixture_setup,
               test_bad_config, fixture_teardown);
    g_test_add("/sriov-pool/bad-config/too-many", Fixture, too_many_conf, fixture_setup,
               test_bad_config, fixture_teardown);
    g_test_add("/sriov-pool/bad-config/not-sriov", Fixture, not_sriov_conf, fixture_setup,
               test_bad_config, fixture_teardown);
    g_test_add("/sriov-pool/bad-config/unknown-pf", Fixture, unknown_pf_conf, fixture_setup,
               test_bad_config, fixture_teardown);
    g_test_add("/sriov-pool/bad-config/datapath-port", Fixture, bad_port_conf, fixture_setup,
               test_bad_config, fixture_teardown);
    g_test_add("/sriov-pool/bad-input", Fixture, NULL, fixture_setup, test_bad_input,
               fixture_teardown);
    return g_test_run();
}
