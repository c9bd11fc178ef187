/* The hook's side of the hook protocol, in plain libc (hook-wire.c).
 *
 * libvirtd execs the hook for every operation of every domain, so its
 * start-up is the cost that matters: loading GLib + json-glib alone takes
 * longer than a whole `#!/bin/sh` hook (measured: tests/bench/hook-latency).
 * The hook therefore links nothing but libc and speaks the same frames as
 * common/vf-frame.c (4-byte big-endian length + one JSON object with
 * "protocol": 1) with a writer for its one request and a reader for the
 * reply's few members; the domain XML follows the request as a second,
 * raw frame (no JSON escaping on either side). hookd uses vf-frame. See
 * hookd/hookd-hook.h for the exchange. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *object, *operation, *sub_operation, *extra;
    const char *xml;
    size_t xml_len;
} HookRequest;

typedef struct {
    bool ok;
    char *error;    /* malloc'd, NULL if absent */
    char *xml;      /* malloc'd, NULL if absent */
} HookReply;

void hook_reply_clear(HookReply *reply);

/* Connect to @path, send @req, read the reply; the whole exchange within
 * @timeout_ms, frames of at most @max_bytes. Returns 0, or -1 with a
 * message in @err. */
int hook_wire_call(const char *path, const HookRequest *req, size_t max_bytes,
                   unsigned timeout_ms, HookReply *reply, char *err, size_t errlen);

/* The [hookd] keys the hook needs from vfailover.conf (see
 * vfailover.conf(5)); hookd validates the whole file, the hook only picks
 * these. Missing file = defaults. Returns 0, or -1 with a message. */
typedef struct {
    char socket[108];
    unsigned timeout_ms;
    size_t max_bytes;
} HookConfig;

int hook_config_load(const char *path, HookConfig *cfg, char *err, size_t errlen);
