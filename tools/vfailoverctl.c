/* vfailoverctl: command-line client of hookd's control socket. Sends one
 * named command, prints the reply as a table (default) or JSON (--json).
 * validate-xml and render-xml run offline (no daemon) through libvfxml. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "vf-config.h"
#include "vf-frame.h"
#include "vf-log.h"
#include "vf-socket.h"
#include "vfx-domain.h"

#define CTL_TIMEOUT_MS 10000

static void
print_json(JsonObject *obj)
{
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    g_autofree char *text = NULL;

    json_node_set_object(node, obj);
    text = json_to_string(node, TRUE);
    g_print("%s\n", text);
}

static const char *
str_member(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
        return "-";
    return json_node_get_string(n);
}

static JsonObject *
obj_member(JsonObject *o, const char *member)
{
    JsonNode *n = json_object_get_member(o, member);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void
print_counts(const char *title, JsonObject *counts)
{
    g_autoptr(GList) names = counts ? json_object_get_members(counts) : NULL;
    GList *l;

    g_print("%s:", title);
    if (!names)
        g_print(" none");
    for (l = names; l; l = l->next)
        g_print("%s %s=%" G_GINT64_FORMAT, l == names ? "" : ",", (char *)l->data,
                json_object_get_int_member(counts, l->data));
    g_print("\n");
}

static void
print_status(JsonObject *r)
{
    JsonObject *lv = obj_member(r, "libvirt");
    JsonObject *dp = obj_member(r, "datapath");
    JsonObject *vf = obj_member(r, "vf_manager");
    JsonObject *hook = obj_member(r, "hook");
    JsonObject *sync = obj_member(r, "resync");

    g_print("hookd: running (version %s, pid %" G_GINT64_FORMAT ", up %" G_GINT64_FORMAT " s)\n",
            str_member(r, "version"), json_object_get_int_member_with_default(r, "pid", 0),
            json_object_get_int_member_with_default(r, "uptime_s", 0));
    if (lv) {
        g_print("libvirt: %s %s since %s", str_member(lv, "uri"), str_member(lv, "state"),
                str_member(lv, "since"));
        if (g_strcmp0(str_member(lv, "state"), "connected") != 0)
            g_print(" (%s)", str_member(lv, "last_error"));
        g_print("\n");
    }
    if (dp) {
        JsonArray *degraded = json_object_has_member(dp, "degraded_pairs") ?
            json_object_get_array_member(dp, "degraded_pairs") : NULL;
        guint i, n = degraded ? json_array_get_length(degraded) : 0;

        g_print("datapath: %s %s", str_member(dp, "socket"),
                json_object_get_boolean_member_with_default(dp, "reachable", FALSE) ? "reachable" : "unreachable");
        if (json_object_has_member(dp, "state"))
            g_print(", %s since %s", str_member(dp, "state"), str_member(dp, "since"));
        if (json_object_has_member(dp, "last_error"))
            g_print(" (%s)", str_member(dp, "last_error"));
        g_print(", %" G_GINT64_FORMAT " port(s) re-created\n",
                json_object_get_int_member_with_default(dp, "ports_recreated", 0));
        if (n) {
            g_print("degraded pairs (no datapath port):");
            for (i = 0; i < n; i++)
                g_print(" %s", json_array_get_string_element(degraded, i));
            g_print("\n");
        }
    }
    if (vf)
        g_print("VF pool: %" G_GINT64_FORMAT " PF(s), %" G_GINT64_FORMAT " VF(s): %" G_GINT64_FORMAT
                " in use, %" G_GINT64_FORMAT " free, %" G_GINT64_FORMAT " kept for the host\n",
                json_object_get_int_member_with_default(vf, "pfs", 0),
                json_object_get_int_member_with_default(vf, "vfs", 0),
                json_object_get_int_member_with_default(vf, "in_use", 0),
                json_object_get_int_member_with_default(vf, "free", 0),
                json_object_get_int_member_with_default(vf, "kept_for_host", 0));
    if (hook) {
        g_print("hook: %s, %" G_GINT64_FORMAT " served, %" G_GINT64_FORMAT " refused, %" G_GINT64_FORMAT " bad\n",
                str_member(hook, "socket"), json_object_get_int_member_with_default(hook, "served", 0),
                json_object_get_int_member_with_default(hook, "refused", 0),
                json_object_get_int_member_with_default(hook, "bad_requests", 0));
        print_counts("hook calls", obj_member(hook, "calls"));
    }
    print_counts("events", obj_member(r, "events"));
    if (sync)
        g_print("resyncs: %" G_GINT64_FORMAT " (last %s)\n",
                json_object_get_int_member_with_default(sync, "count", 0), str_member(sync, "last"));
    g_print("domains: %" G_GINT64_FORMAT ", pairs: %" G_GINT64_FORMAT "\n",
            json_object_get_int_member_with_default(r, "domains", 0),
            json_object_get_int_member_with_default(r, "pairs", 0));
}

static void
print_pairs(JsonObject *r, gboolean timeline)
{
    JsonArray *domains = json_object_get_array_member(r, "domains");
    guint i, j;

    g_print("%-20s %-16s %-17s %-8s %-24s %-14s %s\n", "DOMAIN", "INTERFACE", "MAC", "MODE", "VF",
            "STATE", "SINCE");
    for (i = 0; domains && i < json_array_get_length(domains); i++) {
        JsonObject *d = json_array_get_object_element(domains, i);
        JsonArray *pairs = json_object_get_array_member(d, "pairs");

        for (j = 0; pairs && j < json_array_get_length(pairs); j++) {
            JsonObject *p = json_array_get_object_element(pairs, j);
            JsonObject *vf = obj_member(p, "vf");
            g_autofree char *vfs = vf ? g_strdup_printf("%s/%" G_GINT64_FORMAT, str_member(vf, "pf"),
                                                        json_object_get_int_member_with_default(vf, "index", -1))
                                      : g_strdup("none");
            g_print("%-20s %-16s %-17s %-8s %-24s %-14s %s\n", str_member(d, "name"),
                    str_member(p, "alias"), str_member(p, "mac"), str_member(p, "mode"), vfs,
                    str_member(p, "state"), str_member(p, "state_since"));
        }
        if (json_object_has_member(d, "released"))
            g_print("  (%s: released here at %s; its last record)\n", str_member(d, "name"),
                    str_member(d, "released"));
        if (timeline) {
            JsonArray *tl = json_object_get_array_member(d, "timeline");
            for (j = 0; tl && j < json_array_get_length(tl); j++) {
                JsonObject *e = json_array_get_object_element(tl, j);
                if (json_object_has_member(e, "from"))
                    g_print("  %s state %s: %s -> %s (%s)\n", str_member(e, "at"), str_member(e, "pair"),
                            str_member(e, "from"), str_member(e, "to"), str_member(e, "reason"));
                else
                    g_print("  %s %-5s %s\n", str_member(e, "at"), str_member(e, "kind"),
                            str_member(e, "what"));
            }
        }
    }
}

/* The command's arguments as request members: vfs [PF], stats [PF [VF]],
 * pairs [DOMAIN]; the other commands take none. */
static gboolean
set_arguments(JsonObject *request, int argc, char **argv, gboolean all)
{
    const char *cmd = argv[1];
    int max = g_strcmp0(cmd, "stats") == 0 ? 2
            : g_strcmp0(cmd, "vfs") == 0 || g_strcmp0(cmd, "pairs") == 0 ? 1 : 0;

    if (g_strcmp0(cmd, "migrate-status") == 0) {
        if (argc != 3) {
            g_printerr("vfailoverctl: migrate-status takes one DOMAIN\n");
            return FALSE;
        }
        json_object_set_string_member(request, "domain", argv[2]);
        return TRUE;
    }

    if (argc - 2 > max) {
        g_printerr("vfailoverctl: %s takes %s\n", cmd,
                   max == 2 ? "at most PF and VF"
                   : g_strcmp0(cmd, "pairs") == 0 ? "at most one DOMAIN"
                   : max == 1 ? "at most one PF" : "no arguments");
        return FALSE;
    }
    if (argc > 2 && g_strcmp0(cmd, "pairs") == 0) {
        json_object_set_string_member(request, "domain", argv[2]);
        return TRUE;
    }
    if (argc > 2)
        json_object_set_string_member(request, "pf", argv[2]);
    if (argc > 3) {
        char *end;
        gint64 vf = g_ascii_strtoll(argv[3], &end, 10);
        if (*end || end == argv[3] || vf < 0) {
            g_printerr("vfailoverctl: stats: VF must be a number, not '%s'\n", argv[3]);
            return FALSE;
        }
        json_object_set_int_member(request, "vf", vf);
    }
    if (all)
        json_object_set_boolean_member(request, "all", TRUE);
    return TRUE;
}

static gint64
int_member(JsonObject *o, const char *member)
{
    return json_object_get_int_member_with_default(o, member, 0);
}

static void
print_vfs(JsonObject *r)
{
    JsonArray *vfs = json_object_get_array_member(r, "vfs");
    guint i;

    g_print("%-12s %-4s %-9s %-16s %-15s %-36s %s\n", "PF", "VF", "BACKEND", "DEVICE", "STATE",
            "DOMAIN", "PAIR");
    for (i = 0; vfs && i < json_array_get_length(vfs); i++) {
        JsonObject *v = json_array_get_object_element(vfs, i);
        const char *dev = str_member(v, "pci-address");
        g_print("%-12s %-4" G_GINT64_FORMAT " %-9s %-16s %-15s %-36s %s\n", str_member(v, "pf"),
                int_member(v, "vf"), str_member(v, "backend"),
                g_strcmp0(dev, "-") ? dev : str_member(v, "netdev"), str_member(v, "state"),
                str_member(v, "domain"), str_member(v, "pair"));
    }
}

static void
print_stats(JsonObject *r)
{
    JsonArray *vfs = json_object_get_array_member(r, "vfs");
    guint i;

    g_print("%-12s %-4s %12s %12s %14s %14s %10s %10s\n", "PF", "VF", "RX-PACKETS", "TX-PACKETS",
            "RX-BYTES", "TX-BYTES", "RX-DROP", "TX-DROP");
    for (i = 0; vfs && i < json_array_get_length(vfs); i++) {
        JsonObject *v = json_array_get_object_element(vfs, i);
        if (json_object_has_member(v, "error")) {
            g_print("%-12s %-4" G_GINT64_FORMAT " %s\n", str_member(v, "pf"), int_member(v, "vf"),
                    str_member(v, "error"));
            continue;
        }
        g_print("%-12s %-4" G_GINT64_FORMAT " %12" G_GINT64_FORMAT " %12" G_GINT64_FORMAT
                " %14" G_GINT64_FORMAT " %14" G_GINT64_FORMAT " %10" G_GINT64_FORMAT
                " %10" G_GINT64_FORMAT "\n", str_member(v, "pf"), int_member(v, "vf"),
                int_member(v, "rx-packets"), int_member(v, "tx-packets"), int_member(v, "rx-bytes"),
                int_member(v, "tx-bytes"), int_member(v, "rx-dropped"), int_member(v, "tx-dropped"));
    }
}

static void
print_reply_text(const char *command, JsonObject *reply, gboolean timeline)
{
    if (g_strcmp0(command, "status") == 0) {
        print_status(reply);
        return;
    }
    if (g_strcmp0(command, "pairs") == 0) {
        print_pairs(reply, timeline);
        return;
    }
    if (g_strcmp0(command, "vfs") == 0) {
        print_vfs(reply);
        return;
    }
    if (g_strcmp0(command, "stats") == 0) {
        print_stats(reply);
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
    print_json(reply);
}

/* migrate: poll migrate-status until the migration finished (bounded:
 * 30 min); print the final status. 0 completed, 1 failed. */
static int
wait_migration(const char *path, VfConfig *cfg, const char *domain, gboolean json)
{
    gint64 deadline = g_get_monotonic_time() + 30 * 60 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline) {
        g_autoptr(JsonObject) req = json_object_new();
        g_autoptr(JsonObject) reply = NULL;
        g_autoptr(GError) error = NULL;
        JsonObject *m;
        const char *state;

        json_object_set_string_member(req, "command", "migrate-status");
        json_object_set_string_member(req, "domain", domain);
        reply = vf_socket_call(path, req, vf_config_get_int(cfg, "hookd", "max-message-bytes"),
                               CTL_TIMEOUT_MS, &error);
        if (!reply) {
            g_printerr("vfailoverctl: migrate: hookd is not reachable on %s: %s\n", path,
                       error->message);
            return 1;
        }
        m = obj_member(reply, "migration");
        state = m ? str_member(m, "state") : "-";
        if (g_strcmp0(state, "completed") == 0 || g_strcmp0(state, "failed") == 0) {
            if (json) {
                print_json(m);
            } else if (g_strcmp0(state, "completed") == 0) {
                g_print("domain %s: migrated to %s (%" G_GINT64_FORMAT " ms)\n", domain,
                        str_member(m, "dest_uri"), json_object_get_int_member_with_default(m, "duration_ms", 0));
            } else {
                g_printerr("vfailoverctl: migrate: domain %s: %s (rolled back: it runs here)\n",
                           domain, str_member(m, "error"));
            }
            return g_strcmp0(state, "completed") == 0 ? 0 : 1;
        }
        g_usleep(200 * 1000);
    }
    g_printerr("vfailoverctl: migrate: domain %s: still not finished after 30 min\n", domain);
    return 1;
}

/* validate-xml / render-xml: no daemon, exit 0 or 1 after one error line. */
static int
run_offline(const char *command, int argc, char **argv, gboolean json)
{
    if (argc != 3) {
        g_printerr("vfailoverctl: %s takes one FILE argument\n", command);
        return 2;
    }
    if (g_strcmp0(command, "validate-xml") == 0)
        return vfx_cli_validate(argv[2], json, stdout, stderr);
    return vfx_cli_render(argv[2], stdout, stderr);
}

int
main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *socket_path = NULL;
    gboolean json = FALSE, timeline = FALSE, all = FALSE;
    g_autofree char *mode = g_strdup("managed");
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
        { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path, "hookd control socket", "PATH" },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print replies as JSON", NULL },
        { "timeline", 't', 0, G_OPTION_ARG_NONE, &timeline, "pairs: also print each domain's timeline", NULL },
        { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "stats: every VF, not only those in use", NULL },
        { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode, "migrate: migration mode (managed)", "MODE" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS...] - control vfailover-hookd");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = NULL;
    g_autoptr(JsonObject) request = json_object_new();
    g_autoptr(JsonObject) reply = NULL;
    const char *path;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Commands: status, pairs [DOMAIN], migrate DOMAIN DEST_URI --mode managed, migrate-status DOMAIN, vfs [PF], stats [PF [VF]], list-commands; "
                                      "offline: validate-xml FILE, render-xml FILE (see vfailoverctl(8))");
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("vfailoverctl: %s\n", error->message);
        return 2;
    }
    if (argc < 2) {
        g_printerr("vfailoverctl: no command given (try 'vfailoverctl list-commands')\n");
        return 2;
    }
    vf_log_init("vfailoverctl", VF_LOG_QUIET, VF_LOG_TARGET_STDERR);
    if (g_strcmp0(argv[1], "validate-xml") == 0 || g_strcmp0(argv[1], "render-xml") == 0)
        return run_offline(argv[1], argc, argv, json);
    if (g_strcmp0(argv[1], "migrate") == 0) {
        if (argc != 4) {
            g_printerr("vfailoverctl: migrate takes DOMAIN DEST_URI (and --mode managed)\n");
            return 2;
        }
        if (g_strcmp0(mode, "managed") != 0) {
            g_printerr("vfailoverctl: migrate: --mode must be 'managed' (native mode is libvirt's "
                       "own: virsh migrate --live)\n");
            return 2;
        }
        json_object_set_string_member(request, "domain", argv[2]);
        json_object_set_string_member(request, "dest_uri", argv[3]);
        json_object_set_string_member(request, "mode", mode);
    } else if (!set_arguments(request, argc, argv, all)) {
        return 2;
    }

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
    if (g_strcmp0(argv[1], "migrate") == 0)
        return wait_migration(path, cfg, argv[2], json);
    if (json) {
        json_object_remove_member(reply, "ok");
        json_object_remove_member(reply, "protocol");
        print_json(reply);
    } else {
        print_reply_text(argv[1], reply, timeline);
    }
    return 0;
}
