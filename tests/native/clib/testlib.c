/* testlib.c: the C test library of tests/native (compiled by conftest.py). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

/* ---- scalars: each takes two values and returns a value computed from both */
signed char t_schar(signed char a, signed char b) { return (signed char)(a - b); }
unsigned char t_uchar(unsigned char a, unsigned char b) { return (unsigned char)(a + b); }
short t_short(short a, short b) { return (short)(a - b); }
unsigned short t_ushort(unsigned short a, unsigned short b) { return (unsigned short)(a + b); }
int t_int(int a, int b) { return a - b; }
unsigned int t_uint(unsigned int a, unsigned int b) { return a + b; }
long t_long(long a, long b) { return a - b; }
unsigned long t_ulong(unsigned long a, unsigned long b) { return a + b; }
long long t_longlong(long long a, long long b) { return a - b; }
unsigned long long t_ulonglong(unsigned long long a, unsigned long long b) { return a + b; }
float t_float(float a, float b) { return a * b; }
double t_double(double a, double b) { return a * b; }
long double t_longdouble(long double a, long double b) { return a * b; }
bool t_bool(bool a, bool b) { return a && !b; }
char t_char(char a, char b) { return (char)(a + b); }
wchar_t t_wchar(wchar_t a, wchar_t b) { return a + b; }
void *t_pointer(void *p, ptrdiff_t off) { return (char *)p + off; }

/* many arguments of mixed types (more than the call path's stack buffer) */
double t_many(int a0, double a1, int a2, double a3, int a4, double a5, int a6, double a7,
              int a8, double a9, int a10, double a11, int a12, double a13, int a14, double a15,
              int a16, double a17, signed char a18, float a19) {
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 +
           a16 + a17 + a18 + a19;
}

/* void result, writing through a pointer */
static int last_store;
void t_store(int v) { last_store = v; }
int t_last_store(void) { return last_store; }

/* ---- structs by value (x86-64 SysV classification cases) */
typedef struct { char a; short b; } S_cs;
typedef struct { int a; int b; } S_ii;
typedef struct { float a; float b; } S_ff;
typedef struct { double a; double b; } S_dd;
typedef struct { int a; double b; } S_id;
typedef struct { float a; int b; int c; } S_fii;
typedef struct { long long a; long long b; long long c; } S_big;
typedef struct { char a[3]; } S_c3;
typedef struct { float a[3]; } S_f3;
typedef struct { S_ii in; double d; } S_nested;
typedef struct { char c; long double g; } S_cg;

S_cs s_cs_make(char a, short b) { S_cs s = {a, b}; return s; }
int s_cs_sum(S_cs s) { return s.a + s.b; }
S_cs s_cs_twice(S_cs s) { s.a *= 2; s.b *= 2; return s; }

S_ii s_ii_make(int a, int b) { S_ii s = {a, b}; return s; }
int s_ii_sum(S_ii s) { return s.a + s.b; }
S_ii s_ii_twice(S_ii s) { s.a *= 2; s.b *= 2; return s; }

S_ff s_ff_make(float a, float b) { S_ff s = {a, b}; return s; }
float s_ff_sum(S_ff s) { return s.a + s.b; }
S_ff s_ff_twice(S_ff s) { s.a *= 2; s.b *= 2; return s; }

S_dd s_dd_make(double a, double b) { S_dd s = {a, b}; return s; }
double s_dd_sum(S_dd s) { return s.a + s.b; }
S_dd s_dd_twice(S_dd s) { s.a *= 2; s.b *= 2; return s; }

S_id s_id_make(int a, double b) { S_id s = {a, b}; return s; }
double s_id_sum(S_id s) { return s.a + s.b; }
S_id s_id_twice(S_id s) { s.a *= 2; s.b *= 2; return s; }

S_fii s_fii_make(float a, int b, int c) { S_fii s = {a, b, c}; return s; }
double s_fii_sum(S_fii s) { return s.a + s.b + s.c; }
S_fii s_fii_twice(S_fii s) { s.a *= 2; s.b *= 2; s.c *= 2; return s; }

S_big s_big_make(long long a, long long b, long long c) { S_big s = {a, b, c}; return s; }
long long s_big_sum(S_big s) { return s.a + s.b + s.c; }
S_big s_big_twice(S_big s) { s.a *= 2; s.b *= 2; s.c *= 2; return s; }

S_c3 s_c3_make(char a, char b, char c) { S_c3 s = {{a, b, c}}; return s; }
int s_c3_sum(S_c3 s) { return s.a[0] + s.a[1] + s.a[2]; }
S_c3 s_c3_twice(S_c3 s) { for (int i = 0; i < 3; i++) s.a[i] *= 2; return s; }

S_f3 s_f3_make(float a, float b, float c) { S_f3 s = {{a, b, c}}; return s; }
float s_f3_sum(S_f3 s) { return s.a[0] + s.a[1] + s.a[2]; }
S_f3 s_f3_twice(S_f3 s) { for (int i = 0; i < 3; i++) s.a[i] *= 2; return s; }

S_nested s_nested_make(int a, int b, double d) { S_nested s = {{a, b}, d}; return s; }
double s_nested_sum(S_nested s) { return s.in.a + s.in.b + s.d; }
S_nested s_nested_twice(S_nested s) { s.in.a *= 2; s.in.b *= 2; s.d *= 2; return s; }

typedef struct { double a[10]; } S_huge;
S_huge s_huge_make(double x) { S_huge s; for (int i = 0; i < 10; i++) s.a[i] = x * i; return s; }
double s_huge_sum(S_huge s) { double t = 0; for (int i = 0; i < 10; i++) t += s.a[i]; return t; }

S_cg s_cg_make(char c, long double g) { S_cg s = {c, g}; return s; }
long double s_cg_sum(S_cg s) { return s.c + s.g; }

/* sizes and offsets as the compiler sees them, for comparing with libffi's */
#define LAYOUT(T, m1, m2) \
    size_t layout_##T(int i) { \
        switch (i) { case 0: return sizeof(T); case 1: return _Alignof(T); \
                     case 2: return offsetof(T, m1); default: return offsetof(T, m2); } }
LAYOUT(S_cs, a, b)
LAYOUT(S_ii, a, b)
LAYOUT(S_ff, a, b)
LAYOUT(S_dd, a, b)
LAYOUT(S_id, a, b)
LAYOUT(S_fii, a, c)
LAYOUT(S_big, a, c)
LAYOUT(S_c3, a, a)
LAYOUT(S_f3, a, a)
LAYOUT(S_nested, in, d)
LAYOUT(S_cg, c, g)

/* ---- errno */
void errno_set(int v) { errno = v; }
int errno_get(void) { return errno; }

/* ---- callbacks */
int cb_call_int(int (*f)(int, int), int a, int b) { return f(a, b) * 10; }
int cb_call_schar(signed char (*f)(void)) { return f(); }          /* read as signed char */
int cb_call_short(short (*f)(void)) { return f(); }
unsigned cb_call_uchar(unsigned char (*f)(void)) { return f(); }
long long cb_call_uint_raw(unsigned (*f)(void)) { return (long long)f(); }
double cb_call_double(double (*f)(double, float), double x) { return f(x, 0.5f) + 1.0; }
long double cb_call_longdouble(long double (*f)(long double), long double x) { return f(x); }
S_dd cb_call_struct(S_dd (*f)(S_ii, S_fii)) { S_ii a = {3, 4}; S_fii b = {1.5f, 7, 9}; return f(a, b); }
S_big cb_call_big(S_big (*f)(S_big)) { S_big a = {1, 2, 3}; return f(a); }
void cb_call_void(void (*f)(int)) { f(42); }
int cb_call_many(double (*f)(int, double, int, double, int, double, int, double, int, double)) {
    return (int)f(1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5, 9, 10.5);
}

/* calls f(i) from a new pthread, i = 0..n-1, sequentially; returns the sum of the results */
struct thread_job { int (*f)(int); int n; long long sum; };
static void *thread_main(void *p) {
    struct thread_job *job = p;
    for (int i = 0; i < job->n; i++) job->sum += job->f(i);
    return NULL;
}
long long cb_call_in_thread(int (*f)(int), int n) {
    struct thread_job job = {f, n, 0};
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &job) != 0) return -1;
    pthread_join(t, NULL);
    return job.sum;
}

/* ---- strings */
const char *str_hello(void) { return "hello, world"; }
const wchar_t *wstr_hello(void) { return L"h\u00e9llo \U0001F600"; }

/* ---- a defined symbol whose value is NULL (an absolute symbol at 0) */
__asm__(".globl t_null_symbol\n.set t_null_symbol, 0\n");
