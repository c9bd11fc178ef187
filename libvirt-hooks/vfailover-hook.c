/* vfailover-hook: libvirt's qemu hook (installed as
 * /etc/libvirt/hooks/qemu.d/50-vfailover). Forwards argv and the domain XML
 * on stdin to vfailover-hookd's hook socket in one bounded request, prints
 * the replacement XML hookd returns for `migrate begin` / `restore begin`
 * (nothing = unchanged), and exits non-zero with one stderr line (which
 * libvirt shows in the failed operation's error) when hookd refuses.
 *
 * It never calls libvirt (libvirtd is blocked waiting for it), has no main
 * loop and links only libc (see hook-wire.h). Domains not annotated for
 * vfailover (our namespace nowhere in the XML) pass at once without asking
 * hookd. When hookd cannot be reached it fails closed for annotated domains
 * on the operations that start a domain, and lets everything else proceed. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook-wire.h"

/* The annotation namespace (VFX_NAMESPACE in xml/vfx-domain.h): a domain
 * whose XML contains it anywhere counts as annotated, the same byte search
 * as vfx_xml_is_annotated(); a false positive only makes us fail closed. */
#define VFX_NAMESPACE_URI "http://vfailover.org/schemas/domain/1.0"

static void __attribute__((format(printf, 1, 2)))
fail_line(const char *fmt, ...)
{
    va_list ap;
    fputs("vfailover: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Read all of stdin, at most @max bytes: NULL with *too_large or errno. */
static char *
read_stdin(size_t max, size_t *len, bool *too_large)
{
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap + 1);

    *too_large = false;
    if (!buf)
        abort();
    for (;;) {
        ssize_t n;
        if (used == cap) {
            if (cap > max) {
                *too_large = true;
                free(buf);
                return NULL;
            }
            cap = cap * 2 < max + 1 ? cap * 2 : max + 1;
            buf = realloc(buf, cap + 1);
            if (!buf)
                abort();
        }
        n = read(STDIN_FILENO, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return NULL;
        }
        if (n == 0)
            break;
        used += n;
        if (used > max) {
            *too_large = true;
            free(buf);
            return NULL;
        }
    }
    buf[used] = '\0';
    *len = used;
    return buf;
}

static bool
is_annotated(const char *xml, size_t len)
{
    return memmem(xml, len, VFX_NAMESPACE_URI, strlen(VFX_NAMESPACE_URI)) != NULL;
}

/* The operations a refusal protects: the domain is not running yet. */
static bool
starts_domain(const char *op)
{
    return strcmp(op, "prepare") == 0 || strcmp(op, "start") == 0 ||
           strcmp(op, "migrate") == 0 || strcmp(op, "restore") == 0;
}

static bool
prints_xml(const char *op, const char *sub)
{
    return (strcmp(op, "migrate") == 0 || strcmp(op, "restore") == 0) && strcmp(sub, "begin") == 0;
}

int
main(int argc, char **argv)
{
    HookConfig cfg;
    HookReply reply = { 0 };
    HookRequest req;
    char err[512] = "";
    char *xml, *nl;
    bool too_large, have_cfg;
    size_t len = 0;

    if (argc != 5) {
        fail_line("usage: %s DOMAIN OPERATION SUB-OPERATION EXTRA (run by libvirtd as its qemu hook)",
                  argc > 0 ? argv[0] : "vfailover-hook");
        return 2;
    }
    req.object = argv[1];
    req.operation = argv[2];
    req.sub_operation = argv[3];
    req.extra = argv[4];

    /* libvirtd clears the environment: VFAILOVER_CONFIG is for tests and
     * benchmarks only; under libvirt the default file is used. */
    have_cfg = hook_config_load(getenv("VFAILOVER_CONFIG"), &cfg, err, sizeof(err)) == 0;
    if (!have_cfg)
        cfg.max_bytes = 4194304;

    xml = read_stdin(cfg.max_bytes, &len, &too_large);
    if (!xml) {
        if (too_large)
            fail_line("domain %s: %s %s: the domain XML on stdin is larger than %zu bytes "
                      "(max-message-bytes in vfailover.conf)", req.object, req.operation,
                      req.sub_operation, cfg.max_bytes);
        else
            fail_line("domain %s: %s %s: cannot read the domain XML on stdin: %s", req.object,
                      req.operation, req.sub_operation, strerror(errno));
        return 1;
    }
    req.xml = xml;
    req.xml_len = len;

    /* Domains that are not annotated are none of vfailover's business:
     * they never wait for hookd, reachable or not. */
    if (!is_annotated(xml, len))
        return 0;

    if (!have_cfg ||
        hook_wire_call(cfg.socket, &req, cfg.max_bytes, cfg.timeout_ms, &reply, err, sizeof(err)) < 0) {
        /* hookd (or its configuration) is unavailable. */
        if (starts_domain(req.operation)) {
            fail_line("domain %s is annotated for vfailover but vfailover-hookd is not reachable "
                      "(%s): refusing %s %s", req.object, err, req.operation, req.sub_operation);
            return 1;
        }
        return 0;
    }
    if (!reply.ok) {
        char *line = reply.error ? reply.error : "vfailover-hookd refused without a reason";
        while ((nl = strpbrk(line, "\r\n")))
            *nl = ' ';
        fail_line("%s", line);
        return 1;
    }
    if (reply.xml && prints_xml(req.operation, req.sub_operation) &&
        (fputs(reply.xml, stdout) == EOF || fflush(stdout) == EOF)) {
        fail_line("domain %s: %s %s: cannot write the rewritten XML: %s", req.object,
                  req.operation, req.sub_operation, strerror(errno));
        return 1;
    }
    return 0;
}
