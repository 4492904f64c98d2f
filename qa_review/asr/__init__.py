"""Speech recognition: decoding audio, the models registry, the transcribers."""
