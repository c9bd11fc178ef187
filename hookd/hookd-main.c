/* vfailover-hookd: entry point. Parses options, loads the configuration,
 * sets up logging, wires the daemon's parts together (registry, VF manager
 * and datapath seams, hook server, control socket, libvirt connection) and
 * runs the main loop until SIGTERM/SIGINT. */
#include "config.h"

#include <stdlib.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "vf-config.h"
#include "vf-log.h"
#include "hookd-daemon.h"
#include "hookd-event-glib.h"
#include "hookd-vfs.h"

typedef struct {
    char *config;
    char *socket;
    char *ctl_socket;
    char *state_dir;
    char *libvirt_uri;
    char *vf_backend;
    char *sysfs_root;
    gboolean foreground;
    gboolean verbose;
    gboolean debug;
    gboolean version;
} HookdOptions;

static void
hookd_options_clear(HookdOptions *o)
{
    g_free(o->config);
    g_free(o->socket);
    g_free(o->ctl_socket);
    g_free(o->state_dir);
    g_free(o->libvirt_uri);
    g_free(o->vf_backend);
    g_free(o->sysfs_root);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HookdOptions, hookd_options_clear)

static void
apply_override(VfConfig *cfg, const char *key, const char *value)
{
    if (value)
        vf_config_set_string(cfg, "hookd", key, value);
}

/* ---- the daemon's shared helpers (hookd-daemon.h) ---- */

typedef struct {
    HookdDaemon *daemon;
    HookdWorkFunc func;
    char *uuid;
} WorkItem;

static gboolean
work_run(gpointer data)
{
    WorkItem *w = data;
    w->func(w->daemon, w->uuid);
    g_free(w->uuid);
    g_free(w);
    return G_SOURCE_REMOVE;
}

void
hookd_daemon_queue(HookdDaemon *daemon, HookdWorkFunc func, const char *uuid)
{
    WorkItem *w = g_new0(WorkItem, 1);
    w->daemon = daemon;
    w->func = func;
    w->uuid = g_strdup(uuid);
    g_idle_add(work_run, w);   /* default main context: safe from any thread */
}

void
hookd_daemon_count(GHashTable *table, const char *key)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(table, key));
    g_hash_table_replace(table, g_strdup(key), GUINT_TO_POINTER(n + 1));
}

/* A state file hookd cannot read is kept for a human and replaced: the
 * resync rebuilds the records of live domains from libvirt. */
static HookdRegistry *
open_registry(const char *state_dir, GError **error)
{
    g_autoptr(GError) local = NULL;
    HookdRegistry *reg = hookd_registry_new(state_dir, &local);
    g_autofree char *path = NULL;
    g_autofree char *aside = NULL;

    if (reg)
        return reg;
    path = g_build_filename(state_dir, "pairs.json", NULL);
    aside = g_strdup_printf("%s.unreadable-%" G_GINT64_FORMAT, path, g_get_real_time() / G_USEC_PER_SEC);
    if (g_rename(path, aside) < 0) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    g_warning("%s; moved it to %s and starting empty (the resync adopts live domains)",
              local->message, aside);
    return hookd_registry_new(state_dir, error);
}

static gboolean
on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static void
daemon_clear(HookdDaemon *d)
{
    /* Waits for a managed migration in progress to finish. */
    hookd_migrate_free_all(d);
    hookd_libvirt_free(d->libvirt);
    hookd_ctl_free(d->ctl);
    hookd_hook_free(d->hook);
    hookd_dp_free(d->dp);
    hookd_vf_free(d->vf);
    hookd_registry_free(d->registry);
    if (d->hook_counts)
        g_hash_table_unref(d->hook_counts);
    if (d->event_counts)
        g_hash_table_unref(d->event_counts);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HookdDaemon, daemon_clear)

int
main(int argc, char **argv)
{
    g_auto(HookdOptions) opt = { 0 };
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt.config, "Configuration file (default " VF_CONFIG_DEFAULT_PATH ")", "FILE" },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &opt.socket, "Hook socket path", "PATH" },
        { "ctl-socket", 0, 0, G_OPTION_ARG_FILENAME, &opt.ctl_socket, "Control socket path", "PATH" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt.state_dir, "State directory", "DIR" },
        { "libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &opt.libvirt_uri, "libvirt connection URI", "URI" },
        { "vf-backend", 0, 0, G_OPTION_ARG_STRING, &opt.vf_backend, "VF backend: kernel or emulated", "NAME" },
        { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &opt.sysfs_root, "Root of sysfs (tests use a fake tree)", "DIR" },
        { "foreground", 'f', 0, G_OPTION_ARG_NONE, &opt.foreground, "Stay in the foreground (always true under systemd)", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Log informational messages", NULL },
        { "debug", 'd', 0, G_OPTION_ARG_NONE, &opt.debug, "Log debug messages", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opt.version, "Print the version and exit", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- vfailover hook daemon");
    g_autoptr(GError) error = NULL;
    g_autoptr(VfConfig) cfg = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_auto(HookdDaemon) d = { 0 };

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("vfailover-hookd: %s\n", error->message);
        return 2;
    }
    if (opt.version) {
        g_print("vfailover-hookd %s\n", PACKAGE_VERSION);
        return 0;
    }
    vf_log_init("vfailover-hookd", vf_log_verbosity_from_flags(opt.verbose, opt.debug),
                VF_LOG_TARGET_AUTO);

    cfg = vf_config_load(opt.config, &error);
    if (!cfg) {
        g_printerr("vfailover-hookd: %s\n", error->message);
        return 1;
    }
    apply_override(cfg, "socket", opt.socket);
    apply_override(cfg, "ctl-socket", opt.ctl_socket);
    apply_override(cfg, "state-dir", opt.state_dir);
    apply_override(cfg, "libvirt-uri", opt.libvirt_uri);
    apply_override(cfg, "vf-backend", opt.vf_backend);
    apply_override(cfg, "sysfs-root", opt.sysfs_root);
    if (!opt.verbose && !opt.debug) {
        const char *level = vf_config_get_string(cfg, "hookd", "log-level");
        if (g_strcmp0(level, "info") == 0)
            vf_log_set_verbosity(VF_LOG_VERBOSE);
        else if (g_strcmp0(level, "debug") == 0)
            vf_log_set_verbosity(VF_LOG_DEBUG);
    }

    loop = g_main_loop_new(NULL, FALSE);
    hookd_event_glib_register();

    d.cfg = cfg;
    d.started = g_get_real_time();
    d.hook_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d.event_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!(d.registry = open_registry(vf_config_get_string(cfg, "hookd", "state-dir"), &error)) ||
        !(d.vf = hookd_vf_new(cfg, &error))) {
        g_printerr("vfailover-hookd: %s\n", error->message);
        return 1;
    }
    d.dp = hookd_dp_new(cfg);
    if (!(d.hook = hookd_hook_new(cfg, hookd_hookops_handle, &d, &error)) ||
        !(d.ctl = hookd_ctl_new(cfg, &error))) {
        g_printerr("vfailover-hookd: %s\n", error->message);
        return 1;
    }
    hookd_commands_register(&d);
    hookd_migrate_register(&d);
    hookd_vfs_register(d.ctl, hookd_vf_pool(d.vf));
    d.libvirt = hookd_libvirt_new(vf_config_get_string(cfg, "hookd", "libvirt-uri"),
                                  hookd_sync_domains, &d);
    hookd_libvirt_start(d.libvirt);
    hookd_dp_watch_start(d.dp, d.registry);

    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    g_info("started (config %s, hook socket %s, control socket %s, libvirt %s)",
           vf_config_path(cfg), vf_config_get_string(cfg, "hookd", "socket"),
           vf_config_get_string(cfg, "hookd", "ctl-socket"),
           vf_config_get_string(cfg, "hookd", "libvirt-uri"));
    g_main_loop_run(loop);
    g_info("stopping");
    return 0;
}
