#ifndef PLANET_NETIF_H
#define PLANET_NETIF_H
/* Network interfaces and routes through the classic ioctls: MTU, queue length, flags,
 * index, IPv6 addresses (in6_ifreq) and IPv6 routes (in6_rtmsg).
 * Every function returns -1 and leaves errno set on failure unless noted. */
#include <stdint.h>
#include <stddef.h>

int planet_if_set_mtu(const char *name, int mtu);
int planet_if_get_mtu(const char *name);
/* SIOCSIFTXQLEN: for a TUN, how many packets the kernel queues for our reads. */
int planet_if_set_txqueuelen(const char *name, int len);
int planet_if_set_up(const char *name);
int planet_if_index(const char *name);
int planet_if_is_loopback(const char *name);
int planet_if_add_ipv6(int ifindex, const uint8_t addr[16], int prefixlen);
int planet_route6(int add, int ifindex, const uint8_t dst[16], int prefixlen, int metric);
#endif
