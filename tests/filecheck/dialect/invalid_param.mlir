// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of tt.param, one per chunk.

// f32 parameter
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p must hold i8 or i32, got tensor<4xf32>
  tt.param @p : tensor<4xf32> = #tt.external<"p">
}

// -----

// i16 parameter
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p must hold i8 or i32, got tensor<4xi16>
  tt.param @p : tensor<4xi16> = #tt.external<"p">
}

// -----

// i1 parameter with an inline value
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p must hold i8 or i32, got tensor<2xi1>
  tt.param @p : tensor<2xi1> = dense<true> : tensor<2xi1>
}

// -----

// index parameter
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @idx must hold i8 or i32, got tensor<2xindex>
  tt.param @idx : tensor<2xindex> = #tt.external<"p">
}

// -----

// inline value of another element type
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p value has type tensor<4xi32>, expected tensor<4xi8>
  tt.param @p : tensor<4xi8> = dense<1> : tensor<4xi32>
}

// -----

// inline value of another shape
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p value has type tensor<4xi8>, expected tensor<2x2xi8>
  tt.param @p : tensor<2x2xi8> = dense<1> : tensor<4xi8>
}

// -----

// float inline value
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p value has type tensor<2xf32>, expected tensor<2xi32>
  tt.param @p : tensor<2xi32> = dense<1.000000e+00> : tensor<2xf32>
}

// -----

// one scale too few
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be tensor<4xf32> (one per output channel), got tensor<3xf32>
  tt.param @p : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p">
}

// -----

// scales per element instead of per output channel
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be tensor<3xf32> (one per output channel), got tensor<3x2xf32>
  tt.param @p : tensor<3x2xi8> scales dense<1.000000e-01> : tensor<3x2xf32> = #tt.external<"p">
}

// -----

// f64 scales
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be tensor<2xf32> (one per output channel), got tensor<2xf64>
  tt.param @p : tensor<2xi32> scales dense<1.000000e-01> : tensor<2xf64> = #tt.external<"p">
}

// -----

// integer scales
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be tensor<2xf32> (one per output channel), got tensor<2xi32>
  tt.param @p : tensor<2xi32> scales dense<1> : tensor<2xi32> = #tt.external<"p">
}

// -----

// a zero scale
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be positive
  tt.param @p : tensor<2x1xi8> scales dense<[1.000000e-01, 0.000000e+00]> : tensor<2xf32> = #tt.external<"p">
}

// -----

// a negative scale
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be positive
  tt.param @p : tensor<2xi32> scales dense<[-1.000000e-01, 1.000000e-01]> : tensor<2xf32> = #tt.external<"p">
}

// -----

// value is neither dense nor #tt.external
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op Unexpected attribute "p"
  tt.param @p : tensor<2xi8> = "p"
}

// -----

// scales are neither dense nor #tt.external
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op Unexpected attribute [1.000000e+00 : f64, 2.000000e+00 : f64]
  tt.param @p : tensor<2xi8> scales [1.0, 2.0] = #tt.external<"p">
}

// -----

// two parameters with the same name (the builtin.module symbol table rejects it)
// CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:1: error: 'builtin.module' op Redefinition of symbol "p"
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external<"a">
  tt.param @p : tensor<2xi8> = #tt.external<"b">
}

// -----

// rank 0: axis 0 must be the output channel
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p must have a static shape of rank >= 1 (axis 0 is the output channel), got tensor<i8>
  tt.param @p : tensor<i8> = #tt.external<"p">
}

// -----

// unsigned element type
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p must hold i8 or i32, got tensor<2xui8>
  tt.param @p : tensor<2xui8> = #tt.external<"p">
}

// -----

// empty scales
builtin.module {
  // CHECK: {{.*}}invalid_param.mlir:[[# @LINE + 1]]:3: error: 'tt.param' op parameter @p scales must be tensor<2xf32> (one per output channel), got tensor<0xf32>
  tt.param @p : tensor<2xi8> scales dense<> : tensor<0xf32> = #tt.external<"p">
}

