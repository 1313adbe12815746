#define _GNU_SOURCE
#include "planet_netif.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <net/route.h>

/* Interface and route ioctls go through a throwaway datagram socket of the family they
 * concern; errno is that of the ioctl, not of the close. */
static int netif_ioctl(int family, unsigned long request, void *arg) {
    int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int r = ioctl(s, request, arg);
    int saved = errno;
    close(s);
    errno = saved;
    return r;
}

static void ifreq_named(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

/* Reads one ifreq field of interface `name` (SIOCGIF*) into *ifr. */
static int ifreq_get(const char *name, unsigned long request, struct ifreq *ifr) {
    ifreq_named(ifr, name);
    return netif_ioctl(AF_INET, request, ifr);
}

int planet_if_set_mtu(const char *name, int mtu) {
    struct ifreq ifr;
    ifreq_named(&ifr, name);
    ifr.ifr_mtu = mtu;
    return netif_ioctl(AF_INET, SIOCSIFMTU, &ifr);
}

int planet_if_set_txqueuelen(const char *name, int len) {
    struct ifreq ifr;
    ifreq_named(&ifr, name);
    ifr.ifr_qlen = len;
    return netif_ioctl(AF_INET, SIOCSIFTXQLEN, &ifr);
}

int planet_if_get_mtu(const char *name) {
    struct ifreq ifr;
    return ifreq_get(name, SIOCGIFMTU, &ifr) < 0 ? -1 : ifr.ifr_mtu;
}

int planet_if_set_up(const char *name) {
    struct ifreq ifr;
    if (ifreq_get(name, SIOCGIFFLAGS, &ifr) < 0) return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return netif_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
}

int planet_if_index(const char *name) {
    struct ifreq ifr;
    return ifreq_get(name, SIOCGIFINDEX, &ifr) < 0 ? -1 : ifr.ifr_ifindex;
}

int planet_if_is_loopback(const char *name) {
    struct ifreq ifr;
    if (ifreq_get(name, SIOCGIFFLAGS, &ifr) < 0) return -1;
    return (ifr.ifr_flags & IFF_LOOPBACK) ? 1 : 0;
}

/* struct in6_ifreq from <linux/ipv6.h>, restated because that header clashes with glibc's. */
struct planet_in6_ifreq {
    struct in6_addr ifr6_addr;
    uint32_t ifr6_prefixlen;
    int ifr6_ifindex;
};

int planet_if_add_ipv6(int ifindex, const uint8_t addr[16], int prefixlen) {
    struct planet_in6_ifreq r;
    memset(&r, 0, sizeof r);
    memcpy(r.ifr6_addr.s6_addr, addr, 16);
    r.ifr6_prefixlen = (uint32_t)prefixlen;
    r.ifr6_ifindex = ifindex;
    return netif_ioctl(AF_INET6, SIOCSIFADDR, &r);
}

int planet_route6(int add, int ifindex, const uint8_t dst[16], int prefixlen, int metric) {
    struct in6_rtmsg rt;
    memset(&rt, 0, sizeof rt);
    memcpy(rt.rtmsg_dst.s6_addr, dst, 16);
    rt.rtmsg_dst_len = (unsigned short)prefixlen;
    rt.rtmsg_metric = (uint32_t)metric;
    rt.rtmsg_flags = RTF_UP;
    rt.rtmsg_ifindex = ifindex;
    return netif_ioctl(AF_INET6, add ? SIOCADDRT : SIOCDELRT, &rt);
}
