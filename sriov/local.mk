# sriov/: libvfsriov.a, the VF library — the backend interface, the kernel
# backend (sysfs + rtnetlink), the emulated backend (bridge/tap, tcx BPF,
# nftables), the VF pool and its reservation records. It knows nothing of
# hookd, libvirt or pairs: it is compiled without their include paths, and
# its users see only sriov/include/ ($(SRIOV_CPPFLAGS)); link with
# $(SRIOV_LIBS).
SRIOV_CPPFLAGS = -I$(top_srcdir)/sriov/include
# For the library itself and its own tests (tests/vf): the private headers.
SRIOV_PRIVATE_CPPFLAGS = $(SRIOV_CPPFLAGS) -I$(top_srcdir)/sriov \
	-I$(top_srcdir)/sriov/kernel -I$(top_srcdir)/sriov/emulated -I$(top_srcdir)/sriov/pool

noinst_LIBRARIES += sriov/libvfsriov.a
sriov_libvfsriov_a_SOURCES = \
	sriov/include/sriov-vf.h sriov/include/sriov-pool.h \
	sriov/sriov-backend.c sriov/sriov-backend.h \
	sriov/sriov-netlink.c sriov/sriov-netlink.h \
	sriov/kernel/sriov-sysfs.c sriov/kernel/sriov-sysfs.h \
	sriov/kernel/sriov-kernel.c sriov/kernel/sriov-kernel.h \
	sriov/emulated/sriov-emulated.c sriov/emulated/sriov-emulated.h \
	sriov/emulated/sriov-nft.c \
	sriov/emulated/sriov-bpf.c sriov/emulated/sriov-bpf.h \
	sriov/pool/sriov-record.c sriov/pool/sriov-record.h \
	sriov/pool/sriov-pool.c sriov/pool/sriov-pool-private.h
sriov_libvfsriov_a_CFLAGS = $(AM_CFLAGS) $(LIBNL_CFLAGS)
sriov_libvfsriov_a_CPPFLAGS = $(AM_CPPFLAGS) $(SRIOV_PRIVATE_CPPFLAGS)

SRIOV_LIBS = sriov/libvfsriov.a $(LIBNL_LIBS)
