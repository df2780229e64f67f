// The one place TokenMeter includes PCRE2. Only the 8-bit library is used (UTF-8 subjects).
#ifndef TOKENMETER_CPCRE2_SHIM_H
#define TOKENMETER_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
