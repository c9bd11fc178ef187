/* hookd's libvirt connection (hookd-libvirt.c): opened on the main loop,
 * kept alive with keepalive probes, watched with a close callback, reopened
 * with exponential backoff when libvirtd goes away; the domain event table
 * (hookd-events.h) is registered on every new connection and the owner is
 * told to resync. Main loop only. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>

#include "hookd-events.h"

typedef struct _HookdLibvirt HookdLibvirt;

/* @on_connected runs on the main loop after each successful (re)connect,
 * once the events are registered: resync live domains there. */
typedef void (*HookdLibvirtConnected)(virConnectPtr conn, gpointer user_data);

HookdLibvirt *hookd_libvirt_new(const char *uri, HookdLibvirtConnected on_connected,
                                gpointer user_data);
void hookd_libvirt_free(HookdLibvirt *lv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdLibvirt, hookd_libvirt_free)

/* First connection attempt (then retries by itself). */
void hookd_libvirt_start(HookdLibvirt *lv);

/* The live connection or NULL while disconnected. Borrowed. */
virConnectPtr hookd_libvirt_conn(HookdLibvirt *lv);

/* {"uri", "state": "connected"|"disconnected", "since", "connects",
 *  "last_error"} for the status command. */
JsonObject *hookd_libvirt_status(HookdLibvirt *lv);
