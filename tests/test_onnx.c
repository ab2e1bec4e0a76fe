#include "tu.h"
int main(void) { return 0; }
