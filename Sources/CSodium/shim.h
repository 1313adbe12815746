#ifndef PLANET_CSODIUM_SHIM_H
#define PLANET_CSODIUM_SHIM_H
#include <sodium.h>
#endif
