//! The dlib ResNet face embedder ("dlib_face_recognition_resnet_model_v1"), 150×150 RGB → 128-D.
