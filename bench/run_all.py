"""Every benchmark, one after the other (``make bench``); see BENCHMARKS.md."""

import sys

from bench import intake

BENCHMARKS = {"intake": intake.main}


def main() -> int:
    for name, run in BENCHMARKS.items():
        print(f"[bench] === {name} ===", flush=True)
        if run([]) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
