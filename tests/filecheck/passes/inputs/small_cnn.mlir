// A small CNN with inline weights (stem 3x3 conv, depthwise 3x3 s2 with a ReLU6-like clamp, pointwise, pool, linear): the input of the pass tests here.
builtin.module {
  tt.param @stem.weight : tensor<4x3x3x2xi8> scales dense<[1.970000e-02, 2.780000e-02, 2.870000e-02, 1.720000e-02]> : tensor<4xf32> = dense<[[[[42, 16], [1, -28], [-24, -56]], [[-51, -59], [-39, 37], [17, 49]], [[0, 12], [56, 27], [15, 5]]], [[[7, 52], [-27, 37], [20, -60]], [[-13, 42], [6, -56], [31, 27]], [[41, -39], [-50, 43], [-58, 4]]], [[[-51, -25], [-3, -10], [-12, -57]], [[-60, -46], [-60, 20], [3, 17]], [[-30, 13], [31, -14], [-5, 59]]], [[[36, 57], [-15, 22], [54, 18]], [[40, 22], [24, -14], [45, -44]], [[9, 26], [41, 3], [-15, -23]]]]> : tensor<4x3x3x2xi8>
  tt.param @stem.bias : tensor<4xi32> scales dense<[9.850000e-04, 1.390000e-03, 1.435000e-03, 0.000860000029]> : tensor<4xf32> = dense<[69, 28, -99, -72]> : tensor<4xi32>
  tt.param @block.dw.weight : tensor<4x3x3x1xi8> scales dense<[1.810000e-02, 1.400000e-02, 1.180000e-02, 2.160000e-02]> : tensor<4xf32> = dense<[[[[26], [11], [0]], [[-20], [31], [-14]], [[-21], [46], [-29]]], [[[-33], [25], [14]], [[-55], [-50], [-15]], [[39], [-12], [34]]], [[[-23], [-32], [35]], [[45], [-51], [-53]], [[20], [-20], [8]]], [[[-42], [43], [-6]], [[47], [35], [24]], [[-33], [32], [-54]]]]> : tensor<4x3x3x1xi8>
  tt.param @block.dw.bias : tensor<4xi32> scales dense<[0.00181000016, 0.00140000007, 1.180000e-03, 0.00216000015]> : tensor<4xf32> = dense<[159, -81, 160, 68]> : tensor<4xi32>
  tt.param @block.pw.weight : tensor<4x1x1x4xi8> scales dense<[2.000000e-02, 1.850000e-02, 2.240000e-02, 2.990000e-02]> : tensor<4xf32> = dense<[[[[46, -37, 30, 53]]], [[[-55, -17, 16, -48]]], [[[1, 15, 31, 51]]], [[[-11, -8, -4, 54]]]]> : tensor<4x1x1x4xi8>
  tt.param @block.pw.bias : tensor<4xi32> scales dense<[1.600000e-03, 1.480000e-03, 0.00179199991, 0.00239199982]> : tensor<4xf32> = dense<[41, 179, -194, -16]> : tensor<4xi32>
  tt.param @classifier.weight : tensor<3x4xi8> scales dense<[2.420000e-02, 2.860000e-02, 1.230000e-02]> : tensor<3xf32> = dense<[[40, 30, -12, -1], [-10, 3, -33, 34], [-51, -11, -27, 28]]> : tensor<3x4xi8>
  tt.param @classifier.bias : tensor<3xi32> scales dense<[1.452000e-03, 0.00171599991, 7.380000e-04]> : tensor<3xf32> = dense<[-148, 91, 188]> : tensor<3xi32>
  func.func @forward(%image: !tt.qtensor<1x4x4x2, 0.05:-3>) -> !tt.qtensor<1x3, 0.2:0> {
    %stem = tt.conv2d %image, @stem.weight, @stem.bias {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.05:-3> -> !tt.qtensor<1x4x4x4, 0.1:-128>
    %block_dw = tt.conv2d %stem, @block.dw.weight, @block.dw.bias {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64, act_min = -128 : i64, act_max = 100 : i64} : !tt.qtensor<1x4x4x4, 0.1:-128> -> !tt.qtensor<1x2x2x4, 0.08:-128>
    %block_pw = tt.conv2d %block_dw, @block.pw.weight, @block.pw.bias {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x4, 0.08:-128> -> !tt.qtensor<1x2x2x4, 0.06:-10>
    %0 = tt.global_avg_pool %block_pw : !tt.qtensor<1x2x2x4, 0.06:-10> -> !tt.qtensor<1x1x1x4, 0.06:-10>
    %1 = tt.reshape %0 : !tt.qtensor<1x1x1x4, 0.06:-10> -> !tt.qtensor<1x4, 0.06:-10>
    %classifier = tt.linear %1, @classifier.weight, @classifier.bias {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4, 0.06:-10> -> !tt.qtensor<1x3, 0.2:0>
    func.return %classifier : !tt.qtensor<1x3, 0.2:0>
  }
}

