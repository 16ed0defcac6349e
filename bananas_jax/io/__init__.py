"""Readers and writers of the file formats the project meets: TFRecord framing and the
protobuf wire format (the NAS-Bench-101 file, TensorBoard event files), without TensorFlow."""
