# common/: logging, configuration, framing and sockets shared by every binary.
noinst_LIBRARIES += common/libvfcommon.a
common_libvfcommon_a_SOURCES = \
	common/vf-config.c common/vf-config.h \
	common/vf-frame.c common/vf-frame.h \
	common/vf-log.c common/vf-log.h \
	common/vf-socket.c common/vf-socket.h

VF_COMMON_LIBS = common/libvfcommon.a $(JSON_GLIB_LIBS) $(GLIB_LIBS)
