/* hookd's control socket: a table of named commands answered one reply per
 * request (vfailoverctl and cloud managers talk to it). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "vf-config.h"

typedef struct _HookdCtl HookdCtl;

/* A command handler: fills @reply (an object) or sets @error. */
typedef gboolean (*HookdCtlHandler)(JsonObject *request, JsonObject *reply,
                                    gpointer user_data, GError **error);

HookdCtl *hookd_ctl_new(VfConfig *cfg, GError **error);
void hookd_ctl_free(HookdCtl *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HookdCtl, hookd_ctl_free)

/* Register @name; @help is one line shown by list-commands. */
void hookd_ctl_register(HookdCtl *ctl, const char *name, const char *help,
                        HookdCtlHandler handler, gpointer user_data);
