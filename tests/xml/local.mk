# tests/xml/: data-driven tests of the domain XML library and the schema.
check_PROGRAMS += tests/xml/test-xml
tests_xml_test_xml_SOURCES = tests/xml/test-xml.c
tests_xml_test_xml_CPPFLAGS = $(TEST_CPPFLAGS)
tests_xml_test_xml_CFLAGS = $(AM_CFLAGS) $(LIBXML2_CFLAGS)
tests_xml_test_xml_LDADD = $(VFX_LIBS)

EXTRA_DIST += tests/xml/data tests/xml/expected

TESTS += tests/xml/test-xml
