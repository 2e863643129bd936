/* benchlib.c: the benchmark's own C functions (compiled by bench.py). */
#include <stddef.h>

typedef struct { double x, y, z; } vec3;

int zero_args(void) { return 7; }
int six_ints(int a, int b, int c, int d, int e, int f) { return a + b + c + d + e + f; }
double vec3_norm1(const vec3 *v) { return v->x + v->y + v->z; }
vec3 vec3_make(double x, double y, double z) { vec3 v = {x, y, z}; return v; }
int read_int(const int *p) { return *p; }
