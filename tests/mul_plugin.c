/* A user multiplier for the c_function family, compiled into a shared object by tests/cli_amul.sh:
 * `int32_t fn(int8_t a, int8_t w)`, C linkage, called once per operand pair at library load. */
#include <stdint.h>

int32_t mul_plus_one(int8_t a, int8_t w);
int32_t mul_too_wide(int8_t a, int8_t w);

/* Exact plus one: every metric is known by hand (mean error 1, MED 1, WCE 1, P_err 1). */
int32_t mul_plus_one(int8_t a, int8_t w)
{
    return a * w + 1;
}

/* Leaves int16 for one pair: the loader must reject it. */
int32_t mul_too_wide(int8_t a, int8_t w)
{
    return a == 127 && w == 127 ? 70000 : a * w;
}
