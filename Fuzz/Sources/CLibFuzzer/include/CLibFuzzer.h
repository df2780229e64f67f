#ifndef TOKENMETER_CLIBFUZZER_H
#define TOKENMETER_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have their own main (LLVM 13+, in libclang_rt.fuzzer):
/// parses the libFuzzer flags in argv and runs `callback` on every input. Linked by -sanitize=fuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
