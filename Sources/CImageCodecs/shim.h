// libjpeg-turbo's TurboJPEG API and libpng (Debian libturbojpeg0-dev, libpng-dev).
// Only YOLOData imports this.
#include <turbojpeg.h>
#include <png.h>
