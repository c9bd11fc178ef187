/* What every VF backend shares: errors, validation of a VF configuration
 * before anything is touched, MAC and link-state text forms. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sriov-backend.h"

G_DEFINE_QUARK(sriov-error-quark, sriov_error)

void
sriov_vf_info_clear(SriovVfInfo *info)
{
    g_clear_pointer(&info->pci_address, g_free);
    g_clear_pointer(&info->netdev, g_free);
    g_clear_pointer(&info->driver, g_free);
    g_clear_pointer(&info->iommu_group, g_free);
}

void
sriov_backend_free(SriovBackend *be)
{
    if (be)
        be->ops->free(be);
}

void
sriov_vf_config_merge(SriovVfConfig *dst, const SriovVfConfig *src)
{
    if (src->set & SRIOV_VF_SET_MAC)
        memcpy(dst->mac, src->mac, 6);
    if (src->set & SRIOV_VF_SET_VLAN) {
        dst->vlan = src->vlan;
        dst->qos = src->qos;
        dst->vlan_proto = src->vlan_proto;
    }
    if (src->set & SRIOV_VF_SET_SPOOFCHK)
        dst->spoofchk = src->spoofchk;
    if (src->set & SRIOV_VF_SET_TRUST)
        dst->trust = src->trust;
    if (src->set & SRIOV_VF_SET_RATE) {
        dst->min_tx_rate_mbps = src->min_tx_rate_mbps;
        dst->max_tx_rate_mbps = src->max_tx_rate_mbps;
    }
    if (src->set & SRIOV_VF_SET_LINK_STATE)
        dst->link_state = src->link_state;
    dst->set |= src->set;
}

gboolean
sriov_vf_config_validate(const SriovVfConfig *cfg, const char *pf, guint vf, GError **error)
{
    if (cfg->set & ~SRIOV_VF_SET_ALL) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s VF %u: unknown settings 0x%x", pf, vf, cfg->set);
        return FALSE;
    }
    if (cfg->set & SRIOV_VF_SET_MAC && cfg->mac[0] & 1) {
        g_autofree char *mac = sriov_mac_to_string(cfg->mac);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s VF %u: MAC %s is a multicast address", pf, vf, mac);
        return FALSE;
    }
    if (cfg->set & SRIOV_VF_SET_VLAN) {
        if (cfg->vlan > 4094) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "PF %s VF %u: VLAN %u is outside 0..4094", pf, vf, cfg->vlan);
            return FALSE;
        }
        if (cfg->qos > 7) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "PF %s VF %u: VLAN QoS %u is outside 0..7", pf, vf, cfg->qos);
            return FALSE;
        }
        if (cfg->vlan_proto != 0 && cfg->vlan_proto != SRIOV_VLAN_PROTO_8021Q &&
            cfg->vlan_proto != SRIOV_VLAN_PROTO_8021AD) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "PF %s VF %u: VLAN protocol 0x%04x is neither 802.1Q nor 802.1ad",
                        pf, vf, cfg->vlan_proto);
            return FALSE;
        }
        if (cfg->vlan == 0 && cfg->qos != 0) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "PF %s VF %u: VLAN QoS %u needs a VLAN", pf, vf, cfg->qos);
            return FALSE;
        }
    }
    if (cfg->set & SRIOV_VF_SET_RATE && cfg->max_tx_rate_mbps != 0 &&
        cfg->min_tx_rate_mbps > cfg->max_tx_rate_mbps) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s VF %u: minimum TX rate %u Mb/s is above the maximum %u Mb/s",
                    pf, vf, cfg->min_tx_rate_mbps, cfg->max_tx_rate_mbps);
        return FALSE;
    }
    if (cfg->set & SRIOV_VF_SET_LINK_STATE && cfg->link_state > SRIOV_LINK_STATE_DISABLE) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "PF %s VF %u: unknown link state %d", pf, vf, cfg->link_state);
        return FALSE;
    }
    return TRUE;
}

char *
sriov_mac_to_string(const guint8 mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
                           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

gboolean
sriov_mac_parse(const char *text, guint8 mac[6])
{
    guint v[6];
    char tail;
    int i;

    if (!text || strlen(text) != 17 ||
        sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6)
        return FALSE;
    for (i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(text[i * 3]) || !g_ascii_isxdigit(text[i * 3 + 1]))
            return FALSE;
        mac[i] = (guint8)v[i];
    }
    return TRUE;
}

gboolean
sriov_mac_is_zero(const guint8 mac[6])
{
    static const guint8 zero[6];
    return memcmp(mac, zero, 6) == 0;
}

const char *
sriov_link_state_to_string(SriovLinkState state)
{
    switch (state) {
    case SRIOV_LINK_STATE_AUTO: return "auto";
    case SRIOV_LINK_STATE_ENABLE: return "enable";
    case SRIOV_LINK_STATE_DISABLE: return "disable";
    }
    return "unknown";
}

gboolean
sriov_link_state_parse(const char *text, SriovLinkState *state)
{
    if (g_strcmp0(text, "auto") == 0)
        *state = SRIOV_LINK_STATE_AUTO;
    else if (g_strcmp0(text, "enable") == 0)
        *state = SRIOV_LINK_STATE_ENABLE;
    else if (g_strcmp0(text, "disable") == 0)
        *state = SRIOV_LINK_STATE_DISABLE;
    else
        return FALSE;
    return TRUE;
}
