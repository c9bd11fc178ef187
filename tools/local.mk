# tools/: vfailoverctl, the operator's command-line client (as libvirt keeps
# virsh in tools/, apart from the daemons). It talks to hookd's control
# socket and runs the offline XML commands of libvfxml; it links no VF
# library and no libvirt.
bin_PROGRAMS += tools/vfailoverctl
tools_vfailoverctl_SOURCES = tools/vfailoverctl.c
tools_vfailoverctl_LDADD = $(VFX_LIBS) $(VF_COMMON_LIBS)
