#ifndef PLANET_TUN_H
#define PLANET_TUN_H
/* The TUN device: opening it (with or without the virtio-net header) and its offloads.
 * Every function returns -1 and leaves errno set on failure unless noted. */
#include <stdint.h>
#include <stddef.h>

/* Opens /dev/net/tun as IFF_TUN|IFF_NO_PI (plus IFF_VNET_HDR when vnet_hdr != 0),
 * nonblocking. `name` may be a template like "tun%d"; the kernel's chosen name is
 * written to name_out (IFNAMSIZ bytes). Returns the fd. */
int planet_tun_open(const char *name, int vnet_hdr, char *name_out);
/* TUNSETOFFLOAD: which offloads we accept from the kernel (TUN_F_* bits: 1 CSUM, 4 TSO6,
 * 0x20|0x40 USO4|USO6, which the kernel takes only together and only from 6.2 on).
 * Needs a TUN opened with IFF_VNET_HDR. */
int planet_tun_set_offload(int fd, unsigned flags);
#endif
