// glibc's allocator statistics, which the Glibc module leaves out (malloc.h): the hardening
// runs tell a leak (bytes still allocated) from fragmentation (pages kept by the allocator).
#include <malloc.h>
#include <stddef.h>

/// Bytes the program holds from malloc, in every arena and in mmap'd blocks.
static inline size_t insight_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

/// Gives freed memory back to the system, so the resident set shows what is still held.
static inline int insight_malloc_trim(void) {
    return malloc_trim(0);
}
