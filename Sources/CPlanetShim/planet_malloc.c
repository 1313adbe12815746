#include "planet_malloc.h"
#include <malloc.h>

int planet_malloc_keep(int mmap_threshold, int trim_threshold) {
    int a = mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    int b = mallopt(M_TRIM_THRESHOLD, trim_threshold);
    return a && b;
}
