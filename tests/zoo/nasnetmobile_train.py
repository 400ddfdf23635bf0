# Zoo: keras.applications.NASNetMobile (cells of separable convolutions,
# cropping and padding branches; about 1100 variables) as a compiled
# keras.Model target: training=True.
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = compile_classifier(application("NASNetMobile"))
example_inputs = image_batch("NASNetMobile")
