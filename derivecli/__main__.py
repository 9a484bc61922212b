"""`python -m derivecli`: the same command line as the `derivecli` console script."""
from .cli import main

if __name__ == "__main__":
    main(prog_name="derivecli")
