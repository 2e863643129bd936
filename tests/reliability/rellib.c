/* rellib.c: the C library of the reliability tests (tests/reliability/):
   slow calls that release the GIL, callbacks called from threads Python
   never saw, errno per thread, and plain functions for argument and result
   conversions.  Compiled by the rel_lib fixture of conftest.py. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- a call that works (sleeps) for `usec` microseconds */
int work_usec(int usec) { usleep((useconds_t)usec); return usec; }

/* ---- callbacks from foreign threads */
typedef long (*long_cb)(long);
typedef void (*void_cb)(int);

struct job { long_cb cb; long first, count; long sum; long wrong; };

static void *run_job(void *arg) {
    struct job *j = arg;
    for (long i = j->first; i < j->first + j->count; i++) {
        long r = j->cb(i);
        if (r != 2 * i + 1) j->wrong++;
        j->sum += r;
    }
    return NULL;
}

/* nthreads threads, each calling cb(i) for `per_thread` consecutive values of
   i; returns the sum of the results, *wrong counts results other than 2i+1. */
long call_from_threads(long_cb cb, int nthreads, long per_thread, long *wrong) {
    pthread_t tids[64];
    struct job jobs[64];
    long total = 0;
    if (nthreads > 64) return -1;
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (struct job){cb, t * per_thread, per_thread, 0, 0};
        pthread_create(&tids[t], NULL, run_job, &jobs[t]);
    }
    *wrong = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(tids[t], NULL);
        total += jobs[t].sum;
        *wrong += jobs[t].wrong;
    }
    return total;
}

static void *run_void(void *arg) {
    void_cb cb = *(void_cb *)arg;
    cb(7);
    return NULL;
}

/* one foreign thread calling cb(7) once; returns after the thread ended */
int call_void_in_thread(void_cb cb) {
    pthread_t tid;
    void_cb copy = cb;
    if (pthread_create(&tid, NULL, run_void, &copy) != 0) return -1;
    pthread_join(tid, NULL);
    return 0;
}

/* ---- errno */
int set_errno_to(int value) { errno = value; return -1; }
int get_errno_now(void) { return errno; }

/* sets errno to value, sleeps (GIL released), returns errno as it is then */
int set_errno_and_sleep(int value, int usec) {
    errno = value;
    usleep((useconds_t)usec);
    return errno;
}

/* ---- conversions: results as given */
long long ret_ll(long long x) { return x; }
unsigned long long ret_ull(unsigned long long x) { return x; }
double ret_d(double x) { return x; }
const char *ret_p(const char *x) { return x; }
void *ret_vp(void *x) { return x; }
int call_int_cb(int (*cb)(int), int x) { return cb(x); }
double call_double_cb(double (*cb)(double), double x) { return cb(x); }
const char *call_charp_cb(const char *(*cb)(void)) { return cb(); }

/* ---- every simple type returned as given (argtypes and restype tests) */
#include <stdbool.h>
#include <wchar.h>
#define RET(T, name) T rret_##name(T x) { return x; }
RET(bool, c_bool) RET(signed char, c_byte) RET(unsigned char, c_ubyte) RET(short, c_short)
RET(unsigned short, c_ushort) RET(int, c_int) RET(unsigned int, c_uint) RET(long, c_long)
RET(unsigned long, c_ulong) RET(long long, c_longlong) RET(unsigned long long, c_ulonglong)
RET(size_t, c_size_t) RET(long, c_ssize_t) RET(signed char, c_int8) RET(unsigned char, c_uint8)
RET(short, c_int16) RET(unsigned short, c_uint16) RET(int, c_int32) RET(unsigned int, c_uint32)
RET(long long, c_int64) RET(unsigned long long, c_uint64) RET(float, c_float)
RET(double, c_double) RET(long double, c_longdouble) RET(char, c_char) RET(wchar_t, c_wchar)
RET(const char *, c_char_p) RET(const wchar_t *, c_wchar_p) RET(void *, c_void_p)
RET(void *, py_object)

/* ---- pointers: the int they point at, or -1 for NULL */
int deref_or_minus1(const int *p) { return p ? *p : -1; }

/* ---- C calling a callback of a generated signature (test_rel_callback_drops.py):
   rcall_<R>[_<A>[_<B>[_<C>]]](cb, a, b, c) returns cb(a, b, c).  Codes: v void
   (results only), i int, q long long, d double, P void *, s const char *,
   p int *, t struct rpt (by value). */
struct rpt { int x; int y; };
#define T_v void
#define T_i int
#define T_q long long
#define T_d double
#define T_P void *
#define T_s const char *
#define T_p int *
#define T_t struct rpt
#define RET_v(call) call;
#define RET_i(call) return call;
#define RET_q(call) return call;
#define RET_d(call) return call;
#define RET_P(call) return call;
#define SHIM0(R) T_##R rcall_##R(T_##R (*cb)(void)) { RET_##R(cb()) }
#define SHIM1(R, A) T_##R rcall_##R##_##A(T_##R (*cb)(T_##A), T_##A a) { RET_##R(cb(a)) }
#define SHIM2(R, A, B) T_##R rcall_##R##_##A##_##B(T_##R (*cb)(T_##A, T_##B), T_##A a, \
    T_##B b) { RET_##R(cb(a, b)) }
#define SHIM3(R, A, B, C) T_##R rcall_##R##_##A##_##B##_##C( \
    T_##R (*cb)(T_##A, T_##B, T_##C), T_##A a, T_##B b, T_##C c) { RET_##R(cb(a, b, c)) }
#define EACH_ARG1(F, ...) F(__VA_ARGS__, i) F(__VA_ARGS__, d) F(__VA_ARGS__, s) \
    F(__VA_ARGS__, p) F(__VA_ARGS__, t)
#define EACH_ARG2(F, ...) F(__VA_ARGS__, i) F(__VA_ARGS__, d) F(__VA_ARGS__, s) \
    F(__VA_ARGS__, p) F(__VA_ARGS__, t)
#define EACH_ARG3(F, ...) F(__VA_ARGS__, i) F(__VA_ARGS__, d) F(__VA_ARGS__, s) \
    F(__VA_ARGS__, p) F(__VA_ARGS__, t)
#define LEVEL2(R, A) EACH_ARG2(SHIM2, R, A)
#define LEVEL3B(R, A, B) EACH_ARG3(SHIM3, R, A, B)
#define LEVEL3(R, A) EACH_ARG2(LEVEL3B, R, A)
#define EACH_SHIM(R) SHIM0(R) EACH_ARG1(SHIM1, R) EACH_ARG1(LEVEL2, R) EACH_ARG1(LEVEL3, R)
EACH_SHIM(v) EACH_SHIM(i) EACH_SHIM(q) EACH_SHIM(d) EACH_SHIM(P)
