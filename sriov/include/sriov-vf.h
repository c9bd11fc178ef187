/* The VF library's public types: one VF's settings (what `ip link set PF vf
 * N ...` can express), its counters, the library's errors, and the helpers
 * for MACs and link states. With sriov-pool.h this is all that users of
 * libvfsriov (vfailover-hookd) see; backends are private to sriov/. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* Which settings of an SriovVfConfig are meaningful: apply sends only these,
 * read-back fills every one the device reports. */
typedef enum {
    SRIOV_VF_SET_MAC = 1 << 0,
    SRIOV_VF_SET_VLAN = 1 << 1,       /* vlan, qos, vlan_proto */
    SRIOV_VF_SET_SPOOFCHK = 1 << 2,
    SRIOV_VF_SET_TRUST = 1 << 3,
    SRIOV_VF_SET_RATE = 1 << 4,       /* min and max together */
    SRIOV_VF_SET_LINK_STATE = 1 << 5,
} SriovVfSetting;
#define SRIOV_VF_SET_ALL 0x3f

/* Values of IFLA_VF_LINK_STATE_* (linux/if_link.h). */
typedef enum {
    SRIOV_LINK_STATE_AUTO = 0,
    SRIOV_LINK_STATE_ENABLE = 1,
    SRIOV_LINK_STATE_DISABLE = 2,
} SriovLinkState;

#define SRIOV_VLAN_PROTO_8021Q 0x8100
#define SRIOV_VLAN_PROTO_8021AD 0x88a8

/* One VF's settings. The kernel's VF API imposes ONE VLAN per VF: with
 * vlan_proto 802.1ad it is an outer S-tag (QinQ: the guest's own 802.1Q tags
 * travel inside it). */
typedef struct {
    guint set;                  /* SriovVfSetting bits */
    guint8 mac[6];              /* all zero: no MAC (steering cleared) */
    guint16 vlan;               /* 0: untagged, else 1..4094 */
    guint8 qos;                 /* 802.1p priority 0..7 */
    guint16 vlan_proto;         /* SRIOV_VLAN_PROTO_8021Q (also when 0) or _8021AD */
    gboolean spoofchk;
    gboolean trust;
    guint32 min_tx_rate_mbps;   /* 0: no minimum */
    guint32 max_tx_rate_mbps;   /* 0: unlimited */
    SriovLinkState link_state;
} SriovVfConfig;

/* Counters as the VF sees them (rx = towards the guest). */
typedef struct {
    guint64 rx_packets;
    guint64 tx_packets;
    guint64 rx_bytes;
    guint64 tx_bytes;
    guint64 broadcast;
    guint64 multicast;
    guint64 rx_dropped;
    guint64 tx_dropped;
} SriovVfStats;

#define SRIOV_ERROR (sriov_error_quark())
GQuark sriov_error_quark(void);
typedef enum {
    SRIOV_ERROR_FAILED,         /* a system call or kernel request failed */
    SRIOV_ERROR_NOT_FOUND,      /* unknown PF or VF, sysfs entry missing */
    SRIOV_ERROR_NOT_SUPPORTED,  /* the device or driver does not do it */
    SRIOV_ERROR_INVALID,        /* bad input (VLAN > 4094, min > max rate, ...) */
    SRIOV_ERROR_NO_FREE_VF,     /* every VF of the PF / pool is in use */
    SRIOV_ERROR_BUSY,           /* VF owned by another domain */
} SriovError;

/* Check a configuration before anything is touched; the error names the
 * PF, the VF and the setting. */
gboolean sriov_vf_config_validate(const SriovVfConfig *cfg, const char *pf, guint vf,
                                  GError **error);

/* Copy the settings flagged in src->set into @dst (dst->set gains them). */
void sriov_vf_config_merge(SriovVfConfig *dst, const SriovVfConfig *src);

/* "52:54:00:12:34:56" <-> bytes. */
char *sriov_mac_to_string(const guint8 mac[6]);
gboolean sriov_mac_parse(const char *text, guint8 mac[6]);
gboolean sriov_mac_is_zero(const guint8 mac[6]);
const char *sriov_link_state_to_string(SriovLinkState state);
gboolean sriov_link_state_parse(const char *text, SriovLinkState *state);

/* A VF configuration as JSON (only the settings flagged in cfg->set):
 * {"mac": "52:54:00:..", "vlan": 100, "qos": 0, "vlan-protocol": "802.1Q",
 *  "spoofchk": true, "trust": false, "min-tx-rate-mbps": 0,
 *  "max-tx-rate-mbps": 0, "link-state": "auto"} */
JsonObject *sriov_vf_config_to_json(const SriovVfConfig *cfg);
gboolean sriov_vf_config_from_json(JsonObject *obj, SriovVfConfig *cfg, GError **error);
