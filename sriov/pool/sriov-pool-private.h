/* What the VF library's own tests and the vf-scale benchmark may use beyond
 * the public sriov-pool.h: a pool over backends they built themselves (the
 * kernel backend on a fake sysfs tree and netlink peer). */
#pragma once

#include "sriov-backend.h"
#include "sriov-pool.h"

/* sriov_pool_new() with the backends given; takes ownership of both
 * (either may be NULL if no PF uses it). */
SriovPool *sriov_pool_new_with_backends(VfConfig *cfg, const char *state_dir,
                                        SriovBackend *kernel, SriovBackend *emulated,
                                        GError **error);
