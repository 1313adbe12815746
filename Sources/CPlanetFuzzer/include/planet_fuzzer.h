#ifndef PLANET_FUZZER_H
#define PLANET_FUZZER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that keep their own main (LLVM 11 and later). Only a
// planetfuzz built with -sanitize=fuzzer (Tools/fuzz) calls it; the ordinary build, which
// only replays inputs, never references it, so it links without libFuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
