# hookd/sriov.mk: VF backends (kernel, emulated), VF pool, saved VF state — linked into vfailover-hookd.
