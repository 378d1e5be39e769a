// libInsightPreload.so: preloaded into a client that InsightReplay runs (LD_PRELOAD), it puts
// the client in the emulator's world without changing a line of it.
//
// Time (INSIGHT_REPLAY_CLOCK names the shared page, virtual_time.h): clock reads answer the
// virtual clock; sleeps and the timeouts of poll, select, epoll and of timed condition and
// semaphore waits register a wake-up and return when the driver has moved time there. The
// driver moves time only when no thread of the client can run and no request is in flight
// (Tokio's paused clock, the Shadow simulator), so time stands still while the client computes.
//
// Names (INSIGHT_REPLAY_HOSTS, INSIGHT_REPLAY_REDIRECT): the Rapid7 hosts resolve to
// addresses in 127.77.0.0/16, and a connection to one of them on port 443 or 80 goes to the
// emulator's TLS or plain port, as proxychains and graftcp do, so clients that ignore the proxy
// variables (Node's fetch, Java, default aiohttp) still reach the emulator. Other names of
// insight.rapid7.com do not resolve (as an unknown region's host does not); all else passes.
//
// Without those variables every function passes straight through to the C library.
#define _GNU_SOURCE
#include "virtual_time.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define NS 1000000000LL
/* A wait on file descriptors looks at the clock this often (real time): the driver cannot
   wake a thread blocked in the kernel on someone else's descriptors. */
#define SLICE_NS 1000000LL
/* Timed condition and semaphore waits this short also end in real time: they are a runtime's
   housekeeping (Python's GIL asks for its switch interval every 5 ms), and ending them keeps
   the runtime fair while the client computes and virtual time stands still. */
#define HOUSEKEEPING_NS 20000000LL

static struct vt_page *page;

// MARK: the real functions

#define REAL(name) static __typeof__(name) *real_##name
REAL(clock_gettime); REAL(gettimeofday); REAL(time); REAL(nanosleep); REAL(clock_nanosleep);
REAL(usleep); REAL(sleep); REAL(poll); REAL(ppoll); REAL(select); REAL(pselect); REAL(epoll_wait);
REAL(epoll_pwait); REAL(pthread_cond_timedwait); REAL(pthread_cond_clockwait); REAL(sem_timedwait);
REAL(sem_clockwait); REAL(getaddrinfo); REAL(connect); REAL(timespec_get); REAL(gethostbyname);

#define RESOLVE(name) \
    do { if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name); } while (0)

static int64_t real_mono_ns(void) {
    struct timespec ts;
    RESOLVE(clock_gettime);
    real_clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts) { return ts->tv_sec * NS + ts->tv_nsec; }
static struct timespec ns_ts(int64_t ns) {
    if (ns < 0) ns = 0;
    return (struct timespec){.tv_sec = ns / NS, .tv_nsec = ns % NS};
}

/* When the driver is gone (killed, or ended while a process of the client lives on in the
   background), nobody moves virtual time any more: from then on it runs on the wall clock from
   where it stood, so the client's sleeps end and it can exit instead of waiting for ever. */
static int orphaned;
static int64_t orphan_virtual, orphan_real;

static int64_t vnow(void) {
    if (__atomic_load_n(&orphaned, __ATOMIC_ACQUIRE)) return orphan_virtual + (real_mono_ns() - orphan_real);
    return vt_load_now(page);
}

/// Looks, at most every 100 ms of real time, whether the driver still runs (errno is kept).
static void check_driver(void) {
    static int64_t next_check;
    static int claimed;
    int64_t now = real_mono_ns();
    if (now < __atomic_load_n(&next_check, __ATOMIC_RELAXED) || __atomic_load_n(&orphaned, __ATOMIC_ACQUIRE)) return;
    __atomic_store_n(&next_check, now + 100000000, __ATOMIC_RELAXED);
    int saved = errno;
    int gone = page->driver_pid > 0 && kill(page->driver_pid, 0) != 0 && errno == ESRCH;
    errno = saved;
    if (!gone || __atomic_exchange_n(&claimed, 1, __ATOMIC_ACQ_REL)) return;
    orphan_virtual = vt_load_now(page);
    orphan_real = now;
    __atomic_store_n(&orphaned, 1, __ATOMIC_RELEASE);
}

// MARK: registration

static pid_t cached_pid;
static __thread pid_t cached_tid;

static pid_t my_tid(void) {
    if (!cached_tid) cached_tid = (pid_t)syscall(SYS_gettid);
    return cached_tid;
}

static void register_process(void) {
    struct stat st;
    uint64_t dev = 0, ino = 0;
    if (stat("/proc/self/exe", &st) == 0) {
        dev = st.st_dev;
        ino = st.st_ino;
    }
    cached_pid = getpid();
    // The same pid may be in the table from before an exec: update it in place.
    int32_t high = __atomic_load_n(&page->process_high, __ATOMIC_ACQUIRE);
    for (int32_t i = 0; i < high && i < VT_MAX_PROCESSES; i++) {
        if (__atomic_load_n(&page->processes[i].pid, __ATOMIC_ACQUIRE) == cached_pid) {
            page->processes[i].exe_dev = dev;
            page->processes[i].exe_ino = ino;
            return;
        }
    }
    for (int32_t i = 0; i < VT_MAX_PROCESSES; i++) {
        int32_t expected = 0;
        struct vt_process *slot = &page->processes[i];
        if (__atomic_load_n(&slot->pid, __ATOMIC_ACQUIRE) != 0) continue;
        slot->exe_dev = dev;
        slot->exe_ino = ino;
        if (__atomic_compare_exchange_n(&slot->pid, &expected, cached_pid, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            int32_t seen = __atomic_load_n(&page->process_high, __ATOMIC_ACQUIRE);
            while (seen < i + 1 && !__atomic_compare_exchange_n(&page->process_high, &seen, i + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {}
            return;
        }
    }
}

static void after_fork_in_child(void) {
    cached_tid = 0;
    if (page) register_process();
}

static void wake_driver(void) {
    __atomic_add_fetch(&page->activity, 1, __ATOMIC_ACQ_REL);
    syscall(SYS_futex, &page->activity, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* A housekeeping wait that ended on the wall clock while virtual time stood still, as the
   thread left it: if the thread asks again for the same deadline, at the same time, it changed
   nothing the driver needs to know. Telling it anyway, every 100 µs, would never give the driver
   the still moment it needs to move time (a JVM's G1 service thread did, and held the JVM). */
static __thread int64_t rewait_deadline = -1;
static __thread uint32_t rewait_generation;
/* How many times in a row the same wait came again: each time, its wall-clock end is twice as
   far (up to HOUSEKEEPING_NS), so on a busy machine the thread is not forever runnable. */
static __thread int rewaits;

static uint32_t generation_now(void) { return __atomic_load_n(&page->generation, __ATOMIC_ACQUIRE); }

/// Whether a wait for `deadline` is the last housekeeping wait again, counting the times in a row.
static int waits_again(int64_t deadline) {
    int again = deadline == rewait_deadline && generation_now() == rewait_generation;
    rewait_deadline = -1;
    rewaits = again ? (rewaits < 10 ? rewaits + 1 : 10) : 0;
    return again;
}

/// When a timed wait of `span` ends on the wall clock: never for a long wait; for housekeeping,
/// after the span, doubled for each time the same wait came again in a row.
static int64_t housekeeping_end(int64_t span) {
    if (span > HOUSEKEEPING_NS) return INT64_MAX;
    int64_t real = span << rewaits;
    return real_mono_ns() + (real > HOUSEKEEPING_NS ? HOUSEKEEPING_NS : real);
}

/// Claims a waiter slot with `deadline`, telling the driver unless `quiet`; -1 when the table
/// is full (the wait then runs in real time).
static int enter_slot(int64_t deadline, int quiet) {
    pid_t tid = my_tid();
    for (int i = 0; i < VT_MAX_WAITERS; i++) {
        struct vt_waiter *slot = &page->waiters[i];
        int32_t expected = 0;
        if (__atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE) != 0) continue;
        if (!__atomic_compare_exchange_n(&slot->tid, &expected, tid, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
        slot->pid = cached_pid ? cached_pid : getpid();
        __atomic_store_n(&slot->deadline, deadline, __ATOMIC_RELEASE);
        int32_t seen = __atomic_load_n(&page->waiter_high, __ATOMIC_ACQUIRE);
        while (seen < i + 1 && !__atomic_compare_exchange_n(&page->waiter_high, &seen, i + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {}
        if (!quiet) wake_driver();
        return i;
    }
    return -1;
}

static int enter_wait(int64_t deadline) { return enter_slot(deadline, waits_again(deadline)); }

static void leave_wait(int slot) {
    if (slot < 0) return;
    __atomic_store_n(&page->waiters[slot].deadline, VT_NO_DEADLINE, __ATOMIC_RELEASE);
    __atomic_store_n(&page->waiters[slot].tid, 0, __ATOMIC_RELEASE);
    wake_driver();
}

/// Leaves a housekeeping wait that ended on the wall clock before virtual time reached
/// `deadline`: quietly, and remembered, so that the same wait again is quiet too. The thread
/// is runnable now, and the driver's look at the kernel sees it while it runs.
static void leave_housekeeping(int slot, int64_t deadline) {
    if (slot < 0) return;
    if (vnow() >= deadline) {
        leave_wait(slot);
        return;
    }
    rewait_deadline = deadline;
    rewait_generation = generation_now();
    __atomic_store_n(&page->waiters[slot].deadline, VT_NO_DEADLINE, __ATOMIC_RELEASE);
    __atomic_store_n(&page->waiters[slot].tid, 0, __ATOMIC_RELEASE);
}

/// Blocks until virtual time reaches `deadline`. Returns 0, or EINTR when a signal came first.
static int wait_until(int64_t deadline) {
    int slot = enter_wait(deadline);
    if (slot < 0) {
        // No slot: wait in real time for what is left.
        struct timespec left = ns_ts(deadline - vnow());
        RESOLVE(nanosleep);
        return real_nanosleep(&left, NULL) == 0 ? 0 : errno;
    }
    int result = 0;
    for (;;) {
        uint32_t generation = __atomic_load_n(&page->generation, __ATOMIC_ACQUIRE);
        if (vnow() >= deadline) break;
        // A bounded wait: a lost wake-up costs at most this long.
        struct timespec bound = {.tv_sec = 0, .tv_nsec = 50000000};
        if (syscall(SYS_futex, &page->generation, FUTEX_WAIT, generation, &bound, NULL, 0) != 0 && errno == EINTR) {
            result = EINTR;
            break;
        }
        check_driver();
    }
    leave_wait(slot);
    return result;
}

// MARK: start

__attribute__((constructor)) static void insight_preload_init(void) {
    const char *path = getenv("INSIGHT_REPLAY_CLOCK");
    if (path && *path) {
        page = vt_page_map(path);
        if (page) {
            register_process();
            pthread_atfork(NULL, NULL, after_fork_in_child);
        }
    }
}

// MARK: clock reads

static int virtual_clock(clockid_t id, int64_t *ns) {
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
        *ns = page->realtime_origin_ns + vnow();
        return 1;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        *ns = page->monotonic_origin_ns + vnow();
        return 1;
    default:
        return 0;
    }
}

EXPORT int clock_gettime(clockid_t id, struct timespec *ts) {
    int64_t ns;
    if (page && virtual_clock(id, &ns)) {
        *ts = ns_ts(ns);
        return 0;
    }
    RESOLVE(clock_gettime);
    return real_clock_gettime(id, ts);
}

EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    if (!page) {
        RESOLVE(gettimeofday);
        return real_gettimeofday(tv, tz);
    }
    if (tz) memset(tz, 0, sizeof(struct timezone));
    int64_t ns = page->realtime_origin_ns + vnow();
    tv->tv_sec = ns / NS;
    tv->tv_usec = (ns % NS) / 1000;
    return 0;
}

EXPORT time_t time(time_t *out) {
    if (!page) {
        RESOLVE(time);
        return real_time(out);
    }
    time_t now = (time_t)((page->realtime_origin_ns + vnow()) / NS);
    if (out) *out = now;
    return now;
}

EXPORT int timespec_get(struct timespec *ts, int base) {
    if (page && base == TIME_UTC) {
        *ts = ns_ts(page->realtime_origin_ns + vnow());
        return base;
    }
    RESOLVE(timespec_get);
    return real_timespec_get(ts, base);
}

// MARK: sleeps

/// A deadline on the virtual clock from a time on `id` (absolute) or a span (relative).
static int64_t deadline_for(clockid_t id, int absolute, const struct timespec *t) {
    int64_t now = vnow();
    if (!absolute) return now + ts_ns(t);
    int64_t origin = (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI) ? page->realtime_origin_ns
                                                                                            : page->monotonic_origin_ns;
    return ts_ns(t) - origin;
}

EXPORT int clock_nanosleep(clockid_t id, int flags, const struct timespec *request, struct timespec *remain) {
    int64_t ignored;
    if (!page || !request || !virtual_clock(id, &ignored)) {
        RESOLVE(clock_nanosleep);
        return real_clock_nanosleep(id, flags, request, remain);
    }
    if (request->tv_nsec < 0 || request->tv_nsec >= NS || request->tv_sec < 0) return EINVAL;
    int64_t deadline = deadline_for(id, flags & TIMER_ABSTIME, request);
    int result = wait_until(deadline);
    if (result == EINTR && remain && !(flags & TIMER_ABSTIME)) *remain = ns_ts(deadline - vnow());
    return result;
}

EXPORT int nanosleep(const struct timespec *request, struct timespec *remain) {
    if (!page || !request) {
        RESOLVE(nanosleep);
        return real_nanosleep(request, remain);
    }
    int result = clock_nanosleep(CLOCK_MONOTONIC, 0, request, remain);
    if (result == 0) return 0;
    errno = result;
    return -1;
}

EXPORT int usleep(useconds_t micros) {
    if (!page) {
        RESOLVE(usleep);
        return real_usleep(micros);
    }
    struct timespec span = ns_ts((int64_t)micros * 1000);
    return nanosleep(&span, NULL);
}

EXPORT unsigned int sleep(unsigned int seconds) {
    if (!page) {
        RESOLVE(sleep);
        return real_sleep(seconds);
    }
    struct timespec span = {.tv_sec = seconds, .tv_nsec = 0}, left = {0, 0};
    if (nanosleep(&span, &left) == 0) return 0;
    return (unsigned int)left.tv_sec + (left.tv_nsec > 0);
}

// MARK: waits on descriptors

/// Runs `attempt` (a wait on descriptors of at most one slice of real time) until it reports
/// something or virtual time reaches `deadline`.
#define SLICED_WAIT(deadline, attempt)                              \
    do {                                                            \
        int slot_ = enter_wait(deadline);                           \
        int result_;                                                \
        for (;;) {                                                  \
            result_ = (attempt);                                    \
            if (result_ != 0) break;                                \
            check_driver();                                         \
            if (vnow() >= (deadline)) break;                        \
        }                                                           \
        int saved_ = errno;                                         \
        leave_wait(slot_);                                          \
        errno = saved_;                                             \
        return result_;                                             \
    } while (0)

EXPORT int poll(struct pollfd *fds, nfds_t count, int timeout) {
    RESOLVE(poll);
    if (!page || timeout <= 0) return real_poll(fds, count, timeout);
    int64_t deadline = vnow() + (int64_t)timeout * 1000000;
    if (count == 0) {
        int result = wait_until(deadline);
        if (result == 0) return 0;
        errno = result;
        return -1;
    }
    SLICED_WAIT(deadline, real_poll(fds, count, (int)(SLICE_NS / 1000000)));
}

EXPORT int ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout, const sigset_t *mask) {
    RESOLVE(ppoll);
    if (!page || !timeout || ts_ns(timeout) == 0) return real_ppoll(fds, count, timeout, mask);
    int64_t deadline = vnow() + ts_ns(timeout);
    struct timespec slice = ns_ts(SLICE_NS);
    SLICED_WAIT(deadline, real_ppoll(fds, count, &slice, mask));
}

static int sliced_select(int count, fd_set *r, fd_set *w, fd_set *e, int64_t deadline, const sigset_t *mask, int with_mask) {
    fd_set r0, w0, e0;
    if (r) r0 = *r;
    if (w) w0 = *w;
    if (e) e0 = *e;
    int slot = enter_wait(deadline);
    int result;
    for (;;) {
        if (r) *r = r0;
        if (w) *w = w0;
        if (e) *e = e0;
        if (with_mask) {
            struct timespec slice = ns_ts(SLICE_NS);
            result = real_pselect(count, r, w, e, &slice, mask);
        } else {
            struct timeval slice = {.tv_sec = 0, .tv_usec = SLICE_NS / 1000};
            result = real_select(count, r, w, e, &slice);
        }
        if (result != 0) break;
        check_driver();
        if (vnow() >= deadline) break;
    }
    int saved = errno;
    leave_wait(slot);
    errno = saved;
    return result;
}

EXPORT int select(int count, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout) {
    RESOLVE(select);
    RESOLVE(pselect);
    if (!page || !timeout || (timeout->tv_sec == 0 && timeout->tv_usec == 0)) return real_select(count, r, w, e, timeout);
    int64_t span = (int64_t)timeout->tv_sec * NS + (int64_t)timeout->tv_usec * 1000;
    int64_t deadline = vnow() + span;
    if (count == 0) {
        int result = wait_until(deadline);
        if (result == 0) {
            timeout->tv_sec = 0;
            timeout->tv_usec = 0;
            return 0;
        }
        errno = result;
        return -1;
    }
    int result = sliced_select(count, r, w, e, deadline, NULL, 0);
    // Linux writes back the time left.
    int64_t left = deadline - vnow();
    if (left < 0) left = 0;
    timeout->tv_sec = left / NS;
    timeout->tv_usec = (left % NS) / 1000;
    return result;
}

EXPORT int pselect(int count, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout, const sigset_t *mask) {
    RESOLVE(select);
    RESOLVE(pselect);
    if (!page || !timeout || ts_ns(timeout) == 0) return real_pselect(count, r, w, e, timeout, mask);
    return sliced_select(count, r, w, e, vnow() + ts_ns(timeout), mask, 1);
}

EXPORT int epoll_wait(int fd, struct epoll_event *events, int max, int timeout) {
    RESOLVE(epoll_wait);
    if (!page || timeout <= 0) return real_epoll_wait(fd, events, max, timeout);
    int64_t deadline = vnow() + (int64_t)timeout * 1000000;
    SLICED_WAIT(deadline, real_epoll_wait(fd, events, max, (int)(SLICE_NS / 1000000)));
}

EXPORT int epoll_pwait(int fd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
    RESOLVE(epoll_pwait);
    if (!page || timeout <= 0) return real_epoll_pwait(fd, events, max, timeout, mask);
    int64_t deadline = vnow() + (int64_t)timeout * 1000000;
    SLICED_WAIT(deadline, real_epoll_pwait(fd, events, max, (int)(SLICE_NS / 1000000), mask));
}

// MARK: timed condition and semaphore waits

/// The virtual deadline of an absolute time on an unknown clock: the realtime and monotonic
/// readings are decades apart, so the nearer one is the clock the caller read.
static int64_t deadline_either(const struct timespec *at) {
    int64_t now = vnow(), t = ts_ns(at);
    int64_t on_real = t - page->realtime_origin_ns, on_mono = t - page->monotonic_origin_ns;
    return llabs(on_real - now) < llabs(on_mono - now) ? on_real : on_mono;
}

static struct timespec real_slice_end(void) { return ns_ts(real_mono_ns() + SLICE_NS); }

#define TIMED_WAIT(deadline, attempt)                                                         \
    do {                                                                                      \
        int64_t span_ = (deadline) - vnow();                                                  \
        if (span_ <= 0) return ETIMEDOUT;                                                     \
        int again_ = waits_again(deadline);                                                   \
        int64_t real_end_ = housekeeping_end(span_);                                          \
        int slot_ = enter_slot(deadline, again_);                                             \
        int result_;                                                                          \
        for (;;) {                                                                            \
            struct timespec slice_ = real_slice_end();                                        \
            result_ = (attempt);                                                              \
            if (result_ != ETIMEDOUT) break;                                                  \
            check_driver();                                                                   \
            if (vnow() >= (deadline) || real_mono_ns() >= real_end_) break;                   \
        }                                                                                     \
        if (result_ == ETIMEDOUT) leave_housekeeping(slot_, deadline);                        \
        else leave_wait(slot_);                                                               \
        return result_;                                                                       \
    } while (0)

EXPORT int pthread_cond_timedwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex,
                                  const struct timespec *restrict at) {
    RESOLVE(pthread_cond_timedwait);
    RESOLVE(pthread_cond_clockwait);
    if (!page || !real_pthread_cond_clockwait) return real_pthread_cond_timedwait(cond, mutex, at);
    int64_t deadline = deadline_either(at);
    TIMED_WAIT(deadline, real_pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, &slice_));
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *restrict cond, pthread_mutex_t *restrict mutex, clockid_t id,
                                  const struct timespec *restrict at) {
    RESOLVE(pthread_cond_clockwait);
    int64_t ignored;
    if (!page || !virtual_clock(id, &ignored)) return real_pthread_cond_clockwait(cond, mutex, id, at);
    int64_t deadline = deadline_for(id, 1, at);
    TIMED_WAIT(deadline, real_pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, &slice_));
}

static int sem_result(int value) { return value == 0 ? 0 : errno; }

EXPORT int sem_timedwait(sem_t *restrict sem, const struct timespec *restrict at) {
    RESOLVE(sem_timedwait);
    RESOLVE(sem_clockwait);
    if (!page || !real_sem_clockwait) return real_sem_timedwait(sem, at);
    int64_t deadline = deadline_either(at);
    int result;
    do {
        int64_t span_ = deadline - vnow();
        if (span_ <= 0) { result = ETIMEDOUT; break; }
        int again = waits_again(deadline);
        int64_t real_end = housekeeping_end(span_);
        int slot = enter_slot(deadline, again);
        for (;;) {
            struct timespec slice = real_slice_end();
            result = sem_result(real_sem_clockwait(sem, CLOCK_MONOTONIC, &slice));
            if (result != ETIMEDOUT) break;
            check_driver();
            if (vnow() >= deadline || real_mono_ns() >= real_end) break;
        }
        if (result == ETIMEDOUT) leave_housekeeping(slot, deadline);
        else leave_wait(slot);
    } while (0);
    if (result == 0) return 0;
    errno = result;
    return -1;
}

EXPORT int sem_clockwait(sem_t *restrict sem, clockid_t id, const struct timespec *restrict at) {
    RESOLVE(sem_clockwait);
    int64_t ignored;
    if (!page || !virtual_clock(id, &ignored)) return real_sem_clockwait(sem, id, at);
    // The same loop as sem_timedwait, from a deadline on a known clock.
    struct timespec on_realtime = ns_ts(page->realtime_origin_ns + deadline_for(id, 1, at));
    return sem_timedwait(sem, &on_realtime);
}

// MARK: names and connections

/// The emulated host at `index` of INSIGHT_REPLAY_HOSTS (comma-separated), or -1.
static int host_index(const char *name) {
    const char *hosts = getenv("INSIGHT_REPLAY_HOSTS");
    if (!hosts || !name) return -1;
    size_t length = strlen(name);
    while (length > 0 && name[length - 1] == '.') length--; // a fully qualified "host."
    int index = 0;
    for (const char *p = hosts; *p;) {
        const char *end = strchr(p, ',');
        size_t span = end ? (size_t)(end - p) : strlen(p);
        if (span == length && strncasecmp(p, name, length) == 0) return index;
        index++;
        if (!end) break;
        p = end + 1;
    }
    return -1;
}

static int is_rapid7_name(const char *name) {
    const char *suffix = ".insight.rapid7.com";
    size_t length = strlen(name), tail = strlen(suffix);
    while (length > 0 && name[length - 1] == '.') length--;
    return length > tail && strncasecmp(name + length - tail, suffix, tail) == 0;
}

/// 127.77.H.L for the host at `index`: loopback, and never a real listener's address.
static struct in_addr emulated_address(int index) {
    struct in_addr address;
    address.s_addr = htonl((127u << 24) | (77u << 16) | (uint32_t)(index + 1));
    return address;
}

EXPORT int getaddrinfo(const char *restrict node, const char *restrict service, const struct addrinfo *restrict hints,
                       struct addrinfo **restrict result) {
    RESOLVE(getaddrinfo);
    if (!node || !getenv("INSIGHT_REPLAY_HOSTS")) return real_getaddrinfo(node, service, hints, result);
    int index = host_index(node);
    if (index < 0) return is_rapid7_name(node) ? EAI_NONAME : real_getaddrinfo(node, service, hints, result);
    int family = hints ? hints->ai_family : AF_UNSPEC;
    if (family != AF_UNSPEC && family != AF_INET) return EAI_NONAME;
    int port = 0;
    if (service) {
        char *end;
        long number = strtol(service, &end, 10);
        if (*end == '\0') port = (int)number;
        else if (strcmp(service, "https") == 0) port = 443;
        else if (strcmp(service, "http") == 0) port = 80;
        else return EAI_SERVICE;
    }
    // One block for the entry and its address, as the C library's own freeaddrinfo expects.
    int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW}, protocols[3] = {IPPROTO_TCP, IPPROTO_UDP, 0};
    struct addrinfo *head = NULL, **tail = &head;
    for (int i = 0; i < 3; i++) {
        if (hints && hints->ai_socktype && hints->ai_socktype != types[i]) continue;
        if (hints && hints->ai_protocol && hints->ai_protocol != protocols[i]) continue;
        struct addrinfo *entry = calloc(1, sizeof(struct addrinfo) + sizeof(struct sockaddr_in));
        if (!entry) {
            freeaddrinfo(head);
            return EAI_MEMORY;
        }
        struct sockaddr_in *address = (struct sockaddr_in *)(entry + 1);
        address->sin_family = AF_INET;
        address->sin_port = htons((uint16_t)port);
        address->sin_addr = emulated_address(index);
        entry->ai_family = AF_INET;
        entry->ai_socktype = types[i];
        entry->ai_protocol = protocols[i];
        entry->ai_addrlen = sizeof(struct sockaddr_in);
        entry->ai_addr = (struct sockaddr *)address;
        if (!head && hints && (hints->ai_flags & AI_CANONNAME)) entry->ai_canonname = strdup(node);
        *tail = entry;
        tail = &entry->ai_next;
    }
    if (!head) return EAI_SOCKTYPE;
    *result = head;
    return 0;
}

EXPORT struct hostent *gethostbyname(const char *name) {
    RESOLVE(gethostbyname);
    if (!name || !getenv("INSIGHT_REPLAY_HOSTS")) return real_gethostbyname(name);
    int index = host_index(name);
    if (index < 0) {
        if (is_rapid7_name(name)) {
            h_errno = HOST_NOT_FOUND;
            return NULL;
        }
        return real_gethostbyname(name);
    }
    static __thread struct in_addr address;
    static __thread char *list[2];
    static __thread char *aliases[1];
    static __thread struct hostent entry;
    address = emulated_address(index);
    list[0] = (char *)&address;
    list[1] = NULL;
    aliases[0] = NULL;
    entry.h_name = (char *)name;
    entry.h_aliases = aliases;
    entry.h_addrtype = AF_INET;
    entry.h_length = sizeof address;
    entry.h_addr_list = list;
    return &entry;
}

/// INSIGHT_REPLAY_REDIRECT = "PLAIN_PORT,TLS_PORT" on 127.0.0.1.
static int redirect_port(int port) {
    const char *ports = getenv("INSIGHT_REPLAY_REDIRECT");
    if (!ports) return -1;
    char *end;
    long plain = strtol(ports, &end, 10);
    long tls = *end == ',' ? strtol(end + 1, NULL, 10) : 0;
    if (port == 443 && tls > 0) return (int)tls;
    if (port == 80 && plain > 0) return (int)plain;
    return 0;
}

EXPORT int connect(int fd, const struct sockaddr *address, socklen_t length) {
    RESOLVE(connect);
    uint32_t host = 0;
    int port = -1, v6 = 0;
    if (address && address->sa_family == AF_INET && length >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        host = ntohl(in->sin_addr.s_addr);
        port = ntohs(in->sin_port);
    } else if (address && address->sa_family == AF_INET6 && length >= (socklen_t)sizeof(struct sockaddr_in6)) {
        // A dual-stack socket (Java's) connects to the IPv4-mapped form ::ffff:127.77.0.N.
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            memcpy(&host, &in6->sin6_addr.s6_addr[12], 4);
            host = ntohl(host);
            port = ntohs(in6->sin6_port);
            v6 = 1;
        }
    }
    if (port >= 0 && (host >> 16) == ((127u << 8) | 77u)) {
        int target = redirect_port(port);
        if (target == 0) {
            // The platform's hosts listen on 443 (and 80) only.
            errno = ECONNREFUSED;
            return -1;
        }
        if (target > 0) {
            if (v6) {
                struct sockaddr_in6 to = *(const struct sockaddr_in6 *)address;
                uint32_t loopback = htonl(INADDR_LOOPBACK);
                memcpy(&to.sin6_addr.s6_addr[12], &loopback, 4);
                to.sin6_port = htons((uint16_t)target);
                return real_connect(fd, (const struct sockaddr *)&to, sizeof to);
            }
            struct sockaddr_in to = *(const struct sockaddr_in *)address;
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            to.sin_port = htons((uint16_t)target);
            return real_connect(fd, (const struct sockaddr *)&to, sizeof to);
        }
    }
    return real_connect(fd, address, length);
}
