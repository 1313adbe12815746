#define _GNU_SOURCE
#include "planet_loop.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

int planet_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int planet_epoll_add(int epfd, int fd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int planet_epoll_watch_writable(int epfd, int fd, int writable) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (writable ? EPOLLOUT : 0);
    ev.data.fd = fd;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int planet_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int planet_epoll_wait(int epfd, int32_t *fds_out, int max, int timeout_ms) {
    if (max > 256) max = 256;
    struct epoll_event evs[max];
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) fds_out[i] = evs[i].data.fd;
    return n;
}

int planet_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
int planet_timerfd(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

static struct timespec timespec_from_ns(uint64_t ns) {
    struct timespec t;
    t.tv_sec = (time_t)(ns / 1000000000ULL);
    t.tv_nsec = (long)(ns % 1000000000ULL);
    return t;
}

int planet_timerfd_set_absolute(int fd, uint64_t ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value = timespec_from_ns(ns);
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int planet_timerfd_set_interval(int fd, uint64_t ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value = timespec_from_ns(ns);
    spec.it_interval = spec.it_value;
    return timerfd_settime(fd, 0, &spec, NULL);
}
