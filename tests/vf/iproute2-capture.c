/* iproute2's requests, captured under strace (see iproute2-capture.h). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "iproute2-capture.h"

static void
run_quiet(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ignored = NULL;
    int status = 0;

    /* Never let a child's output into our TAP stream. */
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &ignored, NULL, &status, &error))
        g_error("%s: %s", argv[0], error->message);
}

GByteArray *
iproute2_capture(const char *const *cmd, guint16 type, int family)
{
    g_autofree char *log = g_strdup_printf("%s/vf-strace-%d.log", g_get_tmp_dir(), (int)getpid());
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GByteArray *found = NULL;
    GByteArray *cur = NULL;
    guint i;

    g_ptr_array_add(argv, (char *)"strace");
    g_ptr_array_add(argv, (char *)"-qq");
    g_ptr_array_add(argv, (char *)"-e");
    g_ptr_array_add(argv, (char *)"trace=sendmsg,sendto");
    g_ptr_array_add(argv, (char *)"-e");
    g_ptr_array_add(argv, (char *)"write=all");
    g_ptr_array_add(argv, (char *)"-o");
    g_ptr_array_add(argv, log);
    for (i = 0; cmd[i]; i++)
        g_ptr_array_add(argv, (char *)cmd[i]);
    g_ptr_array_add(argv, NULL);
    run_quiet((const char *const *)argv->pdata);   /* may fail: the kernel may refuse */
    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    unlink(log);

    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, " | ") && strlen(l) > 10) {
            /* " | 00000  30 00 00 00 ...  ascii |": hex in columns 10..58 */
            g_autofree char *hex = g_strndup(l + 10, 49);
            g_auto(GStrv) tok = g_strsplit_set(hex, " ", -1);
            char **t;
            if (!cur)
                cur = g_byte_array_new();
            for (t = tok; *t; t++) {
                if (strlen(*t) == 2 && g_ascii_isxdigit((*t)[0]) && g_ascii_isxdigit((*t)[1])) {
                    guint8 b = (guint8)g_ascii_strtoull(*t, NULL, 16);
                    g_byte_array_append(cur, &b, 1);
                }
            }
        } else if (cur) {
            const struct nlmsghdr *h = (const struct nlmsghdr *)cur->data;
            if (cur->len >= sizeof(*h) + 1 && h->nlmsg_type == type &&
                (family < 0 || cur->data[sizeof(*h)] == family)) {
                if (found)
                    g_byte_array_unref(found);
                found = cur;
            } else {
                g_byte_array_unref(cur);
            }
            cur = NULL;
        }
    }
    if (cur)
        g_byte_array_unref(cur);
    return found;
}

void
iproute2_assert_same_request(GByteArray *ours, GByteArray *theirs, const char *what)
{
    g_assert_nonnull(theirs);
    g_assert_cmpuint(ours->len, >=, 16);
    /* seq and pid aside */
    memset(ours->data + 8, 0, 8);
    memset(theirs->data + 8, 0, 8);
    if (ours->len != theirs->len || memcmp(ours->data, theirs->data, ours->len) != 0) {
        guint i;
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "%s: ours (%u bytes):", what, ours->len);
        for (i = 0; i < ours->len; i++)
            g_string_append_printf(s, " %02x", ours->data[i]);
        g_string_append_printf(s, "\n iproute2 (%u bytes):", theirs->len);
        for (i = 0; i < theirs->len; i++)
            g_string_append_printf(s, " %02x", theirs->data[i]);
        g_error("%s", s->str);
    }
}
