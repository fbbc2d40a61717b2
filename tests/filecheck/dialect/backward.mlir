// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Backward ops: conv2d_grad_input, conv2d_grad_weight (with and without `channels`, regular
// and depthwise), linear_grad_input, linear_grad_weight (with and without `channels`),
// bias_grad, clamp_grad, clamp_mask, mask_grad, global_avg_pool_grad, grad_accumulate.

builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w">
  tt.param @dw : tensor<2x3x3x1xi8> scales dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32> = #tt.external<"dw">
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">

  // CHECK-LABEL: func.func @conv2d_grads
  func.func @conv2d_grads(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>, %gdw: tensor<1x2x2x2xf32>) {
    // CHECK-NEXT: %gi = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    %gi = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    // CHECK-NEXT: %gi_dw = tt.conv2d_grad_input %gdw, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64} : tensor<1x2x2x2xf32> -> tensor<1x4x4x2xf32>
    %gi_dw = tt.conv2d_grad_input %gdw, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64} : tensor<1x2x2x2xf32> -> tensor<1x4x4x2xf32>
    // CHECK-NEXT: %gw = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    %gw = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    // CHECK-NEXT: %gw_sub = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    %gw_sub = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    // CHECK-NEXT: %gw_all = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0, 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    %gw_all = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0, 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    // CHECK-NEXT: %gw_dw = tt.conv2d_grad_weight %x, %gdw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x2x2x2xf32> -> tensor<2x3x3x1xf32>
    %gw_dw = tt.conv2d_grad_weight %x, %gdw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x2x2x2xf32> -> tensor<2x3x3x1xf32>
    // CHECK-NEXT: %gw_dw_sub = tt.conv2d_grad_weight %x, %gdw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x2x2x2xf32> -> tensor<1x3x3x1xf32>
    %gw_dw_sub = tt.conv2d_grad_weight %x, %gdw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x2x2x2xf32> -> tensor<1x3x3x1xf32>
    // CHECK-NEXT: %gb = tt.bias_grad %g : tensor<1x4x4x4xf32> -> tensor<4xf32>
    %gb = tt.bias_grad %g : tensor<1x4x4x4xf32> -> tensor<4xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @linear_grads
  func.func @linear_grads(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK-NEXT: %gi = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<2x2xf32>
    %gi = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<2x2xf32>
    // CHECK-NEXT: %gw = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x2xf32>
    %gw = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x2xf32>
    // CHECK-NEXT: %gw_sub = tt.linear_grad_weight %x, %g {channels = array<i64: 1>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x1xf32>
    %gw_sub = tt.linear_grad_weight %x, %g {channels = array<i64: 1>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x1xf32>
    // CHECK-NEXT: %gb = tt.bias_grad %g : tensor<2x3xf32> -> tensor<3xf32>
    %gb = tt.bias_grad %g : tensor<2x3xf32> -> tensor<3xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @activation_grads
  func.func @activation_grads(%g: tensor<1x2x2x3xf32>, %y: !tt.qtensor<1x2x2x3, 0.75:0>, %gp: tensor<1x1x1x3xf32>) -> tensor<1x2x2x3xf32> {
    // CHECK-NEXT: %gc = tt.clamp_grad %g, %y {act_min = 0 : i64, act_max = 127 : i64} : tensor<1x2x2x3xf32>, !tt.qtensor<1x2x2x3, 0.75:0> -> tensor<1x2x2x3xf32>
    %gc = tt.clamp_grad %g, %y {act_min = 0 : i64, act_max = 127 : i64} : tensor<1x2x2x3xf32>, !tt.qtensor<1x2x2x3, 0.75:0> -> tensor<1x2x2x3xf32>
    // CHECK-NEXT: %m = tt.clamp_mask %y {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.75:0> -> tensor<1x2x2x3xi1>
    %m = tt.clamp_mask %y {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.75:0> -> tensor<1x2x2x3xi1>
    // CHECK-NEXT: %gm = tt.mask_grad %g, %m : tensor<1x2x2x3xf32>, tensor<1x2x2x3xi1> -> tensor<1x2x2x3xf32>
    %gm = tt.mask_grad %g, %m : tensor<1x2x2x3xf32>, tensor<1x2x2x3xi1> -> tensor<1x2x2x3xf32>
    // CHECK-NEXT: %gpool = tt.global_avg_pool_grad %gp : tensor<1x1x1x3xf32> -> tensor<1x2x2x3xf32>
    %gpool = tt.global_avg_pool_grad %gp : tensor<1x1x1x3xf32> -> tensor<1x2x2x3xf32>
    // CHECK-NEXT: %sum = tt.grad_accumulate %gc, %gpool : tensor<1x2x2x3xf32>
    %sum = tt.grad_accumulate %gc, %gpool : tensor<1x2x2x3xf32>
    // CHECK-NEXT: func.return %sum : tensor<1x2x2x3xf32>
    func.return %sum : tensor<1x2x2x3xf32>
  }
}
