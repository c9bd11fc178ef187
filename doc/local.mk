# doc/: man pages and the architecture notes.
dist_man_MANS += \
	doc/vfailover-hookd.8 \
	doc/vfailoverctl.8 \
	doc/vfailover-hook.8 \
	doc/vfailover.conf.5
dist_doc_DATA += doc/architecture.md
dist_noinst_DATA += doc/vfailover.conf.example
