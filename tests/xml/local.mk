# tests/xml/: data-driven tests of the domain XML library and the schema.
check_PROGRAMS += tests/xml/test-xml
tests_xml_test_xml_SOURCES = tests/xml/test-xml.c
tests_xml_test_xml_CPPFLAGS = $(TEST_CPPFLAGS)
tests_xml_test_xml_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
tests_xml_test_xml_LDADD = $(VFX_LIBS)

EXTRA_DIST += tests/xml/data tests/xml/expected

TESTS += tests/xml/test-xml

# The schema checks use the xmllint and virt-xml-validate configure found.
check_SCRIPTS += tests/xml/xml-tools.env
tests/xml/xml-tools.env: Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	{ echo "XMLLINT='$(XMLLINT)'"; echo "VIRT_XML_VALIDATE='$(VIRT_XML_VALIDATE)'"; } > $@.tmp && mv $@.tmp $@
CLEANFILES += tests/xml/xml-tools.env

dist_check_SCRIPTS += tests/xml/test-schema.sh
TESTS += tests/xml/test-schema.sh

# vfx-tool: libvfxml from shell tests (render / override / rewrite).
check_PROGRAMS += tests/xml/vfx-tool
tests_xml_vfx_tool_SOURCES = tests/xml/vfx-tool.c
tests_xml_vfx_tool_CPPFLAGS = $(TEST_CPPFLAGS)
tests_xml_vfx_tool_LDADD = $(VFX_LIBS)

# Needs root: a private libvirtd in namespaces (tests/lib/libvirt-host.sh).
dist_check_SCRIPTS += tests/xml/test-libvirt-override.sh
TESTS += tests/xml/test-libvirt-override.sh
