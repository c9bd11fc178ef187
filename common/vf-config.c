/* Configuration file loading and validation (see vf-config.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "vf-config.h"

G_DEFINE_QUARK(vf-config-error-quark, vf_config_error)

typedef enum {
    KEY_STRING,
    KEY_INT,
    KEY_BOOL,
    KEY_ENUM,
} KeyType;

typedef struct {
    const char *group;      /* "hookd", or "pf:*" for a sectioned group */
    const char *key;
    KeyType type;
    const char *default_value;
    const char *choices;    /* KEY_ENUM: '|'-separated; KEY_INT: "min..max" */
} KeyDef;

/* Every key vfailover reads. Keep in step with doc/vfailover.conf.5. */
static const KeyDef key_table[] = {
    { "hookd", "socket", KEY_STRING, RUNSTATEDIR "/vfailover/hook.sock", NULL },
    { "hookd", "ctl-socket", KEY_STRING, RUNSTATEDIR "/vfailover/ctl.sock", NULL },
    { "hookd", "state-dir", KEY_STRING, LOCALSTATEDIR "/lib/vfailover", NULL },
    { "hookd", "libvirt-uri", KEY_STRING, "qemu:///system", NULL },
    { "hookd", "vf-backend", KEY_ENUM, "emulated", "kernel|emulated" },
    { "hookd", "sysfs-root", KEY_STRING, "/sys", NULL },
    { "hookd", "hook-timeout-ms", KEY_INT, "10000", "100..600000" },
    { "hookd", "max-message-bytes", KEY_INT, "4194304", "4096..67108864" },
    { "hookd", "log-level", KEY_ENUM, "warning", "warning|info|debug" },
    { "datapath", "ctl-socket", KEY_STRING, RUNSTATEDIR "/vfailover/dp.sock", NULL },
    { "datapath", "vhost-socket-dir", KEY_STRING, RUNSTATEDIR "/vfailover/vhost", NULL },
    { "pf:*", "backend", KEY_ENUM, "emulated", "kernel|emulated" },
    { "pf:*", "num-vfs", KEY_INT, "0", "0..4096" },
    { "pf:*", "reserved-vfs", KEY_INT, "0", "0..4096" },
    { "pf:*", "pool", KEY_STRING, "default", NULL },
    { "pf:*", "uplink", KEY_STRING, "", NULL },
    { "pf:*", "datapath-port", KEY_STRING, "", NULL },
    /* = vfx_emulated_models (xml/vfx-render.c), default first */
    { "pf:*", "vf-model", KEY_ENUM, "vmxnet3", "vmxnet3|e1000e" },
};

struct _VfConfig {
    char *path;
    GKeyFile *keyfile;
};

static const KeyDef *
find_key(const char *group, const char *key)
{
    const char *colon = strchr(group, ':');
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(key_table); i++) {
        const KeyDef *def = &key_table[i];
        if (strcmp(def->key, key) != 0)
            continue;
        if (colon) {
            /* "pf:eth0" matches "pf:*" */
            if (g_str_has_suffix(def->group, ":*") &&
                strlen(def->group) - 1 == (gsize)(colon - group) + 1 &&
                strncmp(def->group, group, colon - group + 1) == 0)
                return def;
        } else if (strcmp(def->group, group) == 0) {
            return def;
        }
    }
    return NULL;
}

static gboolean
group_known(const char *group)
{
    const char *colon = strchr(group, ':');
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(key_table); i++) {
        const char *g = key_table[i].group;
        if (colon) {
            if (colon[1] != '\0' && g_str_has_suffix(g, ":*") &&
                strncmp(g, group, colon - group + 1) == 0 &&
                strlen(g) == (gsize)(colon - group) + 2)
                return TRUE;
        } else if (strcmp(g, group) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
parse_int_range(const char *range, gint64 *min, gint64 *max)
{
    g_auto(GStrv) parts = g_strsplit(range, "..", 2);
    if (g_strv_length(parts) != 2)
        return FALSE;
    *min = g_ascii_strtoll(parts[0], NULL, 10);
    *max = g_ascii_strtoll(parts[1], NULL, 10);
    return TRUE;
}

static gboolean
check_value(const char *path, const char *group, const KeyDef *def,
            const char *value, GError **error)
{
    switch (def->type) {
    case KEY_STRING:
        return TRUE;
    case KEY_BOOL:
        if (g_strcmp0(value, "true") == 0 || g_strcmp0(value, "false") == 0)
            return TRUE;
        g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_INVALID,
                    "%s: [%s] %s must be true or false, not '%s'",
                    path, group, def->key, value);
        return FALSE;
    case KEY_INT: {
        gint64 v, min = G_MININT64, max = G_MAXINT64;
        char *end = NULL;
        errno = 0;
        v = g_ascii_strtoll(value, &end, 10);
        if (errno || !end || end == value || *end != '\0') {
            g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_INVALID,
                        "%s: [%s] %s must be an integer, not '%s'",
                        path, group, def->key, value);
            return FALSE;
        }
        if (def->choices)
            parse_int_range(def->choices, &min, &max);
        if (v < min || v > max) {
            g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_INVALID,
                        "%s: [%s] %s = %" G_GINT64_FORMAT " is outside %s",
                        path, group, def->key, v, def->choices);
            return FALSE;
        }
        return TRUE;
    }
    case KEY_ENUM: {
        g_auto(GStrv) choices = g_strsplit(def->choices, "|", -1);
        if (g_strv_contains((const char *const *)choices, value))
            return TRUE;
        g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_INVALID,
                    "%s: [%s] %s must be one of %s, not '%s'",
                    path, group, def->key, def->choices, value);
        return FALSE;
    }
    }
    return FALSE;
}

static gboolean
validate(VfConfig *cfg, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->keyfile, NULL);
    char **g;

    for (g = groups; *g; g++) {
        g_auto(GStrv) keys = NULL;
        char **k;

        if (!group_known(*g)) {
            g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_UNKNOWN,
                        "%s: unknown group [%s]", cfg->path, *g);
            return FALSE;
        }
        keys = g_key_file_get_keys(cfg->keyfile, *g, NULL, NULL);
        for (k = keys; k && *k; k++) {
            const KeyDef *def = find_key(*g, *k);
            g_autofree char *value = NULL;

            if (!def) {
                g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_UNKNOWN,
                            "%s: unknown key '%s' in [%s]", cfg->path, *k, *g);
                return FALSE;
            }
            value = g_key_file_get_string(cfg->keyfile, *g, *k, NULL);
            if (!value || !check_value(cfg->path, *g, def, value, error)) {
                if (!value)
                    g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_INVALID,
                                "%s: [%s] %s is not a valid string", cfg->path, *g, *k);
                return FALSE;
            }
        }
    }
    return TRUE;
}

VfConfig *
vf_config_new_defaults(void)
{
    VfConfig *cfg = g_new0(VfConfig, 1);
    cfg->path = g_strdup("(defaults)");
    cfg->keyfile = g_key_file_new();
    return cfg;
}

VfConfig *
vf_config_load(const char *path, GError **error)
{
    g_autoptr(VfConfig) cfg = vf_config_new_defaults();
    g_autoptr(GError) local = NULL;
    gboolean optional = (path == NULL);

    g_free(cfg->path);
    cfg->path = g_strdup(path ? path : VF_CONFIG_DEFAULT_PATH);

    if (!g_key_file_load_from_file(cfg->keyfile, cfg->path, G_KEY_FILE_NONE, &local)) {
        if (optional && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&cfg);
        g_set_error(error, VF_CONFIG_ERROR, VF_CONFIG_ERROR_READ,
                    "cannot read configuration %s: %s", cfg->path, local->message);
        return NULL;
    }
    if (!validate(cfg, error))
        return NULL;
    return g_steal_pointer(&cfg);
}

void
vf_config_free(VfConfig *cfg)
{
    if (!cfg)
        return;
    g_key_file_unref(cfg->keyfile);
    g_free(cfg->path);
    g_free(cfg);
}

const char *
vf_config_path(const VfConfig *cfg)
{
    return cfg->path;
}

static const KeyDef *
require_key(const char *group, const char *key)
{
    const KeyDef *def = find_key(group, key);
    if (!def)
        g_error("vf_config: key [%s] %s is not in the key table", group, key);
    return def;
}

const char *
vf_config_get_string(const VfConfig *cfg, const char *group, const char *key)
{
    const KeyDef *def = require_key(group, key);
    g_autofree char *value = g_key_file_get_string(cfg->keyfile, group, key, NULL);

    if (!value)
        return def->default_value;
    /* Keep the returned string alive as long as the config: store it back
     * as an interned string (values are few and small). */
    return g_intern_string(value);
}

gint64
vf_config_get_int(const VfConfig *cfg, const char *group, const char *key)
{
    return g_ascii_strtoll(vf_config_get_string(cfg, group, key), NULL, 10);
}

gboolean
vf_config_get_bool(const VfConfig *cfg, const char *group, const char *key)
{
    return g_strcmp0(vf_config_get_string(cfg, group, key), "true") == 0;
}

char **
vf_config_sections(const VfConfig *cfg, const char *prefix)
{
    g_auto(GStrv) groups = g_key_file_get_groups(cfg->keyfile, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autofree char *want = g_strconcat(prefix, ":", NULL);
    char **g;

    for (g = groups; *g; g++) {
        if (g_str_has_prefix(*g, want) && (*g)[strlen(want)] != '\0')
            g_ptr_array_add(names, g_strdup(*g + strlen(want)));
    }
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

void
vf_config_set_string(VfConfig *cfg, const char *group, const char *key, const char *value)
{
    require_key(group, key);
    g_key_file_set_string(cfg->keyfile, group, key, value);
}
