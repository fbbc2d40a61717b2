// RUN: tt-opt %s -p 'tt-autodiff{emit=gradients}' | filecheck %s

// A clamp bound of 0 is a bound like any other: the clamp gradient keeps act_min = 0 and
// act_max = 0 (they once became -128 and 127: an IntegerAttr of 0 is falsy).

builtin.module {
  tt.param @fc.weight : tensor<2x2xi8> scales dense<1.250000e-01> : tensor<2xf32> = dense<[[1, -1], [2, -2]]> : tensor<2x2xi8>
  tt.param @out.weight : tensor<2x2xi8> scales dense<1.250000e-01> : tensor<2xf32> = dense<[[3, 1], [-2, 2]]> : tensor<2x2xi8>
  func.func @forward(%x: !tt.qtensor<1x2, 0.5:0>) -> !tt.qtensor<1x2, 0.25:-5> {
    %h = tt.linear %x, @fc.weight {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2, 0.5:0> -> !tt.qtensor<1x2, 0.25:0>
    %y = tt.linear %h, @out.weight {act_min = -128 : i64, act_max = 0 : i64} : !tt.qtensor<1x2, 0.25:0> -> !tt.qtensor<1x2, 0.25:-5>
    func.return %y : !tt.qtensor<1x2, 0.25:-5>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK:         tt.clamp_grad %{{.*}}, %y {act_min = -128 : i64, act_max = 0 : i64}
// CHECK:         tt.clamp_grad %{{.*}}, %h {act_min = 0 : i64, act_max = 127 : i64}
