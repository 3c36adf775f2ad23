//! 5-point similarity alignment onto the 150×150 dlib template, and the bilinear warp.
