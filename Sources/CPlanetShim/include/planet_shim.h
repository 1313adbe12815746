#ifndef PLANET_SHIM_H
#define PLANET_SHIM_H
/* C helpers for what Swift cannot reach well on Linux: ioctl request structs and
 * macros, recvmmsg/sendmmsg over flat arrays, socket options with fallbacks. One header
 * per concept, each with its .c file: */
#include "planet_udp.h"
#include "planet_tun.h"
#include "planet_netif.h"
#include "planet_loop.h"
#include "planet_malloc.h"
#endif
