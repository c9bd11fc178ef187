/* The one configuration file convention: /etc/vfailover/vfailover.conf, a
 * GKeyFile. Every group and key is declared in the table in vf-config.c and
 * documented in vfailover.conf(5); anything else is rejected with an error
 * naming the file, group and key. */
#pragma once

#include <glib.h>

#define VF_CONFIG_DEFAULT_PATH SYSCONFDIR "/vfailover/vfailover.conf"

#define VF_CONFIG_ERROR (vf_config_error_quark())
GQuark vf_config_error_quark(void);
typedef enum {
    VF_CONFIG_ERROR_UNKNOWN,   /* unknown group or key */
    VF_CONFIG_ERROR_INVALID,   /* value of the wrong type or out of range */
    VF_CONFIG_ERROR_READ,      /* file unreadable or not a key file */
} VfConfigError;

typedef struct _VfConfig VfConfig;

/* Load and validate @path. If @path is NULL the default path is used and a
 * missing file means "all defaults"; an explicitly named file must exist. */
VfConfig *vf_config_load(const char *path, GError **error);
/* A config holding only defaults (tests, --no-config). */
VfConfig *vf_config_new_defaults(void);
void vf_config_free(VfConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VfConfig, vf_config_free)

const char *vf_config_path(const VfConfig *cfg);

/* Typed getters. @group is a literal group ("hookd") or a section instance
 * ("pf:eth0"): the table entry for "pf:*" applies to every "pf:NAME".
 * They return the file's value or the table's default; asking for a key not
 * in the table is a programming error (g_error). */
const char *vf_config_get_string(const VfConfig *cfg, const char *group, const char *key);
gint64 vf_config_get_int(const VfConfig *cfg, const char *group, const char *key);
gboolean vf_config_get_bool(const VfConfig *cfg, const char *group, const char *key);

/* Names of the instances of a sectioned group, e.g. prefix "pf" gives the
 * NAME of each "[pf:NAME]" in file order. Free with g_strfreev. */
char **vf_config_sections(const VfConfig *cfg, const char *prefix);

/* Override a value (command-line options win over the file). */
void vf_config_set_string(VfConfig *cfg, const char *group, const char *key, const char *value);
