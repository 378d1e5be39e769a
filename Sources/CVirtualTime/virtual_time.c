// The driver's side of the shared virtual clock (virtual_time.h): create, move, inspect.
#define _GNU_SOURCE
#include "virtual_time.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/// Maps the page in `fd` (closed either way); NULL with errno set.
static struct vt_page *map_page(int fd) {
    void *map = mmap(NULL, sizeof(struct vt_page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return map == MAP_FAILED ? NULL : map;
}

struct vt_page *vt_page_create(const char *path, int64_t realtime_origin_ns, int64_t monotonic_origin_ns) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    if (ftruncate(fd, sizeof(struct vt_page)) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    struct vt_page *page = map_page(fd);
    if (!page) return NULL;
    memset(page, 0, sizeof *page);
    page->version = VT_VERSION;
    page->realtime_origin_ns = realtime_origin_ns;
    page->monotonic_origin_ns = monotonic_origin_ns;
    page->driver_pid = (int32_t)getpid();
    __atomic_store_n(&page->magic, VT_MAGIC, __ATOMIC_RELEASE);
    return page;
}

struct vt_page *vt_page_map(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct vt_page *page = map_page(fd);
    if (!page) return NULL;
    if (__atomic_load_n(&page->magic, __ATOMIC_ACQUIRE) != VT_MAGIC || page->version != VT_VERSION) {
        munmap(page, sizeof(struct vt_page));
        errno = EINVAL;
        return NULL;
    }
    return page;
}

void vt_page_unmap(struct vt_page *page) {
    if (page) munmap(page, sizeof *page);
}

void vt_page_set_now(struct vt_page *page, int64_t now_ns) {
    int64_t current = vt_load_now(page);
    if (now_ns > current) __atomic_store_n(&page->now_ns, now_ns, __ATOMIC_RELEASE);
    __atomic_add_fetch(&page->generation, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &page->generation, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static int alive(int32_t pid, int32_t tid) {
    if (pid <= 0) return 0;
    if (tid > 0) {
        // tgkill with signal 0 checks that the thread still exists in that process.
        return syscall(SYS_tgkill, pid, tid, 0) == 0 || errno == EPERM;
    }
    return kill(pid, 0) == 0 || errno == EPERM;
}

int64_t vt_page_earliest(struct vt_page *page, int32_t *count) {
    int64_t earliest = VT_NO_DEADLINE;
    int32_t waiting = 0;
    int32_t high = __atomic_load_n(&page->waiter_high, __ATOMIC_ACQUIRE);
    if (high > VT_MAX_WAITERS) high = VT_MAX_WAITERS;
    for (int32_t i = 0; i < high; i++) {
        struct vt_waiter *waiter = &page->waiters[i];
        if (__atomic_load_n(&waiter->tid, __ATOMIC_ACQUIRE) == 0) continue;
        int64_t deadline = __atomic_load_n(&waiter->deadline, __ATOMIC_ACQUIRE);
        if (deadline == VT_NO_DEADLINE) continue;
        waiting++;
        if (deadline < earliest) earliest = deadline;
    }
    if (count) *count = waiting;
    return earliest;
}

void vt_page_reap(struct vt_page *page) {
    int32_t high = __atomic_load_n(&page->waiter_high, __ATOMIC_ACQUIRE);
    if (high > VT_MAX_WAITERS) high = VT_MAX_WAITERS;
    for (int32_t i = 0; i < high; i++) {
        struct vt_waiter *waiter = &page->waiters[i];
        int32_t tid = __atomic_load_n(&waiter->tid, __ATOMIC_ACQUIRE);
        if (tid != 0 && !alive(waiter->pid, tid)) {
            __atomic_store_n(&waiter->deadline, VT_NO_DEADLINE, __ATOMIC_RELEASE);
            __atomic_compare_exchange_n(&waiter->tid, &tid, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        }
    }
    int32_t processes = __atomic_load_n(&page->process_high, __ATOMIC_ACQUIRE);
    if (processes > VT_MAX_PROCESSES) processes = VT_MAX_PROCESSES;
    for (int32_t i = 0; i < processes; i++) {
        int32_t pid = __atomic_load_n(&page->processes[i].pid, __ATOMIC_ACQUIRE);
        if (pid != 0 && !alive(pid, 0)) __atomic_compare_exchange_n(&page->processes[i].pid, &pid, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
}

void vt_page_wait_activity(struct vt_page *page, uint32_t seen, int64_t timeout_ns) {
    struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    syscall(SYS_futex, &page->activity, FUTEX_WAIT, seen, &timeout, NULL, 0);
}

uint32_t vt_page_activity(const struct vt_page *page) {
    return __atomic_load_n(&page->activity, __ATOMIC_ACQUIRE);
}

void vt_page_poke(struct vt_page *page) {
    __atomic_add_fetch(&page->activity, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &page->activity, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

int vt_page_process(const struct vt_page *page, int32_t pid, uint64_t *dev, uint64_t *ino) {
    int32_t processes = __atomic_load_n(&page->process_high, __ATOMIC_ACQUIRE);
    if (processes > VT_MAX_PROCESSES) processes = VT_MAX_PROCESSES;
    for (int32_t i = 0; i < processes; i++) {
        if (__atomic_load_n(&page->processes[i].pid, __ATOMIC_ACQUIRE) == pid) {
            *dev = page->processes[i].exe_dev;
            *ino = page->processes[i].exe_ino;
            return 1;
        }
    }
    return 0;
}
