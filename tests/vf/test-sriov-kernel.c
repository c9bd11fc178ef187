/* Kernel VF backend (sriov/kernel/):
 *  - sysfs: VF count (0 then N, limits), VF discovery, driver binding to
 *    vfio-pci and back, vanished VFs — on a fake tree whose "kernel"
 *    reactions are emulated by tests/vf/fake-sysfs.c;
 *  - netlink: every IFLA_VF_* request compared byte for byte (seq/pid aside)
 *    with what iproute2 sends for the same `ip link set PF vf N ...`, captured
 *    in this test by running ip under strace in a private network namespace
 *    against a bridge (no SR-IOV NIC here: the kernel answers EOPNOTSUPP,
 *    which also exercises our error path against the real kernel);
 *  - parsing an RTM_NEWLINK with IFLA_VFINFO_LIST + IFLA_VF_STATS, built per
 *    the kernel's rtnl_fill_vfinfo() layout (no NIC to capture one from),
 *    also appended to a real kernel RTM_NEWLINK;
 *  - round trips and extended-ack errors against the fake PF peer. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

#include "sriov-kernel.h"
#include "sriov-netlink.h"
#include "fake-sysfs.h"
#include "fake-pf.h"
#include "iproute2-capture.h"
#include "vf-test.h"

static gboolean in_netns;   /* private netns with bridge "pf0" */
static int pf0_ifindex;

/* ---- sysfs ---- */

typedef struct {
    FakeSysfs *fk;
    FakePfPeer *peer;
    SriovBackend *be;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->fk = fake_sysfs_new();
    fake_sysfs_add_pf(f->fk, "enp3s0f0", "0000:03:00.0", 8, 7, "ixgbe", "ixgbevf");
    fake_sysfs_add_plain_netdev(f->fk, "eno1", "0000:00:19.0", 2);
    f->peer = fake_pf_peer_new();
    fake_pf_peer_add_pf(f->peer, "enp3s0f0", 7, 8);
    f->be = sriov_kernel_backend_new(fake_sysfs_root(f->fk),
                                     sriov_nl_new_for_fd(fake_pf_peer_take_client_fd(f->peer)),
                                     &error);
    g_assert_no_error(error);
    fake_sysfs_attach(f->fk, sriov_kernel_backend_sysfs(f->be));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    sriov_backend_free(f->be);   /* closes the client end: the peer ends */
    fake_pf_peer_free(f->peer);
    fake_sysfs_free(f->fk);
}

static void
assert_error_mentions(const GError *error, const char *a, const char *b)
{
    g_assert_nonnull(error);
    if (!strstr(error->message, a) || (b && !strstr(error->message, b)))
        g_error("error '%s' does not mention '%s'%s%s", error->message, a,
                b ? " and " : "", b ? b : "");
}

static void
test_numvfs(Fixture *f, gconstpointer data)
{
    const SriovBackendOps *ops = f->be->ops;
    g_autoptr(GError) error = NULL;
    guint total = 0, num = 99;

    g_assert_true(ops->pf_open(f->be, "enp3s0f0", NULL, &total, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(total, ==, 8);
    g_assert_true(ops->pf_get_num_vfs(f->be, "enp3s0f0", &num, &error));
    g_assert_cmpuint(num, ==, 0);

    g_assert_true(ops->pf_set_num_vfs(f->be, "enp3s0f0", 4, &error));
    g_assert_no_error(error);
    g_assert_true(ops->pf_get_num_vfs(f->be, "enp3s0f0", &num, &error));
    g_assert_cmpuint(num, ==, 4);
    g_assert_cmpuint(fake_sysfs_count(f->fk, "numvfs"), ==, 1);
    /* 4 -> 6: the fake kernel says EBUSY to N -> M, so the backend writes 0 first. */
    g_assert_true(ops->pf_set_num_vfs(f->be, "enp3s0f0", 6, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake_sysfs_count(f->fk, "numvfs"), ==, 3);
    g_assert_true(ops->pf_get_num_vfs(f->be, "enp3s0f0", &num, &error));
    g_assert_cmpuint(num, ==, 6);
    /* same count: nothing written */
    g_assert_true(ops->pf_set_num_vfs(f->be, "enp3s0f0", 6, &error));
    g_assert_cmpuint(fake_sysfs_count(f->fk, "numvfs"), ==, 3);

    g_assert_false(ops->pf_set_num_vfs(f->be, "enp3s0f0", 9, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_error_mentions(error, "PF enp3s0f0", "at most 8");
    g_clear_error(&error);

    g_assert_false(ops->pf_open(f->be, "eno1", NULL, &total, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
    assert_error_mentions(error, "PF eno1", "not SR-IOV capable");
    g_clear_error(&error);
    g_assert_false(ops->pf_open(f->be, "nosuch0", NULL, &total, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "PF nosuch0", NULL);
}

static void
test_vf_info_and_binding(Fixture *f, gconstpointer data)
{
    const SriovBackendOps *ops = f->be->ops;
    g_autoptr(GError) error = NULL;
    g_auto(SriovVfInfo) info = { 0 };
    g_autofree char *drv = NULL;

    g_assert_true(ops->pf_set_num_vfs(f->be, "enp3s0f0", 4, &error));
    g_assert_true(ops->vf_get_info(f->be, "enp3s0f0", 2, &info, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(info.pci_address, ==, "0000:03:10.2");
    g_assert_cmpstr(info.driver, ==, "ixgbevf");
    g_assert_cmpstr(info.netdev, ==, "enp3s0f0v2");
    g_assert_nonnull(info.iommu_group);
    sriov_vf_info_clear(&info);

    g_assert_true(ops->vf_bind_vfio(f->be, "enp3s0f0", 2, &error));
    g_assert_no_error(error);
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.2");
    g_assert_cmpstr(drv, ==, "vfio-pci");
    g_clear_pointer(&drv, g_free);
    g_assert_true(ops->vf_get_info(f->be, "enp3s0f0", 2, &info, &error));
    g_assert_null(info.netdev);   /* vfio-pci has no netdev */
    sriov_vf_info_clear(&info);
    /* again: already bound, nothing written */
    {
        guint unbinds = fake_sysfs_count(f->fk, "unbind");
        g_assert_true(ops->vf_bind_vfio(f->be, "enp3s0f0", 2, &error));
        g_assert_cmpuint(fake_sysfs_count(f->fk, "unbind"), ==, unbinds);
    }

    g_assert_true(ops->vf_bind_host(f->be, "enp3s0f0", 2, "ixgbevf", &error));
    g_assert_no_error(error);
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.2");
    g_assert_cmpstr(drv, ==, "ixgbevf");
    g_clear_pointer(&drv, g_free);
    g_assert_true(ops->vf_get_info(f->be, "enp3s0f0", 2, &info, &error));
    g_assert_cmpstr(info.netdev, ==, "enp3s0f0v2");
    sriov_vf_info_clear(&info);
    /* NULL: no driver at all */
    g_assert_true(ops->vf_bind_host(f->be, "enp3s0f0", 2, NULL, &error));
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.2");
    g_assert_null(drv);
    g_assert_true(ops->vf_bind_vfio(f->be, "enp3s0f0", 2, &error));
    drv = fake_sysfs_driver_of(f->fk, "0000:03:10.2");
    g_assert_cmpstr(drv, ==, "vfio-pci");
    g_clear_pointer(&drv, g_free);

    /* a driver that does not exist: clear error naming PF, VF, address */
    g_assert_false(ops->vf_bind_host(f->be, "enp3s0f0", 1, "nosuchdrv", &error));
    assert_error_mentions(error, "PF enp3s0f0 VF 1 (0000:03:10.1)", "did not bind to nosuchdrv");
    g_clear_error(&error);

    /* VF gone from sysfs while assigned */
    fake_sysfs_remove_vf(f->fk, "enp3s0f0", 3);
    g_assert_false(ops->vf_reserve(f->be, "enp3s0f0", 3, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "PF enp3s0f0 VF 3", "no such VF");
    g_clear_error(&error);
    g_assert_false(ops->vf_bind_vfio(f->be, "enp3s0f0", 3, &error));
    assert_error_mentions(error, "PF enp3s0f0 VF 3", NULL);
}

/* ---- netlink round trips against the fake PF peer ---- */

static void
test_roundtrip(Fixture *f, gconstpointer data)
{
    const SriovBackendOps *ops = f->be->ops;
    g_autoptr(GError) error = NULL;
    SriovVfConfig cfg = {
        .set = SRIOV_VF_SET_ALL, .mac = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef },
        .vlan = 300, .qos = 5, .vlan_proto = SRIOV_VLAN_PROTO_8021AD,
        .spoofchk = FALSE, .trust = TRUE, .min_tx_rate_mbps = 100, .max_tx_rate_mbps = 1000,
        .link_state = SRIOV_LINK_STATE_DISABLE,
    };
    SriovVfConfig back;
    SriovVfStats stats;

    g_assert_true(ops->vf_set_config(f->be, "enp3s0f0", 5, &cfg, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake_pf_peer_requests(f->peer), ==, 1);   /* all in one request */
    g_assert_true(ops->vf_get_config(f->be, "enp3s0f0", 5, &back, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(back.set, ==, SRIOV_VF_SET_ALL);
    g_assert_cmpmem(back.mac, 6, cfg.mac, 6);
    g_assert_cmpuint(back.vlan, ==, 300);
    g_assert_cmpuint(back.qos, ==, 5);
    g_assert_cmphex(back.vlan_proto, ==, SRIOV_VLAN_PROTO_8021AD);
    g_assert_false(back.spoofchk);
    g_assert_true(back.trust);
    g_assert_cmpuint(back.min_tx_rate_mbps, ==, 100);
    g_assert_cmpuint(back.max_tx_rate_mbps, ==, 1000);
    g_assert_cmpint(back.link_state, ==, SRIOV_LINK_STATE_DISABLE);

    g_assert_true(ops->vf_get_stats(f->be, "enp3s0f0", 5, &stats, &error));
    g_assert_cmpuint(stats.rx_packets, ==, 1005);
    g_assert_cmpuint(stats.tx_bytes, ==, 128005);
    g_assert_cmpuint(stats.tx_dropped, ==, 11);

    /* clear steering = zero MAC */
    g_assert_true(ops->vf_clear_steering(f->be, "enp3s0f0", 5, &error));
    g_assert_true(ops->vf_get_config(f->be, "enp3s0f0", 5, &back, &error));
    g_assert_true(sriov_mac_is_zero(back.mac));

    /* a VF the PF does not have */
    g_assert_false(ops->vf_get_config(f->be, "enp3s0f0", 8, &back, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
    assert_error_mentions(error, "PF enp3s0f0 VF 8", NULL);
}

static void
test_ext_ack_and_validation(Fixture *f, gconstpointer data)
{
    const SriovBackendOps *ops = f->be->ops;
    g_autoptr(GError) error = NULL;
    SriovVfConfig cfg = { .set = SRIOV_VF_SET_MAC | SRIOV_VF_SET_LINK_STATE,
                          .mac = { 0x52, 0x54, 0, 0, 0, 1 },
                          .link_state = SRIOV_LINK_STATE_ENABLE };

    fake_pf_peer_fail(f->peer, "enp3s0f0", IFLA_VF_LINK_STATE, -EOPNOTSUPP,
                      "VF link state is not supported by this driver");
    g_assert_false(ops->vf_set_config(f->be, "enp3s0f0", 1, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
    assert_error_mentions(error, "PF enp3s0f0 VF 1: cannot set link state to enable",
                          "(kernel: VF link state is not supported by this driver)");
    g_clear_error(&error);

    cfg.set = SRIOV_VF_SET_VLAN;
    cfg.vlan = 4095;
    g_assert_false(ops->vf_set_config(f->be, "enp3s0f0", 1, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_error_mentions(error, "PF enp3s0f0 VF 1", "VLAN 4095");
    g_clear_error(&error);
    cfg.set = SRIOV_VF_SET_RATE;
    cfg.min_tx_rate_mbps = 200;
    cfg.max_tx_rate_mbps = 100;
    g_assert_false(ops->vf_set_config(f->be, "enp3s0f0", 1, &cfg, &error));
    g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID);
    assert_error_mentions(error, "PF enp3s0f0 VF 1", "minimum TX rate 200");
}

/* ---- parsing ---- */

static void
make_vfs(FakeVfState *vfs, guint n)
{
    guint i;
    memset(vfs, 0, sizeof(*vfs) * n);
    for (i = 0; i < n; i++) {
        vfs[i].cfg.mac[0] = 0x52;
        vfs[i].cfg.mac[5] = (guint8)i;
        vfs[i].cfg.vlan = i == 2 ? 42 : 0;
        vfs[i].cfg.qos = i == 2 ? 6 : 0;
        vfs[i].cfg.vlan_proto = i == 2 ? SRIOV_VLAN_PROTO_8021AD : SRIOV_VLAN_PROTO_8021Q;
        vfs[i].cfg.spoofchk = TRUE;
        vfs[i].cfg.trust = i == 2;
        vfs[i].cfg.max_tx_rate_mbps = i * 100;
        vfs[i].cfg.link_state = i == 2 ? SRIOV_LINK_STATE_ENABLE : SRIOV_LINK_STATE_AUTO;
        vfs[i].stats.rx_packets = 10 * i + 1;
        vfs[i].stats.tx_packets = 10 * i + 2;
        vfs[i].stats.rx_bytes = G_GUINT64_CONSTANT(1) << 40 | i;
        vfs[i].stats.tx_bytes = 10 * i + 4;
        vfs[i].stats.broadcast = 10 * i + 5;
        vfs[i].stats.multicast = 10 * i + 6;
        vfs[i].stats.rx_dropped = 10 * i + 7;
        vfs[i].stats.tx_dropped = 10 * i + 8;
    }
}

static void
check_vf2(const guint8 *data, gsize len, guint expect_num)
{
    SriovVfConfig cfg;
    SriovVfStats st;
    guint num = 0;

    g_assert_true(sriov_nl_parse_vf(data, len, 2, &cfg, &st, &num));
    g_assert_cmpuint(num, ==, expect_num);
    g_assert_cmpuint(cfg.set, ==, SRIOV_VF_SET_ALL);
    g_assert_cmpuint(cfg.mac[5], ==, 2);
    g_assert_cmpuint(cfg.vlan, ==, 42);
    g_assert_cmpuint(cfg.qos, ==, 6);
    g_assert_cmphex(cfg.vlan_proto, ==, SRIOV_VLAN_PROTO_8021AD);
    g_assert_true(cfg.trust);
    g_assert_cmpuint(cfg.max_tx_rate_mbps, ==, 200);
    g_assert_cmpint(cfg.link_state, ==, SRIOV_LINK_STATE_ENABLE);
    g_assert_cmpuint(st.rx_packets, ==, 21);
    g_assert_cmpuint(st.rx_bytes, ==, (G_GUINT64_CONSTANT(1) << 40) | 2);
    g_assert_cmpuint(st.multicast, ==, 26);
    g_assert_cmpuint(st.tx_dropped, ==, 28);
    g_assert_false(sriov_nl_parse_vf(data, len, expect_num, &cfg, &st, NULL));
}

static void
test_parse_constructed(void)
{
    FakeVfState vfs[4];
    g_autoptr(GByteArray) msg = NULL;

    make_vfs(vfs, 4);
    msg = fake_pf_build_newlink("enp3s0f0", 7, vfs, 4, 1);
    check_vf2(msg->data, msg->len, 4);
    /* 256 VFs with stats overflow IFLA_VFINFO_LIST's 16-bit length, as
     * they do in the kernel: the parser still finds the last VF */
    {
        FakeVfState *many = g_new0(FakeVfState, 256);
        g_autoptr(GByteArray) big = NULL;
        SriovVfConfig cfg;
        SriovVfStats st;
        guint num = 0;

        make_vfs(many, 256);
        many[255].cfg.vlan = 4001;
        many[255].stats.rx_packets = 255255;
        big = fake_pf_build_newlink("enp3s0f0", 7, many, 256, 1);
        g_assert_cmpuint(big->len, >, 65536);
        g_assert_true(sriov_nl_parse_vf(big->data, big->len, 255, &cfg, &st, &num));
        g_assert_cmpuint(num, ==, 256);
        g_assert_cmpuint(cfg.vlan, ==, 4001);
        g_assert_cmpuint(st.rx_packets, ==, 255255);
        g_assert_true(sriov_nl_parse_vf(big->data, big->len, 100, &cfg, &st, NULL));
        g_assert_cmpuint(cfg.mac[5], ==, 100);
        g_free(many);
    }
    /* truncated or foreign messages are refused, not overrun */
    {
        SriovVfConfig cfg;
        g_assert_false(sriov_nl_parse_vf(msg->data, 20, 2, &cfg, NULL, NULL));
        ((struct nlmsghdr *)msg->data)->nlmsg_type = RTM_NEWADDR;
        g_assert_false(sriov_nl_parse_vf(msg->data, msg->len, 2, &cfg, NULL, NULL));
    }
}

static void
take_link(struct nl_object *obj, void *arg)
{
    nl_object_get(obj);
    *(struct rtnl_link **)arg = (struct rtnl_link *)obj;
}

/* An independent reading of the same bytes: libnl-route 3.7's own VF
 * parser (rtnl_link_vf_*) must agree with ours on every VF. */
static void
test_parse_libnl_agrees(void)
{
    FakeVfState vfs[6];
    g_autoptr(GByteArray) msg = NULL;
    struct nl_msg *m;
    struct rtnl_link *link = NULL;
    guint i;

    make_vfs(vfs, 6);
    vfs[4].cfg.vlan = 77;
    vfs[4].cfg.vlan_proto = SRIOV_VLAN_PROTO_8021Q;
    msg = fake_pf_build_newlink("enp3s0f0", 7, vfs, 6, 1);
    m = nlmsg_convert((struct nlmsghdr *)msg->data);
    g_assert_nonnull(m);
    nlmsg_set_proto(m, NETLINK_ROUTE);
    g_assert_cmpint(nl_msg_parse(m, take_link, &link), ==, 0);
    g_assert_nonnull(link);
    g_assert_cmpuint(rtnl_link_get_num_vf(link, &i), ==, 0);
    g_assert_cmpuint(i, ==, 6);
    for (i = 0; i < 6; i++) {
        struct rtnl_link_vf *lv = rtnl_link_vf_get(link, i);
        SriovVfConfig cfg;
        SriovVfStats st;
        struct nl_addr *addr = NULL;
        nl_vf_vlans_t *vlans = NULL;
        struct nl_vf_rate rate = { 0 };
        guint32 v;
        guint64 u;

        g_assert_nonnull(lv);
        g_assert_true(sriov_nl_parse_vf(msg->data, msg->len, i, &cfg, &st, NULL));
        g_assert_cmpint(rtnl_link_vf_get_addr(lv, &addr), ==, 0);
        g_assert_cmpmem(nl_addr_get_binary_addr(addr), 6, cfg.mac, 6);
        if (rtnl_link_vf_get_vlans(lv, &vlans) == 0 && vlans && vlans->size > 0) {
            g_assert_cmpuint(vlans->vlans[0].vf_vlan, ==, cfg.vlan);
            g_assert_cmpuint(vlans->vlans[0].vf_vlan_qos, ==, cfg.qos);
            g_assert_cmphex(vlans->vlans[0].vf_vlan_proto, ==, cfg.vlan_proto);   /* host order in libnl */
        } else {
            g_assert_cmpuint(cfg.vlan, ==, 0);
        }
        g_assert_cmpint(rtnl_link_vf_get_spoofchk(lv, &v), ==, 0);
        g_assert_cmpuint(v, ==, cfg.spoofchk);
        g_assert_cmpint(rtnl_link_vf_get_trust(lv, &v), ==, 0);
        g_assert_cmpuint(v, ==, cfg.trust);
        g_assert_cmpint(rtnl_link_vf_get_linkstate(lv, &v), ==, 0);
        g_assert_cmpuint(v, ==, cfg.link_state);
        rate.api = RTNL_LINK_VF_RATE_API_NEW;
        if (rtnl_link_vf_get_rate(lv, &rate) == 0) {
            g_assert_cmpuint(rate.max_tx_rate, ==, cfg.max_tx_rate_mbps);
            g_assert_cmpuint(rate.min_tx_rate, ==, cfg.min_tx_rate_mbps);
        } else {
            /* libnl keeps no rate that is 0 */
            g_assert_cmpuint(cfg.max_tx_rate_mbps, ==, 0);
            g_assert_cmpuint(cfg.min_tx_rate_mbps, ==, 0);
        }
        g_assert_cmpint(rtnl_link_vf_get_stat(lv, RTNL_LINK_VF_STATS_RX_PACKETS, &u), ==, 0);
        g_assert_cmpuint(u, ==, st.rx_packets);
        g_assert_cmpint(rtnl_link_vf_get_stat(lv, RTNL_LINK_VF_STATS_TX_BYTES, &u), ==, 0);
        g_assert_cmpuint(u, ==, st.tx_bytes);
        g_assert_cmpint(rtnl_link_vf_get_stat(lv, RTNL_LINK_VF_STATS_MULTICAST, &u), ==, 0);
        g_assert_cmpuint(u, ==, st.multicast);
        if (vlans)
            rtnl_link_vf_vlan_put(vlans);
        rtnl_link_vf_put(lv);
    }
    rtnl_link_put(link);
    nlmsg_free(m);
}

/* ---- against the real kernel and iproute2 (private netns) ---- */

static gboolean
run(const char *const *argv, char **out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ignored = NULL;
    int status = 0;

    /* Never let a child's output into our TAP stream. */
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, out ? out : &ignored, NULL, &status, &error)) {
        g_printerr("# %s: %s\n", argv[0], error->message);
        return FALSE;
    }
    return g_spawn_check_wait_status(status, NULL);
}

static void
test_parse_real_kernel_message(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SriovNl) nl = NULL;
    g_autoptr(GBytes) reply = NULL;
    g_autoptr(GByteArray) msg = g_byte_array_new();
    g_autofree char *ext_ack = NULL;
    FakeVfState vfs[3];
    SriovVfConfig cfg;
    const guint8 *data;
    gsize len;

    if (!in_netns) {
        g_test_skip("needs root (private network namespace)");
        return;
    }
    nl = sriov_nl_open(&error);
    g_assert_no_error(error);
    g_assert_cmpint(sriov_nl_get_link(nl, "pf0", RTEXT_FILTER_VF, &reply, &ext_ack), ==, 0);
    data = g_bytes_get_data(reply, &len);
    /* The kernel's own message: a bridge has no VFs. */
    g_assert_false(sriov_nl_parse_vf(data, len, 0, &cfg, NULL, NULL));
    /* ...with the VF part a PF driver adds appended. */
    g_byte_array_append(msg, data, len);
    make_vfs(vfs, 3);
    fake_pf_append_vfinfo(msg, vfs, 3);
    check_vf2(msg->data, msg->len, 3);

    /* and an unknown link gives the kernel's errno */
    g_clear_pointer(&reply, g_bytes_unref);
    g_assert_cmpint(sriov_nl_get_link(nl, "nosuch0", RTEXT_FILTER_VF, &reply, &ext_ack), ==,
                    -ENODEV);

    /* the real kernel's extended ack reaches us (capped ack, TLVs parsed) */
    {
        struct nl_msg *bad = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK |
                                                                 NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nlattr *info;
        g_autofree char *text = NULL;
        g_autofree char *msgtext = NULL;
        int rc;

        nlmsg_append(bad, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
        nla_put_string(bad, IFLA_IFNAME, "vfx0");
        info = nla_nest_start(bad, IFLA_LINKINFO);
        nla_put_string(bad, IFLA_INFO_KIND, "no-such-kind");
        nla_nest_end(bad, info);
        rc = sriov_nl_talk(nl, bad, NULL, &text);
        nlmsg_free(bad);
        g_assert_cmpint(rc, ==, -EOPNOTSUPP);
        g_assert_nonnull(text);
        g_assert_nonnull(strstr(text, "Unknown device type"));
        msgtext = sriov_nl_strerror(rc, text);
        g_assert_cmpstr(msgtext, ==, "Operation not supported (kernel: Unknown device type)");
    }
}

typedef struct {
    const char *ip_args;        /* after "ip link set dev pf0 vf 3" */
    SriovVfConfig cfg;
} WireCase;

/* Keeps the FIRST request sent since it was last emptied. */
static int
capture_hook(const guint8 *req, gsize len, gpointer user_data)
{
    GByteArray *out = user_data;
    if (out->len == 0)
        g_byte_array_append(out, req, len);
    return 0;   /* and send it: the real kernel answers */
}

static void
test_wire_vs_iproute2(void)
{
    static const WireCase cases[] = {
        { "mac 52:54:00:12:34:56",
          { .set = SRIOV_VF_SET_MAC, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } } },
        { "mac 00:00:00:00:00:00", { .set = SRIOV_VF_SET_MAC } },
        { "vlan 100 qos 3", { .set = SRIOV_VF_SET_VLAN, .vlan = 100, .qos = 3 } },
        { "vlan 100 qos 3 proto 802.1Q",
          { .set = SRIOV_VF_SET_VLAN, .vlan = 100, .qos = 3, .vlan_proto = 0x8100 } },
        { "vlan 0", { .set = SRIOV_VF_SET_VLAN } },
        { "vlan 4094 qos 7 proto 802.1ad",
          { .set = SRIOV_VF_SET_VLAN, .vlan = 4094, .qos = 7, .vlan_proto = 0x88a8 } },
        { "spoofchk on", { .set = SRIOV_VF_SET_SPOOFCHK, .spoofchk = TRUE } },
        { "spoofchk off", { .set = SRIOV_VF_SET_SPOOFCHK, .spoofchk = FALSE } },
        { "trust on", { .set = SRIOV_VF_SET_TRUST, .trust = TRUE } },
        { "trust off", { .set = SRIOV_VF_SET_TRUST, .trust = FALSE } },
        { "min_tx_rate 10 max_tx_rate 100",
          { .set = SRIOV_VF_SET_RATE, .min_tx_rate_mbps = 10, .max_tx_rate_mbps = 100 } },
        { "min_tx_rate 0 max_tx_rate 0", { .set = SRIOV_VF_SET_RATE } },
        { "state auto", { .set = SRIOV_VF_SET_LINK_STATE, .link_state = SRIOV_LINK_STATE_AUTO } },
        { "state enable",
          { .set = SRIOV_VF_SET_LINK_STATE, .link_state = SRIOV_LINK_STATE_ENABLE } },
        { "state disable",
          { .set = SRIOV_VF_SET_LINK_STATE, .link_state = SRIOV_LINK_STATE_DISABLE } },
        /* everything at once: one message, as for one ip command line */
        { "mac 52:54:00:12:34:57 vlan 42 qos 1 spoofchk on trust off state enable "
          "min_tx_rate 5 max_tx_rate 50",
          { .set = SRIOV_VF_SET_ALL, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 },
            .vlan = 42, .qos = 1, .spoofchk = TRUE, .link_state = SRIOV_LINK_STATE_ENABLE,
            .min_tx_rate_mbps = 5, .max_tx_rate_mbps = 50 } },
        { "mac 52:54:00:12:34:58 vlan 43 qos 2 proto 802.1ad spoofchk off trust on "
          "state auto min_tx_rate 0 max_tx_rate 0",
          { .set = SRIOV_VF_SET_ALL, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x58 },
            .vlan = 43, .qos = 2, .vlan_proto = 0x88a8, .trust = TRUE,
            .link_state = SRIOV_LINK_STATE_AUTO } },
    };
    g_autoptr(FakeSysfs) fk = NULL;
    g_autoptr(SriovBackend) be = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) ours = g_byte_array_new();
    SriovNl *nl;
    gsize i;

    if (!in_netns) {
        g_test_skip("needs root (private network namespace)");
        return;
    }
    {
        g_autofree char *strace = g_find_program_in_path("strace");
        if (!strace)
            g_error("strace is missing (scripts/setup-debian.sh installs it)");
    }

    fk = fake_sysfs_new();
    fake_sysfs_add_pf(fk, "pf0", "0000:03:00.0", 8, pf0_ifindex, "ixgbe", "ixgbevf");
    nl = sriov_nl_open(&error);
    g_assert_no_error(error);
    sriov_nl_set_hook(nl, capture_hook, ours);
    be = sriov_kernel_backend_new(fake_sysfs_root(fk), nl, &error);
    g_assert_no_error(error);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cmd = g_strdup_printf("ip link set dev pf0 vf 3 %s", cases[i].ip_args);
        g_auto(GStrv) args = g_strsplit(cmd, " ", -1);
        g_autoptr(GByteArray) theirs = iproute2_capture((const char *const *)args, RTM_NEWLINK, -1);
        g_autoptr(GError) set_error = NULL;

        g_byte_array_set_size(ours, 0);
        /* The bridge has no VFs: the real kernel refuses, we report it. */
        g_assert_false(be->ops->vf_set_config(be, "pf0", 3, &cases[i].cfg, &set_error));
        g_assert_error(set_error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED);
        assert_error_mentions(set_error, "PF pf0 VF 3: cannot set", "Operation not supported");
        iproute2_assert_same_request(ours, theirs, cmd);
        g_test_message("ok: %s", cmd);
    }

    /* the reads: counters as `ip -s link show dev pf0` asks for them... */
    {
        const char *const show[] = { "ip", "-s", "link", "show", "dev", "pf0", NULL };
        g_autoptr(GByteArray) theirs = iproute2_capture(show, RTM_GETLINK, AF_PACKET);
        SriovVfStats st;

        g_byte_array_set_size(ours, 0);
        g_assert_false(be->ops->vf_get_stats(be, "pf0", 0, &st, &error));
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
        g_clear_error(&error);
        iproute2_assert_same_request(ours, theirs, "ip -s link show dev pf0");
    }
    /* ...settings without counters as iproute2's name lookup asks */
    {
        const char *const show[] = { "ip", "link", "show", "dev", "pf0", NULL };
        g_autoptr(GByteArray) theirs = iproute2_capture(show, RTM_GETLINK, AF_UNSPEC);
        SriovVfConfig cfg;

        g_byte_array_set_size(ours, 0);
        g_assert_false(be->ops->vf_get_config(be, "pf0", 0, &cfg, &error));
        g_assert_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND);
        iproute2_assert_same_request(ours, theirs, "ip link show dev pf0 (its name lookup)");
    }
}

static gboolean
setup_netns(void)
{
    const char *const add[] = { "ip", "link", "add", "pf0", "type", "bridge", NULL };

    if (geteuid() != 0)
        return FALSE;
    if (unshare(CLONE_NEWNET) < 0)
        g_error("unshare(CLONE_NEWNET): %s", g_strerror(errno));
    if (!run(add, NULL))
        g_error("cannot create bridge pf0 in the test's network namespace");
    /* /sys shows the namespace that mounted it: ask netlink instead. */
    {
        g_autoptr(SriovNl) nl = sriov_nl_open(NULL);
        g_autoptr(GBytes) reply = NULL;
        guint64 z;
        g_assert_nonnull(nl);
        g_assert_cmpint(sriov_nl_get_link(nl, "pf0", 0, &reply, NULL), ==, 0);
        g_assert_true(sriov_nl_parse_link_stats(g_bytes_get_data(reply, NULL),
                                                g_bytes_get_size(reply), &pf0_ifindex,
                                                &z, &z, &z, &z, &z, &z, &z));
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    in_netns = setup_netns();

    g_test_add("/sriov-kernel/numvfs", Fixture, NULL, fixture_setup, test_numvfs,
               fixture_teardown);
    g_test_add("/sriov-kernel/vf-info-and-binding", Fixture, NULL, fixture_setup,
               test_vf_info_and_binding, fixture_teardown);
    g_test_add("/sriov-kernel/roundtrip", Fixture, NULL, fixture_setup, test_roundtrip,
               fixture_teardown);
    g_test_add("/sriov-kernel/ext-ack-and-validation", Fixture, NULL, fixture_setup,
               test_ext_ack_and_validation, fixture_teardown);
    g_test_add_func("/sriov-kernel/parse-constructed", test_parse_constructed);
    g_test_add_func("/sriov-kernel/parse-libnl-agrees", test_parse_libnl_agrees);
    g_test_add_func("/sriov-kernel/parse-real-kernel-message", test_parse_real_kernel_message);
    g_test_add_func("/sriov-kernel/wire-vs-iproute2", test_wire_vs_iproute2);
    return g_test_run();
}
