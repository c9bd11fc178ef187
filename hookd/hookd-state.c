/* Crash-safe JSON files in hookd's state directory: write to a temporary
 * file, fsync it, rename it over the old one and fsync the directory, so a
 * reader (or hookd after kill -9 or a power loss) sees the old or the new
 * document, never a torn one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hookd-state.h"

static gboolean
write_all(int fd, const char *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        buf += n;
        len -= n;
    }
    return TRUE;
}

gboolean
hookd_state_write(const char *dir, const char *name, JsonNode *doc, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    g_autofree char *text = NULL;
    gsize len;
    int fd, dfd, saved;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create state directory %s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    text = json_to_string(doc, TRUE);
    len = strlen(text);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create state file %s: %s", tmp, g_strerror(errno));
        return FALSE;
    }
    if (!write_all(fd, text, len) || !write_all(fd, "\n", 1) || fsync(fd) < 0) {
        saved = errno;
        close(fd);
        g_unlink(tmp);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                    "cannot write state file %s: %s", tmp, g_strerror(saved));
        return FALSE;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        saved = errno;
        g_unlink(tmp);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
                    "cannot replace state file %s: %s", path, g_strerror(saved));
        return FALSE;
    }
    /* The rename itself must reach the disk too. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return TRUE;
}

JsonNode *
hookd_state_read(const char *dir, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return NULL;
    if (!json_parser_load_from_mapped_file(parser, path, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "state file %s is unreadable: %s", path, local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "state file %s does not hold a JSON object", path);
        return NULL;
    }
    return json_node_copy(root);
}
