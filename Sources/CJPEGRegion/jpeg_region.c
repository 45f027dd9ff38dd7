#include "jpeg_region.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

struct region_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    int warnings;
};

static void region_error_exit(j_common_ptr info) {
    longjmp(((struct region_error *)info->err)->jump, 1);
}

static void region_emit_message(j_common_ptr info, int level) {
    if (level < 0) ((struct region_error *)info->err)->warnings += 1;  // corrupt data; trace levels are >= 0
}

int jpeg_region_decode_rgb(const unsigned char *data, size_t size, int *column, int *width,
                           int row_begin, int row_end, unsigned char *out, size_t capacity) {
    struct jpeg_decompress_struct info;
    struct region_error error;
    // Volatile: read after a longjmp.
    volatile int created = 0;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = region_error_exit;
    error.manager.emit_message = region_emit_message;
    error.warnings = 0;
    if (setjmp(error.jump)) {
        if (created) jpeg_destroy_decompress(&info);
        return 1;
    }
    jpeg_create_decompress(&info);
    created = 1;
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    // CMYK needs OpenCV's conversion; progressive files are left to the whole decode, since no test
    // here covers crops and skips over several scans (and they buffer the whole image anyway).
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK || info.progressive_mode) goto decline;
    info.out_color_space = JCS_RGB;
    info.dct_method = JDCT_ISLOW;
    info.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&info);
    if (*column < 0 || *width <= 0 || (JDIMENSION)(*column + *width) > info.output_width || row_begin < 0 ||
        row_end <= row_begin || (JDIMENSION)row_end > info.output_height)
        goto decline;
    JDIMENSION x = (JDIMENSION)*column, w = (JDIMENSION)*width;
    if (x > 0 || w < info.output_width) jpeg_crop_scanline(&info, &x, &w);
    size_t stride = (size_t)w * 3;
    if (stride * (size_t)(row_end - row_begin) > capacity) goto decline;
    // Whole iMCU rows above the region, less one (context for the chroma upsampling), are
    // skipped: entropy-decoded only. A skip that starts at row 0 and ends on an iMCU row boundary
    // sidesteps libjpeg-turbo 2.1's inexact skips (#915: skips that start inside a row group).
    JDIMENSION imcu = (JDIMENSION)(info.max_v_samp_factor * info.min_DCT_scaled_size);
    JDIMENSION skip = imcu > 0 ? ((JDIMENSION)row_begin / imcu) * imcu : 0;
    skip = skip >= imcu ? skip - imcu : 0;
    if (skip > 0 && jpeg_skip_scanlines(&info, skip) != skip) goto decline;
    if (error.warnings) goto decline;
    JSAMPROW rows[16];
    while (info.output_scanline < (JDIMENSION)row_end) {
        JDIMENSION first = info.output_scanline;
        JDIMENSION count = (JDIMENSION)row_end - first;
        if (count > 16) count = 16;
        if (first < (JDIMENSION)row_begin) {
            // Rows before the region land in the region's first rows and are overwritten later.
            JDIMENSION before = (JDIMENSION)row_begin - first;
            if (count > before) count = before;
            if (count > (JDIMENSION)(row_end - row_begin)) count = (JDIMENSION)(row_end - row_begin);
            for (JDIMENSION k = 0; k < count; k++) rows[k] = out + stride * k;
        } else {
            for (JDIMENSION k = 0; k < count; k++) rows[k] = out + stride * (first - (JDIMENSION)row_begin + k);
        }
        if (jpeg_read_scanlines(&info, rows, count) == 0) goto decline;
        if (error.warnings) goto decline;
    }
    if (error.warnings) goto decline;
    jpeg_abort_decompress(&info);
    jpeg_destroy_decompress(&info);
    *column = (int)x;
    *width = (int)w;
    return 0;
decline:
    jpeg_destroy_decompress(&info);
    return 1;
}
