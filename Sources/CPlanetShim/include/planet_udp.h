#ifndef PLANET_UDP_H
#define PLANET_UDP_H
/* UDP sockets: batched receive and send (recvmmsg/sendmmsg over flat arrays, UDP GRO and
 * GSO), socket options with their fallbacks, and IPv6 multicast membership.
 * Every function returns -1 and leaves errno set on failure unless noted. */
#include <stdint.h>
#include <stddef.h>

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

/* IPv6 multicast (discovery beacons). */
int planet_mcast6_join(int fd, unsigned ifindex, const uint8_t group[16]);
int planet_mcast6_leave(int fd, unsigned ifindex, const uint8_t group[16]);
int planet_mcast6_set_if(int fd, unsigned ifindex);
int planet_mcast6_set_loop(int fd, int on);
int planet_mcast6_set_hops(int fd, int hops);
#endif
