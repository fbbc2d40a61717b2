// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// !tt.qtensor<shape, scale:zero_point>: the scale prints as the shortest float literal that
// parses back to exactly the same double, including scientific notation (1.5e-05, 1.0e+23)
// and subnormals; printing twice (the `| tt-opt` above) must not change a digit.

builtin.module {
  // CHECK-LABEL: func.func @ranks
  // CHECK-SAME:  (%r1: !tt.qtensor<8, 0.5:0>, %r2: !tt.qtensor<1x10, 0.25:-128>, %r3: !tt.qtensor<2x3x4, 1.0:127>, %r4: !tt.qtensor<1x32x32x16, 0.0235:-3>)
  func.func @ranks(%r1: !tt.qtensor<8, 0.5:0>, %r2: !tt.qtensor<1x10, 0.25:-128>, %r3: !tt.qtensor<2x3x4, 1.0:127>, %r4: !tt.qtensor<1x32x32x16, 0.0235:-3>) {
    func.return
  }

  // Canonical spellings print unchanged.
  // CHECK-LABEL: func.func @canonical_scales
  // CHECK-SAME:  (%a: !tt.qtensor<1x2, 1.5e-05:0>, %b: !tt.qtensor<1x2, 1.0e-05:0>, %c: !tt.qtensor<1x2, 1.0e+23:0>, %d: !tt.qtensor<1x2, 5.0e-324:0>, %e: !tt.qtensor<1x2, 0.30000000000000004:0>, %f: !tt.qtensor<1x2, 1.0000000000000002:0>, %g: !tt.qtensor<1x2, 0.1:0>, %h: !tt.qtensor<1x2, 123456.789:0>, %i: !tt.qtensor<1x2, 1.7976931348623157e+308:0>)
  func.func @canonical_scales(%a: !tt.qtensor<1x2, 1.5e-05:0>, %b: !tt.qtensor<1x2, 1.0e-05:0>, %c: !tt.qtensor<1x2, 1.0e+23:0>, %d: !tt.qtensor<1x2, 5.0e-324:0>, %e: !tt.qtensor<1x2, 0.30000000000000004:0>, %f: !tt.qtensor<1x2, 1.0000000000000002:0>, %g: !tt.qtensor<1x2, 0.1:0>, %h: !tt.qtensor<1x2, 123456.789:0>, %i: !tt.qtensor<1x2, 1.7976931348623157e+308:0>) {
    func.return
  }

  // Other spellings of the same values print in the canonical form.
  // CHECK-LABEL: func.func @other_spellings
  // CHECK-SAME:  (%a: !tt.qtensor<1x2, 1.5e-05:0>, %b: !tt.qtensor<1x2, 1.0e-05:0>, %c: !tt.qtensor<1x2, 1.0e+23:0>, %d: !tt.qtensor<1x2, 3.0:0>, %e: !tt.qtensor<1x2, 0.5:-7>, %f: !tt.qtensor<1x2, 0.001:0>, %g: !tt.qtensor<1x2, 1.0e+16:0>)
  func.func @other_spellings(%a: !tt.qtensor<1x2, 1.5E-5:0>, %b: !tt.qtensor<1x2, 0.00001:0>, %c: !tt.qtensor<1x2, 1.0e23:0>, %d: !tt.qtensor<1x2, 3:0>, %e: !tt.qtensor< 1x2 , 0.50 : -7 >, %f: !tt.qtensor<1x2, 1.0e-3:0>, %g: !tt.qtensor<1x2, 10000000000000000.0:0>) {
    func.return
  }

  // The type as a function result and in an op signature.
  // CHECK-LABEL: func.func @as_result
  // CHECK-SAME:  (%x: !tt.qtensor<1x2x2x3, 2.5e-07:-128>) -> !tt.qtensor<1x2x2x3, 2.5e-07:-128>
  // CHECK-NEXT:    %y = tt.clamp %x {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 2.5e-07:-128> -> !tt.qtensor<1x2x2x3, 2.5e-07:-128>
  // CHECK-NEXT:    func.return %y : !tt.qtensor<1x2x2x3, 2.5e-07:-128>
  func.func @as_result(%x: !tt.qtensor<1x2x2x3, 2.5e-07:-128>) -> !tt.qtensor<1x2x2x3, 2.5e-07:-128> {
    %y = tt.clamp %x {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 2.5e-07:-128> -> !tt.qtensor<1x2x2x3, 2.5e-07:-128>
    func.return %y : !tt.qtensor<1x2x2x3, 2.5e-07:-128>
  }
}
