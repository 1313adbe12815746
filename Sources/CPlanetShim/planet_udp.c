#define _GNU_SOURCE
#include "planet_udp.h"
#include <errno.h>
#include <string.h>
#include <endian.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

/* recvmmsg/sendmmsg header arrays live on the stack; a batch is capped here. */
#define PLANET_MAX_BATCH 256

static void peer_from_sockaddr(const struct sockaddr_storage *ss, planet_peer *p) {
    memset(p, 0, sizeof *p);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        uint64_t h, l;
        memcpy(&h, s6->sin6_addr.s6_addr, 8);
        memcpy(&l, s6->sin6_addr.s6_addr + 8, 8);
        p->high = be64toh(h);
        p->low = be64toh(l);
        p->port = ntohs(s6->sin6_port);
        p->scope_id = s6->sin6_scope_id;
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        p->high = 0;
        p->low = 0x0000ffff00000000ULL | (uint64_t)ntohl(s4->sin_addr.s_addr);
        p->port = ntohs(s4->sin_port);
    }
}

/* Returns the sockaddr length, 0 when an IPv6 (non-mapped) peer is sent from an IPv4 socket. */
static socklen_t sockaddr_from_peer(int family, const planet_peer *p, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        if (p->high != 0 || (p->low >> 32) != 0x0000ffffULL) return 0;
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(p->port);
        s4->sin_addr.s_addr = htonl((uint32_t)p->low);
        return sizeof *s4;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(p->port);
    s6->sin6_scope_id = p->scope_id;
    uint64_t h = htobe64(p->high), l = htobe64(p->low);
    memcpy(s6->sin6_addr.s6_addr, &h, 8);
    memcpy(s6->sin6_addr.s6_addr + 8, &l, 8);
    return sizeof *s6;
}

/* One recvmmsg into `count` slots of `stride` bytes. With segment_sizes, each slot also gets
 * room for a UDP_GRO cmsg and its run's datagram size (0: a single datagram); without, the
 * messages carry no control buffer at all. */
static int recv_batch(int fd, uint8_t *base, size_t stride, int count, int32_t *lengths, planet_peer *peers,
                      int32_t *segment_sizes) {
    if (count > PLANET_MAX_BATCH) count = PLANET_MAX_BATCH;
    if (count <= 0) return 0;
    struct mmsghdr msgs[count];
    struct iovec iovs[count];
    struct sockaddr_storage addrs[count];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } controls[count];
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        iovs[i].iov_base = base + (size_t)i * stride;
        iovs[i].iov_len = stride;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
        if (segment_sizes) {
            msgs[i].msg_hdr.msg_control = controls[i].buf;
            msgs[i].msg_hdr.msg_controllen = sizeof controls[i].buf;
        }
    }
    int n;
    do { n = recvmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT, NULL); } while (n < 0 && errno == EINTR);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < n; i++) {
        lengths[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
        peer_from_sockaddr(&addrs[i], &peers[i]);
        if (!segment_sizes) continue;
        segment_sizes[i] = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int gso;
                memcpy(&gso, CMSG_DATA(c), sizeof gso);
                segment_sizes[i] = gso;
            }
        }
    }
    return n;
}

int planet_recvmmsg(int fd, uint8_t *base, size_t stride, int count, int32_t *lengths, planet_peer *peers) {
    return recv_batch(fd, base, stride, count, lengths, peers, NULL);
}

int planet_set_udp_gro(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
}

int planet_recvmmsg_gro(int fd, uint8_t *base, size_t stride, int count, int32_t *lengths, planet_peer *peers,
                        int32_t *segment_sizes) {
    return recv_batch(fd, base, stride, count, lengths, peers, segment_sizes);
}

int planet_sendmmsg(int fd, int family, const uint8_t *const *datas, const int32_t *lengths, const planet_peer *peers, int count) {
    if (count > PLANET_MAX_BATCH) count = PLANET_MAX_BATCH;
    if (count <= 0) return 0;
    struct mmsghdr msgs[count];
    struct iovec iovs[count];
    struct sockaddr_storage addrs[count];
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        iovs[i].iov_base = (void *)datas[i];
        iovs[i].iov_len = (size_t)lengths[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        socklen_t len = sockaddr_from_peer(family, &peers[i], &addrs[i]);
        if (len == 0) {
            /* Unreachable family: stop before it so the caller sees it fail alone. */
            if (i == 0) { errno = EAFNOSUPPORT; return -1; }
            count = i;
            break;
        }
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = len;
    }
    int n;
    do { n = sendmmsg(fd, msgs, (unsigned)count, MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    return n;
}

/* UDP GSO: runs of equal-length datagrams to the same peer (the last of a run may be
 * shorter) leave as ONE message with a UDP_SEGMENT cmsg; the kernel cuts it back into
 * datagrams below the socket layer, so the per-datagram cost of the send path is paid once per
 * run. The kernel caps a run at 64 segments and its total at what one IP packet can hold. */
#define PLANET_GSO_MAX_SEGMENTS 64
#define PLANET_GSO_MAX_BYTES 65000

static int same_peer(const planet_peer *a, const planet_peer *b) {
    return a->high == b->high && a->low == b->low && a->port == b->port && a->scope_id == b->scope_id;
}

int planet_sendmmsg_gso(int fd, int family, const uint8_t *const *datas, const int32_t *lengths,
                        const planet_peer *peers, int count, int *gso_enabled) {
    if (count > PLANET_MAX_BATCH) count = PLANET_MAX_BATCH;
    if (count <= 0) return 0;
    if (!gso_enabled || !*gso_enabled) return planet_sendmmsg(fd, family, datas, lengths, peers, count);
    struct mmsghdr msgs[count];
    struct iovec iovs[count];
    struct sockaddr_storage addrs[count];
    int firsts[count + 1];
    union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } controls[count];
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)count);
    int groups = 0, i = 0;
    while (i < count) {
        socklen_t len = sockaddr_from_peer(family, &peers[i], &addrs[groups]);
        if (len == 0) {
            if (groups == 0) { errno = EAFNOSUPPORT; return -1; }
            break;
        }
        int seg = lengths[i], j = i + 1;
        size_t total = (size_t)seg;
        while (j < count && j - i < PLANET_GSO_MAX_SEGMENTS && same_peer(&peers[j], &peers[i])
               && lengths[j] <= seg && total + (size_t)lengths[j] <= PLANET_GSO_MAX_BYTES) {
            total += (size_t)lengths[j];
            j++;
            if (lengths[j - 1] < seg) break; /* a shorter datagram ends the run */
        }
        for (int k = i; k < j; k++) { iovs[k].iov_base = (void *)datas[k]; iovs[k].iov_len = (size_t)lengths[k]; }
        struct msghdr *h = &msgs[groups].msg_hdr;
        h->msg_iov = &iovs[i];
        h->msg_iovlen = (size_t)(j - i);
        h->msg_name = &addrs[groups];
        h->msg_namelen = len;
        if (j - i > 1) {
            memset(&controls[groups], 0, sizeof controls[groups]);
            h->msg_control = controls[groups].buf;
            h->msg_controllen = sizeof controls[groups].buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t gso = (uint16_t)seg;
            memcpy(CMSG_DATA(c), &gso, sizeof gso);
        }
        firsts[groups++] = i;
        i = j;
    }
    firsts[groups] = i;
    int n;
    do { n = sendmmsg(fd, msgs, (unsigned)groups, MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;
        int first_run = firsts[1] - firsts[0];
        if (first_run > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP || err == EMSGSIZE)) {
            /* The device cannot segment (EIO: no checksum offload) or the run exceeds the
             * path's MTU (EINVAL): send that run as plain datagrams; EIO turns GSO off. */
            if (err == EIO || err == EOPNOTSUPP) *gso_enabled = 0;
            return planet_sendmmsg(fd, family, datas, lengths, peers, first_run);
        }
        errno = err;
        return -1;
    }
    return firsts[n];
}

int planet_sendto(int fd, int family, const void *data, size_t length, const planet_peer *peer) {
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_from_peer(family, peer, &ss);
    if (len == 0) { errno = EAFNOSUPPORT; return -1; }
    ssize_t n;
    do { n = sendto(fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&ss, len); } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : (int)n;
}

int planet_bind(int fd, int family, const planet_peer *peer) {
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_from_peer(family, peer, &ss);
    if (len == 0) { errno = EAFNOSUPPORT; return -1; }
    return bind(fd, (struct sockaddr *)&ss, len);
}

int planet_local_peer(int fd, planet_peer *out) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    peer_from_sockaddr(&ss, out);
    return 0;
}

int planet_set_buffers(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0) return -1;
    return got;
}

int planet_set_v6only(int fd, int on) {
    return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
}

int planet_set_pmtu_dont(int fd, int family) {
    int v4 = IP_PMTUDISC_DONT, v6 = IPV6_PMTUDISC_DONT;
    if (family == AF_INET) return setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof v4);
    int r = setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof v6);
    /* Dual-stack: the IPv4 option governs v4-mapped traffic; older kernels refuse it on
     * an AF_INET6 socket, which is harmless. */
    (void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof v4);
    return r;
}

static int mcast6_membership(int fd, int option, unsigned ifindex, const uint8_t group[16]) {
    struct ipv6_mreq m;
    memset(&m, 0, sizeof m);
    memcpy(m.ipv6mr_multiaddr.s6_addr, group, 16);
    m.ipv6mr_interface = ifindex;
    return setsockopt(fd, IPPROTO_IPV6, option, &m, sizeof m);
}

int planet_mcast6_join(int fd, unsigned ifindex, const uint8_t group[16]) { return mcast6_membership(fd, IPV6_ADD_MEMBERSHIP, ifindex, group); }
int planet_mcast6_leave(int fd, unsigned ifindex, const uint8_t group[16]) { return mcast6_membership(fd, IPV6_DROP_MEMBERSHIP, ifindex, group); }
int planet_mcast6_set_if(int fd, unsigned ifindex) { return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex); }
int planet_mcast6_set_loop(int fd, int on) { return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &on, sizeof on); }
int planet_mcast6_set_hops(int fd, int hops) { return setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops); }
