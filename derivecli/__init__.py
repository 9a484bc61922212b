"""The `derivecli` command line: the top of the stack (derive → codegen → runtime)."""
