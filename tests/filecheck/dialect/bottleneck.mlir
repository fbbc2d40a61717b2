// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Round trip of tt.bottleneck: with an expand conv and biases, without an expand conv and
// without biases, and with a strided 3x3 expand conv (a stem).
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @d2.w : tensor<2x5x5x1xi8> scales dense<1.000000e-01> : tensor<2xf32> = #tt.external<"d2.w">
  tt.param @p2.w : tensor<3x1x1x2xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p2.w">
  tt.param @s.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"s.w">
  func.func @f(%x: !tt.qtensor<1x8x7x2, 0.5:-3>) {
    // CHECK:      %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x7x6, 0.25:-128>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, expand_act = array<i64: -128, 127>, depthwise_act = array<i64: -128, 100>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x7x6, 0.25:-128>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, expand_act = array<i64: -128, 127>, depthwise_act = array<i64: -128, 100>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    // CHECK-NEXT: %z = tt.bottleneck %x depthwise @d2.w project @p2.w {depthwise_type = !tt.qtensor<1x8x7x2, 0.125:0>, depthwise_act = array<i64: 0, 127>, project_act = array<i64: -100, 100>, stride = array<i64: 1, 1>, padding = array<i64: 2, 2>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x8x7x3, 0.3:5>
    %z = tt.bottleneck %x depthwise @d2.w project @p2.w {depthwise_type = !tt.qtensor<1x8x7x2, 0.125:0>, depthwise_act = array<i64: 0, 127>, project_act = array<i64: -100, 100>, stride = array<i64: 1, 1>, padding = array<i64: 2, 2>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x8x7x3, 0.3:5>
    // CHECK-NEXT: %s = tt.bottleneck %x expand @s.w depthwise @d.w project @p.w {expanded_type = !tt.qtensor<1x4x4x6, 0.25:-128>, expand_act = array<i64: -128, 127>, expand_stride = array<i64: 2, 2>, expand_padding = array<i64: 1, 1>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    %s = tt.bottleneck %x expand @s.w depthwise @d.w project @p.w {expanded_type = !tt.qtensor<1x4x4x6, 0.25:-128>, expand_act = array<i64: -128, 127>, expand_stride = array<i64: 2, 2>, expand_padding = array<i64: 1, 1>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x7x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}
