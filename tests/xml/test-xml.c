/* Data-driven tests of libvfxml. Every xml/examples/NAME.xml and
 * tests/xml/data/NAME.xml is parsed; for a valid one the pairs (JSON), the
 * rendered VF device XML and the incoming-migration rewrite are compared
 * with tests/xml/expected/NAME.{pairs.json,render.xml,rewrite.xml}; a
 * NAME-invalid.xml must fail with the one line in expected/NAME-invalid.err.
 * VFAILOVER_REGENERATE=1 rewrites the expected files (review the diff).
 * Hostile documents too big to keep as files are generated here. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vf-test.h"
#include "vfx-domain.h"

static gboolean regenerate;

static void
check_expected(const char *base, const char *suffix, const char *actual)
{
    g_autofree char *rel = g_strdup_printf("tests/xml/expected/%s.%s", base, suffix);
    g_autofree char *path = vf_test_srcpath(rel);
    g_autofree char *want = NULL;
    g_autoptr(GError) error = NULL;

    if (regenerate) {
        g_assert_true(g_file_set_contents(path, actual, -1, &error));
        g_test_message("regenerated %s", rel);
        return;
    }
    if (!g_file_get_contents(path, &want, NULL, &error))
        g_error("%s: %s (run with VFAILOVER_REGENERATE=1 to create it)", rel, error->message);
    if (strcmp(want, actual) != 0)
        g_error("%s differs from the actual output:\n%s", rel, actual);
}

/* The destination of the rewrite test: VF n gets PCI 0000:82:10.n (or tap
 * vfo-dst-n on the emulated backend), and each vhost-user socket moves to
 * /run/vfailover/dst/. */
static char *
rewrite_for_test(const char *base, const char *xml, gsize len, VfxDomain *dom)
{
    gboolean emulated = strstr(base, "emulated") != NULL;
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    g_autofree VfxIncoming *ch = g_new0(VfxIncoming, dom->pairs->len + 1);
    g_autofree VfxVf *vfs = g_new0(VfxVf, dom->pairs->len + 1);
    g_autoptr(GError) error = NULL;
    gboolean changed = FALSE;
    char *out;

    for (guint i = 0; i < dom->pairs->len; i++) {
        VfxPair *p = dom->pairs->pdata[i];
        char *pci = g_strdup_printf("0000:82:10.%u", i % 8);
        char *tap = g_strdup_printf("vfo-dst-%u", i);
        char *sock = g_strdup_printf("/run/vfailover/dst/%s.sock", p->alias ? p->alias : "mac");

        g_ptr_array_add(keep, pci);
        g_ptr_array_add(keep, tap);
        g_ptr_array_add(keep, sock);
        vfs[i].backend = emulated ? VFX_BACKEND_EMULATED : VFX_BACKEND_KERNEL;
        vfs[i].pci_address = pci;
        vfs[i].tap = tap;
        ch[i].alias = p->alias;
        ch[i].mac = p->mac;
        ch[i].vf = &vfs[i];
        ch[i].vhost_socket = p->vhost_socket ? sock : NULL;
    }
    out = vfx_domain_rewrite_incoming(xml, len, ch, dom->pairs->len, &changed, &error);
    if (!out)
        g_error("%s: rewrite failed: %s", base, error->message);
    return out;
}

/* Run one of the CLI entry points with in-memory streams. */
static int
run_cli(const char *path, int what, char **out, char **err)
{
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(out, &olen);
    FILE *e = open_memstream(err, &elen);
    int rc;

    g_assert_nonnull(o);
    g_assert_nonnull(e);
    if (what == 0)
        rc = vfx_cli_validate(path, FALSE, o, e);
    else if (what == 1)
        rc = vfx_cli_validate(path, TRUE, o, e);
    else
        rc = vfx_cli_render(path, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

static void
test_file(gconstpointer data)
{
    const char *path = data;
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = NULL;

    g_assert_true(g_file_get_contents(path, &xml, &len, &error));
    *strrchr(base, '.') = '\0';
    dom = vfx_domain_parse(xml, len, &error);

    if (g_str_has_suffix(base, "-invalid")) {
        g_autofree char *line = NULL, *out = NULL, *err = NULL;
        g_autofree char *want_err = NULL;

        if (dom)
            g_error("%s: parsed, but must fail", base);
        g_assert_null(strchr(error->message, '\n'));
        line = g_strdup_printf("%s\n", error->message);
        check_expected(base, "err", line);
        /* validate-xml: exit 1, nothing on stdout, "FILE: <the line>". */
        g_assert_cmpint(run_cli(path, 1, &out, &err), ==, 1);
        g_assert_cmpstr(out, ==, "");
        want_err = g_strdup_printf("%s: %s\n", path, error->message);
        g_assert_cmpstr(err, ==, want_err);
        return;
    }
    if (!dom)
        g_error("%s: %s", base, error->message);
    {
        g_autofree char *text = NULL, *json = NULL, *render = NULL, *err = NULL;
        g_autofree char *rewritten = rewrite_for_test(base, xml, len, dom);

        g_assert_cmpint(run_cli(path, 0, &text, &err), ==, 0);
        g_assert_cmpstr(err, ==, "");
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_cli(path, 1, &json, &err), ==, 0);
        g_assert_cmpstr(err, ==, "");
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_cli(path, 2, &render, &err), ==, 0);
        g_assert_cmpstr(err, ==, "");

        check_expected(base, "pairs.txt", text);
        check_expected(base, "pairs.json", json);
        check_expected(base, "render.xml", render);
        check_expected(base, "rewrite.xml", rewritten);
    }
    g_assert_cmpint(vfx_xml_is_annotated(xml, len), ==, dom->pairs->len > 0);
}

static void
expect_error(const char *xml, gsize len, VfxErrorCode code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = vfx_domain_parse(xml, len, &error);

    g_assert_null(dom);
    g_assert_error(error, VFX_ERROR, (gint)code);
    g_assert_null(strchr(error->message, '\n'));
    if (!strstr(error->message, fragment))
        g_error("error '%s' lacks '%s'", error->message, fragment);
}

static void
test_huge(void)
{
    gsize len = 100 * 1024 * 1024;
    g_autofree char *xml = g_malloc(len);

    memset(xml, ' ', len);
    memcpy(xml, "<domain>", 8);
    expect_error(xml, len, VFX_ERROR_TOO_LARGE, "over the limit of 4194304 bytes");
}

static void
test_deep(void)
{
    GString *s = g_string_new("<domain><name>deep</name><metadata>");

    for (int i = 0; i < 100000; i++)
        g_string_append(s, "<a>");
    for (int i = 0; i < 100000; i++)
        g_string_append(s, "</a>");
    g_string_append(s, "</metadata></domain>");
    expect_error(s->str, s->len, VFX_ERROR_MALFORMED,
                 "not well-formed: line 1: elements nested deeper than 256 levels");
    g_string_free(s, TRUE);
}

static void
test_garbage(void)
{
    guchar buf[4096];
    GRand *r = g_rand_new_with_seed(42);

    for (gsize i = 0; i < sizeof(buf); i++)
        buf[i] = g_rand_int_range(r, 1, 256);
    g_rand_free(r);
    expect_error((const char *)buf, sizeof(buf), VFX_ERROR_MALFORMED, "not well-formed");
    expect_error("\0\0\0", 3, VFX_ERROR_MALFORMED, "NUL byte");
    expect_error("", 0, VFX_ERROR_MALFORMED, "empty");
}

static void
test_cli_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("vfx-test-XXXXXX", NULL);
    g_autofree char *big = g_build_filename(dir, "big.xml", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.xml", NULL);
    g_autofree char *out = NULL, *err = NULL, *want = NULL;
    int fd;

    g_assert_nonnull(dir);
    /* A sparse 100 MB file: refused after reading at most the limit. */
    fd = open(big, O_CREAT | O_WRONLY, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 100 * 1024 * 1024), ==, 0);
    close(fd);
    g_assert_cmpint(run_cli(big, 0, &out, &err), ==, 1);
    want = g_strdup_printf("%s: domain XML is over the limit of 4194304 bytes\n", big);
    g_assert_cmpstr(err, ==, want);
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&want, g_free);

    g_assert_cmpint(run_cli(missing, 2, &out, &err), ==, 1);
    want = g_strdup_printf("cannot open %s: No such file or directory\n", missing);
    g_assert_cmpstr(err, ==, want);
    g_assert_cmpstr(out, ==, "");

    g_unlink(big);
    g_rmdir(dir);
}

/* Render and rewrite refuse what does not fit, with one line naming it. */
static void
test_render_rewrite_errors(void)
{
    g_autofree char *path = vf_test_srcpath("xml/examples/native-migrating.xml");
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = NULL;
    VfxPair *p;
    VfxVf bad_pci = { VFX_BACKEND_KERNEL, "3b:02.1", NULL, NULL, 0 };
    VfxVf bad_tap = { VFX_BACKEND_EMULATED, NULL, "tap/../x", NULL, 0 };
    VfxVf bad_model = { VFX_BACKEND_EMULATED, NULL, "vfo-dst-0", "rtl8139", 0 };
    VfxVf tap = { VFX_BACKEND_EMULATED, NULL, "vfo-dst-0", NULL, 0 };
    VfxVf pci = { VFX_BACKEND_KERNEL, "0000:82:10.7", NULL, NULL, 0 };
    VfxIncoming ch = { "ua-backup0", NULL, &tap, NULL };
    gboolean changed = TRUE;
    char *out;

    g_assert_true(g_file_get_contents(path, &xml, &len, NULL));
    dom = vfx_domain_parse(xml, len, &error);
    g_assert_no_error(error);
    p = dom->pairs->pdata[0];

    g_assert_null(vfx_pair_render_vf(p, &bad_pci, &error));
    g_assert_cmpstr(error->message, ==,
                    "pair for interface ua-backup0: VF PCI address '3b:02.1' is not DDDD:BB:SS.F");
    g_clear_error(&error);
    g_assert_null(vfx_pair_render_vf(p, &bad_tap, &error));
    g_assert_error(error, VFX_ERROR, VFX_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(vfx_pair_render_vf(p, &bad_model, &error));
    g_assert_cmpstr(error->message, ==,
                    "pair for interface ua-backup0: 'rtl8139' is not an emulated VF model");
    g_clear_error(&error);

    /* The kernel VF hostdev cannot take a tap. */
    g_assert_null(vfx_domain_rewrite_incoming(xml, len, &ch, 1, &changed, &error));
    g_assert_cmpstr(error->message, ==,
                    "domain vm-mig: pair for interface ua-backup0: the VF device "
                    "ua-vfo-5254006a0007 is type 'hostdev', not 'ethernet' as the emulated backend needs");
    g_clear_error(&error);

    ch.alias = "ua-nope";
    ch.vf = &pci;
    g_assert_null(vfx_domain_rewrite_incoming(xml, len, &ch, 1, &changed, &error));
    g_assert_cmpstr(error->message, ==,
                    "domain vm-mig: pair for interface ua-nope: no virtio interface with that alias");
    g_clear_error(&error);

    /* Nothing to change: same document back, changed = FALSE. */
    ch.alias = NULL;
    ch.mac = "52:54:00:6A:00:07";
    ch.vf = NULL;
    ch.vhost_socket = "/run/vfailover/vhost/vm-mig-0.sock";
    out = vfx_domain_rewrite_incoming(xml, len, &ch, 1, &changed, &error);
    g_assert_no_error(error);
    g_assert_false(changed);
    g_free(out);

    ch.vf = &pci;
    out = vfx_domain_rewrite_incoming(xml, len, &ch, 1, &changed, &error);
    g_assert_no_error(error);
    g_assert_true(changed);
    g_assert_nonnull(strstr(out, "bus=\"0x82\" slot=\"0x10\" function=\"0x7\""));
    g_free(out);
}

/* The free hot-plug root ports: a port is taken by any device whose own
 * guest address is on its bus (hex as libvirt writes it, or decimal), not by
 * a hostdev's host address; ports with hotplug='off' never count. The
 * emulated VF is rendered on the port it is given, with the model asked. */
static void
test_root_ports(void)
{
    static const char xml[] =
        "<domain type='qemu'><name>rp</name><devices>"
        "<controller type='pci' index='0' model='pcie-root'/>"
        "<controller type='pci' index='1' model='pcie-root-port'>"
        "  <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>"
        "</controller>"
        "<controller type='pci' index='2' model='pcie-root-port'/>"
        "<controller type='pci' index='3' model='pcie-root-port'><target hotplug='off'/></controller>"
        "<controller type='pci' index='4' model='pcie-root-port'/>"
        "<controller type='pci' index='5' model='pcie-root-port'/>"
        "<controller type='pci' index='10' model='pcie-root-port'/>"
        "<controller type='pci' index='11' model='pcie-to-pci-bridge'/>"
        "<interface type='bridge'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
        "  <address type='pci' bus='0x01' slot='0x00' function='0x0'/></interface>"
        "<hostdev mode='subsystem' type='pci'><source>"
        "  <address domain='0x0000' bus='0x02' slot='0x10' function='0x1'/></source>"
        "  <address type='pci' bus='4' slot='0' function='0'/></hostdev>"
        "<disk type='file'><address type='drive' bus='5'/></disk>"
        "</devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = vfx_domain_parse(xml, sizeof(xml) - 1, &error);
    VfxPair pair = { 0 };
    VfxVf vf = { VFX_BACKEND_EMULATED, NULL, "vfopf0v3", "e1000e", 5 };
    g_autofree char *out = NULL, *dflt = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(dom->free_root_ports->len, ==, 3);
    g_assert_cmpuint(g_array_index(dom->free_root_ports, guint, 0), ==, 2);
    g_assert_cmpuint(g_array_index(dom->free_root_ports, guint, 1), ==, 5);
    g_assert_cmpuint(g_array_index(dom->free_root_ports, guint, 2), ==, 10);

    pair.mac = (char *)"52:54:00:00:00:01";
    pair.mode = VFX_MODE_MANAGED;
    out = vfx_pair_render_vf(&pair, &vf, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(out, "<model type='e1000e'/>"));
    g_assert_nonnull(strstr(out, "<address type='pci' bus='0x05' slot='0x00' function='0x0'/>"));
    vf.model = NULL;
    vf.root_port = 0;
    dflt = vfx_pair_render_vf(&pair, &vf, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(dflt, "<model type='vmxnet3'/>"));
    g_assert_null(strstr(dflt, "<address"));
}

/* An interface's link state as libvirt's XML gives it (hookd leaves a
 * standby an operator set down alone). */
static void
test_interface_link(void)
{
    g_autofree char *path = vf_test_srcpath("xml/examples/native-migrating.xml");
    g_autofree char *xml = NULL, *state = NULL, *down = NULL;
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    char *at;

    g_assert_true(g_file_get_contents(path, &xml, &len, NULL));
    state = vfx_domain_interface_link_state(xml, len, "ua-backup0", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(state, ==, "up");

    at = strstr(xml, "<alias name='ua-backup0'/>");
    g_assert_nonnull(at);
    down = g_strdup_printf("%.*s<link state='down'/>%s", (int)(at - xml), xml, at);
    g_clear_pointer(&state, g_free);
    state = vfx_domain_interface_link_state(down, strlen(down), "ua-backup0", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(state, ==, "down");

    g_assert_null(vfx_domain_interface_link_state(xml, len, "ua-nope", &error));
    g_assert_cmpstr(error->message, ==, "domain XML: no interface with alias ua-nope");
    g_clear_error(&error);
    g_assert_null(vfx_domain_interface_link_state("<interface/>", 12, "ua-backup0", &error));
    g_assert_error(error, VFX_ERROR, VFX_ERROR_NOT_DOMAIN);
}

/* Untrusted values in errors stay on one printable, bounded line. */
static void
test_error_line(void)
{
    g_autoptr(GString) big = g_string_new(NULL);
    const char *nl = "<domain><name>vm\n1</name><metadata><v:failover "
                     "xmlns:v='" VFX_NAMESPACE "'><v:pair alias='a&#9;b'/></v:failover>"
                     "</metadata></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = vfx_domain_parse(nl, strlen(nl), &error);

    g_assert_null(dom);
    g_assert_cmpstr(error->message, ==,
                    "domain vm\\x0a1: pair for interface a\\x09b: needs <vfo:pf dev='...'/> "
                    "or <vfo:pool name='...'/>");
    g_clear_error(&error);

    g_string_append_printf(big, "<domain><name>vm</name><metadata><v:failover "
                           "xmlns:v='" VFX_NAMESPACE "'><v:pair alias='");
    for (int i = 0; i < 100000; i++)
        g_string_append_c(big, 'x');
    g_string_append(big, "'/></v:failover></metadata></domain>");
    g_assert_null(vfx_domain_parse(big->str, big->len, &error));
    g_assert_cmpuint(strlen(error->message), <=, 403);
    g_assert_true(g_str_has_suffix(error->message, "..."));
}

/* Random corruptions of every example (fixed seed): the parser and the
 * rewrite either succeed or fail with one line; they never crash. */
static void
test_mutations(void)
{
    g_autofree char *dir = vf_test_srcpath("xml/examples");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GRand *r = g_rand_new_with_seed(20261122);
    const char *n;
    guint failed = 0, total = 0;

    g_assert_nonnull(d);
    while ((n = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_autofree char *xml = NULL;
        gsize len;

        if (!g_str_has_suffix(n, ".xml") || !g_file_get_contents(path, &xml, &len, NULL))
            continue;
        for (int i = 0; i < 300; i++) {
            g_autofree char *m = g_memdup2(xml, len);
            gsize mlen = len;
            g_autoptr(GError) error = NULL;
            g_autoptr(VfxDomain) dom = NULL;
            int edits = g_rand_int_range(r, 1, 4);
            static const char pool[] = "<>/='\"&;:!- x0\n";

            for (int e = 0; e < edits; e++) {
                gsize at = g_rand_int_range(r, 0, (gint32)mlen);
                switch (g_rand_int_range(r, 0, 3)) {
                case 0: m[at] = pool[g_rand_int_range(r, 0, sizeof(pool) - 1)]; break;
                case 1: mlen = at + 1; break;
                default: m[at] = (char)g_rand_int_range(r, 1, 256); break;
                }
            }
            total++;
            dom = vfx_domain_parse(m, mlen, &error);
            if (!dom) {
                failed++;
                g_assert_nonnull(error);
                g_assert_null(strchr(error->message, '\n'));
            } else {
                VfxIncoming ch = { NULL, NULL, NULL, "/run/x.sock" };
                for (guint k = 0; k < dom->pairs->len; k++) {
                    VfxPair *p = dom->pairs->pdata[k];
                    g_autofree char *out = NULL;
                    g_autoptr(GError) e2 = NULL;

                    ch.alias = p->alias;
                    ch.mac = p->mac;
                    out = vfx_domain_rewrite_incoming(m, mlen, &ch, 1, NULL, &e2);
                    g_assert_true(out != NULL || e2 != NULL);
                }
            }
        }
    }
    g_rand_free(r);
    g_test_message("%u mutated documents, %u refused", total, failed);
    g_assert_cmpuint(failed, >, 0);
}

static void
test_annotated(void)
{
    const char *plain = "<domain><name>a</name></domain>";
    const char *ours = "<x xmlns:vfo='" VFX_NAMESPACE "'/>";

    g_assert_false(vfx_xml_is_annotated(plain, strlen(plain)));
    g_assert_true(vfx_xml_is_annotated(ours, strlen(ours)));
    g_assert_false(vfx_xml_is_annotated(NULL, 0));
    g_assert_false(vfx_xml_is_annotated(ours, 10));
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_dir(GPtrArray *files, const char *rel)
{
    g_autofree char *dir = vf_test_srcpath(rel);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;

    if (!d)
        g_error("cannot open %s", dir);
    while ((n = g_dir_read_name(d)))
        if (g_str_has_suffix(n, ".xml"))
            g_ptr_array_add(files, g_build_filename(dir, n, NULL));
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    g_test_init(&argc, &argv, NULL);
    regenerate = g_strcmp0(g_getenv("VFAILOVER_REGENERATE"), "1") == 0;

    add_dir(files, "xml/examples");
    add_dir(files, "tests/xml/data");
    g_ptr_array_sort(files, cmp_str);
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *base = g_path_get_basename(files->pdata[i]);
        g_autofree char *name = g_strdup_printf("/xml/file/%s", base);
        g_test_add_data_func(name, files->pdata[i], test_file);
    }
    g_test_add_func("/xml/hostile/huge", test_huge);
    g_test_add_func("/xml/hostile/deep", test_deep);
    g_test_add_func("/xml/hostile/garbage", test_garbage);
    g_test_add_func("/xml/hostile/mutations", test_mutations);
    g_test_add_func("/xml/annotated", test_annotated);
    g_test_add_func("/xml/cli/files", test_cli_files);
    g_test_add_func("/xml/render-rewrite-errors", test_render_rewrite_errors);
    g_test_add_func("/xml/error-line", test_error_line);
    g_test_add_func("/xml/interface-link", test_interface_link);
    g_test_add_func("/xml/root-ports", test_root_ports);
    return g_test_run();
}
