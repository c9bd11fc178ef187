/* The libvirt domain event table (hookd-events.c): which events hookd
 * listens to and the callback for each. Callbacks run on the main loop with
 * the HookdDaemon as opaque; they record what happened on the domain's
 * timeline and move pairs between states. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>

typedef struct {
    const char *name;                            /* for logs; NULL ends the table */
    int event_id;                                /* VIR_DOMAIN_EVENT_ID_* */
    virConnectDomainEventGenericCallback cb;     /* VIR_DOMAIN_EVENT_CALLBACK(...) */
    const char *qemu_event;                      /* non-NULL: a QEMU monitor event */
    virConnectDomainQemuMonitorEventCallback qemu_cb;
} HookdEventDef;

extern const HookdEventDef hookd_event_table[];
