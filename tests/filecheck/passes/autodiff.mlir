// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff{lr=0.1}' | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff{emit=gradients}' | filecheck %s --check-prefix=GRADS
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff{rounding=truncate}' | filecheck %s --check-prefix=ROUND

// tt-autodiff keeps @forward and adds @train_step: the forward ops, the loss, then the backward
// ops in reverse order, each parameter's update right after its gradient.

// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @train_step(%image: !tt.qtensor<1x4x4x2, 0.05:-3>, %label: tensor<1xi32>) -> (f32 {tt.name = "loss"})
// CHECK:         %stem = tt.conv2d %image, @stem.weight, @stem.bias
// CHECK:         %classifier = tt.linear
// CHECK:         %lr = arith.constant 1.000000e-01 : f32
// CHECK:         %loss = tt.cross_entropy %classifier, %label
// CHECK:         [[DZ:%.*]] = tt.cross_entropy_grad %classifier, %label
// CHECK:         [[DY:%.*]] = tt.clamp_grad [[DZ]], %classifier
// CHECK:         [[DX:%.*]] = tt.linear_grad_input [[DY]], @classifier.weight : tensor<1x3xf32> -> tensor<1x4xf32>
// CHECK:         [[DW:%.*]] = tt.linear_grad_weight %{{.*}}, [[DY]] : !tt.qtensor<1x4, 0.06:-10>, tensor<1x3xf32> -> tensor<3x4xf32>
// CHECK:         [[SW:%.*]] = tt.scale_grad [[DW]], @classifier.weight {power = 1 : i64}
// CHECK-NEXT:    tt.sgd_update @classifier.weight, [[SW]], %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic"}
// CHECK:         tt.global_avg_pool_grad
// CHECK:         tt.conv2d_grad_input %{{.*}}, @block.pw.weight
// CHECK:         tt.conv2d_grad_weight %block_dw, %{{.*}} {kernel = array<i64: 1, 1>
// CHECK:         tt.sgd_update @block.pw.bias
// CHECK:         tt.clamp_grad %{{.*}}, %block_dw {act_min = -128 : i64, act_max = 100 : i64}
// CHECK:         tt.conv2d_grad_weight %stem, %{{.*}} {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64}
// The input gradient of the first conv is never needed.
// CHECK:         tt.conv2d_grad_weight %image
// CHECK-NOT:     tt.conv2d_grad_input
// CHECK:         tt.sgd_update @stem.bias
// CHECK-NEXT:    func.return %loss : f32

// GRADS-LABEL: func.func @train_step(
// GRADS-SAME:    -> (f32 {tt.name = "loss"}, tensor<4x3x3x2xf32> {tt.name = "grad.stem.weight"}, tensor<4xf32> {tt.name = "grad.stem.bias"},
// GRADS-SAME:    tensor<3x4xf32> {tt.name = "grad.classifier.weight"}, tensor<3xf32> {tt.name = "grad.classifier.bias"})
// GRADS-NOT:   tt.sgd_update
// GRADS:       func.return %loss,

// ROUND: tt.sgd_update @classifier.weight, %{{.*}}, %lr {grad_scale = 1.000000e+00 : f32, rounding = "truncate"}
