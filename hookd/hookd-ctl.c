/* hookd's control socket server: accepts root-only connections, reads one
 * framed request {"command": NAME, ...}, dispatches through the command
 * table, writes one framed reply {"ok": true, ...} or {"ok": false,
 * "error": "..."}. Connections are served on a worker thread so a slow peer
 * never stalls the main loop; handlers themselves run on the main loop. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "vf-frame.h"
#include "vf-socket.h"
#include "hookd-ctl.h"

#define CTL_TIMEOUT_MS 5000

typedef struct {
    char *name;
    char *help;
    HookdCtlHandler handler;
    gpointer user_data;
} CtlCommand;

struct _HookdCtl {
    char *path;
    gsize max_bytes;
    int listen_fd;
    guint watch_id;
    GThreadPool *workers;
    GMainContext *main_ctx;
    GHashTable *commands; /* name -> CtlCommand* */
};

typedef struct {
    HookdCtl *ctl;
    JsonObject *request;
    JsonObject *reply;
    GMutex lock;
    GCond cond;
    gboolean done;
} CtlDispatch;

static void
ctl_command_free(gpointer p)
{
    CtlCommand *c = p;
    g_free(c->name);
    g_free(c->help);
    g_free(c);
}

static void
reply_error(JsonObject *reply, const char *message)
{
    json_object_set_boolean_member(reply, "ok", FALSE);
    json_object_set_string_member(reply, "error", message);
}

/* Runs on the main loop: look the command up and call it. */
static gboolean
ctl_dispatch_on_main(gpointer data)
{
    CtlDispatch *d = data;
    g_autoptr(GError) error = NULL;
    const char *name = vf_msg_get_string(d->request, "command", &error);
    CtlCommand *cmd = NULL;

    if (name) {
        cmd = g_hash_table_lookup(d->ctl->commands, name);
        if (!cmd)
            g_set_error(&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "unknown command '%s' (try list-commands)", name);
    }
    if (cmd && cmd->handler(d->request, d->reply, cmd->user_data, &error))
        json_object_set_boolean_member(d->reply, "ok", TRUE);
    else
        reply_error(d->reply, error->message);

    g_mutex_lock(&d->lock);
    d->done = TRUE;
    g_cond_signal(&d->cond);
    g_mutex_unlock(&d->lock);
    return G_SOURCE_REMOVE;
}

/* Worker thread: all blocking socket I/O for one connection. */
static void
ctl_serve_connection(gpointer fd_ptr, gpointer user_data)
{
    HookdCtl *ctl = user_data;
    int fd = GPOINTER_TO_INT(fd_ptr);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) reply = json_object_new();
    CtlDispatch d = { .ctl = ctl, .reply = reply };

    if (!vf_socket_check_peer(fd, 0, &error)) {
        g_warning("control socket %s: refused connection: %s", ctl->path, error->message);
        reply_error(reply, error->message);
        goto send;
    }
    d.request = vf_frame_read(fd, ctl->max_bytes, CTL_TIMEOUT_MS, &error);
    if (!d.request) {
        g_warning("control socket %s: bad request: %s", ctl->path, error->message);
        reply_error(reply, error->message);
        goto send;
    }
    g_mutex_init(&d.lock);
    g_cond_init(&d.cond);
    g_main_context_invoke(ctl->main_ctx, ctl_dispatch_on_main, &d);
    g_mutex_lock(&d.lock);
    while (!d.done)
        g_cond_wait(&d.cond, &d.lock);
    g_mutex_unlock(&d.lock);
    g_mutex_clear(&d.lock);
    g_cond_clear(&d.cond);
    json_object_unref(d.request);

send:
    g_clear_error(&error);
    if (!vf_frame_write(fd, reply, ctl->max_bytes, CTL_TIMEOUT_MS, &error))
        g_debug("control socket %s: reply not delivered: %s", ctl->path, error->message);
    close(fd);
}

static gboolean
ctl_on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
    HookdCtl *ctl = user_data;
    int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0) {
        if (errno != EAGAIN && errno != EINTR)
            g_warning("control socket %s: accept failed: %s", ctl->path, g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    g_thread_pool_push(ctl->workers, GINT_TO_POINTER(conn), NULL);
    return G_SOURCE_CONTINUE;
}

static gboolean
cmd_list_commands(JsonObject *request, JsonObject *reply, gpointer user_data, GError **error)
{
    HookdCtl *ctl = user_data;
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(ctl->commands),
                                         (GCompareFunc)g_strcmp0);
    JsonArray *list = json_array_new();
    GList *l;

    for (l = names; l; l = l->next) {
        CtlCommand *c = g_hash_table_lookup(ctl->commands, l->data);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", c->name);
        json_object_set_string_member(o, "help", c->help);
        json_array_add_object_element(list, o);
    }
    json_object_set_array_member(reply, "commands", list);
    return TRUE;
}

HookdCtl *
hookd_ctl_new(VfConfig *cfg, GError **error)
{
    HookdCtl *ctl = g_new0(HookdCtl, 1);

    ctl->listen_fd = -1;
    ctl->path = g_strdup(vf_config_get_string(cfg, "hookd", "ctl-socket"));
    ctl->max_bytes = vf_config_get_int(cfg, "hookd", "max-message-bytes");
    ctl->main_ctx = g_main_context_ref_thread_default();
    ctl->commands = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, ctl_command_free);
    ctl->listen_fd = vf_socket_listen(ctl->path, error);
    if (ctl->listen_fd < 0) {
        hookd_ctl_free(ctl);
        return NULL;
    }
    ctl->workers = g_thread_pool_new(ctl_serve_connection, ctl, 4, FALSE, NULL);
    ctl->watch_id = g_unix_fd_add(ctl->listen_fd, G_IO_IN, ctl_on_accept, ctl);
    hookd_ctl_register(ctl, "list-commands", "List the commands this socket accepts",
                       cmd_list_commands, ctl);
    return ctl;
}

void
hookd_ctl_register(HookdCtl *ctl, const char *name, const char *help,
                   HookdCtlHandler handler, gpointer user_data)
{
    CtlCommand *c = g_new0(CtlCommand, 1);
    c->name = g_strdup(name);
    c->help = g_strdup(help);
    c->handler = handler;
    c->user_data = user_data;
    g_hash_table_replace(ctl->commands, c->name, c);
}

void
hookd_ctl_free(HookdCtl *ctl)
{
    if (!ctl)
        return;
    if (ctl->watch_id)
        g_source_remove(ctl->watch_id);
    if (ctl->workers)
        g_thread_pool_free(ctl->workers, TRUE, TRUE);
    if (ctl->listen_fd >= 0) {
        close(ctl->listen_fd);
        unlink(ctl->path);
    }
    g_hash_table_unref(ctl->commands);
    g_main_context_unref(ctl->main_ctx);
    g_free(ctl->path);
    g_free(ctl);
}
