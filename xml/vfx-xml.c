/* Reading untrusted domain XML safely (size limit, no network, no DTDs or
 * entities) and the small tree helpers the rest of libvfxml uses. */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "vfx-private.h"

G_DEFINE_QUARK(vfx-error-quark, vfx_error)

#define VFX_ERROR_MAX_CHARS 400

void
vfx_set_error(GError **error, VfxErrorCode code, const char *fmt, ...)
{
    g_autofree char *raw = NULL;
    GString *line;
    va_list ap;

    if (!error)
        return;
    va_start(ap, fmt);
    raw = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    line = g_string_sized_new(strlen(raw) + 1);
    for (const guchar *p = (const guchar *)raw; *p; p++) {
        if (line->len >= VFX_ERROR_MAX_CHARS) {
            g_string_append(line, "...");
            break;
        }
        if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(line, "\\x%02x", *p);
        else
            g_string_append_c(line, *p);
    }
    g_set_error_literal(error, VFX_ERROR, code, line->str);
    g_string_free(line, TRUE);
}

gboolean
vfx_valid_ifname(const char *s)
{
    gsize len = s ? strlen(s) : 0;

    if (len == 0 || len > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p) || !g_ascii_isprint(*p))
            return FALSE;
    return TRUE;
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)

typedef struct {
    gboolean doctype;   /* a DOCTYPE or entity declaration was seen */
    int line;           /* the first error's line and message */
    char *message;
} VfxReadState;

/* Keep the first error: after a fatal error libxml2 goes on reporting
 * follow-on errors, and the first one is the one that explains. */
static void
vfx_sax_serror(void *ctx, const xmlError *err)
{
    xmlParserCtxt *ctxt = ctx;
    VfxReadState *st = ctxt ? ctxt->_private : NULL;

    if (!st || st->message || !err || err->level < XML_ERR_ERROR)
        return;
    st->line = err->line;
    if (err->message && g_str_has_prefix(err->message, "Excessive depth in document"))
        st->message = g_strdup("elements nested deeper than 256 levels");
    else
        st->message = g_strstrip(g_strdup(err->message ? err->message : "unknown error"));
}

/* SAX hooks: the moment the parser reports a DOCTYPE (before it reads the
 * internal subset) or any entity declaration, stop. With the parse stopped
 * no entity is declared, so none can be expanded (billion laughs) or
 * loaded (XXE). */
static void
vfx_sax_internal_subset(void *ctx, const xmlChar *name G_GNUC_UNUSED,
                        const xmlChar *external_id G_GNUC_UNUSED,
                        const xmlChar *system_id G_GNUC_UNUSED)
{
    xmlParserCtxt *ctxt = ctx;
    VfxReadState *st = ctxt->_private;

    st->doctype = TRUE;
    xmlStopParser(ctxt);
}

static void
vfx_sax_entity_decl(void *ctx, const xmlChar *name G_GNUC_UNUSED,
                    int type G_GNUC_UNUSED,
                    const xmlChar *public_id G_GNUC_UNUSED,
                    const xmlChar *system_id G_GNUC_UNUSED,
                    xmlChar *content G_GNUC_UNUSED)
{
    vfx_sax_internal_subset(ctx, NULL, NULL, NULL);
}

static gpointer
vfx_xml_init_once(gpointer data G_GNUC_UNUSED)
{
    /* No xmlSetExternalEntityLoader(): it is process-wide, and with the
     * DOCTYPE refused there is nothing external to load. */
    xmlInitParser();
    return NULL;
}

xmlDoc *
vfx_xml_read(const char *xml, gsize len, gsize max_bytes, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    VfxReadState st = { FALSE };
    g_autoptr(xmlParserCtxt) ctxt = NULL;
    xmlDoc *doc;

    g_once(&once, vfx_xml_init_once, NULL);

    if (max_bytes == 0)
        max_bytes = VFX_MAX_DOCUMENT_BYTES;
    if (max_bytes > INT_MAX)
        max_bytes = INT_MAX;
    if (len > max_bytes) {
        vfx_set_error(error, VFX_ERROR_TOO_LARGE,
                      "domain XML is %" G_GSIZE_FORMAT " bytes, over the limit of %"
                      G_GSIZE_FORMAT " bytes", len, max_bytes);
        return NULL;
    }
    if (len == 0 || xml == NULL) {
        vfx_set_error(error, VFX_ERROR_MALFORMED, "domain XML is empty");
        return NULL;
    }
    if (memchr(xml, '\0', len) != NULL) {
        vfx_set_error(error, VFX_ERROR_MALFORMED,
                      "domain XML is not text: it contains a NUL byte");
        return NULL;
    }

    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        g_error("libxml2 could not allocate a parser context");
    ctxt->_private = &st;
    ctxt->sax->internalSubset = vfx_sax_internal_subset;
    ctxt->sax->externalSubset = vfx_sax_internal_subset;
    ctxt->sax->entityDecl = vfx_sax_entity_decl;
    ctxt->sax->serror = (xmlStructuredErrorFunc)vfx_sax_serror;

    /* No XML_PARSE_NOENT (no substitution), no XML_PARSE_DTDLOAD/DTDATTR/
     * DTDVALID, no XML_PARSE_HUGE (keeps the 256-level depth limit). */
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (st.doctype) {
        g_free(st.message);
        if (doc)
            xmlFreeDoc(doc);
        vfx_set_error(error, VFX_ERROR_FORBIDDEN,
                      "domain XML has a DOCTYPE or entity declaration, which is not allowed");
        return NULL;
    }
    if (!doc || !ctxt->wellFormed) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = NULL;
        int line = st.line;

        if (st.message) {
            msg = g_steal_pointer(&st.message);
        } else {
            msg = g_strstrip(g_strdup(err && err->message ? err->message : "unknown error"));
            line = err ? err->line : 0;
        }
        if (doc)
            xmlFreeDoc(doc);
        vfx_set_error(error, VFX_ERROR_MALFORMED,
                      "domain XML is not well-formed: line %d: %s", line, msg);
        return NULL;
    }
    g_free(st.message);
    if (doc->intSubset || doc->extSubset) {
        /* Cannot happen with the SAX hooks above; refuse anyway. */
        xmlFreeDoc(doc);
        vfx_set_error(error, VFX_ERROR_FORBIDDEN,
                      "domain XML has a DOCTYPE or entity declaration, which is not allowed");
        return NULL;
    }
    return doc;
}

xmlNode *
vfx_xml_domain_root(xmlDoc *doc, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(doc);

    if (!vfx_xml_is(root, "domain")) {
        vfx_set_error(error, VFX_ERROR_NOT_DOMAIN,
                      "domain XML: the root element is <%s>, not <domain>",
                      root ? (const char *)root->name : "(none)");
        return NULL;
    }
    return root;
}

gboolean
vfx_xml_is(xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns == NULL &&
           strcmp((const char *)node->name, name) == 0;
}

xmlNode *
vfx_xml_child(xmlNode *node, const char *name)
{
    if (!node)
        return NULL;
    for (xmlNode *c = node->children; c; c = c->next)
        if (vfx_xml_is(c, name))
            return c;
    return NULL;
}

char *
vfx_xml_prop(xmlNode *node, const char *name)
{
    xmlChar *v;
    char *ret;

    if (!node)
        return NULL;
    v = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!v)
        return NULL;
    ret = g_strdup((const char *)v);
    xmlFree(v);
    return ret;
}

char *
vfx_xml_child_text(xmlNode *node, const char *name)
{
    xmlNode *c = vfx_xml_child(node, name);
    xmlChar *v;
    char *ret;

    if (!c)
        return NULL;
    v = xmlNodeGetContent(c);
    if (!v)
        return NULL;
    ret = g_strstrip(g_strdup((const char *)v));
    xmlFree(v);
    return ret;
}

char *
vfx_mac_normalise(const char *mac)
{
    GString *s;

    if (!mac || strlen(mac) != 17)
        return NULL;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (mac[i] != ':')
                return NULL;
        } else if (!g_ascii_isxdigit(mac[i])) {
            return NULL;
        }
    }
    s = g_string_new(NULL);
    for (int i = 0; i < 17; i++)
        g_string_append_c(s, g_ascii_tolower(mac[i]));
    return g_string_free(s, FALSE);
}

static gboolean
vfx_hex_field(const char *s, gsize ndigits, guint *out)
{
    guint v = 0;

    for (gsize i = 0; i < ndigits; i++) {
        if (!g_ascii_isxdigit(s[i]))
            return FALSE;
        v = v * 16 + g_ascii_xdigit_value(s[i]);
    }
    *out = v;
    return TRUE;
}

gboolean
vfx_pci_parse(const char *addr, guint *domain, guint *bus, guint *slot,
              guint *function)
{
    /* DDDD:BB:SS.F, as in sysfs. */
    if (!addr || strlen(addr) != 12 || addr[4] != ':' || addr[7] != ':' ||
        addr[10] != '.')
        return FALSE;
    if (!vfx_hex_field(addr, 4, domain) || !vfx_hex_field(addr + 5, 2, bus) ||
        !vfx_hex_field(addr + 8, 2, slot) || !vfx_hex_field(addr + 11, 1, function))
        return FALSE;
    return *slot <= 0x1f && *function <= 7;
}

void
vfx_iface_free(VfxIface *iface)
{
    if (!iface)
        return;
    g_free(iface->type);
    g_free(iface->mac);
    g_free(iface->alias);
    g_free(iface->model);
    g_free(iface->source_path);
    g_free(iface->source_mode);
    g_free(iface->teaming);
    g_free(iface);
}

GPtrArray *
vfx_domain_interfaces(xmlNode *root)
{
    GPtrArray *ifaces = g_ptr_array_new_with_free_func((GDestroyNotify)vfx_iface_free);

    for (xmlNode *devs = root ? root->children : NULL; devs; devs = devs->next) {
        if (!vfx_xml_is(devs, "devices"))
            continue;
        for (xmlNode *n = devs->children; n; n = n->next) {
            VfxIface *iface;
            g_autofree char *mac = NULL;
            xmlNode *src;

            if (!vfx_xml_is(n, "interface"))
                continue;
            iface = g_new0(VfxIface, 1);
            iface->node = n;
            iface->type = vfx_xml_prop(n, "type");
            mac = vfx_xml_prop(vfx_xml_child(n, "mac"), "address");
            iface->mac = vfx_mac_normalise(mac);
            iface->alias = vfx_xml_prop(vfx_xml_child(n, "alias"), "name");
            iface->model = vfx_xml_prop(vfx_xml_child(n, "model"), "type");
            src = vfx_xml_child(n, "source");
            if (iface->type && strcmp(iface->type, "vhostuser") == 0) {
                iface->source_path = vfx_xml_prop(src, "path");
                iface->source_mode = vfx_xml_prop(src, "mode");
            }
            iface->teaming = vfx_xml_prop(vfx_xml_child(n, "teaming"), "type");
            g_ptr_array_add(ifaces, iface);
        }
    }
    return ifaces;
}

gboolean
vfx_iface_is_virtio(const VfxIface *iface)
{
    /* libvirt: virtio, virtio-transitional, virtio-non-transitional.
     * A vhost-user interface without <model> is virtio too. */
    if (iface->model)
        return g_str_has_prefix(iface->model, "virtio");
    return iface->type && strcmp(iface->type, "vhostuser") == 0;
}

gboolean
vfx_xml_is_annotated(const char *xml, gsize len)
{
    static const char uri[] = VFX_NAMESPACE;

    if (!xml || len < sizeof(uri) - 1)
        return FALSE;
    return memmem(xml, len, uri, sizeof(uri) - 1) != NULL;
}
