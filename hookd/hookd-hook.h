/* hookd's hook socket: the server side of vfailover-hook's one
 * request/reply exchange (hookd-hook.c). The wire format is documented in
 * vfailover-hook(8):
 *
 *   request  frame 1: {"protocol": 1, "object": DOMAIN, "operation": OP,
 *                      "sub_operation": SUB, "extra": EXTRA}
 *            frame 2: the domain XML from stdin, raw (4-byte big-endian
 *                     length, then the bytes; length 0 when stdin is empty)
 *   reply    {"protocol": 1, "ok": true [, "xml": NEW_DOMAIN_XML]}
 *         or {"protocol": 1, "ok": false, "error": ONE_LINE}
 *
 * Connections are served on worker threads, and so are the handlers: they
 * must answer quickly, never call libvirt (libvirtd is blocked waiting for
 * the hook) and queue follow-up work to the main loop. */
#pragma once

#include <glib.h>

#include "vf-config.h"

typedef struct {
    const char *object;         /* domain name (argv[1]) */
    const char *operation;      /* prepare, start, started, ... */
    const char *sub_operation;  /* begin, end, - */
    const char *extra;
    const char *xml;            /* stdin: the domain XML ("" if none) */
    gsize xml_len;
} HookdHookCall;

/* Answer one call: return TRUE to let libvirt proceed (with *out_xml set to
 * replace the domain XML for migrate/restore begin, or left NULL), FALSE
 * with @error (one line) to abort the operation. Runs on a worker thread. */
typedef gboolean (*HookdHookHandler)(const HookdHookCall *call, char **out_xml,
                                     gpointer user_data, GError **error);

typedef struct _HookdHook HookdHook;

HookdHook *hookd_hook_new(VfConfig *cfg, HookdHookHandler handler, gpointer user_data,
                          GError **error);
void hookd_hook_free(HookdHook *hook);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdHook, hookd_hook_free)

/* Calls served and refused so far (status). */
void hookd_hook_counters(HookdHook *hook, guint64 *served, guint64 *refused, guint64 *bad);
