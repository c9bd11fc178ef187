/* The offline commands behind `vfailoverctl validate-xml FILE` and
 * `render-xml FILE`, and the text/JSON form of a domain's pairs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "vfx-private.h"

static void
vfx_json_str(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
vfx_json_uint(JsonBuilder *b, const char *key, guint value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, value);
}

char *
vfx_domain_to_json(const VfxDomain *dom)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    vfx_json_str(b, "domain", dom->name);
    vfx_json_str(b, "uuid", dom->uuid);
    json_builder_set_member_name(b, "pairs");
    json_builder_begin_array(b);
    for (guint i = 0; i < dom->pairs->len; i++) {
        const VfxPair *p = dom->pairs->pdata[i];
        g_autofree char *vf_alias = vfx_pair_vf_alias(p);

        json_builder_begin_object(b);
        vfx_json_str(b, "alias", p->alias);
        vfx_json_str(b, "mac", p->mac);
        vfx_json_str(b, "vf_alias", vf_alias);
        vfx_json_str(b, "vhost_socket", p->vhost_socket);
        vfx_json_str(b, "vhost_mode", p->vhost_socket ? (p->vhost_server ? "server" : "client") : NULL);
        vfx_json_str(b, "pf", p->pf);
        vfx_json_str(b, "pool", p->pool);
        vfx_json_uint(b, "vlan", p->vlan);
        vfx_json_uint(b, "vlan_qos", p->vlan_qos);
        vfx_json_uint(b, "qinq_outer", p->qinq_outer);
        vfx_json_str(b, "spoofchk", vfx_tristate_to_string(p->spoofchk));
        vfx_json_str(b, "trust", vfx_tristate_to_string(p->trust));
        vfx_json_str(b, "link_state", vfx_link_state_to_string(p->link_state));
        vfx_json_uint(b, "min_tx_rate_mbps", p->min_tx_rate_mbps);
        vfx_json_uint(b, "max_tx_rate_mbps", p->max_tx_rate_mbps);
        vfx_json_str(b, "mode", vfx_mode_to_string(p->mode));
        vfx_json_str(b, "no_vf", vfx_no_vf_to_string(p->no_vf));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 2);
    return json_generator_to_data(gen, NULL);
}

char *
vfx_domain_to_text(const VfxDomain *dom)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "domain %s uuid %s: %u pair%s\n", dom->name,
                           dom->uuid ? dom->uuid : "-", dom->pairs->len,
                           dom->pairs->len == 1 ? "" : "s");
    for (guint i = 0; i < dom->pairs->len; i++) {
        const VfxPair *p = dom->pairs->pdata[i];

        g_string_append_printf(s, "pair alias=%s mac=%s %s=%s vlan=%u vlan-qos=%u "
                               "qinq-outer=%u spoofchk=%s trust=%s link=%s "
                               "min-tx-mbps=%u max-tx-mbps=%u mode=%s no-vf=%s",
                               p->alias ? p->alias : "-", p->mac,
                               p->pf ? "pf" : "pool", p->pf ? p->pf : p->pool,
                               p->vlan, p->vlan_qos, p->qinq_outer,
                               vfx_tristate_to_string(p->spoofchk),
                               vfx_tristate_to_string(p->trust),
                               vfx_link_state_to_string(p->link_state),
                               p->min_tx_rate_mbps, p->max_tx_rate_mbps,
                               vfx_mode_to_string(p->mode), vfx_no_vf_to_string(p->no_vf));
        if (p->vhost_socket)
            g_string_append_printf(s, " vhost-socket=%s vhost-mode=%s", p->vhost_socket,
                                   p->vhost_server ? "server" : "client");
        g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}

/* Read at most VFX_MAX_DOCUMENT_BYTES (+1 to notice a bigger file) so a
 * 100 MB file is refused without being read. */
static char *
vfx_cli_read(const char *path, gsize *len, GError **error)
{
    g_autofree char *buf = NULL;
    gsize cap = VFX_MAX_DOCUMENT_BYTES + 1, got = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "cannot open %s: %s", path, g_strerror(e));
        return NULL;
    }
    buf = g_malloc(cap);
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                        "cannot read %s: %s", path, g_strerror(e));
            return NULL;
        }
        if (n == 0)
            break;
        got += n;
    }
    close(fd);
    if (got > VFX_MAX_DOCUMENT_BYTES) {
        vfx_set_error(error, VFX_ERROR_TOO_LARGE,
                      "%s: domain XML is over the limit of %d bytes", path,
                      VFX_MAX_DOCUMENT_BYTES);
        return NULL;
    }
    *len = got;
    return g_steal_pointer(&buf);
}

static VfxDomain *
vfx_cli_load(const char *path, FILE *err)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    gsize len = 0;
    VfxDomain *dom;

    xml = vfx_cli_read(path, &len, &error);
    if (!xml) {
        fprintf(err, "%s\n", error->message);
        return NULL;
    }
    dom = vfx_domain_parse(xml, len, &error);
    if (!dom) {
        fprintf(err, "%s: %s\n", path, error->message);
        return NULL;
    }
    return dom;
}

int
vfx_cli_validate(const char *path, gboolean json, FILE *out, FILE *err)
{
    g_autoptr(VfxDomain) dom = vfx_cli_load(path, err);
    g_autofree char *text = NULL;

    if (!dom)
        return 1;
    text = json ? vfx_domain_to_json(dom) : vfx_domain_to_text(dom);
    fputs(text, out);
    if (json)
        fputc('\n', out);
    return 0;
}

int
vfx_cli_render(const char *path, FILE *out, FILE *err)
{
    g_autoptr(VfxDomain) dom = vfx_cli_load(path, err);

    if (!dom)
        return 1;
    if (dom->pairs->len == 0)
        fprintf(out, "<!-- domain %s has no vfailover pairs -->\n", dom->name);
    for (guint i = 0; i < dom->pairs->len; i++) {
        const VfxPair *p = dom->pairs->pdata[i];
        g_autofree char *tap = g_strdup_printf("vfo-tap%u", i);
        VfxVf kernel = { VFX_BACKEND_KERNEL, "0000:00:00.0", NULL, NULL, 0 };
        /* Each pair's stand-in on its own free root port, if there are
         * enough; libvirt does not place every model on PCIe itself. */
        VfxVf emulated = { VFX_BACKEND_EMULATED, NULL, tap, NULL,
                           i < dom->free_root_ports->len ?
                               g_array_index(dom->free_root_ports, guint, i) : 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *k = NULL, *e = NULL, *o = NULL;
        const char *who = p->alias ? p->alias : p->mac;

        k = vfx_pair_render_vf(p, &kernel, &error);
        if (k)
            e = vfx_pair_render_vf(p, &emulated, &error);
        if (!k || !e) {
            fprintf(err, "%s: domain %s: %s\n", path, dom->name, error->message);
            return 1;
        }
        o = vfx_pair_render_qemu_override(p);
        fprintf(out, "<!-- pair %s (%s), %s mode: kernel backend, placeholder VF 0000:00:00.0 -->\n%s",
                who, p->mac, vfx_mode_to_string(p->mode), k);
        fprintf(out, "<!-- pair %s (%s), %s mode: emulated backend, placeholder tap %s%s -->\n%s",
                who, p->mac, vfx_mode_to_string(p->mode), tap,
                emulated.root_port ? "" : "; no free pcie-root-port for it: add one and "
                "give the device its <address type='pci' bus='N'/>", e);
        if (o)
            fprintf(out, "<!-- pair %s: emulated backend, inside the domain's <qemu:override> -->\n%s",
                    who, o);
    }
    return 0;
}
