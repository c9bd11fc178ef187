/* dp-call: send one JSON request to vfailover-dp's control socket (the way
 * hookd does, vf_socket_call) and print the reply on one line.
 *   dp-call SOCKET '{"command":"stats"}'
 *   dp-call --raw SOCKET BYTES|-  write BYTES (or stdin) as they are (malformed-frame tests)
 * Exit: 0 reply ok, 1 reply not ok, 2 transport or usage error. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vf-frame.h"
#include "vf-socket.h"

static int
call_raw(const char *path, const char *bytes)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) reply = NULL;
    g_autofree char *text = NULL;
    g_autoptr(JsonNode) node = NULL;
    int fd = vf_socket_connect(path, 5000, &error);

    if (fd < 0) {
        g_printerr("dp-call: %s\n", error->message);
        return 2;
    }
    g_autofree char *in = NULL;
    gsize len = strlen(bytes);

    if (strcmp(bytes, "-") == 0) {
        g_autoptr(GIOChannel) ch = g_io_channel_unix_new(0);
        g_io_channel_set_encoding(ch, NULL, NULL);
        if (g_io_channel_read_to_end(ch, &in, &len, NULL) != G_IO_STATUS_NORMAL)
            len = 0;
        bytes = in ? in : "";
    }
    if (len && write(fd, bytes, len) < 0) {
        g_printerr("dp-call: write failed\n");
        close(fd);
        return 2;
    }
    shutdown(fd, SHUT_WR);
    reply = vf_frame_read(fd, 1 << 20, 10000, &error);
    close(fd);
    if (!reply) {
        g_printerr("dp-call: %s\n", error->message);
        return 2;
    }
    node = json_node_init_object(json_node_alloc(), reply);
    text = json_to_string(node, FALSE);
    g_print("%s\n", text);
    return json_object_get_boolean_member_with_default(reply, "ok", FALSE) ? 0 : 1;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) req = NULL;
    g_autoptr(JsonObject) reply = NULL;
    g_autoptr(JsonNode) out = NULL;
    g_autofree char *text = NULL;

    if (argc == 4 && strcmp(argv[1], "--raw") == 0)
        return call_raw(argv[2], argv[3]);
    if (argc != 3) {
        g_printerr("usage: dp-call SOCKET JSON | dp-call --raw SOCKET BYTES\n");
        return 2;
    }
    req = json_from_string(argv[2], &error);
    if (!req || !JSON_NODE_HOLDS_OBJECT(req)) {
        g_printerr("dp-call: request is not a JSON object: %s\n",
                   error ? error->message : "wrong type");
        return 2;
    }
    reply = vf_socket_call(argv[1], json_node_get_object(req), 1 << 20, 20000, &error);
    if (!reply) {
        g_printerr("dp-call: %s\n", error->message);
        return 2;
    }
    out = json_node_init_object(json_node_alloc(), reply);
    text = json_to_string(out, FALSE);
    g_print("%s\n", text);
    return json_object_get_boolean_member_with_default(reply, "ok", FALSE) ? 0 : 1;
}
