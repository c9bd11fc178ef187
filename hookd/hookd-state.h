/* Crash-safe JSON documents in hookd's state directory (hookd-state.c). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* Replace DIR/NAME with @doc atomically (tmp + fsync + rename + dir fsync). */
gboolean hookd_state_write(const char *dir, const char *name, JsonNode *doc, GError **error);

/* Read DIR/NAME. Returns NULL without error when the file does not exist,
 * NULL with @error when it exists but is not a JSON object. */
JsonNode *hookd_state_read(const char *dir, const char *name, GError **error);
