// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of tt.cross_entropy and tt.cross_entropy_grad, one per chunk.

// tt.cross_entropy: qtensor logits of rank 3
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3x1, 0.5:0>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op logits must have rank 2, got shape (2, 3, 1)
    %y = tt.cross_entropy %l, %t : !tt.qtensor<2x3x1, 0.5:0>, tensor<2xi32> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy: f32 logits of rank 1
builtin.module {
  func.func @f(%l: tensor<3xf32>, %t: tensor<1xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op logits must have rank 2, got shape (3,)
    %y = tt.cross_entropy %l, %t : tensor<3xf32>, tensor<1xi32> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy: integer logits
builtin.module {
  func.func @f(%l: tensor<2x3xi32>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op logits must be a tensor of f32, got tensor<2x3xi32>
    %y = tt.cross_entropy %l, %t : tensor<2x3xi32>, tensor<2xi32> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy: i64 labels
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<2xi64>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op labels must be tensor<2xi32>, got tensor<2xi64>
    %y = tt.cross_entropy %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi64> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy: labels for the wrong batch
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<3xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op labels must be tensor<2xi32>, got tensor<3xi32>
    %y = tt.cross_entropy %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<3xi32> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy: rank-2 labels
builtin.module {
  func.func @f(%l: tensor<2x3xf32>, %t: tensor<2x1xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy' op labels must be tensor<2xi32>, got tensor<2x1xi32>
    %y = tt.cross_entropy %l, %t : tensor<2x3xf32>, tensor<2x1xi32> -> f32
    func.return
  }
}

// -----

// tt.cross_entropy_grad: qtensor logits of rank 3
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3x1, 0.5:0>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op logits must have rank 2, got shape (2, 3, 1)
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3x1, 0.5:0>, tensor<2xi32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: f32 logits of rank 1
builtin.module {
  func.func @f(%l: tensor<3xf32>, %t: tensor<1xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op logits must have rank 2, got shape (3,)
    %y = tt.cross_entropy_grad %l, %t : tensor<3xf32>, tensor<1xi32> -> tensor<1x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: integer logits
builtin.module {
  func.func @f(%l: tensor<2x3xi32>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op logits must be a tensor of f32, got tensor<2x3xi32>
    %y = tt.cross_entropy_grad %l, %t : tensor<2x3xi32>, tensor<2xi32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: i64 labels
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<2xi64>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op labels must be tensor<2xi32>, got tensor<2xi64>
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi64> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: labels for the wrong batch
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<3xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op labels must be tensor<2xi32>, got tensor<3xi32>
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<3xi32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: rank-2 labels
builtin.module {
  func.func @f(%l: tensor<2x3xf32>, %t: tensor<2x1xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op labels must be tensor<2xi32>, got tensor<2x1xi32>
    %y = tt.cross_entropy_grad %l, %t : tensor<2x3xf32>, tensor<2x1xi32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: f16 gradient
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op gradient must be a tensor of f32, got tensor<2x3xf16>
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> tensor<2x3xf16>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: gradient of rank 1
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op gradient must have rank 2, got shape (6,)
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> tensor<6xf32>
    func.return
  }
}

// -----

// tt.cross_entropy_grad: gradient shape differs from the logits
builtin.module {
  func.func @f(%l: !tt.qtensor<2x3, 0.125:-4>, %t: tensor<2xi32>) {
    // CHECK: {{.*}}invalid_loss.mlir:[[# @LINE + 1]]:5: error: 'tt.cross_entropy_grad' op gradient shape (3, 2) must be (2, 3)
    %y = tt.cross_entropy_grad %l, %t : !tt.qtensor<2x3, 0.125:-4>, tensor<2xi32> -> tensor<3x2xf32>
    func.return
  }
}
