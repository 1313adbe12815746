#ifndef PLANET_SHIM_H
#define PLANET_SHIM_H
/* C helpers for what Swift cannot reach on Linux: ioctl request macros, recvmmsg/sendmmsg, cmsg. */
int planet_shim_version(void);
#endif
