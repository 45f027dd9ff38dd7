// Detection metrics on plain arrays: matching, AP per class, P/R/F1, confusion matrix.
