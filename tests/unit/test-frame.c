/* Framing (common/vf-frame.c) against good and hostile peers: every bad
 * input gets its own error code and message, and nothing hangs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vf-frame.h"
#include "vf-socket.h"
#include "vf-test.h"

#define TIMEOUT_MS 300

typedef struct {
    int fds[2]; /* [0] = our side, [1] = the peer */
} Pair;

static void
pair_setup(Pair *p, gconstpointer data)
{
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fds), ==, 0);
}

static void
pair_teardown(Pair *p, gconstpointer data)
{
    if (p->fds[0] >= 0)
        close(p->fds[0]);
    if (p->fds[1] >= 0)
        close(p->fds[1]);
}

static void
peer_send_raw(Pair *p, const void *buf, gsize len)
{
    g_assert_cmpint(write(p->fds[1], buf, len), ==, (gssize)len);
}

static void
peer_send_header(Pair *p, guint32 len)
{
    guint8 h[4] = { len >> 24, len >> 16, len >> 8, len };
    peer_send_raw(p, h, 4);
}

static void
peer_close(Pair *p)
{
    close(p->fds[1]);
    p->fds[1] = -1;
}

static void
peer_send_payload(Pair *p, const char *payload)
{
    peer_send_header(p, strlen(payload));
    peer_send_raw(p, payload, strlen(payload));
}

static void
assert_read_fails(Pair *p, VfFrameError code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) msg = vf_frame_read(p->fds[0], 4096, TIMEOUT_MS, &error);

    g_assert_null(msg);
    g_assert_error(error, VF_FRAME_ERROR, (gint)code);
    if (!strstr(error->message, fragment))
        g_error("error '%s' does not mention '%s'", error->message, fragment);
    /* One line: the hook prints it straight into libvirt's error. */
    g_assert_null(strchr(error->message, '\n'));
}

static void
test_roundtrip(Pair *p, gconstpointer data)
{
    g_autoptr(JsonObject) out = json_object_new();
    g_autoptr(JsonObject) in = NULL;
    g_autoptr(GError) error = NULL;
    gint64 n = 0;

    json_object_set_string_member(out, "op", "prepare");
    json_object_set_string_member(out, "xml", "<domain>\xc3\xa9</domain>");
    json_object_set_int_member(out, "n", 42);
    g_assert_true(vf_frame_write(p->fds[1], out, 4096, TIMEOUT_MS, &error));
    g_assert_no_error(error);
    in = vf_frame_read(p->fds[0], 4096, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vf_msg_get_string(in, "op", &error), ==, "prepare");
    g_assert_cmpstr(vf_msg_get_string(in, "xml", &error), ==, "<domain>\xc3\xa9</domain>");
    g_assert_true(vf_msg_get_int(in, "n", &n, &error));
    g_assert_cmpint(n, ==, 42);
    g_assert_cmpint(json_object_get_int_member(in, "protocol"), ==, VF_PROTO_VERSION);
}

static void
test_closed_before_header(Pair *p, gconstpointer data)
{
    peer_close(p);
    assert_read_fails(p, VF_FRAME_ERROR_CLOSED, "without sending");
}

static void
test_truncated_header(Pair *p, gconstpointer data)
{
    peer_send_raw(p, "\0\0", 2);
    peer_close(p);
    assert_read_fails(p, VF_FRAME_ERROR_TRUNCATED, "2 of 4 header bytes");
}

static void
test_truncated_body(Pair *p, gconstpointer data)
{
    peer_send_header(p, 100);
    peer_send_raw(p, "{\"protocol\":1", 12);
    peer_close(p);
    assert_read_fails(p, VF_FRAME_ERROR_TRUNCATED, "12 of 100 bytes");
}

static void
test_oversize_length(Pair *p, gconstpointer data)
{
    /* 4 GiB announced: refused from the header alone, nothing allocated,
     * nothing waited for. */
    peer_send_header(p, 0xffffffffu);
    assert_read_fails(p, VF_FRAME_ERROR_TOO_LARGE, "4294967295 bytes exceeds the limit of 4096");
}

static void
test_just_over_limit(Pair *p, gconstpointer data)
{
    peer_send_header(p, 4097);
    assert_read_fails(p, VF_FRAME_ERROR_TOO_LARGE, "4097 bytes");
}

static void
test_empty_payload(Pair *p, gconstpointer data)
{
    peer_send_header(p, 0);
    assert_read_fails(p, VF_FRAME_ERROR_TOO_LARGE, "empty payload");
}

static void
test_invalid_utf8(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "{\"protocol\":1,\"op\":\"\xff\xfe\"}");
    assert_read_fails(p, VF_FRAME_ERROR_ENCODING, "offset 20");
}

static void
test_overlong_utf8(Pair *p, gconstpointer data)
{
    /* An overlong encoding of '/' (C0 AF) must not pass as valid. */
    peer_send_payload(p, "{\"protocol\":1,\"p\":\"\xc0\xaf\"}");
    assert_read_fails(p, VF_FRAME_ERROR_ENCODING, "not valid UTF-8");
}

static void
test_not_json(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "{\"protocol\":1,");
    assert_read_fails(p, VF_FRAME_ERROR_SYNTAX, "not valid JSON");
}

static void
test_top_level_array(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "[1,2,3]");
    assert_read_fails(p, VF_FRAME_ERROR_TYPE, "must be a JSON object, got array");
}

static void
test_top_level_string(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "\"hello\"");
    assert_read_fails(p, VF_FRAME_ERROR_TYPE, "got string");
}

static void
test_missing_version(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "{\"op\":\"start\"}");
    assert_read_fails(p, VF_FRAME_ERROR_TYPE, "no 'protocol' member");
}

static void
test_version_wrong_type(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "{\"protocol\":\"1\"}");
    assert_read_fails(p, VF_FRAME_ERROR_TYPE, "'protocol' must be an integer, got string");
}

static void
test_version_unsupported(Pair *p, gconstpointer data)
{
    peer_send_payload(p, "{\"protocol\":2}");
    assert_read_fails(p, VF_FRAME_ERROR_VERSION, "unsupported protocol version 2");
}

static void
test_member_types(Pair *p, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) msg = NULL;
    gint64 n;
    gboolean b;

    peer_send_payload(p, "{\"protocol\":1,\"op\":5,\"n\":\"x\",\"b\":null,\"a\":{},\"o\":[],\"d\":1.5}");
    msg = vf_frame_read(p->fds[0], 4096, TIMEOUT_MS, &error);
    g_assert_no_error(error);

    g_assert_null(vf_msg_get_string(msg, "op", &error));
    g_assert_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE);
    g_assert_cmpstr(error->message, ==, "member 'op' must be a string, got integer");
    g_clear_error(&error);

    g_assert_false(vf_msg_get_int(msg, "n", &n, &error));
    g_assert_cmpstr(error->message, ==, "member 'n' must be an integer, got string");
    g_clear_error(&error);

    g_assert_false(vf_msg_get_int(msg, "d", &n, &error));
    g_assert_cmpstr(error->message, ==, "member 'd' must be an integer, got number");
    g_clear_error(&error);

    g_assert_false(vf_msg_get_bool(msg, "b", &b, &error));
    g_assert_cmpstr(error->message, ==, "member 'b' must be a boolean, got null");
    g_clear_error(&error);

    g_assert_null(vf_msg_get_array(msg, "a", &error));
    g_assert_cmpstr(error->message, ==, "member 'a' must be an array, got object");
    g_clear_error(&error);

    g_assert_null(vf_msg_get_object(msg, "o", &error));
    g_assert_cmpstr(error->message, ==, "member 'o' must be an object, got array");
    g_clear_error(&error);

    g_assert_null(vf_msg_get_string(msg, "absent", &error));
    g_assert_cmpstr(error->message, ==, "message has no 'absent' member");
    g_clear_error(&error);

    /* Optional: absent is fine, wrong type still is not. */
    g_assert_null(vf_msg_get_string_opt(msg, "absent", &error));
    g_assert_no_error(error);
    g_assert_null(vf_msg_get_string_opt(msg, "op", &error));
    g_assert_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TYPE);
}

static void
test_stalled_header(Pair *p, gconstpointer data)
{
    /* The peer connects and sends nothing. */
    assert_read_fails(p, VF_FRAME_ERROR_TIMEOUT, "timed out after 300 ms");
}

static void
test_trickling_peer(Pair *p, gconstpointer data)
{
    /* Header, then one byte, then silence: the deadline covers the whole
     * frame, so a slow peer cannot keep us past it. */
    peer_send_header(p, 64);
    peer_send_raw(p, "{", 1);
    assert_read_fails(p, VF_FRAME_ERROR_TIMEOUT, "waiting for the message body");
}

static void
test_stalled_reader(Pair *p, gconstpointer data)
{
    /* The peer never reads: the socket buffer fills and the write gives up
     * at the deadline instead of blocking forever. */
    g_autoptr(JsonObject) big = json_object_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *blob = g_malloc(8 * 1024 * 1024 + 1);
    int sndbuf = 4096;

    setsockopt(p->fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    memset(blob, 'x', 8 * 1024 * 1024);
    blob[8 * 1024 * 1024] = '\0';
    json_object_set_string_member(big, "blob", blob);
    g_assert_false(vf_frame_write(p->fds[0], big, 16 * 1024 * 1024, TIMEOUT_MS, &error));
    g_assert_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TIMEOUT);
}

static void
test_write_to_vanished_peer(Pair *p, gconstpointer data)
{
    /* No SIGPIPE (SIGPIPE's default action would kill this test). */
    g_autoptr(JsonObject) msg = json_object_new();
    g_autoptr(GError) error = NULL;

    peer_close(p);
    g_assert_false(vf_frame_write(p->fds[0], msg, 4096, TIMEOUT_MS, &error));
    g_assert_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "Broken pipe"));
}

static void
test_encode_too_large(Pair *p, gconstpointer data)
{
    g_autoptr(JsonObject) msg = json_object_new();
    g_autoptr(GError) error = NULL;

    json_object_set_string_member(msg, "xml", "0123456789012345678901234567890123456789");
    g_assert_false(vf_frame_write(p->fds[0], msg, 32, TIMEOUT_MS, &error));
    g_assert_error(error, VF_FRAME_ERROR, VF_FRAME_ERROR_TOO_LARGE);
}

static void
test_pipe(void)
{
    /* The hook's stdin/stdout style fds are pipes, not sockets. */
    g_autoptr(JsonObject) out = json_object_new();
    g_autoptr(JsonObject) in = NULL;
    g_autoptr(GError) error = NULL;
    int fds[2];

    g_assert_cmpint(pipe(fds), ==, 0);
    json_object_set_boolean_member(out, "ok", TRUE);
    g_assert_true(vf_frame_write(fds[1], out, 4096, TIMEOUT_MS, &error));
    g_assert_no_error(error);
    in = vf_frame_read(fds[0], 4096, TIMEOUT_MS, &error);
    g_assert_no_error(error);
    g_assert_true(json_object_get_boolean_member(in, "ok"));
    close(fds[0]);
    close(fds[1]);
}

static void
test_socket_call_unreachable(void)
{
    g_autoptr(JsonObject) req = json_object_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vf-frame-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "nobody-listens.sock", NULL);

    g_assert_null(vf_socket_call(path, req, 4096, TIMEOUT_MS, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, path));
    g_rmdir(dir);
}

static void
test_socket_listen_mode(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vf-frame-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sub", "s.sock", NULL);
    GStatBuf st;
    int fd = vf_socket_listen(path, &error);

    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    close(fd);
    /* A stale socket file from a crash is replaced. */
    fd = vf_socket_listen(path, &error);
    g_assert_no_error(error);
    close(fd);
    g_unlink(path);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define PAIR_TEST(name, fn) g_test_add(name, Pair, NULL, pair_setup, fn, pair_teardown)
    PAIR_TEST("/frame/roundtrip", test_roundtrip);
    PAIR_TEST("/frame/closed-before-header", test_closed_before_header);
    PAIR_TEST("/frame/truncated-header", test_truncated_header);
    PAIR_TEST("/frame/truncated-body", test_truncated_body);
    PAIR_TEST("/frame/oversize-length", test_oversize_length);
    PAIR_TEST("/frame/just-over-limit", test_just_over_limit);
    PAIR_TEST("/frame/empty-payload", test_empty_payload);
    PAIR_TEST("/frame/invalid-utf8", test_invalid_utf8);
    PAIR_TEST("/frame/overlong-utf8", test_overlong_utf8);
    PAIR_TEST("/frame/not-json", test_not_json);
    PAIR_TEST("/frame/top-level-array", test_top_level_array);
    PAIR_TEST("/frame/top-level-string", test_top_level_string);
    PAIR_TEST("/frame/missing-version", test_missing_version);
    PAIR_TEST("/frame/version-wrong-type", test_version_wrong_type);
    PAIR_TEST("/frame/version-unsupported", test_version_unsupported);
    PAIR_TEST("/frame/member-types", test_member_types);
    PAIR_TEST("/frame/stalled-header", test_stalled_header);
    PAIR_TEST("/frame/trickling-peer", test_trickling_peer);
    PAIR_TEST("/frame/stalled-reader", test_stalled_reader);
    PAIR_TEST("/frame/write-to-vanished-peer", test_write_to_vanished_peer);
    PAIR_TEST("/frame/encode-too-large", test_encode_too_large);
    g_test_add_func("/frame/pipe", test_pipe);
    g_test_add_func("/socket/call-unreachable", test_socket_call_unreachable);
    g_test_add_func("/socket/listen-mode", test_socket_listen_mode);
    return g_test_run();
}
