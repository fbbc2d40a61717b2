// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of tt.bottleneck, one per chunk (every rule of BottleneckOp.verify_).
// input rank
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op input must have rank 4, got shape (8, 8, 2)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// output rank
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op output must have rank 4, got shape (4, 4, 3)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<4x4x3, 0.3:5>
    func.return
  }
}

// -----

// expand attributes without an expand conv
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x6, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expanded_type, expand_act, expand_stride given without expand_weight
    %y = tt.bottleneck %x depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, expand_stride = array<i64: 2, 2>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x6, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expand conv without its intermediate type
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op an expand conv needs expanded_type
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expand conv without its clamp
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op an expand conv needs expand_act
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a 3x3 expand conv (a stem) whose expanded_type ignores its kernel (no padding given)
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expanded_type shape (1, 8, 8, 6) must be (1, 6, 6, 6)
    %y = tt.bottleneck %x expand @bad.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expand weight reading the wrong number of input channels
builtin.module {
  tt.param @e.w : tensor<6x1x1x5xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expand weight @e.w must have shape (6, 1, 1, 2), got (6, 1, 1, 5)
    %y = tt.bottleneck %x expand @e.w depthwise @d.w project @p.w {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a zero expand stride
builtin.module {
  tt.param @e.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expand_stride must be two integers >= 1, got [0, 2]
    %y = tt.bottleneck %x expand @e.w depthwise @d.w project @p.w {expanded_type = !tt.qtensor<1x4x4x6, 0.25:-128>, expand_act = array<i64: -128, 127>, expand_stride = array<i64: 0, 2>, expand_padding = array<i64: 1, 1>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expand bias of the wrong size
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op bias @bad.b must be a tensor<6xi32> tt.param, got tensor<4xi32>
    %y = tt.bottleneck %x expand @e.w, @bad.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expand clamp outside int8
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expand_act must be [act_min, act_max] with -128 <= act_min <= act_max <= 127, got [-128, 128]
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 128>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an expanded type of the wrong shape
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op expanded_type shape (1, 8, 8, 5) must be (1, 8, 8, 6)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x5, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a zero stride
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op stride must be two integers >= 1, got [0, 2]
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 0, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a negative padding
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op padding must be two integers >= 0, got [1, -1]
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, -1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a depthwise weight that is not depthwise
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op depthwise weight @bad.w must have shape (6, 3, 3, 1), got (6, 3, 3, 2)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @bad.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a depthwise bias of the wrong size
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op bias @bad.b must be a tensor<6xi32> tt.param, got tensor<4xi32>
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @bad.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// act_min above act_max
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op depthwise_act must be [act_min, act_max] with -128 <= act_min <= act_max <= 127, got [10, 5]
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: 10, 5>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a depthwise kernel larger than the padded input
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x1x1x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op depthwise kernel (3, 3) does not fit the padded input (1, 1)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x1x1x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : !tt.qtensor<1x1x1x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a depthwise type of the wrong shape
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op depthwise_type shape (1, 8, 8, 6) must be (1, 4, 4, 6)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x8x8x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a project weight that does not read the expanded channels
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op project weight @e.w must have shape (6, 1, 1, 6), got (6, 1, 1, 2)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @e.w {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a project bias of the wrong size
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op bias @bad.b must be a tensor<3xi32> tt.param, got tensor<4xi32>
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @bad.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a project clamp with three values
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op project_act must be [act_min, act_max] with -128 <= act_min <= act_max <= 127, got [-128, 0, 127]
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 0, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an output of the wrong shape
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op output shape (1, 4, 4, 4) must be (1, 4, 4, 3)
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.3:5>
    func.return
  }
}

// -----

// an unknown parameter
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op @missing does not name a tt.param in the enclosing module
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @missing, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// a weight without per-channel scales
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op weight @noscale.w must carry per-output-channel scales
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @noscale.w {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}

// -----

// an int32 parameter as a weight
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @bad.w : tensor<6x3x3x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"bad.w">
  tt.param @bad.b : tensor<4xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"bad.b">
  tt.param @noscale.w : tensor<3x1x1x6xi8> = #tt.external<"noscale.w">
  func.func @f(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_bottleneck.mlir:[[# @LINE + 1]]:5: error: 'tt.bottleneck' op weight @e.b must be a rank-4 i8 tt.param, got tensor<6xi32>
    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @e.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return
  }
}
