/* vfailover-hookd: entry point. Parses options, loads the configuration,
 * sets up logging and runs the daemon's main loop. */
#include "config.h"

#include <stdlib.h>

#include "vf-config.h"
#include "vf-log.h"
#include "hookd-ctl.h"

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
    g_autoptr(HookdCtl) ctl = NULL;

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

    loop = g_main_loop_new(NULL, FALSE);
    ctl = hookd_ctl_new(cfg, &error);
    if (!ctl) {
        g_printerr("vfailover-hookd: %s\n", error->message);
        return 1;
    }
    g_info("started (config %s, control socket %s)", vf_config_path(cfg),
           vf_config_get_string(cfg, "hookd", "ctl-socket"));
    g_main_loop_run(loop);
    return 0;
}
