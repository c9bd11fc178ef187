# hookd/: vfailover-hookd (the daemon) and vfailoverctl (its CLI client).
sbin_PROGRAMS += hookd/vfailover-hookd
hookd_vfailover_hookd_SOURCES = \
	hookd/hookd-main.c \
	hookd/hookd-ctl.c hookd/hookd-ctl.h
hookd_vfailover_hookd_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML2_CFLAGS)
hookd_vfailover_hookd_LDADD = $(VF_COMMON_LIBS) $(LIBVIRT_LIBS) $(LIBXML2_LIBS)

bin_PROGRAMS += hookd/vfailoverctl
hookd_vfailoverctl_SOURCES = hookd/vfailoverctl.c
hookd_vfailoverctl_LDADD = $(VF_COMMON_LIBS)

systemdsystemunit_DATA += hookd/vfailover-hookd.service
EXTRA_DIST += hookd/vfailover-hookd.service.in
CLEANFILES += hookd/vfailover-hookd.service
