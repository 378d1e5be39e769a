// The virtual clock shared by the emulator and the client processes it runs.
//
// One page, in a file both map (MAP_SHARED): the driver owns it and moves time; the
// interposer (libInsightPreload.so, preloaded into the client) answers clock reads from it and
// turns the client's sleeps and timed waits into registered wake-ups. Time moves only when the
// driver sees that nothing else can happen (see TimeCoordinator.swift), so a client's request
// times are exact and the same at any machine load.
#ifndef INSIGHT_VIRTUAL_TIME_H
#define INSIGHT_VIRTUAL_TIME_H

#include <stdint.h>

#define VT_MAGIC 0x31454d4954565249ULL /* "IRVTIME1" little-endian */
#define VT_VERSION 2
#define VT_MAX_WAITERS 512
#define VT_MAX_PROCESSES 256
#define VT_NO_DEADLINE INT64_MAX

/// A thread waiting for virtual time to reach `deadline` (nanoseconds since the origin).
struct vt_waiter {
    int32_t tid;      /* 0: the slot is free */
    int32_t pid;
    int64_t deadline;
};

/// A process that loaded the interposer: its pid and the identity of the program it runs, so
/// that an exec into a program the interposer cannot reach (a static binary) is noticed.
struct vt_process {
    int32_t pid;      /* 0: the slot is free */
    int32_t pad;
    uint64_t exe_dev;
    uint64_t exe_ino;
};

struct vt_page {
    uint64_t magic;
    uint32_t version;
    uint32_t flags;
    int64_t realtime_origin_ns;   /* CLOCK_REALTIME at virtual 0 */
    int64_t monotonic_origin_ns;  /* CLOCK_MONOTONIC at virtual 0 */
    int64_t now_ns;               /* virtual nanoseconds since the origin */
    uint32_t generation;          /* bumped on every move of time: futex word the waiters sleep on */
    uint32_t activity;            /* bumped when a waiter comes or goes: futex word the driver sleeps on */
    int32_t waiter_high;          /* slots in use are below this index */
    int32_t process_high;
    int32_t driver_pid;           /* the process that moves time: when it is gone, time runs on the wall clock */
    int32_t reserved;
    struct vt_process processes[VT_MAX_PROCESSES];
    struct vt_waiter waiters[VT_MAX_WAITERS];
};

static inline int64_t vt_load_now(const struct vt_page *page) {
    return __atomic_load_n(&page->now_ns, __ATOMIC_ACQUIRE);
}

/// Creates (or replaces) the page file at `path`, sized and initialised; returns the mapping or
/// NULL with errno set.
struct vt_page *vt_page_create(const char *path, int64_t realtime_origin_ns, int64_t monotonic_origin_ns);
/// Maps an existing page file; NULL with errno set when it is missing or not a page.
struct vt_page *vt_page_map(const char *path);
void vt_page_unmap(struct vt_page *page);

/// Moves time to `now_ns` (never back) and wakes every waiter.
void vt_page_set_now(struct vt_page *page, int64_t now_ns);
/// The earliest deadline of a live waiter, or VT_NO_DEADLINE; `count` receives how many wait.
int64_t vt_page_earliest(struct vt_page *page, int32_t *count);
/// Frees the slots of processes and threads that no longer exist.
void vt_page_reap(struct vt_page *page);
/// Sleeps until `activity` differs from `seen` or `timeout_ns` of real time passed.
void vt_page_wait_activity(struct vt_page *page, uint32_t seen, int64_t timeout_ns);
uint32_t vt_page_activity(const struct vt_page *page);
/// Bumps `activity` and wakes the driver (a wake-up of the emulator's own was added).
void vt_page_poke(struct vt_page *page);
/// The registered process with this pid: 1 and the program's identity, or 0.
int vt_page_process(const struct vt_page *page, int32_t pid, uint64_t *dev, uint64_t *ino);

#endif
