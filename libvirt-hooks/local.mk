# libvirt-hooks/: vfailover-hook, run by libvirtd as its qemu hook. It links
# only libc: libvirtd execs it for every operation of every domain, and its
# start-up is its cost (see libvirt-hooks/hook-wire.h).
libexec_PROGRAMS += libvirt-hooks/vfailover-hook
libvirt_hooks_vfailover_hook_SOURCES = \
	libvirt-hooks/vfailover-hook.c \
	libvirt-hooks/hook-wire.c libvirt-hooks/hook-wire.h
# Static: no dynamic loading at each of its runs (about a third of its
# start-up here; tests/bench/hook-latency). Sanitizers (--enable-asan) do
# not link statically: the hook is built without them.
libvirt_hooks_vfailover_hook_CFLAGS = $(filter-out -fsanitize=%,$(VF_CFLAGS))
libvirt_hooks_vfailover_hook_LDFLAGS = -static
libvirt_hooks_vfailover_hook_LDADD =

# libvirt runs every executable in hooks/qemu.d; ours is a symlink to the
# binary so that upgrades replace one file.
install-data-hook: install-libvirt-hook
install-libvirt-hook:
	$(MKDIR_P) $(DESTDIR)$(libvirthookdir)
	ln -sf $(libexecdir)/vfailover-hook $(DESTDIR)$(libvirthookdir)/50-vfailover
uninstall-hook: uninstall-libvirt-hook
uninstall-libvirt-hook:
	rm -f $(DESTDIR)$(libvirthookdir)/50-vfailover
.PHONY: install-libvirt-hook uninstall-libvirt-hook
