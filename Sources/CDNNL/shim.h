// oneDNN's C API (Debian libdnnl-dev, 2.x). Only TensorDNNL imports this.
#include <dnnl.h>

// libgomp's entry points, the OpenMP runtime Debian's oneDNN runs on. TensorDNNL's Swift
// kernels run their parallel loops on the same thread team as oneDNN's primitives: a second
// pool (GCD) would compete for the cores with OpenMP workers spinning after each primitive.
// Declared here because omp.h is not in every compiler's include path.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
