// Part of a JPEG decoded with libjpeg-turbo's libjpeg API (Debian libjpeg62-turbo-dev), for the
// mosaic loader, which shows only part of each image. C because libjpeg reports errors by longjmp.
#ifndef JPEG_REGION_H
#define JPEG_REGION_H

#include <stddef.h>

/// Decodes rows [row_begin, row_end) of columns [*column, *column + *width) of a JPEG to packed
/// RGB, the pixels a whole-image decode with accurate integer IDCT and fancy upsampling gives,
/// except in the two outermost columns on each side of the crop that are not an image edge
/// (libjpeg-turbo's jpeg_crop_scanline upsamples chroma at the crop's edge as at an image edge).
/// On entry *column and *width are the columns wanted; on return, the columns written, widened to
/// the left to the iMCU grid. Whole iMCU rows above row_begin but one are skipped (entropy-decoded
/// only), the rest decoded and discarded; decoding stops after row_end.
/// `out` holds `capacity` bytes; a row is *width · 3 bytes.
///
/// Returns 0 when done; 1 when the image should be decoded whole instead: CMYK/YCCK, progressive, any libjpeg
/// warning (corrupt data) or error, a region outside the image, or too small a buffer.
int jpeg_region_decode_rgb(const unsigned char *data, size_t size, int *column, int *width,
                           int row_begin, int row_end, unsigned char *out, size_t capacity);

#endif
