/* A test helper around libvfxml for shell tests: parse a domain XML file
 * and print one pair's VF device XML, its <qemu:device> override, or the
 * domain rewritten for an incoming migration.
 *
 *   vfx-tool render   FILE ALIAS|MAC (--pci DDDD:BB:SS.F | --tap TAP [--model M])
 *                     (the emulated VF on the domain's first free root port)
 *   vfx-tool override FILE ALIAS|MAC
 *   vfx-tool rewrite  FILE ALIAS|MAC [--pci P | --tap T] [--socket PATH]
 *
 * Exit 0 with the XML on stdout, or 1 with one error line on stderr. */
#include "config.h"

#include <string.h>
#include <stdio.h>

#include "vfx-domain.h"

static int
fail(const char *msg)
{
    fprintf(stderr, "vfx-tool: %s\n", msg);
    return 1;
}

int
main(int argc, char **argv)
{
    g_autofree char *xml = NULL, *pci = NULL, *tap = NULL, *sock = NULL, *model = NULL;
    g_autoptr(GOptionContext) oc = g_option_context_new("render|override|rewrite FILE ALIAS|MAC");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfxDomain) dom = NULL;
    GOptionEntry entries[] = {
        { "pci", 0, 0, G_OPTION_ARG_STRING, &pci, "kernel backend VF", "DDDD:BB:SS.F" },
        { "tap", 0, 0, G_OPTION_ARG_STRING, &tap, "emulated backend tap", "TAP" },
        { "model", 0, 0, G_OPTION_ARG_STRING, &model, "emulated VF model", "MODEL" },
        { "socket", 0, 0, G_OPTION_ARG_STRING, &sock, "destination vhost-user path", "PATH" },
        { NULL },
    };
    VfxPair *pair = NULL;
    VfxVf vf = { VFX_BACKEND_KERNEL, NULL, NULL, NULL, 0 };
    gsize len = 0;
    char *out = NULL;

    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &error))
        return fail(error->message);
    if (argc != 4)
        return fail("usage: vfx-tool render|override|rewrite FILE ALIAS|MAC [options]");
    if (!g_file_get_contents(argv[2], &xml, &len, &error))
        return fail(error->message);
    dom = vfx_domain_parse(xml, len, &error);
    if (!dom)
        return fail(error->message);
    for (guint i = 0; i < dom->pairs->len && !pair; i++) {
        VfxPair *p = dom->pairs->pdata[i];
        if (g_strcmp0(p->alias, argv[3]) == 0 || g_ascii_strcasecmp(p->mac, argv[3]) == 0)
            pair = p;
    }
    if (!pair)
        return fail("no pair for that interface");
    if (tap) {
        vf.backend = VFX_BACKEND_EMULATED;
        vf.tap = tap;
        vf.model = model;
        if (strcmp(argv[1], "render") == 0 && dom->free_root_ports->len > 0)
            vf.root_port = g_array_index(dom->free_root_ports, guint, 0);
    } else {
        vf.pci_address = pci;
    }

    if (strcmp(argv[1], "render") == 0) {
        if (!pci && !tap)
            return fail("render needs --pci or --tap");
        out = vfx_pair_render_vf(pair, &vf, &error);
    } else if (strcmp(argv[1], "override") == 0) {
        out = vfx_pair_render_qemu_override(pair);
        if (!out)
            return fail("no override for this pair (managed mode or no alias)");
    } else if (strcmp(argv[1], "rewrite") == 0) {
        VfxIncoming ch = { pair->alias, pair->mac, (pci || tap) ? &vf : NULL, sock };
        out = vfx_domain_rewrite_incoming(xml, len, &ch, 1, NULL, &error);
    } else {
        return fail("unknown command");
    }
    if (!out)
        return fail(error->message);
    fputs(out, stdout);
    g_free(out);
    return 0;
}
