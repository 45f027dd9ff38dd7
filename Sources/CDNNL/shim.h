// oneDNN's C API (Debian libdnnl-dev, 2.x). Only TensorDNNL imports this.
#include <dnnl.h>
// mallopt: TensorDNNL keeps large freed blocks in the heap (see configureAllocator).
#include <malloc.h>
