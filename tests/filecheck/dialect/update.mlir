// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// tt.scale_grad (whole parameter and output-channel subset, any power) and tt.sgd_update on
// int8 weights and int32 biases, in every rounding mode, on the whole parameter and on a
// channel subset (channels + channel_axis).

builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w">
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = #tt.external<"b">
  tt.param @dw : tensor<2x3x3x1xi8> scales dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32> = #tt.external<"dw">
  tt.param @fc : tensor<3x2xi8> scales #tt.external<"fc.scales"> = #tt.external<"fc">
  tt.param @unscaled : tensor<2xi32> = #tt.external<"unscaled">

  // CHECK-LABEL: func.func @scale_grad
  func.func @scale_grad(%gw: tensor<4x3x3x2xf32>, %gsub: tensor<2x3x3x1xf32>, %gb: tensor<4xf32>, %gfc: tensor<3x2xf32>) {
    // CHECK-NEXT: %sw = tt.scale_grad %gw, @w {power = 1 : i64} : tensor<4x3x3x2xf32>
    %sw = tt.scale_grad %gw, @w {power = 1 : i64} : tensor<4x3x3x2xf32>
    // CHECK-NEXT: %qas = tt.scale_grad %gw, @w {power = -2 : i64} : tensor<4x3x3x2xf32>
    %qas = tt.scale_grad %gw, @w {power = -2 : i64} : tensor<4x3x3x2xf32>
    // CHECK-NEXT: %ssub = tt.scale_grad %gsub, @w {power = 1 : i64, channels = array<i64: 1, 3>} : tensor<2x3x3x1xf32>
    %ssub = tt.scale_grad %gsub, @w {power = 1 : i64, channels = array<i64: 1, 3>} : tensor<2x3x3x1xf32>
    // CHECK-NEXT: %sb = tt.scale_grad %gb, @b {power = 1 : i64} : tensor<4xf32>
    %sb = tt.scale_grad %gb, @b {power = 1 : i64} : tensor<4xf32>
    // CHECK-NEXT: %sfc = tt.scale_grad %gfc, @fc {power = 0 : i64} : tensor<3x2xf32>
    %sfc = tt.scale_grad %gfc, @fc {power = 0 : i64} : tensor<3x2xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @int8_weight
  func.func @int8_weight(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK-NEXT: tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<4x3x3x2xf32>
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<4x3x3x2xf32>
    // CHECK-NEXT: tt.sgd_update @w, %g, %lr {grad_scale = 5.000000e-01 : f32, rounding = "nearest"} : tensor<4x3x3x2xf32>
    tt.sgd_update @w, %g, %lr {grad_scale = 5.000000e-01 : f32, rounding = "nearest"} : tensor<4x3x3x2xf32>
    // CHECK-NEXT: tt.sgd_update @w, %g, %lr {grad_scale = 3.05175781e-05 : f32, rounding = "truncate"} : tensor<4x3x3x2xf32>
    tt.sgd_update @w, %g, %lr {grad_scale = 3.05175781e-05 : f32, rounding = "truncate"} : tensor<4x3x3x2xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @int32_bias
  func.func @int32_bias(%g: tensor<4xf32>, %g2: tensor<2xf32>, %lr: f32) {
    // CHECK-NEXT: tt.sgd_update @b, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<4xf32>
    tt.sgd_update @b, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<4xf32>
    // CHECK-NEXT: tt.sgd_update @b, %g, %lr {grad_scale = 2.500000e-01 : f32, rounding = "nearest"} : tensor<4xf32>
    tt.sgd_update @b, %g, %lr {grad_scale = 2.500000e-01 : f32, rounding = "nearest"} : tensor<4xf32>
    // CHECK-NEXT: tt.sgd_update @b, %g, %lr {grad_scale = 0.0123456791 : f32, rounding = "truncate"} : tensor<4xf32>
    tt.sgd_update @b, %g, %lr {grad_scale = 0.0123456791 : f32, rounding = "truncate"} : tensor<4xf32>
    // A parameter without scales can be updated too (the grad is already in integer units).
    // CHECK-NEXT: tt.sgd_update @unscaled, %g2, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<2xf32>
    tt.sgd_update @unscaled, %g2, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<2xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @channel_subsets
  func.func @channel_subsets(%g_in: tensor<4x3x3x1xf32>, %g_out: tensor<2x3x3x2xf32>, %g_dw: tensor<1x3x3x1xf32>, %g_fc: tensor<3x1xf32>, %g_b: tensor<2xf32>, %lr: f32) {
    // CHECK-NEXT: tt.sgd_update @w, %g_in, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 1>, channel_axis = 3 : i64} : tensor<4x3x3x1xf32>
    tt.sgd_update @w, %g_in, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 1>, channel_axis = 3 : i64} : tensor<4x3x3x1xf32>
    // CHECK-NEXT: tt.sgd_update @w, %g_out, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 0, 3>, channel_axis = 0 : i64} : tensor<2x3x3x2xf32>
    tt.sgd_update @w, %g_out, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 0, 3>, channel_axis = 0 : i64} : tensor<2x3x3x2xf32>
    // CHECK-NEXT: tt.sgd_update @dw, %g_dw, %lr {grad_scale = 1.000000e+00 : f32, rounding = "truncate", channels = array<i64: 1>, channel_axis = 0 : i64} : tensor<1x3x3x1xf32>
    tt.sgd_update @dw, %g_dw, %lr {grad_scale = 1.000000e+00 : f32, rounding = "truncate", channels = array<i64: 1>, channel_axis = 0 : i64} : tensor<1x3x3x1xf32>
    // CHECK-NEXT: tt.sgd_update @fc, %g_fc, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 0>, channel_axis = 1 : i64} : tensor<3x1xf32>
    tt.sgd_update @fc, %g_fc, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 0>, channel_axis = 1 : i64} : tensor<3x1xf32>
    // CHECK-NEXT: tt.sgd_update @b, %g_b, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 1, 2>, channel_axis = 0 : i64} : tensor<2xf32>
    tt.sgd_update @b, %g_b, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 1, 2>, channel_axis = 0 : i64} : tensor<2xf32>
    // CHECK-NEXT: func.return
    func.return
  }
}
