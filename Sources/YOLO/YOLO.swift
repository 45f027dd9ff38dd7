// YOLOv5 models: YAML specs, blocks, the loss, decoding and NMS. Knows nothing of images or files
// beyond reading model YAMLs.
import NN
import TensorCore
