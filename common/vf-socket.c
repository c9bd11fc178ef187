/* Root-only Unix sockets and the client side of one exchange (vf-socket.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vf-frame.h"
#include "vf-socket.h"

static gboolean
fill_addr(const char *path, struct sockaddr_un *addr, GError **error)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "socket path %s is longer than %zu bytes", path,
                    sizeof(addr->sun_path) - 1);
        return FALSE;
    }
    strcpy(addr->sun_path, path);
    return TRUE;
}

int
vf_socket_listen(const char *path, GError **error)
{
    struct sockaddr_un addr;
    g_autofree char *dir = g_path_get_dirname(path);
    mode_t old_umask;
    int fd, rc;

    if (!fill_addr(path, &addr, error))
        return -1;
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create socket directory %s: %s", dir, g_strerror(errno));
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create socket for %s: %s", path, g_strerror(errno));
        return -1;
    }
    /* A socket file left by a crashed instance would make bind fail. */
    if (g_unlink(path) < 0 && errno != ENOENT) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot remove stale socket %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    /* Create it 0600 from the start: no window where others may connect. */
    old_umask = umask(0177);
    rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old_umask);
    if (rc < 0 || listen(fd, 64) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot listen on %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int
vf_socket_connect(const char *path, guint timeout_ms, GError **error)
{
    struct sockaddr_un addr;
    int fd;

    if (!fill_addr(path, &addr, error))
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create socket: %s", g_strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (errno == EINPROGRESS || errno == EAGAIN) {
            /* Backlog full: wait for the listener, bounded. */
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            if (poll(&pfd, 1, timeout_ms) <= 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                            "timed out after %u ms connecting to %s", timeout_ms, path);
                close(fd);
                return -1;
            }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr == 0)
                return fd;
            errno = soerr;
        }
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot connect to %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

gboolean
vf_socket_check_peer(int fd, uid_t allowed_uid, GError **error)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot read peer credentials: %s", g_strerror(errno));
        return FALSE;
    }
    if (cred.uid != allowed_uid) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "peer pid %d runs as uid %u, only uid %u may connect",
                    (int)cred.pid, (unsigned)cred.uid, (unsigned)allowed_uid);
        return FALSE;
    }
    return TRUE;
}

JsonObject *
vf_socket_call(const char *path, JsonObject *request, gsize max_bytes,
               guint timeout_ms, GError **error)
{
    gint64 start = g_get_monotonic_time();
    gint64 spent_ms;
    JsonObject *reply;
    int fd;

    fd = vf_socket_connect(path, timeout_ms, error);
    if (fd < 0)
        return NULL;
    if (!vf_frame_write(fd, request, max_bytes, timeout_ms, error)) {
        /* A server that refuses us (wrong uid, bad request) replies with
         * its reason and closes without reading: prefer that reply over
         * our EPIPE when it is there. */
        g_autoptr(GError) read_error = NULL;
        reply = vf_frame_read(fd, max_bytes, 200, &read_error);
        close(fd);
        if (reply)
            g_clear_error(error);
        return reply;
    }
    spent_ms = (g_get_monotonic_time() - start) / 1000;
    reply = vf_frame_read(fd, max_bytes,
                          spent_ms >= timeout_ms ? 1 : timeout_ms - (guint)spent_ms, error);
    close(fd);
    return reply;
}
