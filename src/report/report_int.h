/* report_int.h — private to src/report: the files embedded in the binary at build time by
 * cmake/assets.cmake (the charting library and the page's renderer), each text[0, end - text)
 * followed by a NUL. */
#ifndef WK_REPORT_INT_H
#define WK_REPORT_INT_H

extern const char rp_asset_echarts[], rp_asset_echarts_end[]; /* echarts.min.js, from npm */
extern const char rp_asset_render[], rp_asset_render_end[];   /* src/report/render.js */

#endif
