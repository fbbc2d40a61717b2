// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=bias-only}' | filecheck %s --check-prefix=BIAS
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=last-1}' | filecheck %s --check-prefix=LAST1
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=%S/inputs/half_pointwise.json}' | filecheck %s --check-prefix=FILE
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=full}' | filecheck %s --check-prefix=FULL

// bias-only: every bias and the classifier; no conv weight gradient anywhere, and the saved
// activations of the convs (their inputs) are no longer used by the backward.
// BIAS-LABEL: func.func @train_step(
// BIAS-NOT:     tt.conv2d_grad_weight
// BIAS:         tt.sgd_update @classifier.weight
// BIAS:         tt.sgd_update @block.pw.bias
// BIAS:         tt.sgd_update @block.dw.bias
// BIAS-NOT:     tt.conv2d_grad_input
// BIAS:         tt.sgd_update @stem.bias
// BIAS-NOT:     tt.sgd_update
// BIAS:         func.return %loss

// last-1: the pointwise conv and the classifier. Back-propagation stops at the pointwise conv:
// no input gradient of it, nothing at all for the depthwise conv and the stem.
// LAST1-LABEL: func.func @train_step(
// LAST1:         tt.sgd_update @classifier.weight
// LAST1:         tt.sgd_update @classifier.bias
// LAST1-NOT:     tt.conv2d_grad_input
// LAST1:         tt.conv2d_grad_weight %block_dw
// LAST1:         tt.sgd_update @block.pw.weight
// LAST1:         tt.sgd_update @block.pw.bias
// LAST1-NOT:     tt.clamp_grad %{{.*}}, %block_dw
// LAST1-NOT:     @block.dw
// LAST1-NOT:     @stem
// LAST1:         func.return %loss

// A scheme file: biases of the last 2 convs; pointwise weights on half their input channels
// (the 2 of largest weight norm, 0 and 3), recorded on the gradient and the update.
// FILE-LABEL: func.func @train_step(
// FILE:         tt.conv2d_grad_weight %block_dw, %{{.*}} {{{.*}}channels = array<i64: 0, 3>} : !tt.qtensor<1x2x2x4, 0.08:-128>, tensor<1x2x2x4xf32> -> tensor<4x1x1x2xf32>
// FILE:         tt.sgd_update @block.pw.weight, %{{.*}}, %lr {{{.*}}channels = array<i64: 0, 3>, channel_axis = 3 : i64} : tensor<4x1x1x2xf32>
// FILE:         tt.sgd_update @block.dw.bias
// FILE-NOT:     tt.conv2d_grad_input %{{.*}}, @block.dw.weight
// FILE-NOT:     @stem
// FILE:         func.return %loss

// full: the same as tt-autodiff alone (every parameter is updated).
// FULL-COUNT-8: tt.sgd_update
