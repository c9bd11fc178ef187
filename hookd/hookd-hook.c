/* hookd's hook socket server (see hookd-hook.h): root-only, one framed
 * request (a JSON frame, then the raw domain XML frame) and one framed
 * reply per connection, bounded in size and time,
 * served by worker threads that accept themselves. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vf-frame.h"
#include "vf-socket.h"
#include "hookd-hook.h"

/* libvirtd waits for the hook: enough workers that a slow call does not
 * queue the others behind it (libvirtd runs hooks of different domains
 * concurrently). */
#define HOOK_WORKERS 8

struct _HookdHook {
    char *path;
    gsize max_bytes;
    guint timeout_ms;
    int listen_fd;
    int stop_pipe[2];       /* closing [1] stops the workers */
    GThread *workers[HOOK_WORKERS];
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

/* Read the raw XML frame that follows the JSON request: a 4-byte
 * big-endian length, then that many bytes (0 allowed), within @deadline
 * (monotonic µs). The domain XML travels raw: escaping it into JSON and
 * parsing it back is most of a large hook call's cost. */
static char *
read_xml_frame(int fd, gsize max_bytes, gint64 deadline, gsize *len, GError **error)
{
    guint8 hdr[VF_FRAME_HEADER_BYTES];
    g_autofree char *buf = NULL;
    gsize want = sizeof(hdr), got = 0;
    guint8 *dst = hdr;
    guint32 n = 0;

    for (;;) {
        while (got < want) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            gint64 left = (deadline - g_get_monotonic_time()) / 1000;
            ssize_t r;

            if (left <= 0 || poll(&pfd, 1, left) == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                            "the domain XML did not arrive in time");
                return NULL;
            }
            r = read(fd, dst + got, want - got);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r <= 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                            "the peer closed before sending the whole domain XML");
                return NULL;
            }
            got += r;
        }
        if (dst != hdr)
            break;
        n = (guint32)hdr[0] << 24 | (guint32)hdr[1] << 16 | (guint32)hdr[2] << 8 | hdr[3];
        if (n > max_bytes) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                        "the domain XML (%u bytes) is larger than max-message-bytes (%zu)",
                        n, max_bytes);
            return NULL;
        }
        buf = g_malloc(n + 1);
        dst = (guint8 *)buf;
        want = n;
        got = 0;
    }
    buf[n] = '\0';
    *len = n;
    return g_steal_pointer(&buf);
}

/* Parse and answer one request (its XML frame still to be read); fills
 * @reply. */
static void
hook_answer(HookdHook *hook, int fd, gint64 deadline, JsonObject *request, JsonObject *reply)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out_xml = NULL;
    g_autofree char *xml = NULL;
    HookdHookCall call = { 0 };
    const char *bad;

    if (!(call.object = vf_msg_get_string(request, "object", &error)) ||
        !(call.operation = vf_msg_get_string(request, "operation", &error)) ||
        !(call.sub_operation = vf_msg_get_string(request, "sub_operation", &error)) ||
        !(call.extra = vf_msg_get_string(request, "extra", &error)) ||
        !(xml = read_xml_frame(fd, hook->max_bytes, deadline, &call.xml_len, &error))) {
        g_atomic_int_inc(&hook->bad);
        g_warning("hook socket %s: bad request: %s", hook->path, error->message);
        reply_error(reply, error->message);
        return;
    }
    if (!g_utf8_validate(xml, call.xml_len, &bad)) {
        g_atomic_int_inc(&hook->bad);
        g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "domain %s: %s %s: the domain XML is not valid UTF-8 (byte %td)",
                    call.object, call.operation, call.sub_operation, bad - xml);
        g_warning("%s", error->message);
        reply_error(reply, error->message);
        return;
    }
    call.xml = xml;

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
hook_serve_connection(int fd, HookdHook *hook)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) reply = json_object_new();
    g_autoptr(JsonObject) request = NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)hook->timeout_ms * 1000;

    if (!vf_socket_check_peer(fd, 0, &error)) {
        g_warning("hook socket %s: refused connection: %s", hook->path, error->message);
        reply_error(reply, error->message);
    } else if (!(request = vf_frame_read(fd, hook->max_bytes, hook->timeout_ms, &error))) {
        g_atomic_int_inc(&hook->bad);
        g_warning("hook socket %s: bad request: %s", hook->path, error->message);
        reply_error(reply, error->message);
    } else {
        hook_answer(hook, fd, deadline, request, reply);
    }
    g_clear_error(&error);
    if (!vf_frame_write(fd, reply, hook->max_bytes, hook->timeout_ms, &error))
        g_debug("hook socket %s: reply not delivered: %s", hook->path, error->message);
    close(fd);
}

/* Worker thread: accept and serve connections until the stop pipe closes.
 * Every worker waits on the shared listening socket itself, so a hook call
 * goes straight to a thread without a hop through the main loop (libvirtd
 * waits for every hook: this is its latency). */
static gpointer
hook_worker(gpointer data)
{
    HookdHook *hook = data;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
    int ep = epoll_create1(EPOLL_CLOEXEC);

    /* EPOLLEXCLUSIVE: a connection wakes one worker, not all of them. */
    ev.data.fd = hook->listen_fd;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, hook->listen_fd, &ev) < 0) {
        g_warning("hook socket %s: cannot set up a worker: %s", hook->path, g_strerror(errno));
        goto out;
    }
    ev.events = EPOLLIN;
    ev.data.fd = hook->stop_pipe[0];
    epoll_ctl(ep, EPOLL_CTL_ADD, hook->stop_pipe[0], &ev);
    for (;;) {
        struct epoll_event got;
        int conn;

        if (epoll_wait(ep, &got, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            g_warning("hook socket %s: epoll_wait failed: %s", hook->path, g_strerror(errno));
            break;
        }
        if (got.data.fd == hook->stop_pipe[0])
            break;      /* stop pipe closed */
        conn = accept4(hook->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            /* Another worker took it (EAGAIN), or a transient error. */
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                g_warning("hook socket %s: accept failed: %s", hook->path, g_strerror(errno));
            continue;
        }
        hook_serve_connection(conn, hook);
    }
out:
    if (ep >= 0)
        close(ep);
    return NULL;
}

HookdHook *
hookd_hook_new(VfConfig *cfg, HookdHookHandler handler, gpointer user_data, GError **error)
{
    g_autoptr(HookdHook) hook = g_new0(HookdHook, 1);
    int i;

    hook->listen_fd = -1;
    hook->stop_pipe[0] = hook->stop_pipe[1] = -1;
    hook->path = g_strdup(vf_config_get_string(cfg, "hookd", "socket"));
    hook->max_bytes = vf_config_get_int(cfg, "hookd", "max-message-bytes");
    hook->timeout_ms = vf_config_get_int(cfg, "hookd", "hook-timeout-ms");
    hook->handler = handler;
    hook->user_data = user_data;
    hook->listen_fd = vf_socket_listen(hook->path, error);
    if (hook->listen_fd < 0)
        return NULL;
    if (!g_unix_open_pipe(hook->stop_pipe, FD_CLOEXEC, error) ||
        !g_unix_set_fd_nonblocking(hook->listen_fd, TRUE, error))
        return NULL;
    for (i = 0; i < HOOK_WORKERS; i++)
        hook->workers[i] = g_thread_new("hook-worker", hook_worker, hook);
    return g_steal_pointer(&hook);
}

void
hookd_hook_free(HookdHook *hook)
{
    int i;

    if (!hook)
        return;
    if (hook->stop_pipe[1] >= 0)
        close(hook->stop_pipe[1]);
    for (i = 0; i < HOOK_WORKERS; i++)
        if (hook->workers[i])
            g_thread_join(hook->workers[i]);
    if (hook->stop_pipe[0] >= 0)
        close(hook->stop_pipe[0]);
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
