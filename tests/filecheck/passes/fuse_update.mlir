// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=%S/inputs/half_pointwise.json},tt-qas,tt-fuse-update' | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff{emit=gradients},tt-fuse-update' | filecheck %s --check-prefix=GRADS

// Every gradient -> scale_grad -> sgd_update chain becomes one fused, in-place update; the
// gradients disappear as values, the channel subset and the folded power stay.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT:     tt.sgd_update
// CHECK-NOT:     tt.scale_grad
// CHECK-NOT:     tt.linear_grad_weight
// CHECK:         tt.linear_weight_update @classifier.weight, %{{.*}}, %{{.*}}, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : !tt.qtensor<1x4, 0.06:-10>, tensor<1x3xf32>
// CHECK-NEXT:    tt.bias_update @classifier.bias, %{{.*}}, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<1x3xf32>
// CHECK-NOT:     tt.conv2d_grad_weight
// CHECK:         tt.conv2d_weight_update @block.pw.weight, %block_dw, %{{.*}}, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 0, 3>, kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : !tt.qtensor<1x2x2x4, 0.08:-128>, tensor<1x2x2x4xf32>
// CHECK:         tt.bias_update @block.pw.bias
// CHECK:         tt.bias_update @block.dw.bias
// CHECK-NEXT:    func.return %loss : f32

// Gradients that are results (emit=gradients) are not updates: nothing to fuse.
// GRADS-NOT: _update
