/* Unix-socket plumbing for the root-only hook, control and datapath sockets:
 * listen with mode 0600, check the peer with SO_PEERCRED, connect with a
 * timeout, and one request/response exchange for clients. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

/* Bind and listen on @path (parent directory created 0755 if missing, a
 * stale socket replaced, mode 0600). Returns the fd or -1 with error. */
int vf_socket_listen(const char *path, GError **error);

/* Connect to @path within @timeout_ms. Returns the fd or -1 with error. */
int vf_socket_connect(const char *path, guint timeout_ms, GError **error);

/* TRUE if the peer on @fd runs as @allowed_uid (normally 0, root). */
gboolean vf_socket_check_peer(int fd, uid_t allowed_uid, GError **error);

/* Connect, send @request, read the reply: one exchange per connection. The
 * whole exchange is bounded by @timeout_ms. */
JsonObject *vf_socket_call(const char *path, JsonObject *request, gsize max_bytes,
                           guint timeout_ms, GError **error);
