"""The composition root: the `kcnguard` command, which gathers every service's subcommands, and the
main job (`kcnguard run`), which starts each service as its own process."""
