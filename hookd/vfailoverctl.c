/* vfailoverctl: command-line client of hookd's control socket. Sends one
 * named command, prints the reply as a table (default) or JSON (--json). */
#include "config.h"

#include <stdlib.h>

#include "vf-config.h"
#include "vf-frame.h"
#include "vf-log.h"
#include "vf-socket.h"

#define CTL_TIMEOUT_MS 10000

static void
print_reply_text(const char *command, JsonObject *reply)
{
    if (g_strcmp0(command, "status") == 0) {
        g_print("hookd: running (version %s, pid %" G_GINT64_FORMAT ")\n",
                json_object_get_string_member_with_default(reply, "version", "?"),
                json_object_get_int_member_with_default(reply, "pid", 0));
        return;
    }
    if (g_strcmp0(command, "list-commands") == 0 &&
        json_object_has_member(reply, "commands")) {
        JsonArray *cmds = json_object_get_array_member(reply, "commands");
        guint i;
        for (i = 0; i < json_array_get_length(cmds); i++) {
            JsonObject *c = json_array_get_object_element(cmds, i);
            g_print("%-20s %s\n", json_object_get_string_member(c, "name"),
                    json_object_get_string_member(c, "help"));
        }
        return;
    }
    /* Commands without a dedicated table: fall back to pretty JSON. */
    {
        g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
        g_autofree char *text = NULL;
        json_node_set_object(node, reply);
        text = json_to_string(node, TRUE);
        g_print("%s\n", text);
    }
}

int
main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *socket_path = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
        { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path, "hookd control socket", "PATH" },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print replies as JSON", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS...] - control vfailover-hookd");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = NULL;
    g_autoptr(JsonObject) request = json_object_new();
    g_autoptr(JsonObject) reply = NULL;
    const char *path;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Commands: status, list-commands (see vfailoverctl(8))");
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("vfailoverctl: %s\n", error->message);
        return 2;
    }
    if (argc < 2) {
        g_printerr("vfailoverctl: no command given (try 'vfailoverctl list-commands')\n");
        return 2;
    }
    vf_log_init("vfailoverctl", VF_LOG_QUIET, VF_LOG_TARGET_STDERR);
    cfg = vf_config_load(config_path, &error);
    if (!cfg) {
        g_printerr("vfailoverctl: %s\n", error->message);
        return 1;
    }
    path = socket_path ? socket_path : vf_config_get_string(cfg, "hookd", "ctl-socket");

    json_object_set_string_member(request, "command", argv[1]);
    reply = vf_socket_call(path, request, vf_config_get_int(cfg, "hookd", "max-message-bytes"),
                           CTL_TIMEOUT_MS, &error);
    if (!reply) {
        g_printerr("vfailoverctl: hookd is not reachable on %s: %s\n", path, error->message);
        return 1;
    }
    if (!json_object_get_boolean_member_with_default(reply, "ok", FALSE)) {
        g_printerr("vfailoverctl: %s: %s\n", argv[1],
                   json_object_get_string_member_with_default(reply, "error", "failed"));
        return 1;
    }
    if (json) {
        g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
        g_autofree char *text = NULL;
        json_object_remove_member(reply, "ok");
        json_object_remove_member(reply, "protocol");
        json_node_set_object(node, reply);
        text = json_to_string(node, TRUE);
        g_print("%s\n", text);
    } else {
        print_reply_text(argv[1], reply);
    }
    return 0;
}
