# Zoo: keras.applications.ResNet50 (weights=None, 32x32, 3 classes) as a compiled
# keras.Model target, so the contract runs it with training=True: BatchNorm uses
# batch statistics; its moving mean/variance are only updated, never read by the
# loss (no gradient).
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = compile_classifier(application("ResNet50"))
example_inputs = image_batch("ResNet50")
