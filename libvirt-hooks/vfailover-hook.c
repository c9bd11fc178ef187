/* vfailover-hook: libvirt's qemu hook (installed as
 * /etc/libvirt/hooks/qemu.d/50-vfailover). Skeleton: it will forward argv
 * and the domain XML to hookd; until the libvirt-integration work lands it
 * changes nothing and lets every operation proceed. */
#include "config.h"

#include <stdio.h>

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
