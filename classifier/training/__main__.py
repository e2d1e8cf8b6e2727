"""python -m classifier.training pin-default: rebuild the default model and pin what it is."""

from classifier.training.pinning import main

raise SystemExit(main())
