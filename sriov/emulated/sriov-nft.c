/* The emulated PF's nftables tables: anti-spoof and the TX rate policer
 * (family bridge, "vfailover-PF") and the mirrors of re-plugged VFs (family
 * netdev, same name), rebuilt atomically with `nft -f -` from an argv
 * vector; the input holds only names, numbers and MACs we generated or
 * validated. */
#include "config.h"

#include <gio/gio.h>

#include "sriov-emulated.h"

#define TOOL_TIMEOUT_MS 10000

/* ---- external tools (argv vectors only) ---- */

static gboolean
run_tool(const char *const *argv, const char *input, gboolean ignore_failure, GError **error)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *err_text = NULL;
    g_autoptr(GError) local = NULL;

    proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                       G_SUBPROCESS_FLAGS_STDERR_PIPE, &local);
    if (!proc || !g_subprocess_communicate_utf8(proc, input, NULL, NULL, &err_text, &local)) {
        if (ignore_failure)
            return TRUE;
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED, "cannot run %s: %s", argv[0],
                    local->message);
        return FALSE;
    }
    if (!g_subprocess_get_successful(proc) && !ignore_failure) {
        g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED, "'%s' failed: %s", cmd,
                    err_text ? g_strstrip(err_text) : "");
        return FALSE;
    }
    return TRUE;
}

/* The netdev table of the PF's mirrors (recreated empty, or dropped when
 * nothing is mirrored): one "dup to" per mirrored VF MAC on the uplink's
 * ingress. Only names and MACs we validated go in. */
static void
mirror_rules(EmuPf *pf, GString *s)
{
    gboolean any = FALSE;
    guint i;

    g_string_append_printf(s, "add table netdev vfailover-%s\n", pf->name);
    g_string_append_printf(s, "delete table netdev vfailover-%s\n", pf->name);
    if (!pf->uplink || !pf->datapath_port)
        return;     /* emu_vf_set_mirror refuses then: nothing is mirrored */
    for (i = 0; i < EMU_MAX_VFS; i++) {
        const EmuVf *v = &pf->vfs[i];
        g_autofree char *mac = NULL;

        if (!v->mirror)
            continue;
        if (!any)
            g_string_append_printf(s, "table netdev vfailover-%s {\n"
                                      "  chain mirror {\n"
                                      "    type filter hook ingress device \"%s\" priority 0; "
                                      "policy accept;\n", pf->name, pf->uplink);
        any = TRUE;
        mac = sriov_mac_to_string(v->mirror_mac);
        g_string_append_printf(s, "    ether daddr %s counter dup to \"%s\"\n", mac,
                               pf->datapath_port);
    }
    if (any)
        g_string_append(s, "  }\n}\n");
}

/* Rebuild the PF's tables (anti-spoof, TX rate; mirrors) in one nft
 * transaction, unless they are what was loaded last: steering is set again
 * with the same MAC in every pair state change, and each nft run blocks
 * hookd's main loop for tens of milliseconds (more on a busy host) at the
 * moments of a migration where events must be handled quickly. (Tables
 * changed behind hookd's back are rebuilt at hookd's next change of the
 * PF's rules, or its restart.) */
gboolean
sriov_emu_nft_sync(EmuPf *pf, GError **error)
{
    static const char *const argv[] = { "nft", "-f", "-", NULL };
    g_autoptr(GString) s = g_string_new(NULL);
    guint i;

    g_string_append_printf(s, "add table bridge vfailover-%s\n", pf->name);
    g_string_append_printf(s, "delete table bridge vfailover-%s\n", pf->name);
    g_string_append_printf(s, "table bridge vfailover-%s {\n"
                              "  chain vf-ingress {\n"
                              "    type filter hook prerouting priority -200; policy accept;\n",
                           pf->name);
    for (i = 0; i < EMU_MAX_VFS; i++) {
        const SriovVfConfig *c = &pf->vfs[i].cfg;
        g_autofree char *tap = NULL;

        if (!(c->set & SRIOV_VF_SET_SPOOFCHK && c->spoofchk && c->set & SRIOV_VF_SET_MAC &&
              !sriov_mac_is_zero(c->mac)) &&
            !(c->set & SRIOV_VF_SET_RATE && c->max_tx_rate_mbps))
            continue;
        tap = sriov_emu_tap_name(pf->name, i);
        if (c->set & SRIOV_VF_SET_SPOOFCHK && c->spoofchk && c->set & SRIOV_VF_SET_MAC &&
            !sriov_mac_is_zero(c->mac)) {
            g_autofree char *mac = sriov_mac_to_string(c->mac);
            g_string_append_printf(s, "    iifname \"%s\" ether saddr != %s counter drop\n", tap, mac);
        }
        if (c->set & SRIOV_VF_SET_RATE && c->max_tx_rate_mbps) {
            /* Mb/s -> kbytes/s; burst: 20 ms worth, at least a few frames. */
            guint kbytes = c->max_tx_rate_mbps * 125u;
            guint burst = MAX(kbytes * 1000u / 50u, 16384u);
            g_string_append_printf(s, "    iifname \"%s\" limit rate over %u kbytes/second "
                                      "burst %u bytes counter drop\n", tap, kbytes, burst);
        }
    }
    g_string_append(s, "  }\n}\n");
    mirror_rules(pf, s);
    if (g_strcmp0(pf->nft_applied, s->str) == 0)
        return TRUE;
    g_clear_pointer(&pf->nft_applied, g_free);
    if (!run_tool(argv, s->str, FALSE, error)) {
        g_prefix_error(error, "PF %s: cannot update its nftables rules: ", pf->name);
        return FALSE;
    }
    pf->nft_applied = g_string_free(g_steal_pointer(&s), FALSE);
    return TRUE;
}
