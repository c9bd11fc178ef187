# xml/: annotation schema and the domain XML library (libxml2).
noinst_LIBRARIES += xml/libvfxml.a
xml_libvfxml_a_SOURCES = \
	xml/vfx-domain.h xml/vfx-private.h \
	xml/vfx-xml.c \
	xml/vfx-domain.c \
	xml/vfx-render.c \
	xml/vfx-pcie.c \
	xml/vfx-cli.c
xml_libvfxml_a_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)

# What a program using libvfxml links (after its own objects).
VFX_LIBS = xml/libvfxml.a $(LIBXML2_LIBS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

# The RelaxNG schema of the annotations, installed for operators' tools.
vfschemadir = $(pkgdatadir)/schemas
dist_vfschema_DATA = xml/vfailover-annotations.rng

dist_man_MANS += doc/vfailover-annotations.5
EXTRA_DIST += xml/examples
