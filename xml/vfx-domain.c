/* Domain XML -> pairs: reads vfailover's annotations (namespace
 * VFX_NAMESPACE inside <metadata>) and resolves each pair to the domain's
 * virtio interface. Every rule here is also in vfailover-annotations(5). */
#include "config.h"

#include <string.h>

#include "vfx-private.h"

#define VFX_MAX_RATE_MBPS 1000000u   /* 1 Tbit/s: far above any NIC */

/* Context for one-line errors: "domain NAME: pair for interface X: ..." */
typedef struct {
    const char *domain;
    char *pair;        /* "pair for interface ua-net0", or NULL */
    GError **error;
} VfxCtx;

static gboolean G_GNUC_PRINTF(3, 4)
vfx_fail(VfxCtx *ctx, VfxErrorCode code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (ctx->pair)
        vfx_set_error(ctx->error, code, "domain %s: %s: %s",
                      ctx->domain, ctx->pair, msg);
    else
        vfx_set_error(ctx->error, code, "domain %s: %s", ctx->domain, msg);
    return FALSE;
}

void
vfx_pair_free(VfxPair *pair)
{
    if (!pair)
        return;
    g_free(pair->alias);
    g_free(pair->mac);
    g_free(pair->vhost_socket);
    g_free(pair->pf);
    g_free(pair->pool);
    g_free(pair);
}

VfxPair *
vfx_pair_copy(const VfxPair *pair)
{
    VfxPair *c = g_memdup2(pair, sizeof(*pair));

    c->alias = g_strdup(pair->alias);
    c->mac = g_strdup(pair->mac);
    c->vhost_socket = g_strdup(pair->vhost_socket);
    c->pf = g_strdup(pair->pf);
    c->pool = g_strdup(pair->pool);
    return c;
}

void
vfx_domain_free(VfxDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom->uuid);
    if (dom->pairs)
        g_ptr_array_unref(dom->pairs);
    if (dom->free_root_ports)
        g_array_unref(dom->free_root_ports);
    g_free(dom);
}

const char *
vfx_mode_to_string(VfxMigrationMode mode)
{
    return mode == VFX_MODE_MANAGED ? "managed" : "native";
}

const char *
vfx_no_vf_to_string(VfxNoVfPolicy policy)
{
    return policy == VFX_NO_VF_VIRTIO_ONLY ? "virtio-only" : "refuse";
}

const char *
vfx_tristate_to_string(VfxTristate t)
{
    switch (t) {
    case VFX_TRI_ON: return "on";
    case VFX_TRI_OFF: return "off";
    case VFX_TRI_DEFAULT: break;
    }
    return "default";
}

const char *
vfx_link_state_to_string(VfxLinkState state)
{
    switch (state) {
    case VFX_LINK_ENABLE: return "enable";
    case VFX_LINK_DISABLE: return "disable";
    case VFX_LINK_AUTO: break;
    }
    return "auto";
}

static gboolean
vfx_is_ours(xmlNode *n)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, VFX_NAMESPACE) == 0;
}

static const char *
vfx_elem_name(xmlNode *n)
{
    return (const char *)n->name;
}

/* Only the listed attributes (no namespace) may appear on @n. */
static gboolean
vfx_check_attrs(VfxCtx *ctx, xmlNode *n, const char *const *allowed)
{
    for (xmlAttr *a = n->properties; a; a = a->next) {
        gboolean ok = FALSE;

        if (a->ns == NULL)
            for (const char *const *p = allowed; *p; p++)
                if (strcmp((const char *)a->name, *p) == 0)
                    ok = TRUE;
        if (!ok)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "<%s:%s>: unknown attribute '%s'", VFX_NAMESPACE_PREFIX,
                            vfx_elem_name(n), (const char *)a->name);
    }
    return TRUE;
}

/* Our elements hold only our elements, whitespace and comments. */
static gboolean
vfx_check_no_text(VfxCtx *ctx, xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            for (const xmlChar *p = c->content; p && *p; p++)
                if (!g_ascii_isspace(*p))
                    return vfx_fail(ctx, VFX_ERROR_INVALID,
                                    "<%s:%s>: unexpected text content",
                                    VFX_NAMESPACE_PREFIX, vfx_elem_name(n));
        } else if (c->type == XML_ENTITY_REF_NODE) {
            return vfx_fail(ctx, VFX_ERROR_FORBIDDEN,
                            "<%s:%s>: entity references are not allowed",
                            VFX_NAMESPACE_PREFIX, vfx_elem_name(n));
        }
    }
    return TRUE;
}

static gboolean
vfx_get_uint(VfxCtx *ctx, xmlNode *n, const char *attr, guint min, guint max,
             gboolean required, guint *out)
{
    g_autofree char *v = vfx_xml_prop(n, attr);
    guint64 val;

    if (!v) {
        if (required)
            return vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s>: missing attribute '%s'",
                            VFX_NAMESPACE_PREFIX, vfx_elem_name(n), attr);
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT, &val, NULL) || *v == '+')
        return vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s %s='%s'>: not a decimal number",
                        VFX_NAMESPACE_PREFIX, vfx_elem_name(n), attr, v);
    if (val < min || val > max)
        return vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s %s='%s'>: out of range %u..%u",
                        VFX_NAMESPACE_PREFIX, vfx_elem_name(n), attr, v, min, max);
    *out = (guint)val;
    return TRUE;
}

/* An attribute whose value is one of @names; *out = its index. */
static gboolean
vfx_get_enum(VfxCtx *ctx, xmlNode *n, const char *attr,
             const char *const *names, gboolean required, guint *out)
{
    g_autofree char *v = vfx_xml_prop(n, attr);
    g_autofree char *list = NULL;

    if (!v) {
        if (required)
            return vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s>: missing attribute '%s'",
                            VFX_NAMESPACE_PREFIX, vfx_elem_name(n), attr);
        return TRUE;
    }
    for (guint i = 0; names[i]; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return TRUE;
        }
    }
    list = g_strjoinv("|", (char **)names);
    return vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s %s='%s'>: must be %s",
                    VFX_NAMESPACE_PREFIX, vfx_elem_name(n), attr, v, list);
}

/* Pool names: the NAME of a [pool:NAME]-style config section. */
static gboolean
vfx_valid_pool(const char *s)
{
    gsize len = strlen(s);

    if (len == 0 || len > 64 || !g_ascii_isalnum(s[0]))
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    return TRUE;
}

static const char *const tristate_names[] = { "default", "on", "off", NULL };
static const char *const link_names[] = { "auto", "enable", "disable", NULL };
static const char *const mode_names[] = { "native", "managed", NULL };
static const char *const no_vf_names[] = { "refuse", "virtio-only", NULL };

/* Read one <vfo:pair>'s policy into @pair (interface not resolved yet). */
static gboolean
vfx_parse_pair_policy(VfxCtx *ctx, xmlNode *pn, VfxPair *pair)
{
    static const char *const pair_attrs[] = { "alias", "mac", "mode", "no-vf", NULL };
    xmlNode *seen_vlan = NULL, *seen_qinq = NULL;
    GHashTable *seen;
    guint v;
    gboolean ok = TRUE;

    if (!vfx_check_attrs(ctx, pn, pair_attrs) || !vfx_check_no_text(ctx, pn))
        return FALSE;
    v = VFX_MODE_NATIVE;
    if (!vfx_get_enum(ctx, pn, "mode", mode_names, FALSE, &v))
        return FALSE;
    pair->mode = v;
    v = VFX_NO_VF_REFUSE;
    if (!vfx_get_enum(ctx, pn, "no-vf", no_vf_names, FALSE, &v))
        return FALSE;
    pair->no_vf = v;

    seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (xmlNode *c = pn->children; c && ok; c = c->next) {
        const char *name;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        name = vfx_elem_name(c);
        if (!vfx_is_ours(c)) {
            ok = vfx_fail(ctx, VFX_ERROR_INVALID,
                          "unexpected element <%s> inside <%s:pair>", name,
                          VFX_NAMESPACE_PREFIX);
            break;
        }
        if (g_hash_table_contains(seen, name)) {
            ok = vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:%s> appears twice",
                          VFX_NAMESPACE_PREFIX, name);
            break;
        }
        g_hash_table_add(seen, (gpointer)name);
        if (!vfx_check_no_text(ctx, c)) {
            ok = FALSE;
            break;
        }

        if (strcmp(name, "pf") == 0) {
            static const char *const a[] = { "dev", NULL };
            g_autofree char *dev = vfx_xml_prop(c, "dev");

            if (!(ok = vfx_check_attrs(ctx, c, a)))
                break;
            if (!dev)
                ok = vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:pf>: missing attribute 'dev'",
                              VFX_NAMESPACE_PREFIX);
            else if (!vfx_valid_ifname(dev))
                ok = vfx_fail(ctx, VFX_ERROR_INVALID,
                              "<%s:pf dev='%s'>: not a network interface name "
                              "(1-15 characters, no '/', ':' or spaces)",
                              VFX_NAMESPACE_PREFIX, dev);
            else
                pair->pf = g_steal_pointer(&dev);
        } else if (strcmp(name, "pool") == 0) {
            static const char *const a[] = { "name", NULL };
            g_autofree char *pool = vfx_xml_prop(c, "name");

            if (!(ok = vfx_check_attrs(ctx, c, a)))
                break;
            if (!pool)
                ok = vfx_fail(ctx, VFX_ERROR_INVALID, "<%s:pool>: missing attribute 'name'",
                              VFX_NAMESPACE_PREFIX);
            else if (!vfx_valid_pool(pool))
                ok = vfx_fail(ctx, VFX_ERROR_INVALID,
                              "<%s:pool name='%s'>: not a pool name "
                              "(1-64 of A-Z a-z 0-9 - _ ., starting with a letter or digit)",
                              VFX_NAMESPACE_PREFIX, pool);
            else
                pair->pool = g_steal_pointer(&pool);
        } else if (strcmp(name, "vlan") == 0) {
            static const char *const a[] = { "id", "qos", NULL };

            seen_vlan = c;
            ok = vfx_check_attrs(ctx, c, a) &&
                 vfx_get_uint(ctx, c, "id", 1, 4094, TRUE, &pair->vlan) &&
                 vfx_get_uint(ctx, c, "qos", 0, 7, FALSE, &pair->vlan_qos);
        } else if (strcmp(name, "qinq") == 0) {
            static const char *const a[] = { "outer", NULL };

            seen_qinq = c;
            ok = vfx_check_attrs(ctx, c, a) &&
                 vfx_get_uint(ctx, c, "outer", 1, 4094, TRUE, &pair->qinq_outer);
        } else if (strcmp(name, "spoofchk") == 0 || strcmp(name, "trust") == 0) {
            static const char *const a[] = { "state", NULL };

            v = VFX_TRI_DEFAULT;
            ok = vfx_check_attrs(ctx, c, a) &&
                 vfx_get_enum(ctx, c, "state", tristate_names, TRUE, &v);
            if (name[0] == 's')
                pair->spoofchk = v;
            else
                pair->trust = v;
        } else if (strcmp(name, "link") == 0) {
            static const char *const a[] = { "state", NULL };

            v = VFX_LINK_AUTO;
            ok = vfx_check_attrs(ctx, c, a) &&
                 vfx_get_enum(ctx, c, "state", link_names, TRUE, &v);
            pair->link_state = v;
        } else if (strcmp(name, "rate") == 0) {
            static const char *const a[] = { "min-tx", "max-tx", NULL };

            ok = vfx_check_attrs(ctx, c, a) &&
                 vfx_get_uint(ctx, c, "min-tx", 0, VFX_MAX_RATE_MBPS, FALSE,
                              &pair->min_tx_rate_mbps) &&
                 vfx_get_uint(ctx, c, "max-tx", 0, VFX_MAX_RATE_MBPS, FALSE,
                              &pair->max_tx_rate_mbps);
            if (ok && pair->max_tx_rate_mbps != 0 &&
                pair->min_tx_rate_mbps > pair->max_tx_rate_mbps)
                ok = vfx_fail(ctx, VFX_ERROR_INVALID,
                              "<%s:rate>: min-tx %u Mbps is above max-tx %u Mbps",
                              VFX_NAMESPACE_PREFIX, pair->min_tx_rate_mbps,
                              pair->max_tx_rate_mbps);
        } else {
            ok = vfx_fail(ctx, VFX_ERROR_INVALID, "unknown element <%s:%s>",
                          VFX_NAMESPACE_PREFIX, name);
        }
    }
    g_hash_table_unref(seen);
    if (!ok)
        return FALSE;

    if (!pair->pf && !pair->pool)
        return vfx_fail(ctx, VFX_ERROR_INVALID, "needs <%s:pf dev='...'/> or <%s:pool name='...'/>",
                        VFX_NAMESPACE_PREFIX, VFX_NAMESPACE_PREFIX);
    if (pair->pf && pair->pool)
        return vfx_fail(ctx, VFX_ERROR_INVALID, "has both <%s:pf> and <%s:pool>; give one",
                        VFX_NAMESPACE_PREFIX, VFX_NAMESPACE_PREFIX);
    if (seen_qinq && !seen_vlan)
        return vfx_fail(ctx, VFX_ERROR_INVALID,
                        "<%s:qinq> needs <%s:vlan> (the inner tag)",
                        VFX_NAMESPACE_PREFIX, VFX_NAMESPACE_PREFIX);
    return TRUE;
}

/* Find the virtio interface a pair names and fill alias/mac/vhost. */
static gboolean
vfx_resolve_pair(VfxCtx *ctx, GPtrArray *ifaces, const char *alias,
                 const char *mac, VfxPair *pair, VfxIface **found)
{
    VfxIface *hit = NULL;

    for (guint i = 0; i < ifaces->len; i++) {
        VfxIface *iface = ifaces->pdata[i];

        if (alias ? g_strcmp0(iface->alias, alias) != 0 : g_strcmp0(iface->mac, mac) != 0)
            continue;
        if (!alias && !vfx_iface_is_virtio(iface))
            continue;   /* e.g. the VF hostdev that shares the MAC */
        if (hit)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "more than one virtio interface has that %s",
                            alias ? "alias" : "MAC");
        hit = iface;
    }
    if (!hit)
        return vfx_fail(ctx, VFX_ERROR_INVALID, "no virtio interface with that %s",
                        alias ? "alias" : "MAC");
    if (!vfx_iface_is_virtio(hit))
        return vfx_fail(ctx, VFX_ERROR_INVALID,
                        "interface is not virtio (model '%s'); a pair's standby must be virtio",
                        hit->model ? hit->model : "none");
    if (!hit->mac)
        return vfx_fail(ctx, VFX_ERROR_INVALID,
                        "the virtio interface has no valid <mac address='...'/>");
    if (pair->mode == VFX_MODE_NATIVE) {
        if (!hit->alias)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "native mode needs an <alias name='ua-...'/> on the virtio interface "
                            "(the VF's <teaming persistent=...> names it)");
        if (g_strcmp0(hit->teaming, "persistent") != 0)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "native mode needs <teaming type='persistent'/> on the virtio interface");
    }
    pair->alias = g_strdup(hit->alias);
    pair->mac = g_strdup(hit->mac);
    if (hit->source_path) {
        pair->vhost_socket = g_strdup(hit->source_path);
        pair->vhost_server = g_strcmp0(hit->source_mode, "server") == 0;
    }
    *found = hit;
    return TRUE;
}

static gboolean
vfx_parse_failover(VfxCtx *ctx, xmlNode *fo, GPtrArray *ifaces, GPtrArray *pairs)
{
    static const char *const fo_attrs[] = { "version", NULL };
    g_autofree char *version = vfx_xml_prop(fo, "version");
    g_autoptr(GHashTable) used = g_hash_table_new(NULL, NULL);  /* iface -> pair# */
    guint index = 0;

    if (!vfx_check_attrs(ctx, fo, fo_attrs) || !vfx_check_no_text(ctx, fo))
        return FALSE;
    if (version && strcmp(version, "1") != 0)
        return vfx_fail(ctx, VFX_ERROR_VERSION,
                        "<%s:failover version='%s'>: unsupported annotation version "
                        "(this vfailover knows version 1)", VFX_NAMESPACE_PREFIX, version);

    for (xmlNode *pn = fo->children; pn; pn = pn->next) {
        g_autoptr(VfxPair) pair = NULL;
        g_autofree char *alias = NULL, *mac_raw = NULL, *mac = NULL;
        VfxIface *iface = NULL;
        gboolean ok;

        if (pn->type != XML_ELEMENT_NODE)
            continue;
        if (!vfx_is_ours(pn) || strcmp(vfx_elem_name(pn), "pair") != 0)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "unexpected element <%s> inside <%s:failover>",
                            vfx_elem_name(pn), VFX_NAMESPACE_PREFIX);
        index++;
        alias = vfx_xml_prop(pn, "alias");
        mac_raw = vfx_xml_prop(pn, "mac");
        if (alias && mac_raw)
            ctx->pair = g_strdup_printf("pair #%u", index);
        else if (alias)
            ctx->pair = g_strdup_printf("pair for interface %s", alias);
        else if (mac_raw)
            ctx->pair = g_strdup_printf("pair for interface %s", mac_raw);
        else
            ctx->pair = g_strdup_printf("pair #%u", index);

        if (alias && mac_raw)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "names its interface by both alias and mac; give one");
        if (!alias && !mac_raw)
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "names no interface: set alias='...' or mac='...'");
        if (alias && (*alias == '\0' || strlen(alias) > 128))
            return vfx_fail(ctx, VFX_ERROR_INVALID, "alias must be 1-128 characters");
        if (mac_raw && !(mac = vfx_mac_normalise(mac_raw)))
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "mac='%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", mac_raw);

        pair = g_new0(VfxPair, 1);
        ok = vfx_parse_pair_policy(ctx, pn, pair) &&
             vfx_resolve_pair(ctx, ifaces, alias, mac, pair, &iface);
        if (!ok)
            return FALSE;
        if (g_hash_table_contains(used, iface))
            return vfx_fail(ctx, VFX_ERROR_INVALID,
                            "the interface already has a pair (pair #%u); one pair per interface",
                            GPOINTER_TO_UINT(g_hash_table_lookup(used, iface)));
        g_hash_table_insert(used, iface, GUINT_TO_POINTER(index));
        g_clear_pointer(&ctx->pair, g_free);
        g_ptr_array_add(pairs, g_steal_pointer(&pair));
    }
    return TRUE;
}

VfxDomain *
vfx_domain_parse_full(const char *xml, gsize len, gsize max_bytes, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(VfxDomain) dom = NULL;
    g_autoptr(GPtrArray) ifaces = NULL;
    xmlNode *root, *metadata, *fo = NULL;
    VfxCtx ctx = { NULL, NULL, error };
    gboolean ok = TRUE;

    doc = vfx_xml_read(xml, len, max_bytes, error);
    if (!doc)
        return NULL;
    if (!(root = vfx_xml_domain_root(doc, error)))
        return NULL;
    dom = g_new0(VfxDomain, 1);
    dom->pairs = g_ptr_array_new_with_free_func((GDestroyNotify)vfx_pair_free);
    dom->name = vfx_xml_child_text(root, "name");
    if (!dom->name || !*dom->name) {
        vfx_set_error(error, VFX_ERROR_NOT_DOMAIN, "domain XML has no <name>");
        return NULL;
    }
    dom->uuid = vfx_xml_child_text(root, "uuid");
    dom->free_root_ports = vfx_domain_free_root_ports(root);
    ctx.domain = dom->name;

    metadata = vfx_xml_child(root, "metadata");
    for (xmlNode *c = metadata ? metadata->children : NULL; c; c = c->next) {
        if (!vfx_is_ours(c))
            continue;
        if (strcmp(vfx_elem_name(c), "failover") != 0) {
            vfx_fail(&ctx, VFX_ERROR_INVALID, "unknown element <%s:%s> in <metadata>",
                     VFX_NAMESPACE_PREFIX, vfx_elem_name(c));
            return NULL;
        }
        if (fo) {
            vfx_fail(&ctx, VFX_ERROR_INVALID, "<metadata> has more than one <%s:failover>",
                     VFX_NAMESPACE_PREFIX);
            return NULL;
        }
        fo = c;
    }
    if (!fo)
        return g_steal_pointer(&dom);

    ifaces = vfx_domain_interfaces(root);
    ok = vfx_parse_failover(&ctx, fo, ifaces, dom->pairs);
    g_free(ctx.pair);
    if (!ok)
        return NULL;
    return g_steal_pointer(&dom);
}

VfxDomain *
vfx_domain_parse(const char *xml, gsize len, GError **error)
{
    return vfx_domain_parse_full(xml, len, 0, error);
}
