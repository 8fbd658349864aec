# Sourced by tests/determinism.sh: a sweep's rows (12 train points, 6 of them failing) are the
# same bytes twice in the release build and once under the sanitizers, on 2 processes.
run sweep_train sweep "$(dirname "$0")/data/sweep-train.yaml" --json -j 2
