// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Loss: cross_entropy and cross_entropy_grad on quantized and on f32 logits.

builtin.module {
  // CHECK-LABEL: func.func @qtensor_logits
  func.func @qtensor_logits(%logits: !tt.qtensor<2x3, 0.125:-4>, %labels: tensor<2xi32>) -> (f32, tensor<2x3xf32>) {
    // CHECK-NEXT: %loss = tt.cross_entropy %logits, %labels : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> f32
    %loss = tt.cross_entropy %logits, %labels : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> f32
    // CHECK-NEXT: %grad = tt.cross_entropy_grad %logits, %labels : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> tensor<2x3xf32>
    %grad = tt.cross_entropy_grad %logits, %labels : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> tensor<2x3xf32>
    // CHECK-NEXT: func.return %loss, %grad : f32, tensor<2x3xf32>
    func.return %loss, %grad : f32, tensor<2x3xf32>
  }

  // CHECK-LABEL: func.func @f32_logits
  func.func @f32_logits(%logits: tensor<1x10xf32>, %labels: tensor<1xi32>) -> (f32, tensor<1x10xf32>) {
    // CHECK-NEXT: %loss = tt.cross_entropy %logits, %labels : tensor<1x10xf32>, tensor<1xi32> -> f32
    %loss = tt.cross_entropy %logits, %labels : tensor<1x10xf32>, tensor<1xi32> -> f32
    // CHECK-NEXT: %grad = tt.cross_entropy_grad %logits, %labels : tensor<1x10xf32>, tensor<1xi32> -> tensor<1x10xf32>
    %grad = tt.cross_entropy_grad %logits, %labels : tensor<1x10xf32>, tensor<1xi32> -> tensor<1x10xf32>
    // CHECK-NEXT: func.return %loss, %grad : f32, tensor<1x10xf32>
    func.return %loss, %grad : f32, tensor<1x10xf32>
  }
}
