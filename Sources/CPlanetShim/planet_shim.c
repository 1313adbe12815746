#include "planet_shim.h"
int planet_shim_version(void) { return 1; }
