/* libvirt's event loop implemented with GLib sources on the default main
 * context, so libvirt's client I/O, keepalive timers and domain event
 * callbacks run on hookd's main loop (the same idea as libvirt-glib's
 * libvirt-glib-event.c, written small for hookd).
 *
 * libvirt may add, update and remove watches and timers from inside their
 * own callbacks, and expects the free callback of a removed one not to run
 * before the remove call returns: removal destroys the GSource at once and
 * defers the record's free (and libvirt's free callback) to an idle. */
#include "config.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>

#include "hookd-event-glib.h"

typedef struct {
    int id;
    int fd;                 /* -1 for a timer */
    int events;             /* handles: VIR_EVENT_HANDLE_* wanted */
    int interval;           /* timers: ms, -1 = disabled */
    GSource *source;
    virEventHandleCallback handle_cb;
    virEventTimeoutCallback timeout_cb;
    void *opaque;
    virFreeCallback ff;
    gboolean removed;
} EventRecord;

static GMutex event_lock;
static GHashTable *handles;  /* id -> EventRecord* */
static GHashTable *timers;   /* id -> EventRecord* */
static int next_handle_id = 1;
static int next_timer_id = 1;

static GIOCondition
events_to_condition(int events)
{
    GIOCondition cond = 0;
    if (events & VIR_EVENT_HANDLE_READABLE)
        cond |= G_IO_IN;
    if (events & VIR_EVENT_HANDLE_WRITABLE)
        cond |= G_IO_OUT;
    /* Errors and hangups are always reported (poll does the same). */
    return cond | G_IO_ERR | G_IO_HUP;
}

static int
condition_to_events(GIOCondition cond)
{
    int events = 0;
    if (cond & G_IO_IN)
        events |= VIR_EVENT_HANDLE_READABLE;
    if (cond & G_IO_OUT)
        events |= VIR_EVENT_HANDLE_WRITABLE;
    if (cond & G_IO_ERR)
        events |= VIR_EVENT_HANDLE_ERROR;
    if (cond & G_IO_HUP)
        events |= VIR_EVENT_HANDLE_HANGUP;
    return events;
}

static gboolean
handle_dispatch(gint fd, GIOCondition cond, gpointer data)
{
    EventRecord *r = data;
    virEventHandleCallback cb;
    void *opaque;
    int id;

    g_mutex_lock(&event_lock);
    if (r->removed) {
        g_mutex_unlock(&event_lock);
        return G_SOURCE_CONTINUE;
    }
    cb = r->handle_cb;
    opaque = r->opaque;
    id = r->id;
    g_mutex_unlock(&event_lock);
    cb(id, fd, condition_to_events(cond), opaque);
    return G_SOURCE_CONTINUE;
}

static gboolean
timer_dispatch(gpointer data)
{
    EventRecord *r = data;
    virEventTimeoutCallback cb;
    void *opaque;
    int id;

    g_mutex_lock(&event_lock);
    if (r->removed) {
        g_mutex_unlock(&event_lock);
        return G_SOURCE_CONTINUE;
    }
    cb = r->timeout_cb;
    opaque = r->opaque;
    id = r->id;
    g_mutex_unlock(&event_lock);
    cb(id, opaque);
    return G_SOURCE_CONTINUE;
}

/* Caller holds event_lock. */
static void
record_drop_source(EventRecord *r)
{
    if (r->source) {
        g_source_destroy(r->source);
        g_source_unref(r->source);
        r->source = NULL;
    }
}

/* Caller holds event_lock. */
static void
handle_arm(EventRecord *r)
{
    record_drop_source(r);
    if (r->events == 0)
        return;
    r->source = g_unix_fd_source_new(r->fd, events_to_condition(r->events));
    g_source_set_callback(r->source, (GSourceFunc)(void (*)(void))handle_dispatch, r, NULL);
    g_source_set_static_name(r->source, "libvirt-handle");
    g_source_attach(r->source, NULL);
}

/* Caller holds event_lock. */
static void
timer_arm(EventRecord *r)
{
    record_drop_source(r);
    if (r->interval < 0)
        return;
    r->source = g_timeout_source_new(r->interval);
    g_source_set_callback(r->source, timer_dispatch, r, NULL);
    g_source_set_static_name(r->source, "libvirt-timer");
    g_source_attach(r->source, NULL);
}

static gboolean
record_free_idle(gpointer data)
{
    EventRecord *r = data;
    if (r->ff)
        r->ff(r->opaque);
    g_free(r);
    return G_SOURCE_REMOVE;
}

static int
record_remove(GHashTable *table, int id)
{
    EventRecord *r;

    g_mutex_lock(&event_lock);
    r = g_hash_table_lookup(table, GINT_TO_POINTER(id));
    if (!r) {
        g_mutex_unlock(&event_lock);
        return -1;
    }
    g_hash_table_remove(table, GINT_TO_POINTER(id));
    r->removed = TRUE;
    record_drop_source(r);
    g_mutex_unlock(&event_lock);
    g_idle_add(record_free_idle, r);
    return 0;
}

static int
add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
    EventRecord *r = g_new0(EventRecord, 1);

    r->fd = fd;
    r->events = events;
    r->handle_cb = cb;
    r->opaque = opaque;
    r->ff = ff;
    g_mutex_lock(&event_lock);
    r->id = next_handle_id++;
    g_hash_table_insert(handles, GINT_TO_POINTER(r->id), r);
    handle_arm(r);
    g_mutex_unlock(&event_lock);
    return r->id;
}

static void
update_handle(int id, int events)
{
    EventRecord *r;

    g_mutex_lock(&event_lock);
    r = g_hash_table_lookup(handles, GINT_TO_POINTER(id));
    if (r && r->events != events) {
        r->events = events;
        handle_arm(r);
    }
    g_mutex_unlock(&event_lock);
}

static int
remove_handle(int id)
{
    return record_remove(handles, id);
}

static int
add_timeout(int interval, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
    EventRecord *r = g_new0(EventRecord, 1);

    r->fd = -1;
    r->interval = interval;
    r->timeout_cb = cb;
    r->opaque = opaque;
    r->ff = ff;
    g_mutex_lock(&event_lock);
    r->id = next_timer_id++;
    g_hash_table_insert(timers, GINT_TO_POINTER(r->id), r);
    timer_arm(r);
    g_mutex_unlock(&event_lock);
    return r->id;
}

static void
update_timeout(int id, int interval)
{
    EventRecord *r;

    g_mutex_lock(&event_lock);
    r = g_hash_table_lookup(timers, GINT_TO_POINTER(id));
    if (r && r->interval != interval) {
        r->interval = interval;
        timer_arm(r);
    }
    g_mutex_unlock(&event_lock);
}

static int
remove_timeout(int id)
{
    return record_remove(timers, id);
}

void
hookd_event_glib_register(void)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        handles = g_hash_table_new(NULL, NULL);
        timers = g_hash_table_new(NULL, NULL);
        virEventRegisterImpl(add_handle, update_handle, remove_handle,
                             add_timeout, update_timeout, remove_timeout);
        g_once_init_leave(&once, 1);
    }
}
