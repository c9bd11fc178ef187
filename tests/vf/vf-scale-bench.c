/* Benchmark driver for tests/bench/vf-scale: 1,024 VFs (4 PFs x 256) on a
 * fake SR-IOV sysfs tree, with the fake PF netlink peer answering on a
 * socketpair in the sender's thread (as the kernel answers rtnetlink within
 * the sender's sendmsg) — each VF reserved
 * (original read over netlink, state saved with fsync), configured (MAC,
 * VLAN, spoofchk, trust, rate, link state: six requests), bound to vfio-pci
 * and back, and released (six restore requests, state removed). Prints the
 * phases, peak RSS, and last `vf_1024_cycle_seconds: X`.
 *
 * Usage: vf-scale-bench [STATE_DIR]   (default: a new directory under /tmp) */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sriov-kernel.h"
#include "sriov-netlink.h"
#include "sriov-pool-private.h"
#include "sriov-record.h"
#include "fake-sysfs.h"
#include "fake-pf.h"

#define NPF 4
#define NVF 256

static double
now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FakeSysfs) fk = fake_sysfs_new();
    g_autoptr(FakePfPeer) peer = fake_pf_peer_new();
    g_autoptr(GString) conf = g_string_new(NULL);
    g_autofree char *state_dir = NULL;
    g_autofree char *conf_path = NULL;
    g_autoptr(VfConfig) cfg = NULL;
    SriovPool *pool;
    SriovBackend *be;
    SriovVf *vfs[NPF * NVF];
    struct rusage ru, ru1, ru4;
    double t0, t1, t2, t3, t4, t5, fake0, fake;
    guint i, requests0;
    int fd;

    if (argc > 1) {
        state_dir = g_strdup(argv[1]);
        g_mkdir_with_parents(state_dir, 0700);
    } else {
        state_dir = g_dir_make_tmp("vf-scale-state-XXXXXX", &error);
        g_assert_no_error(error);
    }
    for (i = 0; i < NPF; i++) {
        g_autofree char *name = g_strdup_printf("enp%us0f0", 3 + i);
        g_autofree char *pci = g_strdup_printf("0000:%02x:00.0", 0x10 * (i + 1));
        fake_sysfs_add_pf(fk, name, pci, NVF, 10 + i, "i40e", "iavf");
        fake_pf_peer_add_pf(peer, name, 10 + i, NVF);
        g_string_append_printf(conf, "[pf:%s]\nbackend = kernel\nnum-vfs = %u\n", name, NVF);
    }
    fd = g_file_open_tmp("vf-scale-XXXXXX.conf", &conf_path, &error);
    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(conf_path, conf->str, -1, NULL));
    cfg = vf_config_load(conf_path, &error);
    g_assert_no_error(error);

    t0 = now_s();
    be = sriov_kernel_backend_new(fake_sysfs_root(fk),
                                  fake_pf_peer_open_inline(peer), &error);
    g_assert_no_error(error);
    fake_sysfs_attach(fk, sriov_kernel_backend_sysfs(be));
    pool = sriov_pool_new_with_backends(cfg, state_dir, be, NULL, &error);
    if (!pool)
        g_error("%s", error->message);
    t1 = now_s();
    printf("# setup: %u VFs created through sriov_numvfs on the fake tree: %.3f s\n",
           NPF * NVF, t1 - t0);
    requests0 = fake_pf_peer_requests(peer);
    fake0 = fake_sysfs_busy_seconds(fk) + fake_pf_peer_busy_seconds(peer);
    getrusage(RUSAGE_SELF, &ru1);

    for (i = 0; i < NPF * NVF; i++) {
        g_autofree char *uuid = g_strdup_printf("00000000-0000-4000-8000-%012u", i);
        vfs[i] = sriov_pool_reserve(pool, uuid, "net0", NULL, NULL, &error);
        if (!vfs[i])
            g_error("%s", error->message);
    }
    t2 = now_s();
    for (i = 0; i < NPF * NVF; i++) {
        SriovVfConfig c = {
            .set = SRIOV_VF_SET_ALL,
            .mac = { 0x52, 0x54, 0x00, 0x10, (guint8)(i >> 8), (guint8)i },
            .vlan = 100 + i % 3000, .qos = i % 8,
            .vlan_proto = i % 2 ? SRIOV_VLAN_PROTO_8021AD : SRIOV_VLAN_PROTO_8021Q,
            .spoofchk = TRUE, .trust = i % 2, .min_tx_rate_mbps = 10, .max_tx_rate_mbps = 1000,
            .link_state = SRIOV_LINK_STATE_ENABLE,
        };
        if (!sriov_pool_configure(pool, vfs[i], &c, &error) ||
            !sriov_pool_bind_vfio(pool, vfs[i], &error))
            g_error("%s", error->message);
    }
    t3 = now_s();
    for (i = 0; i < NPF * NVF; i++)
        if (!sriov_pool_release(pool, vfs[i], &error))
            g_error("%s", error->message);
    t4 = now_s();
    getrusage(RUSAGE_SELF, &ru4);
    t5 = t4 - t1;
    fake = fake_sysfs_busy_seconds(fk) + fake_pf_peer_busy_seconds(peer) - fake0;

    getrusage(RUSAGE_SELF, &ru);
    printf("# reserve (read original over netlink + save state, fsync): %.3f s\n", t2 - t1);
    printf("# configure (6 settings, one request) + bind to vfio-pci: %.3f s\n", t3 - t2);
    printf("# release (restore 6 settings, rebind host driver, remove state): %.3f s\n", t4 - t3);
    printf("# CPU time of the cycle (this process, incl. the PF peer's answers and the fake "
           "kernel's reactions): user %.3f s, sys %.3f s\n",
           (ru4.ru_utime.tv_sec - ru1.ru_utime.tv_sec) + (ru4.ru_utime.tv_usec - ru1.ru_utime.tv_usec) / 1e6,
           (ru4.ru_stime.tv_sec - ru1.ru_stime.tv_sec) + (ru4.ru_stime.tv_usec - ru1.ru_stime.tv_usec) / 1e6);
    printf("# of the cycle, the stand-ins for the kernel (fake sysfs reactions to writes + "
           "PF driver peer answering): %.3f s; the rest (vfailover's pool, backend, state "
           "files, and the real kernel's syscall work for them): %.3f s\n", fake, t5 - fake);
    printf("# netlink requests answered by the PF peer: %u\n",
           fake_pf_peer_requests(peer) - requests0);
    printf("# peak RSS: %ld KiB\n", ru.ru_maxrss);
    printf("# state dir: %s\n", state_dir);
    sriov_pool_free(pool);
    g_unlink(conf_path);
    {
        g_autofree char *dir = sriov_record_dir(state_dir);
        g_rmdir(dir);
        if (argc <= 1)
            g_rmdir(state_dir);
    }
    printf("vf_1024_cycle_seconds: %.3f\n", t5);
    return 0;
}
