/* The pair registry and its JSON form (see hookd-pairs.h). */
#include "config.h"

#include <string.h>

#include "hookd-pairs.h"
#include "hookd-state.h"

#define PAIRS_FILE "pairs.json"
#define PAIRS_FORMAT 1
#define TIMELINE_MAX 64
#define SAVE_LATER_MS 200
#define RELEASED_MAX 16

struct _HookdRegistry {
    GMutex lock;
    char *state_dir;
    GHashTable *domains;    /* uuid -> HookdDomain* */
    GPtrArray *released;    /* HookdDomain*, released ones, oldest first */
    guint save_id;
    gboolean dirty;         /* changed since the last snapshot */
    guint64 seq;            /* snapshots serialized (under lock) */
    GMutex write_lock;      /* orders writes of snapshots */
    guint64 written_seq;    /* newest snapshot on disk (under write_lock) */
};

static const char *const pair_state_names[] = {
    [HOOKD_PAIR_VIRTIO_ACTIVE] = "VIRTIO_ACTIVE",
    [HOOKD_PAIR_SWITCHING] = "SWITCHING",
    [HOOKD_PAIR_VF_ACTIVE] = "VF_ACTIVE",
};

static const char *const phase_names[] = {
    [HOOKD_DOMAIN_PREPARING] = "preparing",
    [HOOKD_DOMAIN_RUNNING] = "running",
    [HOOKD_DOMAIN_STOPPING] = "stopping",
};

const char *
hookd_pair_state_name(HookdPairState state)
{
    return pair_state_names[state];
}

const char *
hookd_domain_phase_name(HookdDomainPhase phase)
{
    return phase_names[phase];
}

static gboolean
name_to_enum(const char *const *names, gsize n, const char *name, int *out)
{
    gsize i;
    for (i = 0; i < n; i++) {
        if (g_strcmp0(names[i], name) == 0) {
            *out = i;
            return TRUE;
        }
    }
    return FALSE;
}

char *
hookd_format_time(gint64 us)
{
    g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) dt = g_date_time_add(secs, us % G_USEC_PER_SEC);
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ");
}

HookdPair *
hookd_pair_new(const char *alias, const char *mac)
{
    HookdPair *p = g_new0(HookdPair, 1);
    p->alias = g_strdup(alias);
    p->mac = g_strdup(mac);
    p->vf_index = -1;
    p->state = HOOKD_PAIR_VIRTIO_ACTIVE;
    p->state_since = g_get_real_time();
    p->policy = json_object_new();
    return p;
}

void
hookd_pair_free(HookdPair *p)
{
    if (!p)
        return;
    g_free(p->alias);
    g_free(p->mac);
    g_free(p->mode);
    g_free(p->no_vf);
    if (p->policy)
        json_object_unref(p->policy);
    g_free(p->vf_pf);
    g_free(p->vf_pci);
    g_free(p->vf_netdev);
    g_free(p->vf_alias);
    g_free(p);
}

static void
domain_free(gpointer data)
{
    HookdDomain *d = data;
    g_free(d->uuid);
    g_free(d->name);
    g_ptr_array_unref(d->pairs);
    g_ptr_array_unref(d->timeline);
    g_free(d);
}

static HookdDomain *
domain_new(const char *uuid, const char *name)
{
    HookdDomain *d = g_new0(HookdDomain, 1);
    d->uuid = g_strdup(uuid);
    d->name = g_strdup(name);
    d->created = g_get_real_time();
    d->pairs = g_ptr_array_new_with_free_func((GDestroyNotify)hookd_pair_free);
    d->timeline = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    return d;
}

static JsonObject *
timeline_add(HookdDomain *d, gint64 at, const char *kind, const char *what)
{
    JsonObject *e = json_object_new();
    g_autofree char *when = hookd_format_time(at);

    json_object_set_string_member(e, "at", when);
    json_object_set_int_member(e, "at_us", at);
    json_object_set_string_member(e, "kind", kind);
    json_object_set_string_member(e, "what", what);
    if (d->timeline->len >= TIMELINE_MAX)
        g_ptr_array_remove_index(d->timeline, 0);
    g_ptr_array_add(d->timeline, e);
    return e;
}

void
hookd_domain_note(HookdDomain *d, const char *kind, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    timeline_add(d, g_get_real_time(), kind, what);
}

void
hookd_domain_set_pair_state(HookdDomain *d, HookdPair *p, HookdPairState state,
                            const char *reason)
{
    g_autofree char *what = NULL;
    gint64 now = g_get_real_time();
    JsonObject *e;

    if (p->state == state)
        return;
    g_message("domain %s: interface %s: %s -> %s (%s)", d->name, p->alias,
              hookd_pair_state_name(p->state), hookd_pair_state_name(state), reason);
    what = g_strdup_printf("%s %s -> %s (%s)", p->alias, hookd_pair_state_name(p->state),
                           hookd_pair_state_name(state), reason);
    e = timeline_add(d, now, "state", what);
    json_object_set_string_member(e, "pair", p->alias);
    json_object_set_string_member(e, "from", hookd_pair_state_name(p->state));
    json_object_set_string_member(e, "to", hookd_pair_state_name(state));
    json_object_set_string_member(e, "reason", reason);
    p->state = state;
    p->state_since = now;
    p->transitions++;
}

void
hookd_domain_set_phase(HookdDomain *d, HookdDomainPhase phase)
{
    if (d->phase == phase)
        return;
    hookd_domain_note(d, "state", "domain %s -> %s", hookd_domain_phase_name(d->phase),
                      hookd_domain_phase_name(phase));
    d->phase = phase;
}

HookdPair *
hookd_domain_find_pair(HookdDomain *d, const char *alias)
{
    guint i;
    for (i = 0; i < d->pairs->len; i++) {
        HookdPair *p = g_ptr_array_index(d->pairs, i);
        if (g_strcmp0(p->alias, alias) == 0 || (p->vf_alias && g_strcmp0(p->vf_alias, alias) == 0))
            return p;
    }
    return NULL;
}

/* ---- JSON ---- */

static void
set_string_or_null(JsonObject *o, const char *member, const char *value)
{
    if (value)
        json_object_set_string_member(o, member, value);
    else
        json_object_set_null_member(o, member);
}

static JsonObject *
pair_to_json(HookdPair *p)
{
    JsonObject *o = json_object_new();
    g_autofree char *since = hookd_format_time(p->state_since);

    json_object_set_string_member(o, "alias", p->alias);
    json_object_set_string_member(o, "mac", p->mac);
    set_string_or_null(o, "mode", p->mode);
    set_string_or_null(o, "no_vf", p->no_vf);
    json_object_set_object_member(o, "policy", json_object_ref(p->policy));
    set_string_or_null(o, "vf_alias", p->vf_alias);
    json_object_set_boolean_member(o, "vf_defined", p->vf_defined);
    json_object_set_boolean_member(o, "migrating", p->migrating);
    json_object_set_boolean_member(o, "dp_held", p->dp_held);
    if (p->vf_pf) {
        JsonObject *vf = json_object_new();
        json_object_set_string_member(vf, "pf", p->vf_pf);
        json_object_set_int_member(vf, "index", p->vf_index);
        set_string_or_null(vf, "pci", p->vf_pci);
        set_string_or_null(vf, "netdev", p->vf_netdev);
        json_object_set_object_member(o, "vf", vf);
    } else {
        json_object_set_null_member(o, "vf");
    }
    json_object_set_string_member(o, "state", hookd_pair_state_name(p->state));
    json_object_set_string_member(o, "state_since", since);
    json_object_set_int_member(o, "state_since_us", p->state_since);
    json_object_set_int_member(o, "transitions", p->transitions);
    return o;
}

static JsonObject *
domain_to_json(HookdDomain *d)
{
    JsonObject *o = json_object_new();
    JsonArray *pairs = json_array_new();
    JsonArray *timeline = json_array_new();
    g_autofree char *created = hookd_format_time(d->created);
    guint i;

    json_object_set_string_member(o, "uuid", d->uuid);
    json_object_set_string_member(o, "name", d->name);
    json_object_set_string_member(o, "phase", hookd_domain_phase_name(d->phase));
    json_object_set_boolean_member(o, "incoming", d->incoming);
    json_object_set_string_member(o, "created", created);
    json_object_set_int_member(o, "created_us", d->created);
    if (d->released) {
        g_autofree char *released = hookd_format_time(d->released);
        json_object_set_string_member(o, "released", released);
        json_object_set_int_member(o, "released_us", d->released);
    }
    for (i = 0; i < d->pairs->len; i++)
        json_array_add_object_element(pairs, pair_to_json(g_ptr_array_index(d->pairs, i)));
    json_object_set_array_member(o, "pairs", pairs);
    for (i = 0; i < d->timeline->len; i++)
        json_array_add_object_element(timeline, json_object_ref(g_ptr_array_index(d->timeline, i)));
    json_object_set_array_member(o, "timeline", timeline);
    return o;
}

static gint
compare_domains(gconstpointer a, gconstpointer b)
{
    const HookdDomain *da = *(HookdDomain *const *)a;
    const HookdDomain *db = *(HookdDomain *const *)b;
    return g_strcmp0(da->name, db->name);
}

JsonNode *
hookd_registry_to_json(HookdRegistry *reg)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    JsonObject *root = json_object_new();
    JsonArray *domains = json_array_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    guint i;

    g_hash_table_iter_init(&it, reg->domains);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(sorted, value);
    g_ptr_array_sort(sorted, compare_domains);
    for (i = 0; i < sorted->len; i++)
        json_array_add_object_element(domains, domain_to_json(g_ptr_array_index(sorted, i)));
    json_object_set_int_member(root, "format", PAIRS_FORMAT);
    json_object_set_array_member(root, "domains", domains);
    json_node_take_object(node, root);
    return node;
}

static const char *
member_string(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static HookdPair *
pair_from_json(JsonObject *o, GError **error)
{
    const char *alias = member_string(o, "alias");
    const char *mac = member_string(o, "mac");
    const char *state = member_string(o, "state");
    g_autoptr(HookdPair) p = NULL;
    int st;

    if (!alias || !mac || !state ||
        !name_to_enum(pair_state_names, G_N_ELEMENTS(pair_state_names), state, &st)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "a pair lacks a valid alias, mac or state");
        return NULL;
    }
    p = hookd_pair_new(alias, mac);
    p->mode = g_strdup(member_string(o, "mode"));
    p->no_vf = g_strdup(member_string(o, "no_vf"));
    p->vf_alias = g_strdup(member_string(o, "vf_alias"));
    p->vf_defined = json_object_get_boolean_member_with_default(o, "vf_defined", FALSE);
    p->migrating = json_object_get_boolean_member_with_default(o, "migrating", FALSE);
    p->dp_held = json_object_get_boolean_member_with_default(o, "dp_held", FALSE);
    if (json_object_has_member(o, "policy") &&
        JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "policy"))) {
        json_object_unref(p->policy);
        p->policy = json_object_ref(json_object_get_object_member(o, "policy"));
    }
    if (json_object_has_member(o, "vf") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "vf"))) {
        JsonObject *vf = json_object_get_object_member(o, "vf");
        p->vf_pf = g_strdup(member_string(vf, "pf"));
        p->vf_index = json_object_get_int_member_with_default(vf, "index", -1);
        p->vf_pci = g_strdup(member_string(vf, "pci"));
        p->vf_netdev = g_strdup(member_string(vf, "netdev"));
    }
    p->state = st;
    /* Not saved: a pair saved while SWITCHING had its VF leaving. */
    p->vf_leaving = st == HOOKD_PAIR_SWITCHING;
    p->state_since = json_object_get_int_member_with_default(o, "state_since_us", g_get_real_time());
    p->transitions = json_object_get_int_member_with_default(o, "transitions", 0);
    return g_steal_pointer(&p);
}

static HookdDomain *
domain_from_json(JsonObject *o, GError **error)
{
    const char *uuid = member_string(o, "uuid");
    const char *name = member_string(o, "name");
    const char *phase = member_string(o, "phase");
    HookdDomain *d;
    JsonArray *arr;
    int ph;
    guint i;

    if (!uuid || !name || !phase ||
        !name_to_enum(phase_names, G_N_ELEMENTS(phase_names), phase, &ph)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "a domain lacks a valid uuid, name or phase");
        return NULL;
    }
    d = domain_new(uuid, name);
    d->phase = ph;
    d->incoming = json_object_get_boolean_member_with_default(o, "incoming", FALSE);
    d->created = json_object_get_int_member_with_default(o, "created_us", d->created);
    arr = json_object_has_member(o, "pairs") ? json_object_get_array_member(o, "pairs") : NULL;
    for (i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        HookdPair *p = JSON_NODE_HOLDS_OBJECT(n) ? pair_from_json(json_node_get_object(n), error) : NULL;
        if (!p) {
            if (error && !*error)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a pair is not an object");
            g_prefix_error(error, "domain %s: ", name);
            domain_free(d);
            return NULL;
        }
        g_ptr_array_add(d->pairs, p);
    }
    arr = json_object_has_member(o, "timeline") ? json_object_get_array_member(o, "timeline") : NULL;
    for (i = 0; arr && i < json_array_get_length(arr); i++) {
        JsonNode *n = json_array_get_element(arr, i);
        if (JSON_NODE_HOLDS_OBJECT(n))
            g_ptr_array_add(d->timeline, json_object_ref(json_node_get_object(n)));
    }
    return d;
}

/* ---- registry ---- */

HookdRegistry *
hookd_registry_new(const char *state_dir, GError **error)
{
    g_autoptr(HookdRegistry) reg = g_new0(HookdRegistry, 1);
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(GError) local = NULL;
    JsonArray *domains;
    guint i;

    g_mutex_init(&reg->lock);
    g_mutex_init(&reg->write_lock);
    reg->state_dir = g_strdup(state_dir);
    reg->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, domain_free);
    reg->released = g_ptr_array_new_with_free_func(domain_free);

    root = hookd_state_read(state_dir, PAIRS_FILE, &local);
    if (!root) {
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
        return g_steal_pointer(&reg);
    }
    if (json_object_get_int_member_with_default(json_node_get_object(root), "format", 0) != PAIRS_FORMAT ||
        !json_object_has_member(json_node_get_object(root), "domains")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "state file %s/%s has an unknown format", state_dir, PAIRS_FILE);
        return NULL;
    }
    domains = json_object_get_array_member(json_node_get_object(root), "domains");
    for (i = 0; domains && i < json_array_get_length(domains); i++) {
        JsonNode *n = json_array_get_element(domains, i);
        HookdDomain *d = JSON_NODE_HOLDS_OBJECT(n) ? domain_from_json(json_node_get_object(n), &local) : NULL;
        if (!d) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "state file %s/%s: %s", state_dir, PAIRS_FILE,
                        local ? local->message : "a domain is not an object");
            return NULL;
        }
        g_hash_table_replace(reg->domains, d->uuid, d);
    }
    return g_steal_pointer(&reg);
}

void
hookd_registry_free(HookdRegistry *reg)
{
    if (!reg)
        return;
    if (reg->save_id)
        g_source_remove(reg->save_id);
    g_hash_table_unref(reg->domains);
    g_ptr_array_unref(reg->released);
    g_free(reg->state_dir);
    g_mutex_clear(&reg->lock);
    g_mutex_clear(&reg->write_lock);
    g_free(reg);
}

void
hookd_registry_lock(HookdRegistry *reg)
{
    g_mutex_lock(&reg->lock);
}

void
hookd_registry_unlock(HookdRegistry *reg)
{
    g_mutex_unlock(&reg->lock);
}

HookdDomain *
hookd_registry_find(HookdRegistry *reg, const char *uuid)
{
    return uuid ? g_hash_table_lookup(reg->domains, uuid) : NULL;
}

HookdDomain *
hookd_registry_find_by_name(HookdRegistry *reg, const char *name)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, reg->domains);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (g_strcmp0(((HookdDomain *)value)->name, name) == 0)
            return value;
    return NULL;
}

HookdDomain *
hookd_registry_add(HookdRegistry *reg, const char *uuid, const char *name,
                   HookdDomainPhase phase, GPtrArray *pairs)
{
    HookdDomain *d = domain_new(uuid, name);
    guint i;

    d->phase = phase;
    for (i = 0; i < pairs->len; i++)
        g_ptr_array_add(d->pairs, g_ptr_array_index(pairs, i));
    g_ptr_array_set_free_func(pairs, NULL);
    g_ptr_array_unref(pairs);
    g_hash_table_replace(reg->domains, d->uuid, d);
    return d;
}

void
hookd_registry_remove(HookdRegistry *reg, const char *uuid)
{
    g_hash_table_remove(reg->domains, uuid);
}

void
hookd_registry_retire(HookdRegistry *reg, const char *uuid)
{
    HookdDomain *d = NULL;
    guint i;

    if (!g_hash_table_steal_extended(reg->domains, uuid, NULL, (gpointer *)&d))
        return;
    d->released = g_get_real_time();
    hookd_domain_note(d, "hook", "released: record kept for `pairs %s` only", d->name);
    /* One per name: the newest tells what happened last. */
    for (i = reg->released->len; i > 0; i--) {
        HookdDomain *old = g_ptr_array_index(reg->released, i - 1);
        if (g_strcmp0(old->name, d->name) == 0)
            g_ptr_array_remove_index(reg->released, i - 1);
    }
    if (reg->released->len >= RELEASED_MAX)
        g_ptr_array_remove_index(reg->released, 0);
    g_ptr_array_add(reg->released, d);
}

GPtrArray *
hookd_registry_released_json(HookdRegistry *reg, const char *name_or_uuid)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
    guint i;

    for (i = reg->released->len; i > 0; i--) {
        HookdDomain *d = g_ptr_array_index(reg->released, i - 1);
        if (g_strcmp0(d->name, name_or_uuid) == 0 || g_strcmp0(d->uuid, name_or_uuid) == 0)
            g_ptr_array_add(out, domain_to_json(d));
    }
    return out;
}

char **
hookd_registry_uuids(HookdRegistry *reg)
{
    guint n;
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(reg->domains, &n);
    char **out = g_new0(char *, n + 1);
    guint i;

    for (i = 0; i < n; i++)
        out[i] = g_strdup(keys[i]);
    return out;
}

/* Write a serialized registry unless a newer one was written already.
 * Serialization happens under the registry lock, writing under write_lock
 * only, so hook workers do not wait for a background fsync. */
static gboolean
write_snapshot(HookdRegistry *reg, JsonNode *doc, guint64 seq, GError **error)
{
    gboolean ok = TRUE;

    g_mutex_lock(&reg->write_lock);
    if (seq > reg->written_seq) {
        ok = hookd_state_write(reg->state_dir, PAIRS_FILE, doc, error);
        if (ok)
            reg->written_seq = seq;
    }
    g_mutex_unlock(&reg->write_lock);
    return ok;
}

gboolean
hookd_registry_save(HookdRegistry *reg, GError **error)
{
    g_autoptr(JsonNode) doc = hookd_registry_to_json(reg);
    reg->dirty = FALSE;
    return write_snapshot(reg, doc, ++reg->seq, error);
}

/* Not locked: write a snapshot if the registry changed since the last. */
static void
registry_flush(HookdRegistry *reg)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) doc = NULL;
    guint64 seq;

    g_mutex_lock(&reg->lock);
    if (!reg->dirty) {
        g_mutex_unlock(&reg->lock);
        return;
    }
    reg->dirty = FALSE;
    doc = hookd_registry_to_json(reg);
    seq = ++reg->seq;
    g_mutex_unlock(&reg->lock);
    if (!write_snapshot(reg, doc, seq, &error))
        g_warning("%s", error->message);
}

static gboolean
save_later_cb(gpointer data)
{
    HookdRegistry *reg = data;

    g_mutex_lock(&reg->lock);
    reg->save_id = 0;
    g_mutex_unlock(&reg->lock);
    registry_flush(reg);
    return G_SOURCE_REMOVE;
}

void
hookd_registry_save_later(HookdRegistry *reg)
{
    GSource *src;

    reg->dirty = TRUE;
    if (reg->save_id)
        return;
    /* Attach to the main context explicitly: hook workers call this too. */
    src = g_timeout_source_new(SAVE_LATER_MS);
    g_source_set_callback(src, save_later_cb, reg, NULL);
    reg->save_id = g_source_attach(src, NULL);
    g_source_unref(src);
}
