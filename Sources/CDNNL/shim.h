// oneDNN's C API (Debian libdnnl-dev, 2.x). Only TensorDNNL imports this.
#include <dnnl.h>
