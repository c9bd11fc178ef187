/* What iproute2 sends: run an `ip` or `bridge` command under strace and
 * take the bytes of one netlink request from its dump, so tests can compare
 * our requests with iproute2's byte for byte (seq and pid aside). */
#pragma once

#include <glib.h>

/* Run @cmd (cmd[0] "ip" or "bridge"; its failure is ignored: the kernel
 * here may refuse the request) under strace and return the bytes of the
 * LAST message it sent of netlink type @type (and, if @family >= 0, whose
 * first payload byte — the ifinfomsg/ndmsg family — is @family); NULL if
 * none. */
GByteArray *iproute2_capture(const char *const *cmd, guint16 type, int family);

/* Abort with both messages in hex unless @ours and @theirs are the same
 * bytes once their nlmsg_seq and nlmsg_pid are zeroed (both are changed). */
void iproute2_assert_same_request(GByteArray *ours, GByteArray *theirs, const char *what);
