# Zoo: keras.applications.EfficientNetB0 (Rescaling + Normalization
# preprocessing, swish, squeeze-excite, stochastic-depth Dropout with
# noise_shape) as a compiled keras.Model target: training=True.
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = compile_classifier(application("EfficientNetB0"))
example_inputs = image_batch("EfficientNetB0")
