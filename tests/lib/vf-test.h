/* Helpers shared by vfailover's C test programs (GLib testutils + TAP). */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole program cannot run here: print the TAP skip plan with the
 * reason and exit 77 (tests/run-test applies the VFAILOVER_NO_SKIP policy). */
G_GNUC_NORETURN static inline void
vf_test_skip_all(const char *reason)
{
    printf("1..0 # SKIP %s\n", reason);
    fflush(stdout);
    exit(77);
}

/* Absolute path of a file in the source tree (top_srcdir is exported by
 * make check; falls back to the current directory). */
static inline char *
vf_test_srcpath(const char *relative)
{
    const char *top = g_getenv("top_srcdir");
    return g_build_filename(top ? top : ".", relative, NULL);
}

static inline char *
vf_test_buildpath(const char *relative)
{
    const char *top = g_getenv("top_builddir");
    return g_build_filename(top ? top : ".", relative, NULL);
}
