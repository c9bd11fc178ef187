/* libvirt's event loop on GLib's default main context (hookd-event-glib.c). */
#pragma once

/* Register the implementation with virEventRegisterImpl. Call once, before
 * the first virConnectOpen. */
void hookd_event_glib_register(void);
