"""Tools run by hand or by a command, never by the classifier service: the seed data generator, the
benchmark evaluation and the scoring of a file of listings (`kcnguard score`)."""
