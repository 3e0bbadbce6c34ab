"""Float Grad-CAM on the Keras model (GradientTape), the textbook definition.

score y_c = the pre-softmax logit of the predicted class c; alpha_k = mean over positions of
dy_c/dA_k; map = ReLU(sum_k alpha_k A_k). Works for 1D (batch, steps, channels) and 2D
(batch, h, w, channels) target layers. This is the only module of drip/ that imports
TensorFlow; the int8 path (the device's) does not need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drip_tiny.drip.int8_gradcam import ScoreResult
from drip_tiny.drip.target_layer import logits_model, with_target_output
from drip_tiny.drip.variants import (
    check_variant,
    drips_from_float_map,
    resize_mean_weights,
)
from drip_tiny.tf_seam import keras, tf


# TensorFlow is untyped (tf_seam): its tensors are Any here.
class FloatGradCam:
    def __init__(self, model: keras.Model, target_layer: str) -> None:
        self.model = with_target_output(logits_model(model), target_layer)
        target_shape = tuple(self.model.outputs[1].shape[1:-1])
        input_shape = tuple(self.model.inputs[0].shape[1:1 + len(target_shape)])
        self.map_shape = target_shape
        self.resize_weights = resize_mean_weights(target_shape, input_shape)

    @tf.function(reduce_retracing=True)  # type: ignore[untyped-decorator]  # TF has no types
    def _maps(self, x: Any) -> tuple[Any, Any, Any, Any]:
        with tf.GradientTape() as tape:
            logits, target = self.model(x, training=False)
            predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
            # Each sample's score depends only on its own activation, so the gradient of the
            # sum is every sample's own dy_c/dA.
            score = tf.reduce_sum(tf.gather(logits, predicted, axis=1, batch_dims=1))
        grads = tape.gradient(score, target)
        spatial = list(range(1, len(target.shape) - 1))
        alpha = tf.reduce_mean(grads, axis=spatial, keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(alpha * target, axis=-1))
        return logits, predicted, cam, grads

    def maps(self, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, ...]:
        """(logits, predicted, ReLU'd maps (N, *map_shape), dy_c/dA (N, *target shape))."""
        parts = [self._maps(tf.constant(x[i:i + batch_size], dtype=tf.float32))
                 for i in range(0, len(x), batch_size)]
        return tuple(np.concatenate([p[j].numpy() for p in parts]) for j in range(4))

    def score(self, x: np.ndarray, variant: str = "minmax") -> ScoreResult:
        check_variant(variant)
        logits, predicted, cam, _ = self.maps(x)
        drips = drips_from_float_map(cam, variant, self.resize_weights)
        return ScoreResult(predicted=predicted.astype(np.int64), drips=drips, logits=logits)
