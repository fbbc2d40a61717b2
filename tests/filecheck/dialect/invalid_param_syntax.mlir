// RUN: tt-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Parse errors of the custom tt.param syntax
//   tt.param @name : tensor<...> [scales <attr>] = <attr>
// one per chunk: file:line:col, the source line, a caret, the message.

// tt.param: scalar type
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:{{[0-9]+}}{{$}}
// CHECK-NEXT: tt.param @a : i8 = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.param type must be a tensor type, got i8
builtin.module {
  tt.param @a : i8 = #tt.external<"a">
}

// -----

// tt.param: unranked tensor type
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:{{[0-9]+}}{{$}}
// CHECK-NEXT: tt.param @a : tensor<*xi8> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.param type must be a tensor type, got tensor<*xi8>
builtin.module {
  tt.param @a : tensor<*xi8> = #tt.external<"a">
}

// -----

// tt.param: memref type
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:{{[0-9]+}}{{$}}
// CHECK-NEXT: tt.param @a : memref<4xi8> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.param type must be a tensor type, got memref<4xi8>
builtin.module {
  tt.param @a : memref<4xi8> = #tt.external<"a">
}

// -----

// tt.param: name without @
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:12{{$}}
// CHECK-NEXT: tt.param a : tensor<4xi8> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: expect symbol name
builtin.module {
  tt.param a : tensor<4xi8> = #tt.external<"a">
}

// -----

// tt.param: no name
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:12{{$}}
// CHECK-NEXT: tt.param : tensor<4xi8> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: expect symbol name
builtin.module {
  tt.param : tensor<4xi8> = #tt.external<"a">
}

// -----

// tt.param: no colon before the type
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:15{{$}}
// CHECK-NEXT: tt.param @a tensor<4xi8> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected ':'
builtin.module {
  tt.param @a tensor<4xi8> = #tt.external<"a">
}

// -----

// tt.param: no type
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:17{{$}}
// CHECK-NEXT: tt.param @a : = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: type expected
builtin.module {
  tt.param @a : = #tt.external<"a">
}

// -----

// tt.param: no =
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:30{{$}}
// CHECK-NEXT: tt.param @a : tensor<4xi8> #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected '='
builtin.module {
  tt.param @a : tensor<4xi8> #tt.external<"a">
}

// -----

// tt.param: misspelled scales keyword
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:30{{$}}
// CHECK-NEXT: tt.param @a : tensor<4xi8> scale dense<1.000000e+00> : tensor<4xf32> = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected '='
builtin.module {
  tt.param @a : tensor<4xi8> scale dense<1.000000e+00> : tensor<4xf32> = #tt.external<"a">
}

// -----

// tt.param: scales keyword without an attribute
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:37{{$}}
// CHECK-NEXT: tt.param @a : tensor<4xi8> scales = #tt.external<"a">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: attribute expected
builtin.module {
  tt.param @a : tensor<4xi8> scales = #tt.external<"a">
}

// -----

// tt.param: the value is missing at the end of the block
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 6]]:1{{$}}
// CHECK-NEXT: }
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: attribute expected
builtin.module {
  tt.param @a : tensor<4xi8> =
}

// -----

// tt.param: a scale f32 cannot hold (1e39 overflows to infinity)
// CHECK:      {{.*}}invalid_param_syntax.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> scales dense<[1.0e39, 1.0]> : tensor<2xf32> = #tt.external<"p">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: invalid attribute value: float too large to pack with f format
builtin.module {
  tt.param @p : tensor<2xi8> scales dense<[1.0e39, 1.0]> : tensor<2xf32> = #tt.external<"p">
}
