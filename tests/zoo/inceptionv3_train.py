# Zoo: keras.applications.InceptionV3 at 75x75 (its minimum) as a compiled
# keras.Model target: training=True.
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = compile_classifier(application("InceptionV3"))
example_inputs = image_batch("InceptionV3")
