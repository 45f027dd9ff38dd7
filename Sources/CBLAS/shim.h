// OpenBLAS's CBLAS interface (Debian libopenblas-dev). Only TensorDNNL imports this.
#include <cblas.h>
