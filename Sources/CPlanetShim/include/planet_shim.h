#ifndef PLANET_SHIM_H
#define PLANET_SHIM_H
/* C helpers for what Swift cannot reach well on Linux: ioctl request structs and
 * macros, recvmmsg/sendmmsg over flat arrays, socket options with fallbacks.
 * Every function returns -1 and leaves errno set on failure unless noted. */
#include <stdint.h>
#include <stddef.h>

int planet_shim_version(void);

/* A UDP peer in a family-neutral form: the address as two host-order 64-bit words of
 * the IPv6 (or IPv4-mapped ::ffff:a.b.c.d) address, so Swift builds an IPv6Address
 * without byte shuffling; scope_id is the interface index for link-local addresses. */
typedef struct {
    uint64_t high;
    uint64_t low;
    uint32_t scope_id;
    uint16_t port;
    uint16_t reserved;
} planet_peer;

/* ---- UDP ---- */
/* Receives up to `count` datagrams into `base + i * stride` (each at most `stride`
 * bytes). Fills lengths[i] and peers[i]. Returns the number received, 0 when nothing
 * is waiting (EAGAIN), -1 on other errors. A truncated datagram gets length -1. */
int planet_recvmmsg(int fd, uint8_t *base, size_t stride, int count, int32_t *lengths, planet_peer *peers);
/* UDP_GRO: the kernel may hand one receive a run of datagrams from one sender, glued
 * together; planet_recvmmsg_gro reports each run's datagram size (0 = a single datagram) in
 * segment_sizes[i], so the caller cuts the slot back into datagrams. */
int planet_set_udp_gro(int fd);
int planet_recvmmsg_gro(int fd, uint8_t *base, size_t stride, int count, int32_t *lengths, planet_peer *peers,
                        int32_t *segment_sizes);
/* Sends `count` datagrams datas[i]/lengths[i] to peers[i]; `family` is the socket's
 * (AF_INET sockets need sockaddr_in). Returns how many were sent (sendmmsg semantics). */
int planet_sendmmsg(int fd, int family, const uint8_t *const *datas, const int32_t *lengths, const planet_peer *peers, int count);
/* Like planet_sendmmsg, but runs of equal-length datagrams to one peer go out as single UDP GSO
 * messages (UDP_SEGMENT). Returns how many DATAGRAMS were sent. *gso_enabled (in/out) is
 * cleared when the kernel cannot segment; then it behaves exactly like planet_sendmmsg. */
int planet_sendmmsg_gso(int fd, int family, const uint8_t *const *datas, const int32_t *lengths,
                        const planet_peer *peers, int count, int *gso_enabled);
int planet_sendto(int fd, int family, const void *data, size_t length, const planet_peer *peer);
/* Binds to the address in `peer` (v4-mapped when family is AF_INET). */
int planet_bind(int fd, int family, const planet_peer *peer);
/* The bound local address/port (after binding to port 0). */
int planet_local_peer(int fd, planet_peer *out);

/* Receive/send buffers: tries SO_*BUFFORCE (root ignores rmem_max), falls back to the
 * capped SO_*BUF. Returns the effective receive buffer size the kernel reports. */
int planet_set_buffers(int fd, int bytes);
int planet_set_v6only(int fd, int on);
/* Path-MTU discovery "don't": the kernel neither sets DF nor refuses large datagrams,
 * so it may fragment on small paths instead of dropping. */
int planet_set_pmtu_dont(int fd, int family);
int planet_set_nonblocking(int fd);

/* ---- IPv6 multicast ---- */
int planet_mcast6_join(int fd, unsigned ifindex, const uint8_t group[16]);
int planet_mcast6_leave(int fd, unsigned ifindex, const uint8_t group[16]);
int planet_mcast6_set_if(int fd, unsigned ifindex);
int planet_mcast6_set_loop(int fd, int on);
int planet_mcast6_set_hops(int fd, int hops);

/* ---- TUN and interfaces ---- */
/* Opens /dev/net/tun as IFF_TUN|IFF_NO_PI (plus IFF_VNET_HDR when vnet_hdr != 0),
 * nonblocking. `name` may be a template like "tun%d"; the kernel's chosen name is
 * written to name_out (IFNAMSIZ bytes). Returns the fd. */
int planet_tun_open(const char *name, int vnet_hdr, char *name_out);
/* TUNSETOFFLOAD: which offloads we accept from the kernel (TUN_F_* bits: 1 CSUM, 4 TSO6).
 * Needs a TUN opened with IFF_VNET_HDR. */
int planet_tun_set_offload(int fd, unsigned flags);
int planet_if_set_mtu(const char *name, int mtu);
int planet_if_get_mtu(const char *name);
/* SIOCSIFTXQLEN: for a TUN, how many packets the kernel queues for our reads. */
int planet_if_set_txqueuelen(const char *name, int len);
int planet_if_set_up(const char *name);
int planet_if_index(const char *name);
int planet_if_is_loopback(const char *name);
int planet_if_add_ipv6(int ifindex, const uint8_t addr[16], int prefixlen);
int planet_route6(int add, int ifindex, const uint8_t dst[16], int prefixlen, int metric);

/* ---- event loop ---- */
/* epoll with only the fd in the event data: Swift never handles the packed epoll_event. */
int planet_epoll_create(void);
int planet_epoll_add(int epfd, int fd);
int planet_epoll_del(int epfd, int fd);
/* Waits like epoll_wait and writes the ready fds to fds_out. EINTR returns 0. */
int planet_epoll_wait(int epfd, int32_t *fds_out, int max, int timeout_ms);
int planet_eventfd(void);
int planet_timerfd(void);
/* Arms a CLOCK_MONOTONIC timerfd for the absolute time `ns` (0 disarms). */
int planet_timerfd_set_absolute(int fd, uint64_t ns);
/* Arms a timerfd to fire every `ns` nanoseconds, first after `ns` (0 disarms). */
int planet_timerfd_set_interval(int fd, uint64_t ns);
#endif
