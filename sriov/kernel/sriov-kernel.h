/* The kernel VF backend (real SR-IOV NICs: sysfs + rtnetlink on the PF).
 * sriov_kernel_backend_new() is declared in sriov-backend.h; this header
 * gives tests and the benchmark the sysfs handle for the fake kernel. */
#pragma once

#include "sriov-backend.h"
#include "sriov-sysfs.h"

SriovSysfs *sriov_kernel_backend_sysfs(SriovBackend *be);
