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
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

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

/* RTM_NEWADDR over rtnetlink rather than the SIOCSIFADDR ioctl, for one flag the ioctl cannot
 * pass: IFA_F_NODAD. Without it the kernel adds the address "tentative" and clears that from a
 * workqueue a moment later (even on a NOARP device like a TUN, which skips duplicate address
 * detection itself), and until then bind() to the address fails with EADDRNOTAVAIL: a
 * listener on the node's own overlay address opened right after (the dual node's Yggdrasil
 * port 8473, a metricsListen there) failed about one start in ten. With NODAD the address is
 * usable when this returns. Like the ioctl, the kernel installs the prefix route. Returns 0,
 * or -1 with errno set (from the kernel's acknowledgement). */
int planet_if_add_ipv6(int ifindex, const uint8_t addr[16], int prefixlen) {
    struct {
        struct nlmsghdr nh;
        struct ifaddrmsg ifa;
        char attrs[2 * RTA_SPACE(16)];
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
    req.nh.nlmsg_type = RTM_NEWADDR;
    /* EXCL, not REPLACE: adding an address the device already has fails with EEXIST, as it
     * did with the ioctl (IOTunDeviceTests.testDuplicateAddressIsAnError); REPLACE would turn
     * it into a silent modify. */
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    req.nh.nlmsg_seq = 1;
    req.ifa.ifa_family = AF_INET6;
    req.ifa.ifa_prefixlen = (unsigned char)prefixlen;
    req.ifa.ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
    req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    req.ifa.ifa_index = (unsigned)ifindex;
    unsigned short types[2] = {IFA_LOCAL, IFA_ADDRESS};
    for (int i = 0; i < 2; i++) {
        struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
        rta->rta_type = types[i];
        rta->rta_len = RTA_LENGTH(16);
        memcpy(RTA_DATA(rta), addr, 16);
        req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(16);
    }
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0) return -1;
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    int result = -1, saved = EIO;
    if (sendto(s, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) == (ssize_t)req.nh.nlmsg_len) {
        char reply[1024];
        ssize_t n;
        do { n = recv(s, reply, sizeof reply, 0); } while (n < 0 && errno == EINTR);
        if (n < 0) {
            saved = errno;
        } else {
            struct nlmsghdr *h = (struct nlmsghdr *)reply;
            if (NLMSG_OK(h, (unsigned)n) && h->nlmsg_type == NLMSG_ERROR
                && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
                if (e == 0) result = 0; else saved = -e;
            }
        }
    } else {
        saved = errno;
    }
    close(s);
    if (result != 0) errno = saved;
    return result;
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
