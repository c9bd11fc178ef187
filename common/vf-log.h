/* Logging shared by every vfailover binary: GLib structured logging to
 * journald when it is there, to stderr otherwise, filtered by a verbosity
 * chosen on the command line (--verbose, --debug). */
#pragma once

#include <glib.h>

typedef enum {
    VF_LOG_QUIET = 0,   /* warnings and errors only */
    VF_LOG_VERBOSE,     /* + g_message/g_info */
    VF_LOG_DEBUG,       /* + g_debug */
} VfLogVerbosity;

typedef enum {
    VF_LOG_TARGET_AUTO = 0, /* journald if stderr is connected to it or no tty, else stderr */
    VF_LOG_TARGET_STDERR,
    VF_LOG_TARGET_JOURNAL,
} VfLogTarget;

/* Install the writer. @ident names the program in every line. */
void vf_log_init(const char *ident, VfLogVerbosity verbosity, VfLogTarget target);

/* Change verbosity at run time (e.g. from a control command). */
void vf_log_set_verbosity(VfLogVerbosity verbosity);

/* The verbosity chosen from the usual flags (both may be FALSE). */
VfLogVerbosity vf_log_verbosity_from_flags(gboolean verbose, gboolean debug);
