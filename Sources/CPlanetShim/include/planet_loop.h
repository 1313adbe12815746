#ifndef PLANET_LOOP_H
#define PLANET_LOOP_H
/* The event loop's kernel objects: epoll, an eventfd for wakeups, CLOCK_MONOTONIC timerfds.
 * Every function returns -1 and leaves errno set on failure unless noted. */
#include <stdint.h>
#include <stddef.h>

/* epoll with only the fd in the event data: Swift never handles the packed epoll_event. */
int planet_epoll_create(void);
int planet_epoll_add(int epfd, int fd);
int planet_epoll_del(int epfd, int fd);
/* Adds (writable != 0) or removes EPOLLOUT on a registered fd: a stream socket with unsent
 * output, or a connect in progress, wants its handler called when it can take more. */
int planet_epoll_watch_writable(int epfd, int fd, int writable);
/* Waits like epoll_wait and writes the ready fds to fds_out. EINTR returns 0. */
int planet_epoll_wait(int epfd, int32_t *fds_out, int max, int timeout_ms);
int planet_eventfd(void);
int planet_timerfd(void);
/* Arms a CLOCK_MONOTONIC timerfd for the absolute time `ns` (0 disarms). */
int planet_timerfd_set_absolute(int fd, uint64_t ns);
/* Arms a timerfd to fire every `ns` nanoseconds, first after `ns` (0 disarms). */
int planet_timerfd_set_interval(int fd, uint64_t ns);
#endif
