// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Every form of tt.param: i8 weights and i32 biases, values and scales inline (dense) or
// external (#tt.external), with and without scales, bare and quoted symbol names
// (a quoted name that is a valid bare identifier prints bare).

builtin.module attributes {tt.weights = "model.ttw"} {
  tt.param @"quoted.plain" : tensor<1xi32> = dense<5> : tensor<1xi32>
  tt.param @w_inline : tensor<2x1x1x2xi8> scales dense<[1.250000e-01, 2.500000e-01]> : tensor<2xf32> = dense<[[[[1, -2]]], [[[127, -128]]]]> : tensor<2x1x1x2xi8>
  tt.param @w_splat : tensor<3x2xi8> scales dense<5.000000e-01> : tensor<3xf32> = dense<7> : tensor<3x2xi8>
  tt.param @w_external : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w_external">
  tt.param @w_all_external : tensor<4x3x3x1xi8> scales #tt.external<"w.scales"> = #tt.external<"w.values">
  tt.param @w_no_scales : tensor<2x2xi8> = dense<0> : tensor<2x2xi8>
  tt.param @b_inline : tensor<3xi32> scales dense<[1.000000e-03, 0.0123456791, 3.000000e+02]> : tensor<3xf32> = dense<[1, -2, 2147483647]> : tensor<3xi32>
  tt.param @b_external : tensor<4xi32> scales dense<1.000000e-03> : tensor<4xf32> = #tt.external<"b_external">
  tt.param @b_no_scales : tensor<1xi32> = #tt.external<"b_no_scales">
  tt.param @layer1.conv.weight : tensor<1x1x1x1xi8> scales dense<1.000000e+00> : tensor<1xf32> = #tt.external<"layer1.conv.weight">
  tt.param @"block-2/conv 1.weight" : tensor<1x1x1x1xi8> scales dense<1.000000e+00> : tensor<1xf32> = #tt.external<"block-2/conv 1.weight">
  tt.param @escaped_key : tensor<1xi32> = #tt.external<"say \22hi\22\0A">
}

// CHECK:      builtin.module attributes {tt.weights = "model.ttw"} {
// CHECK-NEXT:   tt.param @quoted.plain : tensor<1xi32> = dense<5> : tensor<1xi32>
// CHECK-NEXT:   tt.param @w_inline : tensor<2x1x1x2xi8> scales dense<[1.250000e-01, 2.500000e-01]> : tensor<2xf32> = dense<[[[[1, -2]]], [[[127, -128]]]]> : tensor<2x1x1x2xi8>
// CHECK-NEXT:   tt.param @w_splat : tensor<3x2xi8> scales dense<5.000000e-01> : tensor<3xf32> = dense<7> : tensor<3x2xi8>
// CHECK-NEXT:   tt.param @w_external : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w_external">
// CHECK-NEXT:   tt.param @w_all_external : tensor<4x3x3x1xi8> scales #tt.external<"w.scales"> = #tt.external<"w.values">
// CHECK-NEXT:   tt.param @w_no_scales : tensor<2x2xi8> = dense<0> : tensor<2x2xi8>
// CHECK-NEXT:   tt.param @b_inline : tensor<3xi32> scales dense<[1.000000e-03, 0.0123456791, 3.000000e+02]> : tensor<3xf32> = dense<[1, -2, 2147483647]> : tensor<3xi32>
// CHECK-NEXT:   tt.param @b_external : tensor<4xi32> scales dense<1.000000e-03> : tensor<4xf32> = #tt.external<"b_external">
// CHECK-NEXT:   tt.param @b_no_scales : tensor<1xi32> = #tt.external<"b_no_scales">
// CHECK-NEXT:   tt.param @layer1.conv.weight : tensor<1x1x1x1xi8> scales dense<1.000000e+00> : tensor<1xf32> = #tt.external<"layer1.conv.weight">
// CHECK-NEXT:   tt.param @"block-2/conv 1.weight" : tensor<1x1x1x1xi8> scales dense<1.000000e+00> : tensor<1xf32> = #tt.external<"block-2/conv 1.weight">
// CHECK-NEXT:   tt.param @escaped_key : tensor<1xi32> = #tt.external<"say \22hi\22\0A">
// CHECK-NEXT: }

// -----

// Extra attributes survive a round trip.
// CHECK: tt.param @noted : tensor<2xi8> = dense<[1, 2]> : tensor<2xi8> {tt.note = "kept"}
builtin.module {
  tt.param @noted : tensor<2xi8> = dense<[1, 2]> : tensor<2xi8> {tt.note = "kept"}
}
