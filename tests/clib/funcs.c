/* funcs.c: the C test library of the function, callback and library tests
   (tests/test_function.py, test_callback.py, test_library.py).  Compiled by
   the clib_path fixture of tests/conftest.py. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <wchar.h>

/* ---- every scalar type returned as given, and summed with others */
#define RET(T, name) T ret_##name(T x) { return x; }
RET(signed char, schar) RET(unsigned char, uchar) RET(short, short) RET(unsigned short, ushort)
RET(int, int) RET(unsigned int, uint) RET(long, long) RET(unsigned long, ulong)
RET(long long, longlong) RET(unsigned long long, ulonglong) RET(float, float)
RET(double, double) RET(long double, longdouble) RET(bool, bool) RET(char, char)
RET(wchar_t, wchar) RET(const char *, charp) RET(const wchar_t *, wcharp) RET(void *, voidp)
RET(size_t, size_t)

double mixed(signed char b, short h, int i, long l, float f, double d, long long q,
             unsigned char B, long double g) {
    return b + h + i + l + f + d + q + B + (double)g;
}

/* more arguments than registers: the rest go on the stack */
long many_longs(long a, long b, long c, long d, long e, long f, long g, long h, long i,
                long j) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}

double many_doubles(double a, double b, double c, double d, double e, double f, double g,
                    double h, double i, double j) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}

/* ---- variadic */
long sum_longs(int n, ...) {
    va_list ap;
    long total = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) total += va_arg(ap, long);
    va_end(ap);
    return total;
}

double sum_doubles(int n, ...) {
    va_list ap;
    double total = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) total += va_arg(ap, double);
    va_end(ap);
    return total;
}

/* ---- strings and pointers */
size_t my_strlen(const char *s) { return s ? strlen(s) : (size_t)-1; }
size_t my_wcslen(const wchar_t *s) { return s ? wcslen(s) : (size_t)-1; }
const char *my_strchr(const char *s, int c) { return strchr(s, c); }
int is_null(const void *p) { return p == NULL; }
int deref_int(const int *p) { return *p; }
void fill_ints(int *p, int n, int start) { for (int i = 0; i < n; i++) p[i] = start + i; }

static int numbers[4] = {10, 20, 30, 40};
int *get_numbers(void) { return numbers; }
int global_counter = 1234;

/* out parameters */
int divmod_int(int a, int b, int *quot, int *rem) {
    if (b == 0) return -1;
    *quot = a / b;
    *rem = a % b;
    return 0;
}

/* ---- errno */
int fail_with_errno(int value) { errno = value; return -1; }
int read_errno(void) { return errno; }

/* ---- structures by value */
struct point { int x, y; };
struct big { long a, b, c, d; };
struct mix { char c; double d; short s; };
struct fpair { float a, b; };
struct dpair { double a; long b; };
struct tiny { char a, b, c; };

struct point add_points(struct point p, struct point q) {
    struct point r = {p.x + q.x, p.y + q.y};
    return r;
}
long point_sum(struct point p) { return p.x * 1000 + p.y; }
struct big big_twice(struct big s) {
    struct big r = {2 * s.a, 2 * s.b, 2 * s.c, 2 * s.d};
    return r;
}
struct mix mix_next(struct mix m) {
    struct mix r = {m.c + 1, m.d + 1.5, m.s + 1};
    return r;
}
struct fpair fpair_swap(struct fpair p) {
    struct fpair r = {p.b, p.a};
    return r;
}
struct dpair dpair_make(double a, long b) {
    struct dpair r = {a, b};
    return r;
}
struct tiny tiny_make(char a, char b, char c) {
    struct tiny r = {a, b, c};
    return r;
}

/* ---- callbacks */
int call_int_cb(int (*cb)(int), int x) { return cb(x) + 1; }
int deref_cb_result(int *(*cb)(void)) { return *cb(); }     /* crashes on a bad pointer */
double call_double_cb(double (*cb)(double, double), double a, double b) { return cb(a, b); }
void call_void_cb(void (*cb)(int), int n) { for (int i = 0; i < n; i++) cb(i); }
long call_point_cb(long (*cb)(struct point), int x, int y) {
    struct point p = {x, y};
    return cb(p);
}
int call_ptr_cb(int (*cb)(int *), int x) {
    int v = x;
    int r = cb(&v);
    return r + v;
}
const char *call_charp_cb(const char *(*cb)(const char *), const char *s) { return cb(s); }
long call_many_cb(long (*cb)(long, long, long, long, long, long, long, long, double, double)) {
    return cb(1, 2, 3, 4, 5, 6, 7, 8, 9.5, 10.5);
}

static int (*stored_cb)(int);
void store_cb(int (*cb)(int)) { stored_cb = cb; }
int call_stored_cb(int x) { return stored_cb(x); }

struct thread_call { int (*cb)(int); int arg; int result; };
static void *thread_main(void *p) {
    struct thread_call *tc = p;
    tc->result = tc->cb(tc->arg);
    return NULL;
}
int call_in_thread(int (*cb)(int), int x) {
    pthread_t t;
    struct thread_call tc = {cb, x, 0};
    if (pthread_create(&t, NULL, thread_main, &tc) != 0) return -1;
    pthread_join(t, NULL);
    return tc.result;
}

/* ---- function pointers returned */
static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
int (*get_op(char which))(int, int) { return which == '*' ? mul : add; }

/* ---- call shapes of the native direct calls: structures returned in memory
   from scalar arguments (the hidden result pointer takes a register), floats */
struct big big_make(long a, long b, long c, long d) {
    struct big r = {a, b, c, d};
    return r;
}
struct big big_make6(long a, long b, long c, long d, long e, long f) {
    struct big r = {a + b, c, d, e + f};
    return r;
}
double fsum(float a, double b, float c, int d, float e) { return a + b + c + d + e; }
float fmul(float a, float b) { return a * b; }
unsigned char uchar_sum(unsigned char a, signed char b, unsigned short c, short d) {
    return (unsigned char)(a + b + c + d);
}
