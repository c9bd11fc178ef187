/* tcx BPF port VLAN for emulated VFs (see sriov-bpf.h). */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "sriov-backend.h"
#include "sriov-bpf.h"

/* enum bpf_attach_type values added in Linux 6.6 (Debian 12's uapi headers
 * are 6.1): after BPF_LSM_CGROUP (43) come BPF_STRUCT_OPS, BPF_NETFILTER. */
#define VF_BPF_TCX_INGRESS 46
#define VF_BPF_TCX_EGRESS 47
#define TCX_PASS 0
#define TCX_DROP 2

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int
load(const struct bpf_insn *insns, guint n, const char *what, GError **error)
{
    char log[4096] = "";
    union bpf_attr attr;
    int fd;

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    attr.insns = (guint64)(guintptr)insns;
    attr.insn_cnt = n;
    attr.license = (guint64)(guintptr)"GPL";
    attr.log_buf = (guint64)(guintptr)log;
    attr.log_size = sizeof(log);
    attr.log_level = 1;
    g_strlcpy(attr.prog_name, what, sizeof(attr.prog_name));
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "cannot load the %s BPF program: %s%s%s%s", what, g_strerror(errno),
                    *log ? " (verifier: " : "", *log ? log : "", *log ? ")" : "");
        return -1;
    }
    return fd;
}

/* Detach every program attached to @ifindex at @type (ours, possibly from
 * before a restart: we do not keep their fds). */
static gboolean
clear(int ifindex, guint type, const char *ifname, GError **error)
{
    guint32 ids[64];
    union bpf_attr q;
    guint i;

    memset(&q, 0, sizeof(q));
    q.query.target_fd = ifindex;
    q.query.attach_type = type;
    q.query.prog_ids = (guint64)(guintptr)ids;
    q.query.prog_cnt = G_N_ELEMENTS(ids);
    if (sys_bpf(BPF_PROG_QUERY, &q) < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "cannot list the tcx programs of %s: %s", ifname, g_strerror(errno));
        return FALSE;
    }
    for (i = 0; i < q.query.prog_cnt && i < G_N_ELEMENTS(ids); i++) {
        union bpf_attr g, d;
        int fd;

        memset(&g, 0, sizeof(g));
        g.prog_id = ids[i];
        fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
        if (fd < 0)
            continue;   /* gone meanwhile */
        memset(&d, 0, sizeof(d));
        d.target_fd = ifindex;
        d.attach_bpf_fd = fd;
        d.attach_type = type;
        if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT) {
            int err = errno;
            close(fd);
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                        "cannot detach a tcx program from %s: %s", ifname, g_strerror(err));
            return FALSE;
        }
        close(fd);
    }
    return TRUE;
}

static gboolean
attach(int ifindex, guint type, int prog, const char *ifname, GError **error)
{
    union bpf_attr a;

    memset(&a, 0, sizeof(a));
    a.target_fd = ifindex;
    a.attach_bpf_fd = prog;
    a.attach_type = type;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_SUPPORTED,
                    "cannot attach a tcx %s program to %s: %s",
                    type == VF_BPF_TCX_INGRESS ? "ingress" : "egress", ifname, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
sriov_bpf_set_port_vlan(const char *ifname, guint16 vid, guint8 qos, guint16 proto,
                        GError **error)
{
    int ifindex = (int)if_nametoindex(ifname);
    gint32 be_proto = g_htons(proto ? proto : SRIOV_VLAN_PROTO_8021Q);
    const struct bpf_insn push[] = {
        MOV_REG(BPF_REG_6, BPF_REG_1),
        MOV_REG(BPF_REG_1, BPF_REG_6),
        MOV_IMM(BPF_REG_2, be_proto),
        MOV_IMM(BPF_REG_3, (qos & 7) << 13 | (vid & 0xfff)),
        CALL(BPF_FUNC_skb_vlan_push),
        JNE_IMM(BPF_REG_0, 0, 2),
        MOV_IMM(BPF_REG_0, TCX_PASS),
        EXIT(),
        MOV_IMM(BPF_REG_0, TCX_DROP),
        EXIT(),
    };
    const struct bpf_insn pop[] = {
        MOV_REG(BPF_REG_6, BPF_REG_1),
        LDX_W(BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, vlan_present)),
        JEQ_IMM(BPF_REG_2, 0, 10),
        LDX_W(BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, vlan_tci)),
        AND_IMM(BPF_REG_2, 0xfff),
        JNE_IMM(BPF_REG_2, vid, 7),
        LDX_W(BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, vlan_proto)),
        JNE_IMM(BPF_REG_2, be_proto, 5),
        MOV_REG(BPF_REG_1, BPF_REG_6),
        CALL(BPF_FUNC_skb_vlan_pop),
        JNE_IMM(BPF_REG_0, 0, 2),
        MOV_IMM(BPF_REG_0, TCX_PASS),
        EXIT(),
        MOV_IMM(BPF_REG_0, TCX_DROP),
        EXIT(),
    };
    int pfd = -1, qfd = -1;
    gboolean ok;

    if (!ifindex) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_NOT_FOUND, "%s does not exist", ifname);
        return FALSE;
    }
    if (!clear(ifindex, VF_BPF_TCX_INGRESS, ifname, error) ||
        !clear(ifindex, VF_BPF_TCX_EGRESS, ifname, error))
        return FALSE;
    if (vid == 0)
        return TRUE;
    ok = (pfd = load(push, G_N_ELEMENTS(push), "vf_vlan_push", error)) >= 0 &&
         (qfd = load(pop, G_N_ELEMENTS(pop), "vf_vlan_pop", error)) >= 0 &&
         attach(ifindex, VF_BPF_TCX_INGRESS, pfd, ifname, error) &&
         attach(ifindex, VF_BPF_TCX_EGRESS, qfd, ifname, error);
    if (pfd >= 0)
        close(pfd);
    if (qfd >= 0)
        close(qfd);
    if (!ok) {
        (void)clear(ifindex, VF_BPF_TCX_INGRESS, ifname, NULL);
        (void)clear(ifindex, VF_BPF_TCX_EGRESS, ifname, NULL);
    }
    return ok;
}
