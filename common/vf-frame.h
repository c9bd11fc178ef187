/* Message framing for hook <-> hookd, vfailoverctl <-> hookd and hookd <->
 * vfailover-dp: a 4-byte big-endian payload length, then that many bytes of
 * UTF-8 JSON holding one object with an integer "protocol" member (the
 * protocol version, VF_PROTO_VERSION). Reads and
 * writes are bounded in size and in time (one deadline for the whole frame,
 * so a peer that trickles bytes cannot hold us). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define VF_PROTO_VERSION 1
#define VF_FRAME_HEADER_BYTES 4
#define VF_FRAME_MAX_DEFAULT (4u * 1024u * 1024u)

#define VF_FRAME_ERROR (vf_frame_error_quark())
GQuark vf_frame_error_quark(void);
typedef enum {
    VF_FRAME_ERROR_IO,         /* read/write failed (errno text in message) */
    VF_FRAME_ERROR_TIMEOUT,    /* peer too slow: deadline passed */
    VF_FRAME_ERROR_CLOSED,     /* peer closed before sending any byte */
    VF_FRAME_ERROR_TRUNCATED,  /* peer closed in the middle of a frame */
    VF_FRAME_ERROR_TOO_LARGE,  /* announced length above the limit (or 0) */
    VF_FRAME_ERROR_ENCODING,   /* payload is not UTF-8 */
    VF_FRAME_ERROR_SYNTAX,     /* payload is not JSON */
    VF_FRAME_ERROR_TYPE,       /* JSON of the wrong shape or member type */
    VF_FRAME_ERROR_VERSION,    /* protocol version we do not speak */
} VfFrameError;

/* Parse a payload (without header) into the message object. */
JsonObject *vf_frame_decode(const char *payload, gsize len, GError **error);

/* Serialize @msg (a "protocol" member is set) into header + payload. */
GBytes *vf_frame_encode(JsonObject *msg, gsize max_bytes, GError **error);

/* Read one frame from @fd within @timeout_ms (whole frame). @max_bytes bounds
 * the payload. Works on blocking and non-blocking fds, sockets and pipes. */
JsonObject *vf_frame_read(int fd, gsize max_bytes, guint timeout_ms, GError **error);

/* Write one frame to @fd within @timeout_ms. Never raises SIGPIPE. */
gboolean vf_frame_write(int fd, JsonObject *msg, gsize max_bytes, guint timeout_ms,
                        GError **error);

/* Typed member access with errors that name the member and both types.
 * Return NULL / FALSE on error. The _opt variants accept a missing member
 * (returning @def / NULL) but still reject a present one of the wrong type. */
const char *vf_msg_get_string(JsonObject *msg, const char *member, GError **error);
const char *vf_msg_get_string_opt(JsonObject *msg, const char *member, GError **error);
gboolean vf_msg_get_int(JsonObject *msg, const char *member, gint64 *out, GError **error);
gboolean vf_msg_get_bool(JsonObject *msg, const char *member, gboolean *out, GError **error);
JsonArray *vf_msg_get_array(JsonObject *msg, const char *member, GError **error);
JsonObject *vf_msg_get_object(JsonObject *msg, const char *member, GError **error);
