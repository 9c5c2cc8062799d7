#ifndef TWOCVM_CLIBCBOR_SHIM_H
#define TWOCVM_CLIBCBOR_SHIM_H
#include <cbor.h>
#endif
