/* VF reservation records (see sriov-record.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sriov-record.h"

/* A record is a few hundred bytes; refuse anything absurd. */
#define STATE_MAX_BYTES (64 * 1024)
#define APPLIED_SUFFIX ".applied.json"

void
sriov_vf_record_free(SriovVfRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->pf);
    g_free(rec->backend);
    g_free(rec->pci_address);
    g_free(rec->domain_uuid);
    g_free(rec->pair_key);
    g_free(rec->original_driver);
    g_free(rec);
}

char *
sriov_record_dir(const char *state_dir)
{
    return g_build_filename(state_dir, "vf", NULL);
}

static char *
record_path(const char *state_dir, const char *pf, guint vf)
{
    g_autofree char *name = g_strdup_printf("%s-vf%u.json", pf, vf);
    return g_build_filename(state_dir, "vf", name, NULL);
}

static char *
applied_path(const char *state_dir, const char *pf, guint vf)
{
    g_autofree char *name = g_strdup_printf("%s-vf%u" APPLIED_SUFFIX, pf, vf);
    return g_build_filename(state_dir, "vf", name, NULL);
}

JsonObject *
sriov_vf_config_to_json(const SriovVfConfig *cfg)
{
    JsonObject *o = json_object_new();

    if (cfg->set & SRIOV_VF_SET_MAC) {
        g_autofree char *mac = sriov_mac_to_string(cfg->mac);
        json_object_set_string_member(o, "mac", mac);
    }
    if (cfg->set & SRIOV_VF_SET_VLAN) {
        json_object_set_int_member(o, "vlan", cfg->vlan);
        json_object_set_int_member(o, "qos", cfg->qos);
        json_object_set_string_member(o, "vlan-protocol",
                                      cfg->vlan_proto == SRIOV_VLAN_PROTO_8021AD ? "802.1ad"
                                                                                 : "802.1Q");
    }
    if (cfg->set & SRIOV_VF_SET_SPOOFCHK)
        json_object_set_boolean_member(o, "spoofchk", cfg->spoofchk);
    if (cfg->set & SRIOV_VF_SET_TRUST)
        json_object_set_boolean_member(o, "trust", cfg->trust);
    if (cfg->set & SRIOV_VF_SET_RATE) {
        json_object_set_int_member(o, "min-tx-rate-mbps", cfg->min_tx_rate_mbps);
        json_object_set_int_member(o, "max-tx-rate-mbps", cfg->max_tx_rate_mbps);
    }
    if (cfg->set & SRIOV_VF_SET_LINK_STATE)
        json_object_set_string_member(o, "link-state", sriov_link_state_to_string(cfg->link_state));
    return o;
}

static gboolean
get_uint(JsonObject *o, const char *member, guint max, guint *out, GError **error)
{
    JsonNode *n = json_object_get_member(o, member);
    gint64 v;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'%s' must be an integer", member);
        return FALSE;
    }
    v = json_node_get_int(n);
    if (v < 0 || v > max) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                    "'%s' = %" G_GINT64_FORMAT " is outside 0..%u", member, v, max);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

static gboolean
get_bool(JsonObject *o, const char *member, gboolean *out, GError **error)
{
    JsonNode *n = json_object_get_member(o, member);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'%s' must be true or false", member);
        return FALSE;
    }
    *out = json_node_get_boolean(n);
    return TRUE;
}

static const char *
get_str(JsonObject *o, const char *member, GError **error)
{
    JsonNode *n = json_object_get_member(o, member);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'%s' must be a string", member);
        return NULL;
    }
    return json_node_get_string(n);
}

gboolean
sriov_vf_config_from_json(JsonObject *o, SriovVfConfig *cfg, GError **error)
{
    guint v;

    memset(cfg, 0, sizeof(*cfg));
    if (json_object_has_member(o, "mac")) {
        const char *mac = get_str(o, "mac", error);
        if (!mac)
            return FALSE;
        if (!sriov_mac_parse(mac, cfg->mac)) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'mac' = '%s' is not a MAC address", mac);
            return FALSE;
        }
        cfg->set |= SRIOV_VF_SET_MAC;
    }
    if (json_object_has_member(o, "vlan")) {
        const char *proto = "802.1Q";
        if (!get_uint(o, "vlan", 4094, &v, error))
            return FALSE;
        cfg->vlan = v;
        if (json_object_has_member(o, "qos")) {
            if (!get_uint(o, "qos", 7, &v, error))
                return FALSE;
            cfg->qos = v;
        }
        if (json_object_has_member(o, "vlan-protocol") && !(proto = get_str(o, "vlan-protocol", error)))
            return FALSE;
        if (g_ascii_strcasecmp(proto, "802.1Q") == 0) {
            cfg->vlan_proto = SRIOV_VLAN_PROTO_8021Q;
        } else if (g_ascii_strcasecmp(proto, "802.1ad") == 0) {
            cfg->vlan_proto = SRIOV_VLAN_PROTO_8021AD;
        } else {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "'vlan-protocol' must be 802.1Q or 802.1ad, not '%s'", proto);
            return FALSE;
        }
        cfg->set |= SRIOV_VF_SET_VLAN;
    }
    if (json_object_has_member(o, "spoofchk")) {
        if (!get_bool(o, "spoofchk", &cfg->spoofchk, error))
            return FALSE;
        cfg->set |= SRIOV_VF_SET_SPOOFCHK;
    }
    if (json_object_has_member(o, "trust")) {
        if (!get_bool(o, "trust", &cfg->trust, error))
            return FALSE;
        cfg->set |= SRIOV_VF_SET_TRUST;
    }
    if (json_object_has_member(o, "min-tx-rate-mbps") || json_object_has_member(o, "max-tx-rate-mbps")) {
        if (json_object_has_member(o, "min-tx-rate-mbps")) {
            if (!get_uint(o, "min-tx-rate-mbps", G_MAXINT32, &v, error))
                return FALSE;
            cfg->min_tx_rate_mbps = v;
        }
        if (json_object_has_member(o, "max-tx-rate-mbps")) {
            if (!get_uint(o, "max-tx-rate-mbps", G_MAXINT32, &v, error))
                return FALSE;
            cfg->max_tx_rate_mbps = v;
        }
        cfg->set |= SRIOV_VF_SET_RATE;
    }
    if (json_object_has_member(o, "link-state")) {
        const char *ls = get_str(o, "link-state", error);
        SriovLinkState state;
        if (!ls)
            return FALSE;
        if (!sriov_link_state_parse(ls, &state)) {
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID,
                        "'link-state' must be auto, enable or disable, not '%s'", ls);
            return FALSE;
        }
        cfg->link_state = state;
        cfg->set |= SRIOV_VF_SET_LINK_STATE;
    }
    return TRUE;
}

static JsonObject *
record_to_json(const SriovVfRecord *rec)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, "version", SRIOV_RECORD_VERSION);
    json_object_set_string_member(o, "pf", rec->pf);
    json_object_set_int_member(o, "vf", rec->vf);
    json_object_set_string_member(o, "backend", rec->backend);
    if (rec->pci_address)
        json_object_set_string_member(o, "pci-address", rec->pci_address);
    json_object_set_string_member(o, "domain-uuid", rec->domain_uuid);
    json_object_set_string_member(o, "pair-key", rec->pair_key);
    if (rec->original_driver)
        json_object_set_string_member(o, "original-driver", rec->original_driver);
    json_object_set_object_member(o, "original", sriov_vf_config_to_json(&rec->original));
    json_object_set_int_member(o, "reserved-at", rec->reserved_at);
    return o;
}

/* Takes @obj. */
static char *
to_text(JsonObject *obj)
{
    g_autoptr(JsonObject) owned = obj;
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), owned);
    g_autofree char *text = json_to_string(node, TRUE);
    return g_strconcat(text, "\n", NULL);
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

/* open(2) @path, creating the state directory if it is missing. */
static int
open_in_state_dir(const char *dir, const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);

    if (fd < 0 && errno == ENOENT) {
        if (g_mkdir_with_parents(dir, 0700) < 0)
            return -1;
        fd = open(path, flags | O_CLOEXEC, 0600);
    }
    return fd;
}

/* Write @text to @path through @path.tmp and rename(2): after a crash the
 * file is the old one or the new one, never half of either. @durable: the
 * new one survives a crash once this returns. */
static gboolean
replace_file(const char *dir, const char *path, const char *text, gboolean durable, int *err)
{
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    int fd = open_in_state_dir(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC);

    if (fd < 0 || !write_all(fd, text, strlen(text)) || (durable && fsync(fd) < 0)) {
        *err = errno;
        if (fd >= 0)
            close(fd);
        (void)unlink(tmp);
        return FALSE;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        *err = errno;
        (void)unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

static void
sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

gboolean
sriov_record_save(const char *state_dir, const SriovVfRecord *rec, GError **error)
{
    g_autofree char *dir = sriov_record_dir(state_dir);
    g_autofree char *path = record_path(state_dir, rec->pf, rec->vf);
    g_autofree char *text = to_text(record_to_json(rec));
    int fd, err = 0;

    /* A new record is created under its final name and fsync'd: one
     * journal commit on ext4 takes the data and the name together (the
     * fsync of the directory after it finds nothing left to write), where
     * tmp + fsync + rename + fsync(dir) takes two. Until the fsync returns
     * nothing has been changed on the VF, so a file cut short by a crash is
     * a reservation that never happened (sriov_record_load_all() deletes
     * it). The record is never rewritten afterwards. */
    fd = open_in_state_dir(dir, path, O_WRONLY | O_CREAT | O_EXCL);
    if (fd >= 0) {
        if (!write_all(fd, text, strlen(text)) || fsync(fd) < 0) {
            err = errno;
            close(fd);
            (void)unlink(path);
        } else {
            close(fd);
        }
    } else if (errno == EEXIST) {
        /* a leftover nobody adopted: replace it atomically */
        (void)replace_file(dir, path, text, TRUE, &err);
    } else {
        err = errno;
    }
    if (err) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot save its state to %s: %s", rec->pf, rec->vf, path,
                    g_strerror(err));
        return FALSE;
    }
    sync_dir(dir);
    return TRUE;
}

gboolean
sriov_record_save_applied(const char *state_dir, const char *pf, guint vf,
                         const SriovVfConfig *applied, GError **error)
{
    g_autofree char *dir = sriov_record_dir(state_dir);
    g_autofree char *path = applied_path(state_dir, pf, vf);
    g_autofree char *text = to_text(sriov_vf_config_to_json(applied));
    int err = 0;

    if (!replace_file(dir, path, text, FALSE, &err)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot save its applied configuration to %s: %s", pf, vf,
                    path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
sriov_record_remove(const char *state_dir, const char *pf, guint vf, GError **error)
{
    g_autofree char *applied = applied_path(state_dir, pf, vf);
    g_autofree char *path = record_path(state_dir, pf, vf);

    /* the applied configuration first: a record must never be left with
     * someone else's applied file */
    if ((unlink(applied) < 0 && errno != ENOENT) || (unlink(path) < 0 && errno != ENOENT)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "PF %s VF %u: cannot remove its saved state %s: %s", pf, vf, path,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* A JSON object from a state file. *cut_short: the file is empty or ends
 * inside its JSON (its creation was interrupted). */
static JsonObject *
object_load(const char *path, gboolean *cut_short, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    *cut_short = FALSE;
    if (!g_file_get_contents(path, &text, &len, error))
        return NULL;
    if (len > STATE_MAX_BYTES) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "%s: too large", path);
        return NULL;
    }
    if (len == 0 || !json_parser_load_from_data(parser, text, len, &local)) {
        *cut_short = TRUE;
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "%s: %s", path,
                    local ? local->message : "empty");
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "%s: not a JSON object", path);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static SriovVfRecord *
record_load(const char *path, gboolean *cut_short, GError **error)
{
    g_autoptr(SriovVfRecord) rec = g_new0(SriovVfRecord, 1);
    g_autoptr(JsonObject) o = object_load(path, cut_short, error);
    JsonObject *orig, *applied;
    const char *s;
    guint v;

    if (!o)
        return NULL;
#define NEED_STR(member, field)                                            \
    do {                                                                  \
        if (!(s = get_str(o, member, error)))                             \
            goto bad;                                                     \
        rec->field = g_strdup(s);                                         \
    } while (0)
    NEED_STR("pf", pf);
    NEED_STR("backend", backend);
    NEED_STR("domain-uuid", domain_uuid);
    NEED_STR("pair-key", pair_key);
#undef NEED_STR
    if (!get_uint(o, "vf", 65535, &v, error))
        goto bad;
    rec->vf = v;
    if (json_object_has_member(o, "pci-address") && (s = get_str(o, "pci-address", NULL)))
        rec->pci_address = g_strdup(s);
    if (json_object_has_member(o, "original-driver") && (s = get_str(o, "original-driver", NULL)))
        rec->original_driver = g_strdup(s);
    if (!json_object_has_member(o, "original") ||
        !(orig = json_object_get_object_member(o, "original")) ||
        !sriov_vf_config_from_json(orig, &rec->original, error)) {
        if (error && !*error)
            g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_INVALID, "'original' is missing");
        goto bad;
    }
    /* (records written before the applied configuration had a file of
     * its own carry it inline) */
    if (json_object_has_member(o, "applied") &&
        (applied = json_object_get_object_member(o, "applied"))) {
        if (!sriov_vf_config_from_json(applied, &rec->applied, error))
            goto bad;
        rec->has_applied = TRUE;
    }
    if (json_object_has_member(o, "reserved-at"))
        rec->reserved_at = json_object_get_int_member(o, "reserved-at");
    return g_steal_pointer(&rec);
bad:
    g_prefix_error(error, "%s: ", path);
    return NULL;
}

/* The applied configuration of @rec, if it has one (a file that cannot be
 * read only costs the `vfs` display: a warning). */
static void
load_applied(const char *state_dir, SriovVfRecord *rec)
{
    g_autofree char *path = applied_path(state_dir, rec->pf, rec->vf);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) o = NULL;
    gboolean cut_short;

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return;
    o = object_load(path, &cut_short, &error);
    if (o && sriov_vf_config_from_json(o, &rec->applied, &error)) {
        rec->has_applied = TRUE;
        return;
    }
    g_warning("PF %s VF %u: ignoring its applied configuration: %s", rec->pf, rec->vf,
              error->message);
}

GPtrArray *
sriov_record_load_all(const char *state_dir, GError **error)
{
    g_autofree char *dir = sriov_record_dir(state_dir);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)sriov_vf_record_free);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) local = NULL;
    const char *name;

    d = g_dir_open(dir, 0, &local);
    if (!d) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&out);
        g_set_error(error, SRIOV_ERROR, SRIOV_ERROR_FAILED,
                    "Cannot read the VF state directory %s: %s", dir, local->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) rec_error = NULL;
        SriovVfRecord *rec;
        gboolean cut_short;

        if (g_str_has_suffix(name, ".tmp")) {
            /* A save interrupted before its rename: the previous state
             * (or none) is the truth. */
            (void)unlink(path);
            continue;
        }
        if (g_str_has_suffix(name, APPLIED_SUFFIX)) {
            /* read with its record; alone, it is a leftover of a removal */
            g_autofree char *stem = g_strndup(path, strlen(path) - strlen(APPLIED_SUFFIX));
            g_autofree char *rec_path = g_strconcat(stem, ".json", NULL);
            if (!g_file_test(rec_path, G_FILE_TEST_EXISTS))
                (void)unlink(path);
            continue;
        }
        if (!g_str_has_suffix(name, ".json"))
            continue;
        rec = record_load(path, &cut_short, &rec_error);
        if (!rec && cut_short) {
            /* Created under its final name, and cut short: its
             * reservation never returned, nothing was changed on the VF. */
            g_message("Removing the VF state file of an interrupted reservation (%s)",
                      rec_error->message);
            (void)unlink(path);
            continue;
        }
        if (!rec) {
            g_warning("Ignoring unreadable VF state file: %s", rec_error->message);
            continue;
        }
        load_applied(state_dir, rec);
        g_ptr_array_add(out, rec);
    }
    return g_steal_pointer(&out);
}
