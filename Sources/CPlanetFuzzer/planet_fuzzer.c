// Declarations only (include/planet_fuzzer.h); SwiftPM wants one source file per C target.
#include "planet_fuzzer.h"
