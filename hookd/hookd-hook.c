/* hookd's hook socket server (see hookd-hook.h): root-only, one framed
 * request and one framed reply per connection, bounded in size and time. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vf-frame.h"
#include "vf-socket.h"
#include "hookd-hook.h"

/* libvirtd waits for the hook: enough workers that a slow call does not
 * queue the others behind it. */
#define HOOK_WORKERS 8

struct _HookdHook {
    char *path;
    gsize max_bytes;
    guint timeout_ms;
    int listen_fd;
    guint watch_id;
    GThreadPool *workers;
    HookdHookHandler handler;
    gpointer user_data;
    gint served;        /* atomics */
    gint refused;
    gint bad;
};

static void
reply_error(JsonObject *reply, const char *message)
{
    json_object_set_boolean_member(reply, "ok", FALSE);
    json_object_set_string_member(reply, "error", message);
}

/* Parse and answer one request; fills @reply. */
static void
hook_answer(HookdHook *hook, JsonObject *request, JsonObject *reply)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out_xml = NULL;
    HookdHookCall call = { 0 };
    const char *xml;

    if (!(call.object = vf_msg_get_string(request, "object", &error)) ||
        !(call.operation = vf_msg_get_string(request, "operation", &error)) ||
        !(call.sub_operation = vf_msg_get_string(request, "sub_operation", &error)) ||
        !(call.extra = vf_msg_get_string(request, "extra", &error))) {
        g_atomic_int_inc(&hook->bad);
        g_warning("hook socket %s: bad request: %s", hook->path, error->message);
        reply_error(reply, error->message);
        return;
    }
    xml = vf_msg_get_string_opt(request, "xml", &error);
    if (error) {
        g_atomic_int_inc(&hook->bad);
        reply_error(reply, error->message);
        return;
    }
    call.xml = xml ? xml : "";
    call.xml_len = strlen(call.xml);

    if (hook->handler(&call, &out_xml, hook->user_data, &error)) {
        g_atomic_int_inc(&hook->served);
        json_object_set_boolean_member(reply, "ok", TRUE);
        if (out_xml)
            json_object_set_string_member(reply, "xml", out_xml);
    } else {
        g_atomic_int_inc(&hook->refused);
        g_warning("hook %s %s refused: %s", call.operation, call.sub_operation, error->message);
        reply_error(reply, error->message);
    }
}

static void
hook_serve_connection(gpointer fd_ptr, gpointer user_data)
{
    HookdHook *hook = user_data;
    int fd = GPOINTER_TO_INT(fd_ptr);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) reply = json_object_new();
    g_autoptr(JsonObject) request = NULL;

    if (!vf_socket_check_peer(fd, 0, &error)) {
        g_warning("hook socket %s: refused connection: %s", hook->path, error->message);
        reply_error(reply, error->message);
    } else if (!(request = vf_frame_read(fd, hook->max_bytes, hook->timeout_ms, &error))) {
        g_atomic_int_inc(&hook->bad);
        g_warning("hook socket %s: bad request: %s", hook->path, error->message);
        reply_error(reply, error->message);
    } else {
        hook_answer(hook, request, reply);
    }
    g_clear_error(&error);
    if (!vf_frame_write(fd, reply, hook->max_bytes, hook->timeout_ms, &error))
        g_debug("hook socket %s: reply not delivered: %s", hook->path, error->message);
    close(fd);
}

static gboolean
hook_on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
    HookdHook *hook = user_data;
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0) {
        if (errno != EAGAIN && errno != EINTR)
            g_warning("hook socket %s: accept failed: %s", hook->path, g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    g_thread_pool_push(hook->workers, GINT_TO_POINTER(conn), NULL);
    return G_SOURCE_CONTINUE;
}

HookdHook *
hookd_hook_new(VfConfig *cfg, HookdHookHandler handler, gpointer user_data, GError **error)
{
    g_autoptr(HookdHook) hook = g_new0(HookdHook, 1);

    hook->listen_fd = -1;
    hook->path = g_strdup(vf_config_get_string(cfg, "hookd", "socket"));
    hook->max_bytes = vf_config_get_int(cfg, "hookd", "max-message-bytes");
    hook->timeout_ms = vf_config_get_int(cfg, "hookd", "hook-timeout-ms");
    hook->handler = handler;
    hook->user_data = user_data;
    hook->listen_fd = vf_socket_listen(hook->path, error);
    if (hook->listen_fd < 0)
        return NULL;
    hook->workers = g_thread_pool_new(hook_serve_connection, hook, HOOK_WORKERS, FALSE, NULL);
    hook->watch_id = g_unix_fd_add(hook->listen_fd, G_IO_IN, hook_on_accept, hook);
    return g_steal_pointer(&hook);
}

void
hookd_hook_free(HookdHook *hook)
{
    if (!hook)
        return;
    if (hook->watch_id)
        g_source_remove(hook->watch_id);
    if (hook->workers)
        g_thread_pool_free(hook->workers, TRUE, TRUE);
    if (hook->listen_fd >= 0) {
        close(hook->listen_fd);
        unlink(hook->path);
    }
    g_free(hook->path);
    g_free(hook);
}

void
hookd_hook_counters(HookdHook *hook, guint64 *served, guint64 *refused, guint64 *bad)
{
    *served = (guint)g_atomic_int_get(&hook->served);
    *refused = (guint)g_atomic_int_get(&hook->refused);
    *bad = (guint)g_atomic_int_get(&hook->bad);
}
