# Zoo: keras.applications.MobileNetV3Small (with its Rescaling preprocessing,
# hard-swish, squeeze-excite and top Dropout) as a compiled keras.Model target:
# training=True.
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = compile_classifier(application("MobileNetV3Small"))
example_inputs = image_batch("MobileNetV3Small")
