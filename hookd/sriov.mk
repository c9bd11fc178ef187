# hookd/sriov.mk: VF backends (kernel, emulated), VF pool, saved VF state — linked into vfailover-hookd.
# Link with $(SRIOV_LIBS) (libsriov.a and what it needs).
noinst_LIBRARIES += hookd/libsriov.a
hookd_libsriov_a_SOURCES = \
	hookd/sriov-backend.c hookd/sriov-backend.h \
	hookd/sriov-sysfs.c hookd/sriov-sysfs.h \
	hookd/sriov-netlink.c hookd/sriov-netlink.h \
	hookd/sriov-kernel.c hookd/sriov-kernel.h \
	hookd/sriov-emulated.c \
	hookd/sriov-bpf.c hookd/sriov-bpf.h \
	hookd/sriov-state.c hookd/sriov-state.h \
	hookd/sriov-pool.c hookd/sriov-pool.h \
	hookd/sriov-ctl.c hookd/sriov-ctl.h
hookd_libsriov_a_CFLAGS = $(AM_CFLAGS) $(LIBNL_CFLAGS)
hookd_libsriov_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/hookd

SRIOV_LIBS = hookd/libsriov.a $(LIBNL_LIBS)
