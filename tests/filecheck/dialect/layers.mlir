// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// The layers of common MCU CNNs: max_pool (with and without argmax indices, symmetric and
// bottom/right padding), avg_pool, the table activations hard_swish / hard_sigmoid / sigmoid,
// mul (same shape and [N, 1, 1, C] broadcast), concat; and their gradients.

builtin.module {
  // CHECK-LABEL: func.func @pooling
  func.func @pooling(%x: !tt.qtensor<1x7x7x3, 0.5:-3>) {
    // CHECK-NEXT: %mp = tt.max_pool %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.5:-3>
    %mp = tt.max_pool %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.5:-3>
    // CHECK-NEXT: %ceil, %idx = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, act_min = -3 : i64, act_max = 127 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.5:-3>, tensor<1x4x4x3xui8>
    %ceil, %idx = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, act_min = -3 : i64, act_max = 127 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.5:-3>, tensor<1x4x4x3xui8>
    // CHECK-NEXT: %ap = tt.avg_pool %x {kernel = array<i64: 3, 2>, stride = array<i64: 1, 2>, padding = array<i64: 0, 1>, act_min = -128 : i64, act_max = 100 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x5x4x3, 0.5:-3>
    %ap = tt.avg_pool %x {kernel = array<i64: 3, 2>, stride = array<i64: 1, 2>, padding = array<i64: 0, 1>, act_min = -128 : i64, act_max = 100 : i64} : !tt.qtensor<1x7x7x3, 0.5:-3> -> !tt.qtensor<1x5x4x3, 0.5:-3>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @activations
  func.func @activations(%x: !tt.qtensor<1x2x2x3, 0.05:10>, %v: !tt.qtensor<2x5, 0.1:0>) {
    // CHECK-NEXT: %hs = tt.hard_swish %x : !tt.qtensor<1x2x2x3, 0.05:10> -> !tt.qtensor<1x2x2x3, 0.04:-100>
    %hs = tt.hard_swish %x : !tt.qtensor<1x2x2x3, 0.05:10> -> !tt.qtensor<1x2x2x3, 0.04:-100>
    // CHECK-NEXT: %hsig = tt.hard_sigmoid %x : !tt.qtensor<1x2x2x3, 0.05:10> -> !tt.qtensor<1x2x2x3, 0.00390625:-128>
    %hsig = tt.hard_sigmoid %x : !tt.qtensor<1x2x2x3, 0.05:10> -> !tt.qtensor<1x2x2x3, 0.00390625:-128>
    // CHECK-NEXT: %sig = tt.sigmoid %v : !tt.qtensor<2x5, 0.1:0> -> !tt.qtensor<2x5, 0.00390625:-128>
    %sig = tt.sigmoid %v : !tt.qtensor<2x5, 0.1:0> -> !tt.qtensor<2x5, 0.00390625:-128>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @mul_and_concat
  func.func @mul_and_concat(%a: !tt.qtensor<1x4x4x3, 0.5:-3>, %s: !tt.qtensor<1x1x1x3, 0.00390625:-128>, %b: !tt.qtensor<1x4x4x2, 0.25:7>) {
    // CHECK-NEXT: %se = tt.mul %a, %s {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x1x1x3, 0.00390625:-128> -> !tt.qtensor<1x4x4x3, 0.4:0>
    %se = tt.mul %a, %s {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x1x1x3, 0.00390625:-128> -> !tt.qtensor<1x4x4x3, 0.4:0>
    // CHECK-NEXT: %sq = tt.mul %a, %a {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x4x4x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 2.0:-128>
    %sq = tt.mul %a, %a {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x4x4x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 2.0:-128>
    // CHECK-NEXT: %cat = tt.concat %a, %b, %a : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x4x4x2, 0.25:7>, !tt.qtensor<1x4x4x3, 0.5:-3> -> !tt.qtensor<1x4x4x8, 0.5:-3>
    %cat = tt.concat %a, %b, %a : !tt.qtensor<1x4x4x3, 0.5:-3>, !tt.qtensor<1x4x4x2, 0.25:7>, !tt.qtensor<1x4x4x3, 0.5:-3> -> !tt.qtensor<1x4x4x8, 0.5:-3>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @gradients
  func.func @gradients(%g: tensor<1x4x4x3xf32>, %x: !tt.qtensor<1x7x7x3, 0.5:-3>, %i: tensor<1x4x4x3xui8>, %a: !tt.qtensor<1x4x4x3, 0.5:-3>, %s: !tt.qtensor<1x1x1x3, 0.00390625:-128>, %g8: tensor<1x4x4x8xf32>) {
    // CHECK-NEXT: %gm = tt.max_pool_grad %g, %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, !tt.qtensor<1x7x7x3, 0.5:-3> -> tensor<1x7x7x3xf32>
    %gm = tt.max_pool_grad %g, %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x4x4x3xf32>, !tt.qtensor<1x7x7x3, 0.5:-3> -> tensor<1x7x7x3xf32>
    // CHECK-NEXT: %gi = tt.max_pool_grad %g, %i {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x4x4x3xui8> -> tensor<1x7x7x3xf32>
    %gi = tt.max_pool_grad %g, %i {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>} : tensor<1x4x4x3xf32>, tensor<1x4x4x3xui8> -> tensor<1x7x7x3xf32>
    // CHECK-NEXT: %ga = tt.avg_pool_grad %g {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x4x4x3xf32> -> tensor<1x7x7x3xf32>
    %ga = tt.avg_pool_grad %g {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x4x4x3xf32> -> tensor<1x7x7x3xf32>
    // CHECK-NEXT: %gh = tt.activation_grad %g, %a {activation = "hard_swish", output_type = !tt.qtensor<1x4x4x3, 0.04:-100>} : tensor<1x4x4x3xf32>, !tt.qtensor<1x4x4x3, 0.5:-3> -> tensor<1x4x4x3xf32>
    %gh = tt.activation_grad %g, %a {activation = "hard_swish", output_type = !tt.qtensor<1x4x4x3, 0.04:-100>} : tensor<1x4x4x3xf32>, !tt.qtensor<1x4x4x3, 0.5:-3> -> tensor<1x4x4x3xf32>
    // CHECK-NEXT: %gl = tt.mul_grad %g, %s : tensor<1x4x4x3xf32>, !tt.qtensor<1x1x1x3, 0.00390625:-128> -> tensor<1x4x4x3xf32>
    %gl = tt.mul_grad %g, %s : tensor<1x4x4x3xf32>, !tt.qtensor<1x1x1x3, 0.00390625:-128> -> tensor<1x4x4x3xf32>
    // CHECK-NEXT: %gr = tt.mul_grad %g, %a : tensor<1x4x4x3xf32>, !tt.qtensor<1x4x4x3, 0.5:-3> -> tensor<1x1x1x3xf32>
    %gr = tt.mul_grad %g, %a : tensor<1x4x4x3xf32>, !tt.qtensor<1x4x4x3, 0.5:-3> -> tensor<1x1x1x3xf32>
    // CHECK-NEXT: %gc = tt.concat_grad %g8 {channel_offset = 3 : i64} : tensor<1x4x4x8xf32> -> tensor<1x4x4x2xf32>
    %gc = tt.concat_grad %g8 {channel_offset = 3 : i64} : tensor<1x4x4x8xf32> -> tensor<1x4x4x2xf32>
    // CHECK-NEXT: func.return
    func.return
  }
}
