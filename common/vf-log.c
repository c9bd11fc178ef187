/* Logging shared by every vfailover binary (see vf-log.h). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "vf-log.h"

static VfLogVerbosity log_verbosity = VF_LOG_QUIET;
static gboolean log_to_journal;
static char *log_ident;

static gboolean
level_enabled(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
        return TRUE;
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return log_verbosity >= VF_LOG_VERBOSE;
    return log_verbosity >= VF_LOG_DEBUG;
}

static const char *
level_name(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR)
        return "error";
    if (level & G_LOG_LEVEL_CRITICAL)
        return "critical";
    if (level & G_LOG_LEVEL_WARNING)
        return "warning";
    if (level & G_LOG_LEVEL_MESSAGE)
        return "notice";
    if (level & G_LOG_LEVEL_INFO)
        return "info";
    return "debug";
}

static GLogWriterOutput
vf_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
              gpointer user_data)
{
    const char *message = NULL;
    gsize i;

    if (!level_enabled(level))
        return G_LOG_WRITER_HANDLED;

    if (log_to_journal &&
        g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;

    for (i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0) {
            message = fields[i].value;
            break;
        }
    }
    if (!message)
        return G_LOG_WRITER_UNHANDLED;

    /* One line per record: "ident: level: message" — easy to grep in
     * libvirt's log and in test output. */
    fprintf(stderr, "%s: %s: %s\n", log_ident ? log_ident : g_get_prgname(),
            level_name(level), message);
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

VfLogVerbosity
vf_log_verbosity_from_flags(gboolean verbose, gboolean debug)
{
    if (debug)
        return VF_LOG_DEBUG;
    if (verbose)
        return VF_LOG_VERBOSE;
    return VF_LOG_QUIET;
}

void
vf_log_set_verbosity(VfLogVerbosity verbosity)
{
    log_verbosity = verbosity;
}

void
vf_log_init(const char *ident, VfLogVerbosity verbosity, VfLogTarget target)
{
    g_free(log_ident);
    log_ident = g_strdup(ident);
    g_set_prgname(ident);
    log_verbosity = verbosity;

    switch (target) {
    case VF_LOG_TARGET_JOURNAL:
        log_to_journal = TRUE;
        break;
    case VF_LOG_TARGET_STDERR:
        log_to_journal = FALSE;
        break;
    case VF_LOG_TARGET_AUTO:
    default:
        /* Under systemd stderr is already the journal; use the native
         * protocol then so structured fields survive. Elsewhere stderr. */
        log_to_journal = g_log_writer_is_journald(STDERR_FILENO);
        break;
    }
    g_log_set_writer_func(vf_log_writer, NULL, NULL);
}
