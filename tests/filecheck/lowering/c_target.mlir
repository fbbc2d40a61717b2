// RUN: tt-opt %S/../passes/inputs/small_cnn.mlir -p 'tt-training-pipeline{scheme=last-1 lr=0.1}' -t 'c{model=small}' | filecheck %s
// RUN: not tt-opt %S/../passes/inputs/small_cnn.mlir -t 'c{model=small}' 2>&1 | filecheck %s --check-prefix=UNPLANNED
// RUN: not tt-opt %S/../passes/inputs/small_cnn.mlir -p 'tt-training-pipeline' -t 'c{model=3d}' 2>&1 | filecheck %s --check-prefix=NAME
// RUN: not tt-opt %S/../passes/inputs/small_cnn.mlir -p 'tt-autodiff{emit=gradients},tt-memory-plan' -t 'c{model=small}' 2>&1 | filecheck %s --check-prefix=GRADS

// The API header: arena size from the plan, shapes, the compiled learning rate.
// CHECK-LABEL: // ----- FILE: small.h
// CHECK:       #define SMALL_ARENA_BYTES {{[0-9]+}}u
// CHECK:       #define SMALL_INPUT_BYTES 32
// CHECK:       #define SMALL_NUM_CLASSES 3
// CHECK:       #define SMALL_PARAMS_BYTES {{[0-9]+}}u
// CHECK:       #define SMALL_LAYOUT_HASH 0x{{[0-9a-f]+}}u
// CHECK:       #define SMALL_LEARNING_RATE 0.100000001f
// CHECK:       #define SMALL_ERROR_ARGUMENT (-4)
// CHECK:       #define SMALL_ERROR_LEARNING_RATE (-6)
// CHECK:       #define SMALL_STATUS_SATURATED 1
// CHECK:       int32_t status;
// CHECK:       int small_init(small_context *ctx, void *arena, size_t arena_bytes, uint32_t seed);
// CHECK:       int small_inference(small_context *ctx, const int8_t *image, int8_t *logits);
// CHECK:       float small_train_step(small_context *ctx, const int8_t *image, int32_t label, float learning_rate);
// CHECK:       int small_import_params(const uint8_t *buffer, size_t bytes);
// CHECK:       int small_checkpoint_save(small_context *ctx, const tt_flash *flash);
// CHECK:       int small_checkpoint_load(small_context *ctx, const tt_flash *flash);

// The schedule: the image copied to its planned offset, one runtime call per op; the learning
// rate is the argument; last-1 updates the pointwise conv and the classifier in place; the
// pointwise output is saved as a 1-bit clamp mask, read in place by tt_mask_grad. The public
// step checks its arguments first and the saturation of the trained weights after.
// CHECK-LABEL: // ----- FILE: small.c
// CHECK:       static float train_step_schedule(
// CHECK:         memcpy(TT_ARENA(int8_t, [[IMG:[0-9]+]]), image, SMALL_INPUT_BYTES);
// CHECK:         const tt_sgd sgd0 = {learning_rate, 1.0f, TT_ROUND_STOCHASTIC, &ctx->rng_counter};
// CHECK:         tt_conv2d(&conv_shape{{[0-9]+}}, &quant{{[0-9]+}}, TT_ARENA(int8_t, [[IMG]]), small_stem_weight, small_stem_bias,
// CHECK:         tt_clamp_mask(16, -128, 127, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(uint8_t, [[MASK:[0-9]+]]));
// CHECK:         const float loss{{[0-9]+}} = tt_cross_entropy(1, 3,
// CHECK:         tt_linear_weight_update({{.*}}small_classifier_weight_scales, -1, &sgd0, small_classifier_weight, TT_ARENA(float,
// CHECK:         tt_mask_grad(16, TT_ARENA(float, [[G:[0-9]+]]), TT_ARENA(uint8_t, [[MASK]]), TT_ARENA(float, [[G]]));
// CHECK:         tt_conv2d_weight_update({{.*}}, &sgd0, small_block_pw_weight, TT_ARENA(float,
// CHECK:         tt_bias_update({{.*}}small_block_pw_bias);
// CHECK:         return loss{{[0-9]+}};
// CHECK:       float small_train_step(
// CHECK:         if (!context_ok(ctx)) {
// CHECK-NEXT:        return (float)NAN;
// CHECK:         !(learning_rate > 0.0f && learning_rate <= SMALL_MAX_LEARNING_RATE) ? SMALL_ERROR_LEARNING_RATE
// CHECK:         const float loss = train_step_schedule(ctx, image, label, learning_rate);
// CHECK:         if (small_weight_saturation() - ctx->initial_saturation > SMALL_SATURATION_LIMIT) {
// CHECK:       size_t small_export_params(uint8_t *buffer, size_t buffer_bytes)
// CHECK-NEXT:  {
// CHECK-NEXT:      return tt_params_export(SMALL_LAYOUT_HASH, trained_spans, trained_span_count, buffer, buffer_bytes);

// Frozen parameters are const (flash); updated ones are writable (SRAM).
// CHECK-LABEL: // ----- FILE: small_data.h
// CHECK:       extern const int8_t small_stem_weight[72]; /* @stem.weight, flash */
// CHECK:       extern int8_t small_block_pw_weight[16]; /* @block.pw.weight, SRAM, updated in place */
// CHECK:       extern int8_t small_classifier_weight[12]; /* @classifier.weight, SRAM, updated in place */
// CHECK-LABEL: // ----- FILE: small_data.c

// UNPLANNED: @forward is not planned: run tt-memory-plan (or tt-training-pipeline) before -t c
// NAME: model name '3d' is not a C identifier (try '_3d')
// GRADS: @train_step must return only the loss (build it with tt-autodiff emit=updates)
