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
