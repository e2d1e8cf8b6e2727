"""`kcnguard train` and the default model: labelled rows in, a versioned model out, promoted only if no less precise.

Training rows come from three sources, kept apart in the manifest's counts: a labelled file
(the listing-benchmark format, or the seed format), the inspectors' decisions in the store
(a confirmed case is a 1, a dismissed one a 0, with the listing as stored) and the project's
seed data. The evaluation data is either a file or a held-out split that the candidate never
trains on; the current model is scored on the very same rows, so the two precisions compare.

One job per module: rows (reading the training data), split (held-out rows and folds), fit
(fitting a model), metrics (how a model does on rows), promotion (whether a new model becomes
current), pinning (what the shipped default model must be), default_model (building it) and run
(one `kcnguard train`). `python -m classifier.training pin-default` re-pins the default model.
"""
