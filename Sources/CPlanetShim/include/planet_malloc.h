#ifndef PLANET_MALLOC_H
#define PLANET_MALLOC_H
/* glibc's malloc tuning (mallopt and its M_ constants live in <malloc.h>, which Swift's Glibc
 * module does not import). */

/* Serves blocks up to mmap_threshold bytes from the heap instead of mmap, and keeps up to
 * trim_threshold bytes of free memory at the heap's top instead of returning it. Returns 0
 * when glibc refused either. */
int planet_malloc_keep(int mmap_threshold, int trim_threshold);
#endif
