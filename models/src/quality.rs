//! Quality figures for a detected face: size, sharpness, detector score, rough pose.
