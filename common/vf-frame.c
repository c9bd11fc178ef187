/* Length-prefixed JSON framing with bounded size and time (see vf-frame.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf-frame.h"

G_DEFINE_QUARK(vf-frame-error-quark, vf_frame_error)

static const char *
node_type_name(JsonNode *node)
{
    if (!node || JSON_NODE_HOLDS_NULL(node))
        return "null";
    if (JSON_NODE_HOLDS_OBJECT(node))
        return "object";
    if (JSON_NODE_HOLDS_ARRAY(node))
        return "array";
    if (json_node_get_value_type(node) == G_TYPE_INT64)
        return "integer";
    if (json_node_get_value_type(node) == G_TYPE_BOOLEAN)
        return "boolean";
    if (json_node_get_value_type(node) == G_TYPE_DOUBLE)
        return "number";
    return "string";
}

JsonObject *
vf_frame_decode(const char *payload, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    const char *bad = NULL;
    JsonNode *root;
    JsonObject *obj;
    JsonNode *version; /* the "protocol" member */

    if (!g_utf8_validate_len(payload, len, &bad)) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_ENCODING,
                    "message is not valid UTF-8 (bad byte at offset %" G_GSIZE_FORMAT ")",
                    (gsize)(bad - payload));
        return NULL;
    }
    if (!json_parser_load_from_data(parser, payload, len, &local)) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_SYNTAX,
                    "message is not valid JSON: %s", local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE,
                    "message must be a JSON object, got %s", node_type_name(root));
        return NULL;
    }
    obj = json_node_get_object(root);
    version = json_object_get_member(obj, "protocol");
    if (!version) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE,
                    "message has no 'protocol' member");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(version) ||
        json_node_get_value_type(version) != G_TYPE_INT64) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE,
                    "member 'protocol' must be an integer, got %s", node_type_name(version));
        return NULL;
    }
    if (json_node_get_int(version) != VF_PROTO_VERSION) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_VERSION,
                    "unsupported protocol version %" G_GINT64_FORMAT " (this side speaks %d)",
                    json_node_get_int(version), VF_PROTO_VERSION);
        return NULL;
    }
    return json_object_ref(obj);
}

GBytes *
vf_frame_encode(JsonObject *msg, gsize max_bytes, GError **error)
{
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;
    gsize len = 0;
    guint8 *buf;

    json_object_set_int_member(msg, "protocol", VF_PROTO_VERSION);
    json_node_set_object(root, msg);
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, &len);
    if (len == 0 || len > max_bytes || len > G_MAXUINT32) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TOO_LARGE,
                    "message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %" G_GSIZE_FORMAT " bytes",
                    len, max_bytes);
        return NULL;
    }
    buf = g_malloc(VF_FRAME_HEADER_BYTES + len);
    buf[0] = (len >> 24) & 0xff;
    buf[1] = (len >> 16) & 0xff;
    buf[2] = (len >> 8) & 0xff;
    buf[3] = len & 0xff;
    memcpy(buf + VF_FRAME_HEADER_BYTES, text, len);
    return g_bytes_new_take(buf, VF_FRAME_HEADER_BYTES + len);
}

/* Milliseconds left until @deadline (monotonic µs), at least 0. */
static int
ms_left(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, G_MAXINT);
}

/* Wait for @events on @fd before @deadline. FALSE with error on timeout. */
static gboolean
wait_fd(int fd, short events, gint64 deadline, guint timeout_ms, const char *what,
        GError **error)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int ms = ms_left(deadline);
        int rc;

        if (ms == 0) {
            g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TIMEOUT,
                        "timed out after %u ms %s", timeout_ms, what);
            return FALSE;
        }
        rc = poll(&pfd, 1, ms);
        if (rc > 0)
            return TRUE;
        if (rc < 0 && errno != EINTR) {
            g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_IO,
                        "poll failed %s: %s", what, g_strerror(errno));
            return FALSE;
        }
    }
}

/* Read exactly @len bytes. Returns bytes read (== @len on success); on EOF
 * returns the short count without error; -1 with error otherwise. */
static gssize
read_full(int fd, guint8 *buf, gsize len, gint64 deadline, guint timeout_ms,
          const char *what, GError **error)
{
    gsize done = 0;

    while (done < len) {
        gssize n;

        if (!wait_fd(fd, POLLIN, deadline, timeout_ms, what, error))
            return -1;
        n = read(fd, buf + done, len - done);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_IO,
                        "read failed %s: %s", what, g_strerror(errno));
            return -1;
        }
        done += n;
    }
    return done;
}

JsonObject *
vf_frame_read(int fd, gsize max_bytes, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    guint8 header[VF_FRAME_HEADER_BYTES];
    g_autofree guint8 *payload = NULL;
    gsize len;
    gssize n;

    n = read_full(fd, header, sizeof(header), deadline, timeout_ms,
                  "waiting for a message header", error);
    if (n < 0)
        return NULL;
    if (n == 0) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_CLOSED,
                    "peer closed the connection without sending a message");
        return NULL;
    }
    if ((gsize)n < sizeof(header)) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TRUNCATED,
                    "truncated message: peer closed after %" G_GSSIZE_FORMAT " of 4 header bytes", n);
        return NULL;
    }
    len = ((gsize)header[0] << 24) | ((gsize)header[1] << 16) |
          ((gsize)header[2] << 8) | header[3];
    if (len == 0) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TOO_LARGE,
                    "message announces an empty payload");
        return NULL;
    }
    if (len > max_bytes) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TOO_LARGE,
                    "message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %" G_GSIZE_FORMAT " bytes",
                    len, max_bytes);
        return NULL;
    }
    payload = g_malloc(len);
    n = read_full(fd, payload, len, deadline, timeout_ms,
                  "waiting for the message body", error);
    if (n < 0)
        return NULL;
    if ((gsize)n < len) {
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TRUNCATED,
                    "truncated message: peer closed after %" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes",
                    n, len);
        return NULL;
    }
    return vf_frame_decode((const char *)payload, len, error);
}

gboolean
vf_frame_write(int fd, JsonObject *msg, gsize max_bytes, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autoptr(GBytes) frame = vf_frame_encode(msg, max_bytes, error);
    const guint8 *data;
    gsize len, done = 0;
    gboolean is_socket = TRUE;

    if (!frame)
        return FALSE;
    data = g_bytes_get_data(frame, &len);
    while (done < len) {
        gssize n;

        if (!wait_fd(fd, POLLOUT, deadline, timeout_ms, "sending a message", error))
            return FALSE;
        /* MSG_DONTWAIT keeps a blocking socket from blocking past the
         * deadline; MSG_NOSIGNAL turns a vanished peer into EPIPE. */
        if (is_socket) {
            n = send(fd, data + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno == ENOTSOCK) {
                is_socket = FALSE;
                continue;
            }
        } else {
            n = write(fd, data + done, len - done);
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_IO,
                        "sending a message failed: %s", g_strerror(errno));
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

static JsonNode *
get_member(JsonObject *msg, const char *member, gboolean optional, GError **error)
{
    JsonNode *node = json_object_get_member(msg, member);
    if (!node && !optional)
        g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE,
                    "message has no '%s' member", member);
    return node;
}

static gboolean
type_error(const char *member, const char *want, JsonNode *node, GError **error)
{
    g_set_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE,
                "member '%s' must be %s, got %s", member, want, node_type_name(node));
    return FALSE;
}

static const char *
get_string(JsonObject *msg, const char *member, gboolean optional, GError **error)
{
    JsonNode *node = get_member(msg, member, optional, error);
    if (!node)
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
        type_error(member, "a string", node, error);
        return NULL;
    }
    return json_node_get_string(node);
}

const char *
vf_msg_get_string(JsonObject *msg, const char *member, GError **error)
{
    return get_string(msg, member, FALSE, error);
}

const char *
vf_msg_get_string_opt(JsonObject *msg, const char *member, GError **error)
{
    return get_string(msg, member, TRUE, error);
}

gboolean
vf_msg_get_int(JsonObject *msg, const char *member, gint64 *out, GError **error)
{
    JsonNode *node = get_member(msg, member, FALSE, error);
    if (!node)
        return FALSE;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64)
        return type_error(member, "an integer", node, error);
    *out = json_node_get_int(node);
    return TRUE;
}

gboolean
vf_msg_get_bool(JsonObject *msg, const char *member, gboolean *out, GError **error)
{
    JsonNode *node = get_member(msg, member, FALSE, error);
    if (!node)
        return FALSE;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN)
        return type_error(member, "a boolean", node, error);
    *out = json_node_get_boolean(node);
    return TRUE;
}

JsonArray *
vf_msg_get_array(JsonObject *msg, const char *member, GError **error)
{
    JsonNode *node = get_member(msg, member, FALSE, error);
    if (!node)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        type_error(member, "an array", node, error);
        return NULL;
    }
    return json_node_get_array(node);
}

JsonObject *
vf_msg_get_object(JsonObject *msg, const char *member, GError **error)
{
    JsonNode *node = get_member(msg, member, FALSE, error);
    if (!node)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        type_error(member, "an object", node, error);
        return NULL;
    }
    return json_node_get_object(node);
}
