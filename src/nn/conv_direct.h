/* Direct stride-1 convolution kernels (conv_direct.c: plain layouts;
 * conv_direct_blk.c: blocked ones), private to src/nn:
 * same semantics as mg_conv2d_ref_*: y = conv(x) + b; the backwards
 * accumulate (dx +=, dw +=, db +=). */
#ifndef MRGAN_CONV_DIRECT_H
#define MRGAN_CONV_DIRECT_H

#include "nn.h"

void mg_conv_direct_forward(const float *x, const float *wt, const float *b, float *y, int n, int cin,
                            int cout, int h, int w, int k, int pad);
void mg_conv_direct_backward_data(const float *dy, const float *wt, float *dx, int n, int cin, int cout, int h,
                                  int w, int k, int pad);
void mg_conv_direct_backward_weights(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                     int cout, int h, int w, int k, int pad);

/* The same with x and dx in oneDNN's blocked nChw16c layout (channels padded
 * to a multiple of 16, padding zero; dx's padding stays zero); y, dy plain. */
void mg_conv_direct_forward_blk(const float *x, const float *wt, const float *b, float *y, int n, int cin, int cout,
                                int h, int w, int k, int pad);
void mg_conv_direct_backward_data_blk(const float *dy, const float *wt, float *dx, int n, int cin, int cout, int h,
                                      int w, int k, int pad);
/* The same with dx overwritten by leaky'(act) * (the data gradient): act is
 * the previous layer's LeakyReLU output in dx's layout (mg_conv2d_backward_act). */
void mg_conv_direct_backward_data_blk_act(const float *dy, const float *wt, float *dx, const float *act, float slope,
                                          int n, int cin, int cout, int h, int w, int k, int pad);
void mg_conv_direct_backward_weights_blk(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                         int cout, int h, int w, int k, int pad);

/* Plain x (few input channels), dy in the blocked nChw16c layout (dw, db +=):
 * DCI-Net's conv1 weight gradient. */
void mg_conv_direct_backward_weights_dyblk(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                           int cout, int h, int w, int k, int pad);

/* Channels-last (nhwc) x and y, few output channels, k * cin >= 16
 * (conv_direct_nhwc.c): the forward, the weight and the data gradient. */
void mg_conv_direct_forward_nhwc(const float *x, const float *wt, const float *b, float *y, int n, int cin, int cout,
                                 int h, int w, int k, int pad);
void mg_conv_direct_backward_weights_nhwc(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                          int cout, int h, int w, int k, int pad);
/* the data gradient for 16 <= cin <= 48: dx += it, or with act (the previous
 * LeakyReLU's output, nhwc) dx = leaky'(act) * it */
void mg_conv_direct_backward_data_nhwc(const float *dy, const float *wt, float *dx, const float *act, float slope,
                                       int n, int cin, int cout, int h, int w, int k, int pad);
/* Channels-last x and dy, k * cin >= 16, k <= 32, any cout: the weight
 * gradient (dw, db +=), DCI-Net's conv1 and conv2 (conv_direct_dw_wide.c). */
void mg_conv_direct_backward_weights_wide_nhwc(const float *x, const float *dy, float *dw, float *db, int n, int cin,
                                               int cout, int h, int w, int k, int pad);

#endif
