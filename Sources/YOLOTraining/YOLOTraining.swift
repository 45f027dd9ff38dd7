// The trainer loop, validator, predictor, checkpoints, run folders, logs and plots.
