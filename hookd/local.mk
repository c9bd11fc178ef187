# hookd/: vfailover-hookd, the daemon. It uses the VF library only through
# sriov/include/ (SRIOV_CPPFLAGS).
sbin_PROGRAMS += hookd/vfailover-hookd
hookd_vfailover_hookd_SOURCES = \
	hookd/hookd-main.c hookd/hookd-daemon.h \
	hookd/hookd-ctl.c hookd/hookd-ctl.h \
	hookd/hookd-commands.c \
	hookd/hookd-event-glib.c hookd/hookd-event-glib.h \
	hookd/hookd-libvirt.c hookd/hookd-libvirt.h \
	hookd/hookd-events.c hookd/hookd-events.h \
	hookd/hookd-hook.c hookd/hookd-hook.h \
	hookd/hookd-hookops.c \
	hookd/hookd-sync.c \
	hookd/hookd-pairs.c hookd/hookd-pairs.h \
	hookd/hookd-state.c hookd/hookd-state.h \
	hookd/hookd-vf.c hookd/hookd-vf.h \
	hookd/hookd-dp.c hookd/hookd-dp.h \
	hookd/hookd-vfxml.c hookd/hookd-vfxml.h \
	hookd/hookd-migrate.c \
	hookd/hookd-standby.c \
	hookd/hookd-vfs.c hookd/hookd-vfs.h
hookd_vfailover_hookd_CPPFLAGS = $(AM_CPPFLAGS) $(SRIOV_CPPFLAGS)
hookd_vfailover_hookd_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML2_CFLAGS)
hookd_vfailover_hookd_LDADD = $(SRIOV_LIBS) $(VFX_LIBS) $(VF_COMMON_LIBS) $(LIBVIRT_LIBS)

systemdsystemunit_DATA += hookd/vfailover-hookd.service
EXTRA_DIST += hookd/vfailover-hookd.service.in
CLEANFILES += hookd/vfailover-hookd.service
