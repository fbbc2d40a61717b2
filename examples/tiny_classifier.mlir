builtin.module {
  tt.param @"fc.weight" : tensor<3x4xi8> scales dense<[0.1, 0.2, 0.3]> : tensor<3xf32> = dense<[[1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4]]> : tensor<3x4xi8>
  tt.param @"fc.bias" : tensor<3xi32> scales dense<[0.05, 0.1, 0.15]> : tensor<3xf32> = dense<[10, 0, -10]> : tensor<3xi32>
  func.func @train_step(%x: !tt.qtensor<2x4, 0.5:0>, %label: tensor<2xi32>) -> (f32 {tt.name = "loss"}, tensor<3x4xf32> {tt.name = "grad.fc.weight"}) {
    %y = tt.linear %x, @"fc.weight", @"fc.bias" {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x4, 0.5:0> -> !tt.qtensor<2x3, 0.25:3>
    %loss = tt.cross_entropy %y, %label : !tt.qtensor<2x3, 0.25:3>, tensor<2xi32> -> f32
    %g = tt.cross_entropy_grad %y, %label : !tt.qtensor<2x3, 0.25:3>, tensor<2xi32> -> tensor<2x3xf32>
    %gm = tt.clamp_grad %g, %y {act_min = -128 : i64, act_max = 127 : i64} : tensor<2x3xf32>, !tt.qtensor<2x3, 0.25:3> -> tensor<2x3xf32>
    %gw = tt.linear_grad_weight %x, %gm : !tt.qtensor<2x4, 0.5:0>, tensor<2x3xf32> -> tensor<3x4xf32>
    %gb = tt.bias_grad %gm : tensor<2x3xf32> -> tensor<3xf32>
    %lr = arith.constant 0.5 : f32
    tt.sgd_update @"fc.weight", %gw, %lr {grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<3x4xf32>
    tt.sgd_update @"fc.bias", %gb, %lr {grad_scale = 1.0 : f32, rounding = "nearest"} : tensor<3xf32>
    func.return %loss, %gw : f32, tensor<3x4xf32>
  }
}
